"""Property tests: any sequence of valid transitions keeps the card's invariants."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from walletvoucher import (
    CodeEntry,
    Overflow,
    RedemptionMethod,
    StampCard,
    Validity,
    VoucherStatus,
    events_from_json,
    events_to_json,
    replay,
)

from .conftest import T0, counting_random, make_program

actions = st.lists(
    st.one_of(
        st.tuples(st.just("stamp"), st.integers(1, 25)),
        st.tuples(st.just("redeem"), st.integers(0, 3)),
        st.tuples(st.just("void"), st.integers(0, 3)),
        st.tuples(st.just("expire"), st.just(0)),
        st.tuples(st.just("wait"), st.integers(1, 72)),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(
    goal=st.integers(1, 12),
    overflow=st.sampled_from(Overflow),
    days=st.none() | st.integers(1, 5),
    steps=actions,
)
def test_transitions_keep_invariants(
    goal: int, overflow: Overflow, days: int | None, steps: list[tuple[str, int]]
) -> None:
    program = make_program(
        goal=goal,
        overflow=overflow,
        redemption=RedemptionMethod.REDEEM_CODE,
        validity=Validity.for_days(days) if days else Validity.unlimited(),
    )
    card, history = StampCard.issue(program, serial="CARD1", member_id="m", at=T0)
    log, at, added, redeemed = list(history), T0, 0, set()
    rng = counting_random()
    for action, n in steps:
        if action == "wait":
            at += timedelta(hours=n)
            continue
        if action == "stamp":
            result = card.add_stamps(n, at=at, random=rng)
            card, added = result.card, added + n
            log += result.events
        elif action == "expire":
            card, events = card.expire_vouchers(at=at)
            log += events
        elif card.vouchers:
            voucher = card.vouchers[n % len(card.vouchers)]
            if voucher.status_at(at) is not VoucherStatus.ACTIVE:
                continue
            if action == "redeem":
                assert voucher.code is not None
                outcome = card.redeem(voucher.serial, CodeEntry(code=voucher.code.value), at=at)
                assert voucher.serial not in redeemed
                redeemed.add(voucher.serial)
            else:
                outcome = card.void_voucher(voucher.serial, "test", at=at)
            card, log = outcome.card, log + list(outcome.events)
        assert 0 <= card.stamps < card.goal
        assert card.lifetime_stamps == added
        assert all(not v.status.is_final for v in card.vouchers)
        assert not redeemed & {v.serial for v in card.vouchers}
    serials = [e.data["voucher"]["serial"] for e in log if e.type.value == "voucher_issued"]
    assert len(serials) == len(set(serials)) == card.vouchers_issued
    if overflow is Overflow.CARRY_OVER:
        assert card.vouchers_issued == added // goal
    assert replay(events_from_json(events_to_json(log)), [program]) == card
