"""Join details kept with the card (``wallet.details``) and stored vouchers by serial, on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.store.conftest import NOW
from walletvoucher import SelfRedeem, VoucherStatus
from walletvoucher.errors import UnknownVoucher
from walletvoucher.store import Wallet


@pytest.fixture
def wallet(url: str, programs: list[Any]) -> Iterator[Wallet]:
    with Wallet.open(url, programs=programs) as opened:
        yield opened


def test_details_are_kept_replaced_and_forgotten_apart_from_the_journal(wallet: Wallet) -> None:
    wallet.issue_card("coffee", serial="CARD-1", member_id="m-1", at=NOW)
    assert wallet.details.get("CARD-1") == {}
    wallet.details.put("CARD-1", {"email": "a@example.com"}, consent="We e-mail you.", at=NOW)
    wallet.details.put("CARD-1", {"name": "Aziza", "phone": "+998 90 123"}, consent="ok", at=NOW)
    assert wallet.details.get("CARD-1") == {"name": "Aziza", "phone": "+998 90 123"}
    assert "Aziza" not in repr(wallet.journal())  # never an event
    assert wallet.details.forget("CARD-1") and wallet.details.get("CARD-1") == {}
    assert not wallet.details.forget("CARD-1")


def test_a_stored_voucher_is_found_by_its_serial_in_its_latest_state(wallet: Wallet) -> None:
    wallet.issue_card("coffee", serial="CARD-2", member_id="m-2", at=NOW)
    voucher = wallet.stamp("CARD-2", 10, at=NOW).vouchers[0]
    assert wallet.voucher(voucher.serial).status_at(NOW) is VoucherStatus.ACTIVE
    wallet.redeem(voucher.serial, SelfRedeem(), at=NOW + timedelta(minutes=1))
    stored = wallet.voucher(voucher.serial)
    assert stored.status is VoucherStatus.REDEEMED and stored.redeemed_at == NOW + timedelta(minutes=1)
    with pytest.raises(UnknownVoucher, match="NOPE-1"):
        wallet.voucher("NOPE-1")
