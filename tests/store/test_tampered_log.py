"""A store whose events table was changed behind its back (issue 18 D): the card refuses to load.

Each stored event carries its place in the card's log, as its row does; replay refuses a gap, and the
store checks that the events reach the version it stored for the card, so deleting the last events
is noticed too. Rows and snapshots written before events were numbered still load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from tests.store._programs import coffee
from tests.store.conftest import NOW
from walletvoucher import SelfRedeem
from walletvoucher.errors import ReplayError
from walletvoucher.store import Wallet
from walletvoucher.store._engine import Tx
from walletvoucher.store._url import connect


@contextmanager
def _raw(url: str) -> Iterator[Tx]:
    db = connect(url)
    try:
        with db.write() as tx:
            yield tx
    finally:
        db.close()


def _history(url: str, programs: list[Any], **options: Any) -> Any:
    with Wallet.open(url, programs=programs, **options) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 10, at=NOW + timedelta(minutes=1))
        wallet.redeem("C1-1", SelfRedeem(), at=NOW + timedelta(minutes=2))
        wallet.stamp("C1", 2, at=NOW + timedelta(minutes=3))
        return wallet.card("C1")


def test_stored_events_carry_the_version_of_their_row(url: str, programs: list[Any]) -> None:
    card = _history(url, programs)
    with _raw(url) as tx:
        rows = tx.rows("SELECT version, data FROM events WHERE serial = 'C1' ORDER BY version")
    assert [json.loads(str(data))["version"] for _, data in rows] == [int(v) for v, _ in rows]
    assert card.version == len(rows)


def test_a_deleted_redemption_row_is_noticed_when_the_card_loads(url: str, programs: list[Any]) -> None:
    _history(url, programs)
    with _raw(url) as tx:
        assert tx.run("DELETE FROM events WHERE type = 'voucher_redeemed'") == 1
    deleted = pytest.raises(ReplayError, match=r"missing \(deleted\?\)")
    with Wallet.open(url, programs=programs) as fresh, deleted:  # no cache: rebuilt from its rows
        fresh.card("C1")  # before: the voucher was back on the card, ready to be redeemed again


def test_deleted_last_rows_are_noticed_from_the_cards_version(url: str, programs: list[Any]) -> None:
    _history(url, programs)
    with _raw(url) as tx:
        last = tx.one("SELECT MAX(version) FROM events WHERE serial = 'C1'")
        assert last is not None
        tx.run("DELETE FROM events WHERE serial = 'C1' AND version = ?", (int(last[0]),))
    cut = pytest.raises(ReplayError, match="events were deleted")
    with Wallet.open(url, programs=programs) as fresh, cut:
        fresh.card("C1")


def test_an_event_moved_to_another_row_is_noticed(url: str, programs: list[Any]) -> None:
    _history(url, programs)
    with _raw(url) as tx:
        row = tx.one("SELECT data FROM events WHERE serial = 'C1' AND version = 3")
        assert row is not None
        moved = {**json.loads(str(row[0])), "version": 4}
        tx.run("UPDATE events SET data = ? WHERE serial = 'C1' AND version = 3", (json.dumps(moved),))
    with Wallet.open(url, programs=programs) as fresh, pytest.raises(ReplayError, match="stored as event 3"):
        fresh.card("C1")


@pytest.mark.parametrize("snapshot_every", [0, 3])
def test_rows_and_snapshots_written_before_events_were_numbered_still_load(
    url: str, programs: list[Any], snapshot_every: int
) -> None:
    card = _history(url, programs, snapshot_every=snapshot_every)
    with _raw(url) as tx:
        for version, data in tx.rows("SELECT version, data FROM events WHERE serial = 'C1'"):
            legacy = {k: v for k, v in json.loads(str(data)).items() if k != "version"}
            tx.run("UPDATE events SET data = ? WHERE serial = 'C1' AND version = ?",
                   (json.dumps(legacy), version))
        for version, data in tx.rows("SELECT version, data FROM snapshots WHERE serial = 'C1'"):
            legacy = {k: v for k, v in json.loads(str(data)).items() if k != "version"}
            tx.run("UPDATE snapshots SET data = ? WHERE serial = 'C1'", (json.dumps(legacy),))
            assert int(version) <= card.version
    with Wallet.open(url, programs=programs, snapshot_every=snapshot_every) as fresh:
        assert fresh.card("C1") == card
        after = fresh.stamp("C1", 1, at=NOW + timedelta(minutes=4))
        assert [e.version for e in after.events] == [card.version + 1]


@pytest.mark.parametrize("snapshot_every", [0, 3, 100])
def test_a_redemption_reading_the_card_with_its_voucher_notices_a_deleted_event(
    url: str, programs: list[Any], snapshot_every: int
) -> None:
    """A redemption reads the card's events in the statement that finds the voucher (issue 17); they
    are replayed and checked as any load's are, cold or on top of a cached card another process moved."""
    with Wallet.open(url, programs=programs, snapshot_every=snapshot_every) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 10, at=NOW + timedelta(minutes=1))
        wallet.stamp("C1", 10, at=NOW + timedelta(minutes=2))
    with Wallet.open(url, programs=programs, snapshot_every=snapshot_every) as cached:
        cached.card("C1")  # cached at version 9: another process then stamps twice more
        with Wallet.open(url, programs=programs, snapshot_every=snapshot_every) as other:
            other.stamp("C1", 1, at=NOW + timedelta(minutes=3))
            other.stamp("C1", 1, at=NOW + timedelta(minutes=4))
        with _raw(url) as tx:
            assert tx.run("DELETE FROM events WHERE serial = 'C1' AND version = 10") == 1
        with pytest.raises(ReplayError, match="missing"):
            cached.redeem("C1-1", SelfRedeem(), at=NOW + timedelta(minutes=5))
    fresh = Wallet.open(url, programs=programs, snapshot_every=snapshot_every)
    with fresh, pytest.raises(ReplayError, match="missing"):
        fresh.redeem("C1-2", SelfRedeem(), at=NOW + timedelta(minutes=5))


@pytest.mark.parametrize("snapshot_every", [0, 3, 100])
def test_a_redemption_on_a_card_another_process_moved_sees_its_latest_state(
    url: str, programs: list[Any], snapshot_every: int
) -> None:
    with Wallet.open(url, programs=programs, snapshot_every=snapshot_every) as wallet:
        wallet.issue_card(coffee(), serial="C-1", member_id="m-1", at=NOW)  # a serial with a dash
        wallet.stamp("C-1", 10, at=NOW + timedelta(minutes=1))
    with Wallet.open(url, programs=programs, snapshot_every=snapshot_every) as a:
        a.card("C-1")
        with Wallet.open(url, programs=programs, snapshot_every=snapshot_every) as b:
            b.stamp("C-1", 12, at=NOW + timedelta(minutes=2))  # a second voucher, 2 stamps carried
        result = a.redeem("C-1-2", SelfRedeem(), at=NOW + timedelta(minutes=3))
        assert result.card.stamps == 2 and [v.serial for v in result.card.vouchers] == ["C-1-1"]
        assert result.card == a.card("C-1") and a.conflicts == 0
    with Wallet.open(url, programs=programs, snapshot_every=0) as fresh:
        assert fresh.card("C-1") == result.card


@pytest.mark.parametrize("snapshot_every", [3, 100])
def test_an_event_a_snapshot_covers_is_still_checked(
    url: str, programs: list[Any], snapshot_every: int
) -> None:
    """Issue 17: a voucher's issue stores a snapshot, so a redemption by a process that has not cached
    the card folds nothing; the events the snapshot covers are still checked, against its digest,
    and a deleted one is noticed as a replay notices it (before: a snapshot was trusted)."""
    with Wallet.open(url, programs=programs, snapshot_every=snapshot_every) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        for visit in range(10):
            wallet.stamp("C1", 1, at=NOW + timedelta(minutes=visit))
    with _raw(url) as tx:
        row = tx.one("SELECT version, data FROM snapshots WHERE serial = 'C1'")
        assert row is not None and json.loads(str(row[1]))["events"]["marks"][-1] == int(row[0]) > 3
        assert tx.run("DELETE FROM events WHERE serial = 'C1' AND version = 3") == 1
    for load in ("card", "redeem"):
        fresh = Wallet.open(url, programs=programs, snapshot_every=snapshot_every)
        with fresh, pytest.raises(ReplayError, match="missing"):
            if load == "card":
                fresh.card("C1")
            else:
                fresh.redeem("C1-1", SelfRedeem(), at=NOW + timedelta(hours=1))


def test_a_cold_redemption_parses_only_the_events_after_the_snapshot(
    url: str, programs: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot stored with the voucher's issue covers every event up to it: a redemption on a
    card the process has not cached parses none of them (it hashes their text), and the card it
    decides on is the one a full replay gives."""
    import walletvoucher.store._wallet as module

    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        for visit in range(10):
            wallet.stamp("C1", 1, at=NOW + timedelta(minutes=visit))
    parsed: list[str] = []
    original = module.event_from_text

    def counted(text: str) -> Any:
        parsed.append(text)
        return original(text)

    monkeypatch.setattr(module, "event_from_text", counted)
    with Wallet.open(url, programs=programs) as counter:
        result = counter.redeem("C1-1", SelfRedeem(), at=NOW + timedelta(hours=1))
    assert parsed == []  # before: all 14 events
    with Wallet.open(url, programs=programs, snapshot_every=0) as replayed:
        assert replayed.card("C1") == result.card
        assert result.card.version == 15


def test_a_snapshot_whose_events_changed_falls_back_to_a_full_replay(url: str, programs: list[Any]) -> None:
    """An event rewritten in a way a replay accepts (its source) no longer matches the snapshot's
    digest: the card is replayed from every event, never taken from a snapshot that no longer
    describes the log."""
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        for visit in range(10):
            wallet.stamp("C1", 1, at=NOW + timedelta(minutes=visit), source="till-1")
    with _raw(url) as tx:
        snapshot = tx.one("SELECT data FROM snapshots WHERE serial = 'C1'")
        assert snapshot is not None and '"lifetime_stamps": 10' in str(snapshot[0])
        tx.run("UPDATE snapshots SET data = REPLACE(data, ?, ?)",
               ('"lifetime_stamps": 10', '"lifetime_stamps": 99'))
        row = tx.one("SELECT data FROM events WHERE serial = 'C1' AND version = 3")
        assert row is not None and "till-1" in str(row[0])
        tx.run("UPDATE events SET data = ? WHERE serial = 'C1' AND version = 3",
               (str(row[0]).replace("till-1", "till-2"),))
    with Wallet.open(url, programs=programs) as fresh:
        assert fresh.card("C1").lifetime_stamps == 10  # replayed: the snapshot's 99 is not used
