"""Earning by amount: one stamp per step of Decimal amounts, the remainder kept or dropped."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletvoucher import (
    EarnByAmount,
    EarnPolicy,
    Money,
    Remainder,
    StampCard,
    StampExpiry,
    events_from_json,
    events_to_json,
    replay,
)
from walletvoucher.errors import EarnPolicyViolation, ReplayError, ValidationError

from .conftest import T0, make_program


def _card(remainder: Remainder = Remainder.KEEP, **changes: Any) -> tuple[StampCard, list[Any]]:
    rule = EarnByAmount(step="10000", currency="UZS", remainder=remainder)
    card, events = StampCard.issue(make_program(goal=5, earn_by_amount=rule, **changes), serial="C1",
                                   member_id="m", at=T0)
    return card, list(events)


def uzs(amount: str) -> Money:
    return Money(amount=amount, currency="UZS")


def test_one_stamp_per_step_with_the_remainder_kept() -> None:
    card, log = _card()
    first = card.add_purchase(uzs("25000"), at=T0)
    assert (first.card.stamps, first.card.amount_carried) == (2, Decimal("5000"))
    assert [dict(e.data) for e in first.events] == [
        {"amount": "25000", "currency": "UZS", "source": "till", "stamps": 2}]
    small = first.card.add_purchase(uzs("4999.50"), at=T0 + timedelta(minutes=1))
    assert (small.card.stamps, small.card.amount_carried) == (2, Decimal("9999.50"))
    goal = small.card.add_purchase(uzs("30000.50"), at=T0 + timedelta(minutes=2))  # 40000: 4 stamps
    assert [v.serial for v in goal.vouchers] == ["C1-1"]
    assert (goal.card.stamps, goal.card.cycle, goal.card.amount_carried) == (1, 2, Decimal("0.00"))
    log += [*first.events, *small.events, *goal.events]
    assert replay(events_from_json(events_to_json(log)), [card.program]) == goal.card


def test_the_remainder_dropped() -> None:
    card, _ = _card(Remainder.DROP)
    after = card.add_purchase(uzs("25000"), at=T0).card.add_purchase(uzs("5000"), at=T0)
    assert (after.card.stamps, after.card.amount_carried) == (2, Decimal(0))


@pytest.mark.parametrize(
    ("amount", "says"),
    [(Money(amount="100", currency="USD"), "in UZS"), (uzs("0"), "above 0"), (Decimal("5"), "must be Money")],
)
def test_a_purchase_in_the_wrong_currency_or_amount_is_refused(amount: Any, says: str) -> None:
    card, _ = _card()
    with pytest.raises(ValidationError, match=says):
        card.add_purchase(amount, at=T0)


def test_a_per_visit_program_refuses_purchases_and_the_policy_applies() -> None:
    card, _ = StampCard.issue(make_program(), serial="C1", member_id="m", at=T0)
    with pytest.raises(ValidationError, match="earns per visit"):
        card.add_purchase(uzs("10000"), at=T0)
    limited, _ = _card(earn_policy=EarnPolicy(max_per_day=2))
    with pytest.raises(EarnPolicyViolation):
        limited.add_purchase(uzs("30000"), at=T0)


def test_replay_refuses_a_purchase_with_forged_stamps() -> None:
    card, log = _card()
    spent = card.add_purchase(uzs("25000"), at=T0).events
    forged = attrs.evolve(spent[0], data={**spent[0].data, "stamps": 3})
    with pytest.raises(ReplayError, match="earns 2"):
        replay([*log, forged], [card.program])


@settings(max_examples=100, deadline=None)
@given(amounts=st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
                        max_size=15),
       remainder=st.sampled_from(Remainder))
def test_replay_of_any_purchases_equals_the_live_card(amounts: list[Decimal], remainder: Remainder) -> None:
    card, log = _card(remainder, stamp_expiry=StampExpiry.rolling(2))
    at, total = T0, Decimal(0)
    for index, amount in enumerate(amounts):
        at += timedelta(hours=13 * index)
        result = card.add_purchase(uzs(str(amount)), at=at, source="till")
        card, log = result.card, log + list(result.events)
        total += amount
        assert Decimal(0) <= card.amount_carried < Decimal(10000)
    assert replay(events_from_json(events_to_json(log)), [card.program]) == card
    if remainder is Remainder.KEEP:
        assert card.lifetime_stamps == int(total // 10000)
