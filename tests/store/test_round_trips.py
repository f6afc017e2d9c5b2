"""Statements per transition (issue 17): counted, not timed, on both engines.

A stamp on a card the wallet has cached is three statements inside its transaction (the
version-checked UPDATE of the card, one INSERT of its events, one upsert of its pass marks), as
against the floor's two (insert one event, update one version row); a redemption adds the voucher
lookup and its projection; pushes are queued only for passes with devices registered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.store._programs import coffee
from tests.store.conftest import NOW
from walletvoucher import SelfRedeem
from walletvoucher.store import Wallet
from walletvoucher.store._postgres import _PgTx
from walletvoucher.store._sqlite import _SqliteTx


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    for cls in (_SqliteTx, _PgTx):
        for name in ("run", "rows"):
            original = getattr(cls, name)

            def counted(self: Any, sql: str, params: Any = (), _original: Any = original) -> Any:
                words = sql.split()
                seen.append(f"{words[0]} {words[2 if words[0] in ('INSERT', 'DELETE') else 1]}")
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
        assert statements == ["INSERT cards", "INSERT events", "INSERT pass_updates"], statements
        wallet.stamp("C1", 1, at=NOW)
        statements.clear()
        wallet.stamp("C1", 1, at=NOW)
        assert statements == ["UPDATE cards", "INSERT events", "INSERT pass_updates"], statements
        voucher = wallet.stamp("C1", 8, at=NOW).vouchers[0]
        statements.clear()
        wallet.redeem(voucher.serial, SelfRedeem(), at=NOW)
        assert statements == ["SELECT card_serial", "UPDATE cards", "UPDATE vouchers", "INSERT events",
                              "INSERT pass_updates"], statements  # fmt: skip
        wallet.passes.register("phone", "C1", "token", at=NOW)
        statements.clear()
        wallet.stamp("C1", 1, at=NOW)  # a device is registered: its push joins the transaction
        assert statements == ["UPDATE cards", "INSERT events", "INSERT pass_updates", "INSERT outbox"]
        assert wallet.outbox.pending() == 1


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


def test_postgres_sends_begin_with_the_first_statement(
    engine: str, url: str, programs: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round trips to the server, counted where psycopg waits for one: a stamp on a cached card is
    four (BEGIN with the card's UPDATE, the events, the pass marks, COMMIT), a one-query read two,
    and a transaction that fails before its first statement none."""
    if engine != "postgres":
        pytest.skip("SQLite is in-process: no round trips")
    import psycopg

    trips: list[int] = []
    original = psycopg.Connection.wait

    def wait(self: Any, gen: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(1)
        return original(self, gen, *args, **kwargs)

    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 1, at=NOW)
        monkeypatch.setattr(psycopg.Connection, "wait", wait)
        wallet.stamp("C1", 1, at=NOW)
        assert len(trips) == 4
        trips.clear()
        assert wallet.card_info("C1").version == 3
        assert len(trips) == 2
        trips.clear()
        with pytest.raises(ValueError):
            wallet.stamp("C1", 1, at=NOW, idempotency_key="")  # refused before any statement
        assert trips == []
        monkeypatch.undo()
        with pytest.raises(Exception, match="already stored"):  # fails on its first statement
            wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        assert wallet.stamp("C1", 1, at=NOW).card.lifetime_stamps == 3  # the connection goes on
