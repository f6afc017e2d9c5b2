"""The outbox (written with the transition, claimed by a worker) and stored code pools."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.store._programs import coffee
from tests.store.conftest import NOW
from walletvoucher.errors import CodeError, EarnPolicyViolation, SymbologyError
from walletvoucher.store import Change, Message, Wallet


def _pushes(change: Change) -> list[Message]:
    return [
        Message(
            topic="apple.push",
            payload={"serial": change.card.serial, "action": change.action, "tag": change.positions[-1],
                     "was": change.before.stamps if change.before else None, "now": change.card.stamps},
        )
    ]  # fmt: skip


def test_a_message_is_written_with_the_transition(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs, effects=[_pushes]) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 3, at=NOW)
        claimed = wallet.outbox.claim(at=NOW, limit=10)
        assert [m.payload["action"] for m in claimed] == ["issue", "stamp"]
        tag = wallet.card_info("C1").last_position
        assert dict(claimed[1].payload) == {"serial": "C1", "action": "stamp", "tag": tag, "was": 0, "now": 3}
        assert claimed[0].attempts == 1 and claimed[0].created_at == NOW


def test_no_message_when_the_transition_fails(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs, effects=[_pushes]) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        with pytest.raises(Exception, match="count"):
            wallet.stamp("C1", 0, at=NOW)
        with pytest.raises(Exception, match="before the card's last stamp"):
            wallet.stamp("C1", 1, at=NOW)  # fine
            wallet.stamp("C1", 1, at=NOW - timedelta(hours=1))
        assert wallet.outbox.pending() == 2  # issue and the one good stamp


def test_a_failing_effect_hook_rolls_the_transition_back(url: str, programs: list[Any]) -> None:
    def broken(change: Change) -> list[Message]:
        if change.action == "stamp":
            raise EarnPolicyViolation("hook says no", field="count", value=1, fix="none")
        return []

    with Wallet.open(url, programs=programs, effects=[broken]) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        with pytest.raises(EarnPolicyViolation):
            wallet.stamp("C1", 1, at=NOW)
        assert wallet.card("C1").lifetime_stamps == 0 and wallet.counts().events == 1


def test_claim_complete_and_retry(url: str, programs: list[Any]) -> None:
    with (
        Wallet.open(url, programs=programs, effects=[_pushes]) as wallet,
        Wallet.open(url, programs=programs) as w2,
    ):
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.issue_card(coffee(), serial="C2", member_id="m-2", at=NOW)
        first, second = wallet.outbox.claim(at=NOW, limit=5, lease=timedelta(seconds=30))
        assert w2.outbox.claim(at=NOW) == ()  # leased: no other worker gets them
        wallet.outbox.complete(first.id, at=NOW)
        wallet.outbox.retry(second.id, error="APNs said 503", at=NOW, delay=timedelta(seconds=10))
        assert w2.outbox.claim(at=NOW + timedelta(seconds=5)) == ()
        again = w2.outbox.claim(at=NOW + timedelta(seconds=10))
        assert [(m.id, m.attempts, m.last_error) for m in again] == [(second.id, 2, "APNs said 503")]
        # a worker that dies without completing: the lease runs out and the message comes back
        back = wallet.outbox.claim(at=NOW + timedelta(minutes=2))
        assert [(m.id, m.attempts) for m in back] == [(second.id, 3)]
        wallet.outbox.complete(second.id, at=NOW)
        assert wallet.outbox.pending() == 0 and wallet.outbox.claim(at=NOW + timedelta(days=1)) == ()


def test_delayed_messages_wait_until_available(url: str, programs: list[Any]) -> None:
    def later(change: Change) -> list[Message]:
        return [Message(topic="reminder", payload={}, available_at=change.at + timedelta(days=1))]

    with Wallet.open(url, programs=programs, effects=[later]) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        assert wallet.outbox.claim(at=NOW) == ()
        assert [m.topic for m in wallet.outbox.claim(at=NOW + timedelta(days=1))] == ["reminder"]


def test_pool_import_from_csv_with_low_stock(url: str, programs: list[Any], tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("code,amount\n5901234123457,5\n4006381333931,5\n\n", encoding="utf-8")
    with Wallet.open(url, programs=programs) as wallet:
        assert wallet.pools.import_csv("ean", export, symbology="ean13", column="code", low_stock=1) == 2
        assert wallet.pools.import_csv("ean", io.StringIO("5901234123457\n"), symbology="ean13") == 0
        status = wallet.pools.status("ean")
        assert (status.total, status.remaining, status.low_stock, status.low) == (2, 2, 1, False)
        assert wallet.pools.names() == ("ean",)
        with pytest.raises(SymbologyError):
            wallet.pools.import_codes("ean", ["5901234123458"], symbology="ean13")  # bad check digit
        with pytest.raises(CodeError, match="holds ean13"):
            wallet.pools.import_codes("ean", ["ABC"], symbology="code128")
        assert wallet.pools.remaining("ean") == 2


def test_pool_code_goes_to_one_voucher_and_low_stock_shows(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.pools.import_codes("pos", ["A-1", "A-2", "A-3"], symbology="code128", low_stock=2)
        wallet.issue_card("pos", serial="P1", member_id="m-1", at=NOW)
        result = wallet.stamp("P1", 2, at=NOW, pool="pos")
        assert [v.code.value for v in result.vouchers if v.code] == ["A-1", "A-2"]
        assert wallet.pools.status("pos").low and wallet.pools.remaining("pos") == 1
        with pytest.raises(Exception, match="no codes left"):
            wallet.stamp("P1", 2, at=NOW, pool="pos")  # needs two, one left: nothing is taken
        assert wallet.pools.remaining("pos") == 1
