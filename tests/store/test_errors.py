"""Every store error a caller can cause: its own class, naming the field, the value and the fix."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.store._pg import _free_port
from tests.store._programs import coffee
from tests.store.conftest import NOW
from walletvoucher import SelfRedeem
from walletvoucher.errors import (
    CodePoolEmpty,
    DatabaseReadOnly,
    DatabaseUnavailable,
    DuplicateSerial,
    IdempotencyKeyReused,
    SchemaTooNew,
    StaleVersion,
    StoreError,
    StoreUrlError,
    UnknownCard,
    UnknownCodePool,
    UnknownProgram,
    UnknownVoucher,
    ValidationError,
    VoucherAlreadyRedeemed,
    VoucherVoided,
    WalletVoucherError,
)
from walletvoucher.store import Wallet


def _described(error: WalletVoucherError, field: str) -> None:
    assert error.field == field and error.fix, (error.field, error.fix)
    assert str(error).startswith(f"{field}=") and "Fix:" in str(error)


def test_unknown_card_names_the_serial(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        for call in (lambda: wallet.stamp("NOPE", 1, at=NOW), lambda: wallet.card("NOPE"),
                     lambda: wallet.card_info("NOPE")):  # fmt: skip
            with pytest.raises(UnknownCard) as err:
                call()
            assert err.value.value == "NOPE" and isinstance(err.value, StoreError)
            _described(err.value, "serial")


@pytest.mark.parametrize("serial", ["C1\x00", "\ud800", "C\udfff1"], ids=["nul", "high", "low"])
def test_text_no_engine_can_store_is_a_validation_error_on_both(
    url: str, programs: list[Any], serial: str
) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        for field, call in (("serial", lambda: wallet.card(serial)),
                            ("serial", lambda: wallet.stamp(serial, 1, at=NOW)),
                            ("card_serial", lambda: wallet.vouchers(card_serial=serial))):  # fmt: skip
            with pytest.raises(ValidationError) as err:
                call()
            _described(err.value, field)  # the argument is named
        assert wallet.card("C1").stamps == 0  # the connection is still usable


def test_duplicate_card_serial_is_refused(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet, Wallet.open(url, programs=programs) as other:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        with pytest.raises(DuplicateSerial) as err:
            other.issue_card(coffee(), serial="C1", member_id="m-2", at=NOW)
        _described(err.value, "serial")
        assert other.card("C1").member_id == "m-1"


def test_unknown_voucher_serial(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet, pytest.raises(UnknownVoucher) as err:
        wallet.redeem("C9-1", SelfRedeem(), at=NOW)
    _described(err.value, "voucher")


def test_final_vouchers_say_why_they_cannot_be_used(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 20, at=NOW)
        wallet.redeem("C1-1", SelfRedeem(), at=NOW)
        wallet.void("C1-2", "fraud", at=NOW)
        with pytest.raises(VoucherAlreadyRedeemed):
            wallet.redeem("C1-1", SelfRedeem(), at=NOW)
        with pytest.raises(VoucherAlreadyRedeemed):
            wallet.void("C1-1", "late", at=NOW)
        with pytest.raises(VoucherVoided):
            wallet.redeem("C1-2", SelfRedeem(), at=NOW)


def test_idempotency_key_reused_for_another_request(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 2, at=NOW, idempotency_key="k-1")
        with pytest.raises(IdempotencyKeyReused) as err:
            wallet.stamp("C1", 3, at=NOW, idempotency_key="k-1")
        _described(err.value, "idempotency_key")
        assert wallet.card("C1").lifetime_stamps == 2


def test_stale_version_after_the_retries(url: str, engine: str, programs: list[Any]) -> None:
    """Another connection holds the card for the whole time: the wallet gives up with StaleVersion."""
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    blocked = url + ("?timeout=0.05" if engine == "sqlite" else "?options=-c%20lock_timeout%3D50")
    with _holding_card(url, engine), Wallet.open(blocked, programs=programs, retries=3) as wallet:
        with pytest.raises(StaleVersion) as err:
            wallet.stamp("C1", 1, at=NOW)
        _described(err.value, "card")
        assert wallet.conflicts == 4
    with Wallet.open(url, programs=programs) as wallet:
        assert wallet.card("C1").lifetime_stamps == 0


class _holding_card:  # noqa: N801 - used as a context manager
    def __init__(self, url: str, engine: str) -> None:
        self.url, self.engine = url, engine

    def __enter__(self) -> None:
        if self.engine == "sqlite":
            self.conn: Any = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.conn = psycopg.connect(self.url)
            self.conn.execute("SELECT * FROM cards WHERE serial = 'C1' FOR UPDATE")

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback() if self.engine == "postgres" else self.conn.execute("ROLLBACK")
        self.conn.close()


def test_unknown_program_at_issue_and_at_load(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        with pytest.raises(UnknownProgram) as err:
            wallet.issue_card("juice", serial="J1", member_id="m-1", at=NOW)
        _described(err.value, "program")
        with pytest.raises(UnknownProgram):
            wallet.issue_card(coffee().revise(goal=3).revise(goal=4), serial="J1", member_id="m-1", at=NOW)
        with pytest.raises(UnknownProgram, match="differs"):
            wallet.issue_card(coffee().revise(goal=7), serial="J1", member_id="m-1", at=NOW)  # another v2
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    with Wallet.open(url, programs=[p for p in programs if p.id != "coffee"]) as blind:
        with pytest.raises(UnknownProgram) as err:
            blind.card("C1")
        assert err.value.value == ("coffee", 1)


def test_unknown_pool_and_empty_pool_name_the_pool(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card("pos", serial="P1", member_id="m-1", at=NOW)
        with pytest.raises(UnknownCodePool) as unknown:
            wallet.stamp("P1", 1, at=NOW, pool="missing")
        _described(unknown.value, "pool")
        wallet.pools.import_codes("small", ["S-1"], symbology="code128")
        wallet.stamp("P1", 1, at=NOW, pool="small")
        with pytest.raises(CodePoolEmpty) as empty:
            wallet.stamp("P1", 1, at=NOW, pool="small")
        assert empty.value.value == "small"
        _described(empty.value, "pool")
        assert wallet.card("P1").lifetime_stamps == 1  # the failed stamp changed nothing


def test_schema_newer_than_the_code(url: str, engine: str, programs: list[Any]) -> None:
    Wallet.open(url, programs=programs).close()
    _execute(url, engine, "INSERT INTO schema_version (version, applied_at) VALUES (99, 0)")
    with pytest.raises(SchemaTooNew) as err:
        Wallet.open(url, programs=programs)
    assert err.value.value == 99
    _described(err.value, "schema_version")


def test_database_unreachable(engine: str, tmp_path: Path, programs: list[Any]) -> None:
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'wallet.db'}"
    else:
        url = f"postgresql://postgres:hunter2@127.0.0.1:{_free_port()}/wallet?connect_timeout=2"
    with pytest.raises(DatabaseUnavailable) as err:
        Wallet.open(url, programs=programs)
    _described(err.value, "url")
    assert "hunter2" not in str(err.value)


def test_database_read_only(url: str, engine: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    read_only = url + (
        "?mode=ro" if engine == "sqlite" else "?options=-c%20default_transaction_read_only%3Don"
    )
    with Wallet.open(read_only, programs=programs) as wallet:
        assert wallet.card("C1").stamps == 0  # reading works
        with pytest.raises(DatabaseReadOnly) as err:
            wallet.stamp("C1", 1, at=NOW)
        assert isinstance(err.value, DatabaseUnavailable)
        _described(err.value, "url")


def test_bad_urls(programs: list[Any]) -> None:
    for bad in ("mysql://x/y", "", "sqlite:///w.db?timeout=lots"):
        with pytest.raises(StoreUrlError):
            Wallet.open(bad, programs=programs)


def test_store_imports_without_psycopg(tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import walletvoucher, walletvoucher.store\n"
        "from walletvoucher.store import Wallet\n"
        f"w = Wallet.open({str(tmp_path / 'w.db')!r}, programs=[])\n"
        "print(w.counts().cards, 'psycopg' in sys.modules and sys.modules['psycopg'] is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]


def _execute(url: str, engine: str, sql: str) -> None:
    if engine == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(sql)
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql)
