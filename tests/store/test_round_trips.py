"""Statements per transition (issue 17): counted, not timed, on both engines.

A stamp on a card the wallet has cached is, inside its transaction, the version-checked UPDATE of
the card (which also keeps the card's own pass mark, at the position its last event takes) and one
INSERT of its events -- the floor's two (insert one event, update one version row). A redemption
adds the voucher lookup, its projection and the voucher's own pass mark. Pushes are queued only for
passes with devices registered, decided by the server: by one ``INSERT ... WHERE EXISTS`` per pass
on SQLite (cheaper there than a ``RETURNING``, which SQLite runs through a temporary table), inside
the statement that marks the pass on PostgreSQL, where a transition's writes are sent with COMMIT
and checked by the server (``WITH changed AS (...)``, counted here as the statement inside it). The
pages a commit writes on SQLite are counted in ``test_pages.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import attrs
import pytest

from tests.store._programs import coffee
from tests.store.conftest import NOW
from walletvoucher import CardValidity, SelfRedeem, StampExpiry
from walletvoucher.store import Wallet
from walletvoucher.store._postgres import _PgTx
from walletvoucher.store._rules import rule_columns
from walletvoucher.store._sqlite import _SqliteTx

_PUSH = {"sqlite": ["INSERT outbox"], "postgres": []}
"""A pass's push, if it has devices registered: its own INSERT on SQLite, inside the statement that
marks the pass on PostgreSQL."""
_CHECKED = "WITH changed AS ("
"""How PostgreSQL sends a statement whose row count the server checks (Database.expect)."""


def _name(sql: str) -> str:
    words = sql.removeprefix(_CHECKED).split()
    return f"{words[0]} {words[2 if words[0] in ('INSERT', 'DELETE') else 1].rstrip(',')}"


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    for cls in (_SqliteTx, _PgTx):
        # SQLite runs deferred statements at once (through run)
        names = ("run", "rows", "defer") if cls is _PgTx else ("run", "rows", "inserted")
        for name in names:
            original = getattr(cls, name)

            def counted(self: Any, sql: str, params: Any = (), _original: Any = original) -> Any:
                seen.append(_name(sql))
                return _original(self, sql, params)

            monkeypatch.setattr(cls, name, counted)
    yield seen


def test_a_stamp_a_redemption_and_an_issue_take_few_statements(
    url: str, programs: list[Any], statements: list[str]
) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        statements.clear()
        wallet.issue_card(coffee(), serial="C2", member_id="m-2", at=NOW)
        push = _PUSH[wallet.dialect]
        assert statements == ["INSERT cards", "INSERT events", *push], statements
        wallet.stamp("C1", 1, at=NOW)
        statements.clear()
        wallet.stamp("C1", 1, at=NOW)
        assert statements == ["UPDATE cards", "INSERT events", *push], statements
        voucher = wallet.stamp("C1", 8, at=NOW).vouchers[0]
        statements.clear()
        wallet.redeem(voucher.serial, SelfRedeem(), at=NOW)
        assert statements == ["SELECT 0", "UPDATE cards", "INSERT events", "UPDATE vouchers",
                              "INSERT pass_updates", *push, *push], statements  # fmt: skip
        assert wallet.outbox.pending() == 0  # no device registered: no push queued
        wallet.passes.register("phone", "C1", "token", at=NOW)
        statements.clear()
        wallet.stamp("C1", 1, at=NOW)  # a device is registered: its push joins the transaction
        assert statements == ["UPDATE cards", "INSERT events", *push], statements
        assert [m.payload for m in wallet.outbox.claim(at=NOW)] == [{"serial": "C1"}]
        second = wallet.stamp("C1", 10, at=NOW).vouchers[0]
        wallet.passes.register("phone", second.serial, "token", at=NOW)
        wallet.outbox.claim(at=NOW)
        wallet.void(second.serial, "refund", at=NOW)  # the card's and the voucher's pushes
        pushed = [m.payload for m in wallet.outbox.claim(at=NOW)]
        assert pushed == [{"serial": "C1"}, {"serial": second.serial}]


def test_a_cached_card_another_process_moved_is_decided_again(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as a, Wallet.open(url, programs=programs) as b:
        a.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        voucher = a.stamp("C1", 10, at=NOW).vouchers[0]
        assert b.card("C1").vouchers[0].serial == voucher.serial  # b caches the card, voucher open
        a.redeem(voucher.serial, SelfRedeem(), at=NOW)
        a.stamp("C1", 10, at=NOW)  # a second voucher b's cached card lacks
        assert b.redeem("C1-2", SelfRedeem(), at=NOW).voucher.serial == "C1-2"
        assert b.stamp("C1", 1, at=NOW).card.lifetime_stamps == 21
        assert b.conflicts == 0  # a stale cache is reloaded at once, not counted as a lost race


def test_a_redemption_on_a_card_not_cached_reads_the_card_in_one_statement(
    url: str, programs: list[Any], statements: list[str]
) -> None:
    """The voucher's card, its version and its events come in one statement (issue 17: two round
    trips less for the counter, which rarely stamped the card it redeems)."""
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        voucher = wallet.stamp("C1", 10, at=NOW).vouchers[0]
    with Wallet.open(url, programs=programs) as counter:
        statements.clear()
        assert counter.redeem(voucher.serial, SelfRedeem(), at=NOW).voucher.status.value == "redeemed"
        push = _PUSH[counter.dialect]
        assert statements == ["SELECT 0", "UPDATE cards", "INSERT events", "UPDATE vouchers",
                              "INSERT pass_updates", *push, *push], statements  # fmt: skip


def test_every_statement_sqlite_runs_for_a_stamp_an_issue_and_a_redemption(tmp_path: Any) -> None:
    """Counted by SQLite itself (its trace hook sees BEGIN and COMMIT too), so a statement added
    anywhere -- engine, wallet or model -- shows here: the floor is four (BEGIN, INSERT, UPDATE,
    COMMIT); a stamp and an issue are five (the card's statement also marks its pass; one INSERT
    queues its push if devices are registered), a redemption on a card not cached nine."""
    from tests.store._programs import all_programs

    url = f"sqlite:///{tmp_path / 'wallet.db'}"
    with Wallet.open(url, programs=all_programs()) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        voucher = wallet.stamp("C1", 10, at=NOW).vouchers[0]
        traced: list[str] = []
        wallet._db._conn.set_trace_callback(traced.append)  # type: ignore[attr-defined]
        wallet.stamp("C1", 1, at=NOW)
        stamp, traced[:] = list(traced), []
        wallet.issue_card(coffee(), serial="C2", member_id="m-2", at=NOW)
        issue, traced[:] = list(traced), []
    with Wallet.open(url, programs=all_programs()) as counter:
        counter._db._conn.set_trace_callback(traced.append)  # type: ignore[attr-defined]
        counter.redeem(voucher.serial, SelfRedeem(), at=NOW)
    words = [[s.split()[0] for s in found] for found in (stamp, issue, traced)]
    assert words[0] == ["BEGIN", "UPDATE", "INSERT", "INSERT", "COMMIT"], stamp
    assert words[1] == ["BEGIN", "INSERT", "INSERT", "INSERT", "COMMIT"], issue
    assert words[2] == ["BEGIN", "SELECT", "UPDATE", "INSERT", "UPDATE", "INSERT", "INSERT", "INSERT",
                        "COMMIT"], traced  # fmt: skip
    assert not any("RETURNING" in s for s in (*stamp, *issue, *traced))  # a temporary table each


def test_rule_columns_a_card_already_holds_are_not_set_again(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card with a validity and rolling stamp expiry keeps its ``expires_at`` for life and its
    ``stamps_lapse_at`` all day; setting an indexed column to the value it holds still rewrites its
    index entry, so a wallet that committed the row itself leaves them out. A wallet that did not
    (another process moved the card) sets them, and the row always holds what the model says."""
    program = attrs.evolve(coffee(), id="rules", stamp_expiry=StampExpiry.rolling(7),
                           card_validity=CardValidity(days_after_join=365))  # fmt: skip
    updates: list[str] = []
    for cls, name in ((_SqliteTx, "run"), (_SqliteTx, "rows"), (_PgTx, "run"), (_PgTx, "rows"),
                      (_PgTx, "defer")):  # fmt: skip
        original = getattr(cls, name)

        def seen(self: Any, sql: str, params: Any = (), _original: Any = original) -> Any:
            if sql.removeprefix(_CHECKED).startswith("UPDATE cards SET version"):
                updates.append(sql.split(" WHERE")[0])  # the card's columns, not its pass mark's
            return _original(self, sql, params)

        monkeypatch.setattr(cls, name, seen)
    with Wallet.open(url, programs=[program]) as a, Wallet.open(url, programs=[program]) as b:
        a.issue_card(program, serial="R1", member_id="m-1", at=NOW)
        a.stamp("R1", 1, at=NOW)  # the row came from the issue a committed: the end is already there
        a.stamp("R1", 1, at=NOW + timedelta(minutes=5))  # the same day: the lapse stays too
        b.stamp("R1", 1, at=NOW + timedelta(minutes=6))  # b never wrote the row: sets both
        a.stamp("R1", 1, at=NOW + timedelta(minutes=7))  # a's cached card is stale: its UPDATE matches
        # no row, and on the fresh load a knows nothing of the row's version 4: sets both
        last = a.stamp("R1", 1, at=NOW + timedelta(days=1))  # a new day: a new lapse, the same end
        with a._db.read() as tx:
            row = tx.one("SELECT stamps_lapse_at, expires_at FROM cards WHERE serial = 'R1'")
    assert ["stamps_lapse_at" in u for u in updates] == [True, False, True, False, True, True], updates
    assert ["expires_at" in u for u in updates] == [False, False, True, False, True, False], updates
    assert row is not None and tuple(row) == rule_columns(last.card)
    assert None not in rule_columns(last.card)


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # SQLite is in-process: no round trips
def test_postgres_sends_begin_with_the_first_statement(
    engine: str, url: str, programs: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round trips to the server, counted where psycopg waits for one: a stamp on a cached card is
    one (BEGIN, the card's UPDATE with its pass mark, the events and COMMIT, sent together and
    checked by the server), as is an issue (the floor's four: BEGIN, INSERT, UPDATE, COMMIT); a
    one-query read is two, a redemption on a card not cached two (the voucher's card read with
    BEGIN, then the writes with COMMIT), and a transaction that fails before its first statement
    none. With effect hooks, which read the events' positions, a stamp is two."""
    import psycopg

    trips: list[int] = []
    original = psycopg.Connection.wait

    def wait(self: Any, gen: Any, *args: Any, **kwargs: Any) -> Any:
        # In pipeline mode the statements are only queued; the round trip is the pipeline's sync.
        if self._pipeline is None or gen.__name__ == "_exit_gen":
            trips.append(1)
        return original(self, gen, *args, **kwargs)

    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 1, at=NOW)
        voucher = wallet.stamp("C1", 9, at=NOW).vouchers[0]
        monkeypatch.setattr(psycopg.Connection, "wait", wait)
        wallet.stamp("C1", 1, at=NOW)
        assert len(trips) == 1
        trips.clear()
        wallet.issue_card(coffee(), serial="C2", member_id="m-2", at=NOW)
        assert len(trips) == 1
        trips.clear()
        assert wallet.card_info("C1").version == 7
        assert len(trips) == 2
        trips.clear()
        with Wallet.open(url, programs=programs) as counter:
            trips.clear()
            counter.redeem(voucher.serial, SelfRedeem(), at=NOW)  # the card not cached
            # BEGIN with the voucher's card, snapshot and events; the writes with COMMIT (issue 17:
            # was six)
            assert len(trips) == 2
            trips.clear()
        with Wallet.open(url, programs=programs, effects=[lambda change: ()]) as hooked:
            hooked.card("C1")
            trips.clear()
            hooked.stamp("C1", 1, at=NOW)
            assert len(trips) == 2  # the events' positions read back for the hook, then COMMIT
            trips.clear()
        with pytest.raises(ValueError):
            wallet.stamp("C1", 1, at=NOW, idempotency_key="")  # refused before any statement
        assert trips == []
        monkeypatch.undo()
        with pytest.raises(Exception, match="already stored"):  # fails on its first statement
            wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        assert wallet.stamp("C1", 1, at=NOW).card.lifetime_stamps == 13  # the connection goes on


def test_a_deferred_statement_that_fails_rolls_its_transaction_back(url: str, programs: list[Any]) -> None:
    """Statements sent with the next one (Tx.defer; PostgreSQL pipelines them) fail as any
    statement does: at the latest with the COMMIT they travel with, and nothing of the transaction
    stays; a statement whose result is read is sent with those before it, in order."""
    from walletvoucher.store._engine import UniqueViolation
    from walletvoucher.store._url import connect

    Wallet.open(url, programs=programs).close()
    db = connect(url)
    try:
        with db.write() as tx:
            tx.run("INSERT INTO code_pools (name, symbology, low_stock) VALUES ('p', 'qr', 1)")
        with pytest.raises(UniqueViolation), db.write() as tx:
            tx.defer("INSERT INTO code_pools (name, symbology, low_stock) VALUES ('q', 'qr', 1)")
            tx.defer("INSERT INTO code_pools (name, symbology, low_stock) VALUES ('p', 'qr', 2)")
        with db.write() as tx:
            tx.defer("UPDATE code_pools SET low_stock = 5 WHERE name IN ('p', 'q')")
            assert tx.run("UPDATE code_pools SET low_stock = low_stock WHERE name = 'none'") == 0
            assert tx.rows("SELECT low_stock FROM code_pools") == [(5,)]  # the deferred one went first
        with db.read() as tx:
            assert tx.rows("SELECT name, low_stock FROM code_pools ORDER BY name") == [("p", 5)]
    finally:
        db.close()


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # SQLite checks row counts as it goes
def test_a_write_sent_with_commit_that_changes_no_row_rolls_everything_back(
    engine: str, url: str, programs: list[Any]
) -> None:
    """PostgreSQL sends a transition's writes with COMMIT (issue 17), so the store cannot read a row
    count between them: the server checks it (Database.expect, walletvoucher_expect()). A checked
    statement that changes another number of rows fails as a conflict, and nothing sent with it --
    before or after -- stays; one that changes the rows counted on commits."""
    from walletvoucher.store._engine import Conflict
    from walletvoucher.store._url import connect

    Wallet.open(url, programs=programs).close()
    db = connect(url)
    try:
        with db.write() as tx:
            tx.run("INSERT INTO code_pools (name, symbology, low_stock) VALUES ('p', 'qr', 1)")
        with pytest.raises(Conflict, match="the card moved"), db.write() as tx:
            tx.defer("INSERT INTO code_pools (name, symbology, low_stock) VALUES ('q', 'qr', 1)")
            tx.defer(db.expect("UPDATE code_pools SET low_stock = 7 WHERE name = 'none' RETURNING 1", 1))
            tx.defer("UPDATE code_pools SET low_stock = 8 WHERE name = 'p'")
        with db.write() as tx:
            tx.defer(db.expect("UPDATE code_pools SET low_stock = 9 WHERE name = 'p' RETURNING 1", 1))
        with db.read() as tx:
            assert tx.rows("SELECT name, low_stock FROM code_pools ORDER BY name") == [("p", 9)]
    finally:
        db.close()


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_a_stale_card_sent_with_commit_leaves_nothing_and_is_decided_again(
    engine: str, url: str, programs: list[Any]
) -> None:
    """A wallet whose cached card another process moved sends its writes with COMMIT; the server
    refuses the card's UPDATE, so its events, its voucher and its pass marks are not stored either,
    and the wallet decides again on the card as it is (its stamps on top of the other's)."""
    with Wallet.open(url, programs=programs) as a, Wallet.open(url, programs=programs) as b:
        a.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        a.stamp("C1", 9, at=NOW)
        b.stamp("C1", 1, at=NOW)  # a's cached card is one version behind; b's stamp reached the goal
        result = a.stamp("C1", 10, at=NOW)  # decided first on the stale card, then again
        assert [v.serial for v in result.vouchers] == ["C1-2"] and result.card.lifetime_stamps == 20
        with a._db.read() as tx:
            stored = tx.rows("SELECT version FROM events WHERE serial = 'C1' ORDER BY version")
            versions = [int(v) for (v,) in stored]
            vouchers = [str(s) for (s,) in tx.rows("SELECT serial FROM vouchers ORDER BY serial")]
        assert versions == list(range(1, result.card.version + 1))
        assert vouchers == ["C1-1", "C1-2"]
