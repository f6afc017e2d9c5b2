"""Hypothesis: commands sent through the store (two connections, interleaved at random) leave the same
card as the pure model fed the accepted commands in committed order, and are refused exactly when the
model refuses them."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.store._programs import coffee
from tests.store.conftest import NOW
from walletvoucher import SelfRedeem, StampCard, replay
from walletvoucher.errors import WalletVoucherError
from walletvoucher.store import Wallet

_serials = itertools.count(1)

Command = tuple[int, str, int, int]  # (connection, kind, argument, minutes later)

commands = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.sampled_from(["stamp", "stamp", "redeem", "void", "expire"]),
        st.integers(1, 12),
        st.integers(0, 60 * 24 * 12),
    ),
    max_size=25,
)


def _through_store(wallet: Wallet, serial: str, kind: str, arg: int, at: datetime) -> None:
    if kind == "stamp":
        wallet.stamp(serial, arg, at=at, source="kiosk")
    elif kind == "redeem":
        wallet.redeem(f"{serial}-{arg % 5 + 1}", SelfRedeem(), at=at)
    elif kind == "void":
        wallet.void(f"{serial}-{arg % 5 + 1}", "mistake", at=at)
    else:
        wallet.expire_due(at=at)


def _through_model(card: StampCard, kind: str, arg: int, at: datetime) -> StampCard:
    serial = card.serial
    if kind == "stamp":
        return card.add_stamps(arg, at=at, source="kiosk").card
    if kind == "redeem":
        return card.redeem(f"{serial}-{arg % 5 + 1}", SelfRedeem(), at=at).card
    if kind == "void":
        return card.void_voucher(f"{serial}-{arg % 5 + 1}", "mistake", at=at).card
    return card.expire_vouchers(at=at)[0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=commands)
def test_store_agrees_with_the_pure_model(url: str, programs: list[Any], script: list[Command]) -> None:
    serial = f"H{next(_serials)}"
    with (
        Wallet.open(url, programs=programs, snapshot_every=3) as first,
        Wallet.open(url, programs=programs, snapshot_every=5) as second,
    ):
        model, _ = StampCard.issue(coffee(), serial=serial, member_id="m-1", at=NOW)
        first.issue_card(coffee(), serial=serial, member_id="m-1", at=NOW)
        at = NOW
        for connection, kind, arg, minutes in script:
            at += timedelta(minutes=minutes)
            wallet = (first, second)[connection]
            try:
                _through_store(wallet, serial, kind, arg, at)
            except WalletVoucherError as refused:
                try:
                    _through_model(model, kind, arg, at)
                except WalletVoucherError as also:
                    assert type(also) is type(refused) or "Unknown" in type(also).__name__
                else:
                    raise AssertionError(
                        f"store refused {kind} {arg} that the model accepts: {refused}"
                    ) from None
                continue
            model = _through_model(model, kind, arg, at)
        assert first.card(serial) == model
        assert second.card(serial) == model
    with Wallet.open(url, programs=programs, snapshot_every=0) as fresh:
        assert fresh.card(serial) == model
        events = [e.event for e in fresh.journal(limit=100_000) if e.event.card_serial == serial]
        assert replay(events, programs) == model
