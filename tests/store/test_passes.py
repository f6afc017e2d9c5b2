"""Pass update marks and registrations (migration 2), on SQLite and PostgreSQL.

Every transition marks the passes it changed in its own transaction and queues ``apple.push``
for serials with registered devices; saving and removing a pass are logged apart from the journal.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from walletvoucher.model import SelfRedeem, replay
from walletvoucher.store import PUSH_TOPIC, Change, Message, Wallet
from walletvoucher.store._schema import MIGRATIONS, migrate
from walletvoucher.store._url import connect

from ._programs import coffee, tea
from .conftest import NOW


def pushes(wallet: Wallet) -> list[str]:
    """The serials of the pending apple.push messages, oldest first."""
    claimed = wallet.outbox.claim(at=NOW + timedelta(days=400), limit=100, topics=[PUSH_TOPIC])
    return [str(m.payload["serial"]) for m in claimed]


def test_issue_and_stamp_mark_the_card_at_its_version_and_journal_position(url: str, programs: Any) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        first = wallet.passes.mark("C1")
        wallet.stamp("C1", 2, at=NOW + timedelta(minutes=1))
        second = wallet.passes.mark("C1")
        info = wallet.card_info("C1")
    assert first is not None and second is not None
    assert (second.version, second.position, second.kind) == (info.version, info.last_position, "card")
    assert second.position > first.position and second.version > first.version
    assert second.last_modified == NOW + timedelta(minutes=1)


def test_two_changes_in_one_second_are_a_second_apart(url: str, programs: Any) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        wallet.stamp("C1", at=NOW + timedelta(milliseconds=300))
        mark = wallet.passes.mark("C1")
    assert mark is not None and mark.last_modified == NOW + timedelta(seconds=1)


def test_voucher_serials_are_marked_when_issued_and_when_redeemed(url: str, programs: Any) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        (voucher,) = wallet.stamp("C1", 10, at=NOW).vouchers
        issued = wallet.passes.mark(voucher.serial)
        wallet.redeem(voucher.serial, SelfRedeem(by="customer"), at=NOW + timedelta(hours=1))
        redeemed = wallet.passes.mark(voucher.serial)
        card = wallet.passes.mark("C1")
    assert issued is not None and redeemed is not None and card is not None
    assert (issued.kind, issued.card_serial) == ("voucher", "C1")
    assert redeemed.position == card.position > issued.position
    assert redeemed.version == card.version


def test_push_is_queued_in_the_transaction_only_for_registered_serials(url: str, programs: Any) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        wallet.issue_card(coffee(), serial="C2", member_id="m", at=NOW)
        wallet.stamp("C1", at=NOW)
        assert wallet.outbox.pending() == 0  # nobody holds the passes yet: nothing to push
        assert wallet.passes.register("phone", "C1", "tok-1", at=NOW)
        wallet.stamp("C1", at=NOW + timedelta(minutes=1))
        wallet.stamp("C2", at=NOW + timedelta(minutes=1))
        assert pushes(wallet) == ["C1"]


def test_a_failed_transition_marks_and_queues_nothing(url: str, programs: Any) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        wallet.passes.register("phone", "C1", "tok-1", at=NOW)
        before = wallet.passes.mark("C1")
        with pytest.raises(Exception, match="count"):
            wallet.stamp("C1", 0, at=NOW + timedelta(minutes=1))
        assert wallet.passes.mark("C1") == before and wallet.outbox.pending() == 0


def test_effect_hooks_still_run_after_the_built_in_push(url: str, programs: Any) -> None:
    def google(change: Change) -> list[Message]:
        return [Message(topic="google.sync", payload={"serial": change.card.serial})]

    with Wallet.open(url, programs=programs, effects=[google]) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        wallet.passes.register("phone", "C1", "tok-1", at=NOW)
        wallet.stamp("C1", at=NOW)
        topics = [m.topic for m in wallet.outbox.claim(at=NOW, limit=10)]
    assert topics == ["google.sync", "apple.push", "google.sync"]


def test_registrations_and_serials_updated_since_a_tag(url: str, programs: Any) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        for serial in ("A", "B", "C", "D"):
            wallet.issue_card(coffee(), serial=serial, member_id="m", at=NOW)
            assert wallet.passes.register("phone", serial, "tok", at=NOW)
        assert not wallet.passes.register("phone", "A", "tok-new", at=NOW)  # existing: token refreshed
        _, tag = wallet.passes.updated_since("phone", None)
        for serial in ("C", "A", "B"):
            wallet.stamp(serial, at=NOW + timedelta(minutes=1))
        serials, last = wallet.passes.updated_since("phone", tag)
        assert serials == ("C", "A", "B") and last > tag
        assert wallet.passes.updated_since("phone", last) == ((), last)
        assert wallet.passes.updated_since("stranger", None) == ((), 0)
        assert wallet.passes.push_tokens("A") == ("tok-new",)


def test_card_saved_and_removed_are_logged_apart_from_the_journal(url: str, programs: Any) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        events_before = wallet.counts().events
        wallet.passes.register("phone", "C1", "tok-1", at=NOW)
        wallet.passes.register("phone", "C1", "tok-1", at=NOW)  # again: not a second save
        wallet.passes.register("tablet", "C1", "tok-2", at=NOW)
        assert wallet.passes.unregister("phone", "C1", at=NOW + timedelta(minutes=1))
        assert not wallet.passes.unregister("phone", "C1", at=NOW + timedelta(minutes=1))
        assert wallet.passes.remove_push_token("tok-2", at=NOW + timedelta(minutes=2)) == 1
        log = wallet.passes.activity()
        journal = wallet.journal()
        assert wallet.counts().events == events_before
        card = wallet.card("C1")
    assert [(a.type, a.device, a.reason) for a in log] == [
        ("card_saved", "phone", ""),
        ("card_saved", "tablet", ""),
        ("card_removed", "phone", "device"),
        ("card_removed", "tablet", "apns"),
    ]
    assert [a.position for a in log] == sorted(a.position for a in log)
    assert replay([e.event for e in journal], [coffee()]) == card


def test_card_at_an_earlier_version(url: str, programs: Any) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(tea(), serial="T1", member_id="m", at=NOW)
        version = wallet.card_info("T1").version
        wallet.stamp("T1", 2, at=NOW)
        assert wallet.card("T1", version=version).stamps == 0
        assert wallet.card("T1").stamps == 2
        with pytest.raises(ValueError, match="version"):
            wallet.card("T1", version=99)


def test_claim_takes_only_the_topics_asked_for(url: str, programs: Any) -> None:
    def other(change: Change) -> list[Message]:
        return [Message(topic="google.sync", payload={})]

    with Wallet.open(url, programs=programs, effects=[other]) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        assert wallet.outbox.claim(at=NOW, topics=["apple.push"]) == ()
        assert wallet.outbox.claim(at=NOW, topics=[]) == ()
        assert [m.topic for m in wallet.outbox.claim(at=NOW, topics=["google.sync"])] == ["google.sync"]


def test_migration_2_marks_cards_stored_before_it(url: str, programs: Any) -> None:
    db = connect(url)
    try:
        migrate(db, at_us=0, migrations=MIGRATIONS[:1])
        with db.write() as tx:  # a card stored at schema 1, before the upgrade
            tx.run(
                "INSERT INTO cards (serial, member_id, program_id, program_version, version, last_position,"
                " issued_at, updated_at) VALUES ('OLD', 'm', 'coffee', 1, 3, 7, 0, ?)",
                (1_778_149_800_400_000,),
            )
    finally:
        db.close()
    with Wallet.open(url, programs=programs) as wallet:  # migrates to the current schema
        mark = wallet.passes.mark("OLD")
    assert mark is not None
    assert (mark.version, mark.position, mark.kind) == (3, 7, "card")
    assert mark.last_modified.microsecond == 0
