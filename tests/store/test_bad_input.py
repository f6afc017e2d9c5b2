"""Bad input to every public entry point of the store raises the library's own error, on both engines.

Each case calls one entry point with one bad argument; the call must raise a
:class:`~walletvoucher.errors.WalletVoucherError` (never ``TypeError``, ``AttributeError``,
``OverflowError``, ``UnicodeEncodeError``, ``FileNotFoundError`` or a driver's exception), with a
message of bounded length that names a field, and must change nothing stored.
"""

# ruff: noqa: E501  (one case per line reads best as a table)
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.store._programs import coffee
from tests.store.conftest import NOW
from walletvoucher import CodeEntry, SelfRedeem
from walletvoucher.errors import StoreError, ValidationError, WalletVoucherError
from walletvoucher.model import VoucherStatus
from walletvoucher.store import Wallet

HUGE = 10**30
MEGA = "X" * 1_000_000
FOREVER = timedelta(days=999_999_999)
Call = Callable[[Wallet], object]

CASES: dict[str, Call] = {
    # transitions
    "issue_card program None": lambda w: w.issue_card(None, serial="N1", member_id="m", at=NOW),  # type: ignore[arg-type]
    "issue_card program int": lambda w: w.issue_card(5, serial="N1", member_id="m", at=NOW),  # type: ignore[arg-type]
    "issue_card serial int": lambda w: w.issue_card("coffee", serial=5, member_id="m", at=NOW),  # type: ignore[arg-type]
    "issue_card serial surrogate": lambda w: w.issue_card("coffee", serial="N\ud800", member_id="m", at=NOW),
    "issue_card serial NUL": lambda w: w.issue_card("coffee", serial="N\x001", member_id="m", at=NOW),
    "issue_card serial 1 MB": lambda w: w.issue_card("coffee", serial=MEGA, member_id="m", at=NOW),
    "issue_card member surrogate": lambda w: w.issue_card("coffee", serial="N1", member_id="\udfff", at=NOW),
    "issue_card member NUL": lambda w: w.issue_card("coffee", serial="N1", member_id="m\x00", at=NOW),
    "issue_card member None": lambda w: w.issue_card("coffee", serial="N1", member_id=None, at=NOW),  # type: ignore[arg-type]
    "issue_card key surrogate": lambda w: w.issue_card(
        "coffee", serial="N1", member_id="m", at=NOW, idempotency_key="k\ud800"
    ),
    "issue_card key NUL": lambda w: w.issue_card(
        "coffee", serial="N1", member_id="m", at=NOW, idempotency_key="k\x00"
    ),
    "stamp serial int": lambda w: w.stamp(5, 1, at=NOW),  # type: ignore[arg-type]
    "stamp serial callable": lambda w: w.stamp(lambda tx: "C1", 3, at=NOW),  # type: ignore[arg-type]
    "stamp serial surrogate": lambda w: w.stamp("C\ud8001", 1, at=NOW),
    "stamp serial NUL": lambda w: w.stamp("C1\x00", 1, at=NOW),
    "stamp serial 1 MB": lambda w: w.stamp(MEGA, 1, at=NOW),
    "stamp count huge": lambda w: w.stamp("C1", HUGE, at=NOW),
    "stamp count str": lambda w: w.stamp("C1", "3", at=NOW),  # type: ignore[arg-type]
    "stamp source surrogate": lambda w: w.stamp("C1", 1, at=NOW, source="till\udc00"),
    "stamp source int": lambda w: w.stamp("C1", 1, at=NOW, source=5),  # type: ignore[arg-type]
    "stamp pool surrogate": lambda w: w.stamp("C1", 1, at=NOW, pool="p\ud800"),
    "stamp pool int": lambda w: w.stamp("C1", 1, at=NOW, pool=5),  # type: ignore[arg-type]
    "stamp at naive": lambda w: w.stamp("C1", 1, at=NOW.replace(tzinfo=None)),
    "stamp key int": lambda w: w.stamp("C1", 1, at=NOW, idempotency_key=5),  # type: ignore[arg-type]
    "redeem serial int": lambda w: w.redeem(5, SelfRedeem(), at=NOW),  # type: ignore[arg-type]
    "redeem serial surrogate": lambda w: w.redeem("C1-\ud800", SelfRedeem(), at=NOW),
    "redeem serial NUL": lambda w: w.redeem("C1-1\x00", SelfRedeem(), at=NOW),
    "redeem serial 1 MB": lambda w: w.redeem(MEGA, SelfRedeem(), at=NOW),
    "redeem proof str": lambda w: w.redeem("C1-1", "proof", at=NOW),  # type: ignore[arg-type]
    "redeem code surrogate": lambda w: w.redeem("C1-1", CodeEntry(code="\ud800"), at=NOW),
    "void serial int": lambda w: w.void(5, "fraud", at=NOW),  # type: ignore[arg-type]
    "void reason surrogate": lambda w: w.void("C1-1", "fraud\ud800", at=NOW),
    "void reason int": lambda w: w.void("C1-1", 5, at=NOW),  # type: ignore[arg-type]
    "change_program serial int": lambda w: w.change_program(5, coffee(), at=NOW),  # type: ignore[arg-type]
    "change_program program str": lambda w: w.change_program("C1", "coffee", at=NOW),  # type: ignore[arg-type]
    "expire_due at str": lambda w: w.expire_due(at="now"),  # type: ignore[arg-type]
    # queries
    "card serial int": lambda w: w.card(5),  # type: ignore[arg-type]
    "card serial surrogate": lambda w: w.card("\ud800"),
    "card serial NUL": lambda w: w.card("C1\x00"),
    "card serial 1 MB": lambda w: w.card(MEGA),
    "card version huge": lambda w: w.card("C1", version=HUGE),
    "card version str": lambda w: w.card("C1", version="1"),  # type: ignore[arg-type]
    "card_info serial int": lambda w: w.card_info(5),  # type: ignore[arg-type]
    "card_info serial surrogate": lambda w: w.card_info("\ud800"),
    "cards_of member int": lambda w: w.cards_of(5),  # type: ignore[arg-type]
    "cards_of member surrogate": lambda w: w.cards_of("\ud800"),
    "cards_of member NUL": lambda w: w.cards_of("m\x00"),
    "vouchers status unknown str": lambda w: w.vouchers("nope"),  # type: ignore[arg-type]
    "vouchers status int": lambda w: w.vouchers(5),  # type: ignore[arg-type]
    "vouchers limit negative": lambda w: w.vouchers(limit=-1),
    "vouchers limit huge": lambda w: w.vouchers(limit=HUGE),
    "vouchers limit str": lambda w: w.vouchers(limit="10"),  # type: ignore[arg-type]
    "vouchers card_serial int": lambda w: w.vouchers(card_serial=5),  # type: ignore[arg-type]
    "vouchers card_serial surrogate": lambda w: w.vouchers(card_serial="\ud800"),
    "vouchers at str": lambda w: w.vouchers(VoucherStatus.ACTIVE, at="now"),  # type: ignore[arg-type]
    "vouchers expires_from str": lambda w: w.vouchers(expires_from="2026"),  # type: ignore[arg-type]
    "voucher serial int": lambda w: w.voucher(5),  # type: ignore[arg-type]
    "voucher serial surrogate": lambda w: w.voucher("\ud800"),
    "journal since huge": lambda w: w.journal(HUGE),
    "journal since negative": lambda w: w.journal(-1),
    "journal since str": lambda w: w.journal("0"),  # type: ignore[arg-type]
    "journal limit negative": lambda w: w.journal(limit=-1),
    "journal limit huge": lambda w: w.journal(limit=HUGE),
    "snapshot serial int": lambda w: w.snapshot(5),  # type: ignore[arg-type]
    "snapshot serial surrogate": lambda w: w.snapshot("\ud800"),
    # code pools
    "import_codes name surrogate": lambda w: w.pools.import_codes("p\ud800", ["A1"], symbology="code128"),
    "import_codes code surrogate": lambda w: w.pools.import_codes("p", ["A\ud800"], symbology="code128"),
    "import_codes code NUL": lambda w: w.pools.import_codes("p", ["A\x001"], symbology="code128"),
    "import_codes code int": lambda w: w.pools.import_codes("p", [5], symbology="code128"),  # type: ignore[list-item]
    "import_codes low_stock huge": lambda w: w.pools.import_codes("p", ["A1"], symbology="code128", low_stock=HUGE),
    "import_csv missing file": lambda w: w.pools.import_csv("p", "/no/such/codes.csv", symbology="code128"),
    "import_csv a folder": lambda w: w.pools.import_csv("p", "/", symbology="code128"),
    "import_csv column huge": lambda w: w.pools.import_csv("p", _CSV, symbology="code128", column=HUGE),
    "import_csv column float": lambda w: w.pools.import_csv("p", _CSV, symbology="code128", column=1.5),  # type: ignore[arg-type]
    "pool status int": lambda w: w.pools.status(5),  # type: ignore[arg-type]
    "pool status surrogate": lambda w: w.pools.status("\ud800"),
    "pool remaining NUL": lambda w: w.pools.remaining("p\x00"),
    # outbox
    "claim limit huge": lambda w: w.outbox.claim(at=NOW, limit=HUGE),
    "claim limit negative": lambda w: w.outbox.claim(at=NOW, limit=-1),
    "claim lease huge": lambda w: w.outbox.claim(at=NOW, lease=FOREVER),
    "claim lease negative": lambda w: w.outbox.claim(at=NOW, lease=timedelta(seconds=-1)),
    "claim lease int": lambda w: w.outbox.claim(at=NOW, lease=60),  # type: ignore[arg-type]
    "claim topics surrogate": lambda w: w.outbox.claim(at=NOW, topics=["t\ud800"]),
    "claim topics str": lambda w: w.outbox.claim(at=NOW, topics="apple.push"),
    "claim topics ints": lambda w: w.outbox.claim(at=NOW, topics=[5]),  # type: ignore[list-item]
    "complete id huge": lambda w: w.outbox.complete(HUGE, at=NOW),
    "complete id str": lambda w: w.outbox.complete("1", at=NOW),  # type: ignore[arg-type]
    "retry id huge": lambda w: w.outbox.retry(HUGE, error="x", at=NOW),
    "retry error int": lambda w: w.outbox.retry(1, error=5, at=NOW),  # type: ignore[arg-type]
    "retry delay huge": lambda w: w.outbox.retry(1, error="x", at=NOW, delay=FOREVER),
    # pass marks and registrations
    "mark serial int": lambda w: w.passes.mark(5),  # type: ignore[arg-type]
    "register device surrogate": lambda w: w.passes.register("d\ud800", "C1", "tok", at=NOW),
    "updated_since since huge": lambda w: w.passes.updated_since("d", HUGE),
    "activity since huge": lambda w: w.passes.activity(HUGE),
    "activity limit negative": lambda w: w.passes.activity(limit=-1),
    "activity limit huge": lambda w: w.passes.activity(limit=HUGE),
    # Google bookkeeping and access
    "recorded_class id int": lambda w: w.google.recorded_class(5),  # type: ignore[arg-type]
    "messages object surrogate": lambda w: w.google.messages("o\ud800"),
    "notifications_total NUL": lambda w: w.google.notifications_total("o\x00"),
    "record_class version huge": lambda w: w.google.record_class("c", program_version=HUGE, digest="d", at=NOW),
    "use_scan_step step huge": lambda w: w.access.use_scan_step("C1", HUGE, at=NOW),
    "use_scan_step serial surrogate": lambda w: w.access.use_scan_step("\ud800", 1, at=NOW),
    "revoke name surrogate": lambda w: w.access.revoke("api_key", "n\ud800", at=NOW),
    "authenticate token surrogate": lambda w: w.access.authenticate("t\ud800", at=NOW),
}
_CSV = str(Path(__file__).with_name("_codes.csv"))


@pytest.fixture
def stocked(url: str, programs: list[Any]) -> Any:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 10, at=NOW)
        before = (wallet.counts(), wallet.card_info("C1"))
        yield wallet, before


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_bad_input_raises_a_library_error_and_changes_nothing(stocked: Any, case: str) -> None:
    wallet, before = stocked
    try:
        CASES[case](wallet)
    except WalletVoucherError as exc:
        assert exc.field, exc
        assert len(str(exc)) < 1000, len(str(exc))
    except (sqlite3.Error, psycopg.Error, TypeError, ValueError, AttributeError, OverflowError,
            OSError) as exc:  # fmt: skip
        pytest.fail(f"{case}: {type(exc).__name__}: {str(exc)[:300]}")
    else:
        if case != "authenticate token surrogate":  # an unknown token is None, as documented
            pytest.fail(f"{case}: accepted")
    assert (wallet.counts(), wallet.card_info("C1")) == before


def test_nul_and_surrogates_follow_one_rule_on_both_engines(url: str, programs: list[Any]) -> None:
    """Neither engine stores NUL or a lone surrogate; both refuse it with the same ValidationError."""
    with Wallet.open(url, programs=programs) as wallet:
        for bad in ("m\x00", "m\ud800"):
            with pytest.raises(ValidationError) as err:
                wallet.issue_card("coffee", serial="N1", member_id=bad, at=NOW)
            assert err.value.field == "member_id"
        assert wallet.counts().cards == 0


def test_a_foreign_database_with_its_own_cards_table_is_refused(
    url: str, engine: str, programs: list[Any]
) -> None:
    create = "CREATE TABLE cards (id INTEGER PRIMARY KEY, holder TEXT)"
    if engine == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(create)
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(create)
    with pytest.raises(StoreError) as err:
        Wallet.open(url, programs=programs)
    assert err.value.field == "url" and "cards" in str(err.value) and err.value.fix


def test_a_wallet_with_no_voucher_stored_still_takes_a_status_as_text(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        voucher = wallet.stamp("C1", 10, at=NOW).vouchers[0]
        wallet.redeem(voucher.serial, SelfRedeem(), at=NOW)
        assert [v.serial for v in wallet.vouchers("redeemed")] == [voucher.serial]
