"""PostgreSQL without a journal lock: followers still never miss a commit (issue 17).

Two writers are interleaved on one real server so that the transaction holding the *earlier* journal
position commits *later*. A follower reading "after position N" (the journal, and a device's
``updated_since`` tag) polls in between and after; it must see every event exactly once, in order,
and every pass change. With positions drawn from a sequence and no lock, the follower reads the later
position first and skips the earlier one for good. (SQLite has one writer at a time: the interleaving
cannot happen there, the second writer would wait for the first.)
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.store._pg import PostgresCluster
from tests.store._programs import all_programs, coffee, tea
from tests.store.conftest import NOW, _fresh_database
from walletvoucher.store import Change, Message, Wallet
from walletvoucher.store._engine import Conflict
from walletvoucher.store._schema import MIGRATIONS, migrate
from walletvoucher.store._url import connect

SOON = NOW + timedelta(minutes=1)


@pytest.fixture
def pg_url(postgres: PostgresCluster) -> str:
    return _fresh_database(postgres)


class Gate:
    """Holds a writer inside its transaction until the test lets it go."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.go = threading.Event()

    def hold(self) -> None:
        self.inside.set()
        assert self.go.wait(30), "the test never let the writer go"


class Follower:
    """A journal follower and a device polling its tag, as the web service and a worker do."""

    def __init__(self, wallet: Wallet) -> None:
        self.wallet = wallet
        self.position = 0
        self.seen: list[tuple[str, int]] = []
        self.tag = 0
        self.polls: list[tuple[int, int, tuple[str, ...]]] = []

    def poll(self) -> None:
        while True:
            page = self.wallet.journal(self.position, limit=2)  # small pages: the cursor moves a lot
            self.seen += [(e.event.card_serial, e.version) for e in page]
            if page:
                self.position = page[-1].position
            if len(page) < 2:
                break
        serials, last = self.wallet.passes.updated_since("phone", self.tag)
        self.polls.append((self.tag, last, serials))
        self.tag = last

    def check(self, serials: list[str]) -> None:
        everything = [(e.event.card_serial, e.version) for e in self.wallet.journal(0, limit=10_000)]
        assert self.seen == everything, "the follower missed or repeated an event"
        for serial in serials:
            mark = self.wallet.passes.mark(serial)
            assert mark is not None
            assert any(low < mark.position <= high and serial in got for low, high, got in self.polls), (
                f"the device was never told that {serial} changed"
            )


def _in_thread(action: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(action())
        except BaseException as exc:  # reported by the test
            result.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.fixture
def cards(pg_url: str) -> Iterator[Follower]:
    with Wallet.open(pg_url, programs=all_programs()) as wallet:
        for serial, program in (("A1", coffee()), ("B1", coffee()), ("T1", tea())):
            wallet.issue_card(program, serial=serial, member_id="m", at=NOW)
            wallet.passes.register("phone", serial, "token", at=NOW)
        follower = Follower(wallet)
        follower.poll()
        yield follower


def _holding(gate: Gate, serial: str) -> Callable[[Change], list[Message]]:
    def effect(change: Change) -> list[Message]:
        if change.card.serial == serial and change.action == "stamp":
            gate.hold()  # inside the transaction, after its events were inserted
        return []

    return effect


def test_the_transaction_with_the_earlier_position_commits_later(pg_url: str, cards: Follower) -> None:
    gate = Gate()
    with (
        Wallet.open(pg_url, programs=all_programs(), effects=[_holding(gate, "A1")]) as first,
        Wallet.open(pg_url, programs=all_programs()) as second,
    ):
        thread, result = _in_thread(lambda: first.stamp("A1", 2, at=SOON))
        assert gate.inside.wait(30)
        second.stamp("B1", 1, at=SOON)  # a later position, committed first
        cards.poll()
        gate.go.set()
        thread.join(30)
        assert not isinstance(result[0], BaseException), result
        cards.poll()
    cards.check(["A1", "B1"])


def test_the_transaction_with_the_earlier_id_takes_its_position_later_and_commits_first(
    pg_url: str, cards: Follower
) -> None:
    """The first writer takes its transaction id (its idempotency key) and then waits while deciding;
    the second takes an id and a position and waits before committing; the first then takes its
    position and commits. A follower ordering by position alone, even reading only transactions
    below the oldest running one, would read the first's position and skip the second's."""
    deciding, committing = Gate(), Gate()

    def slow_random(n: int) -> bytes:  # the tea card's reward code is drawn while deciding
        deciding.hold()
        return os.urandom(n)

    with (
        Wallet.open(pg_url, programs=all_programs(), random=slow_random) as first,
        Wallet.open(pg_url, programs=all_programs(), effects=[_holding(committing, "B1")]) as second,
    ):
        one, one_result = _in_thread(lambda: first.stamp("T1", 3, at=SOON, idempotency_key="till/1"))
        assert deciding.inside.wait(30)
        two, two_result = _in_thread(lambda: second.stamp("B1", 1, at=SOON))
        assert committing.inside.wait(30)
        deciding.go.set()
        one.join(30)
        assert not isinstance(one_result[0], BaseException), one_result
        cards.poll()
        committing.go.set()
        two.join(30)
        assert not isinstance(two_result[0], BaseException), two_result
        cards.poll()
    cards.check(["T1", "B1"])
    assert cards.wallet.card("T1").vouchers, "the tea card reached its goal"


def test_a_card_s_events_follow_each_other_in_the_journal(pg_url: str) -> None:
    """A transaction whose id is older than the one that wrote the card's previous event (it took its
    id first, then the other committed) must not append: its events would sort before that one's."""
    Wallet.open(pg_url, programs=all_programs()).close()
    older, younger = connect(pg_url), connect(pg_url)
    row = (1, "stamps_added", 0, "{}")
    try:
        with pytest.raises(Conflict), older.write() as tx:
            tx.rows("SELECT pg_current_xact_id()")  # takes its id first
            with younger.write() as other:
                younger.insert_events(other, "C9", [row])
            older.insert_events(tx, "C9", [(2, "stamps_added", 0, "{}")])
        with older.write() as tx:  # retried in a new transaction, it follows
            older.insert_events(tx, "C9", [(2, "stamps_added", 0, "{}")])
        with older.read() as tx:
            found = tx.rows("SELECT version FROM events WHERE serial = 'C9' ORDER BY position")
        assert found == [(1,), (2,)]
    finally:
        older.close()
        younger.close()


def test_migration_40_moves_a_database_of_schema_30_forward(pg_url: str, tmp_path: Any) -> None:
    """A database written with positions from the identity sequence (schema 30): positions written
    after migration 40 lie above every stored one, so followers holding old cursors and tags go on."""
    with Wallet.open(f"sqlite:///{tmp_path / 'scratch.db'}", programs=all_programs()) as scratch:
        scratch.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        scratch.stamp("C1", 2, at=NOW)
        events = [(e.version, e.event.type.value, e.event) for e in scratch.journal()]
    old = connect(pg_url)
    try:
        migrate(old, at_us=0, migrations=tuple(m for m in MIGRATIONS if m.version < 40))
        with old.write() as tx:  # positions far above what transaction ids give now
            tx.rows("SELECT setval(pg_get_serial_sequence('events', 'position'), ?)", (2**44,))
            tx.rows("SELECT setval(pg_get_serial_sequence('pass_activity', 'position'), ?)", (2**44,))
            for version, kind, event in events:
                tx.run(
                    "INSERT INTO events (serial, version, type, at, data) VALUES ('C1', ?, ?, 0, ?)",
                    (version, kind, json.dumps(event.to_json())),
                )
            last = int(tx.rows("SELECT MAX(position) FROM events")[0][0])
            tx.run(
                "INSERT INTO cards (serial, member_id, program_id, program_version, version, last_position,"
                " issued_at, updated_at) VALUES ('C1', 'm', 'coffee', 1, ?, ?, 0, 0)",
                (len(events), last),
            )
            tx.run(
                "INSERT INTO pass_updates (serial, card_serial, kind, version, last_modified,"
                " update_position) VALUES ('C1', 'C1', 'card', ?, 0, ?)",
                (len(events), last),
            )
            tx.run(
                "INSERT INTO registrations (device, serial, push_token, created)"
                " VALUES ('phone', 'C1', 't', 0)"
            )
            activity = tx.rows(
                "INSERT INTO pass_activity (type, serial, device, at, reason) VALUES"
                " ('card_saved', 'C1', 'phone', 0, '') RETURNING position"
            )[0][0]
    finally:
        old.close()
    with Wallet.open(pg_url, programs=all_programs()) as wallet:  # migrates to 40
        assert wallet.card("C1").stamps == 2
        assert wallet.journal(last) == ()
        assert wallet.passes.updated_since("phone", last) == ((), last)
        wallet.stamp("C1", 1, at=SOON)
        wallet.passes.register("tablet", "C1", "t2", at=SOON)
        [entry] = wallet.journal(last)
        assert entry.position > last and entry.version == len(events) + 1
        assert wallet.passes.updated_since("phone", last) == (("C1",), entry.position)
        assert [a.device for a in wallet.passes.activity(activity)] == ["tablet"]
        assert [e.version for e in wallet.journal(0)] == list(range(1, len(events) + 2))


def test_positions_stay_above_stored_ones_when_transaction_ids_restart(pg_url: str) -> None:
    """A database restored into a new server (``pg_dump``) keeps its positions while the server's
    transaction ids start again from a few hundred: opening it raises ``journal_clock.shift``."""
    with Wallet.open(pg_url, programs=all_programs()) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
    db = connect(pg_url)
    try:
        with db.write() as tx:  # as if the ids that wrote it were far ahead of this server's
            tx.run("UPDATE events SET position = position + ?", (2**50,))
            tx.run("UPDATE pass_updates SET update_position = update_position + ?", (2**50,))
            restored = int(tx.rows("SELECT MAX(position) FROM events")[0][0])
    finally:
        db.close()
    with Wallet.open(pg_url, programs=all_programs()) as wallet:
        wallet.stamp("C1", 1, at=SOON)
        [entry] = wallet.journal(restored)
        assert entry.version == 2 and entry.position > restored


def test_one_transaction_may_append_to_a_card_twice(pg_url: str) -> None:
    Wallet.open(pg_url, programs=all_programs()).close()
    db = connect(pg_url)
    try:
        with db.write() as tx:
            first = db.insert_events(tx, "C9", [(1, "card_issued", 0, "{}")])
            second = db.insert_events(tx, "C9", [(2, "stamps_added", 0, "{}"), (3, "stamps_added", 0, "{}")])
        assert first[0] < second[0] < second[1] == first[0] + 2
    finally:
        db.close()
