"""Redemption context: locations, channels, time windows (across midnight, across clock changes) and
per-card limits; the error names the rule and the next allowed moment; replay checks it too."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from walletvoucher import (
    Channel,
    PerCard,
    RedemptionContext,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StampCard,
    TimeWindow,
    replay,
)
from walletvoucher.errors import OutsideRedemptionContext, ReplayError, ValidationError

from .conftest import make_program

TASHKENT = ZoneInfo("Asia/Tashkent")
MONDAY = datetime(2026, 5, 4, 9, 0, tzinfo=TASHKENT)


def _card(context: RedemptionContext, zone: str = "Asia/Tashkent") -> tuple[StampCard, list[Any]]:
    reward = Reward(title="Lunch", description="Set lunch", context=context)
    program = make_program(goal=1, reward=reward, redemption=RedemptionMethod.SELF_REDEEM, timezone=zone)
    card, log = StampCard.issue(program, serial="C1", member_id="m", at=MONDAY - timedelta(days=7))
    result = card.add_stamps(3, at=MONDAY - timedelta(days=7))
    return result.card, [*log, *result.events]


LUNCH = RedemptionContext(windows=(TimeWindow(days="mon-fri", start="12:00", end="14:00"),),
                          locations=("chilonzor",), channels=(Channel.IN_STORE,))


def test_a_redemption_inside_the_context_records_where() -> None:
    card, log = _card(LUNCH)
    at = MONDAY.replace(hour=12, minute=30)
    result = card.redeem("C1-1", SelfRedeem(), at=at, location="chilonzor", channel="in_store")
    assert dict(result.events[0].data) == {"voucher": "C1-1", "by": "customer", "location": "chilonzor",
                                          "channel": "in_store"}
    assert result.card.last_redeemed_at == at
    assert replay([*log, *result.events], [card.program]) == result.card


@pytest.mark.parametrize(
    ("at", "where", "rule", "next_allowed"),
    [
        (MONDAY.replace(hour=12, minute=30), {"location": "yunusobod", "channel": "in_store"},
         "context.locations", None),
        (MONDAY.replace(hour=12, minute=30), {"location": "chilonzor", "channel": "online"},
         "context.channels", None),
        (MONDAY.replace(hour=12, minute=30), {"location": "chilonzor"}, "context.channels", None),
        (MONDAY.replace(hour=11, minute=59), {"location": "chilonzor", "channel": "in_store"},
         "context.windows", "2026-05-04T12:00:00+05:00"),
        (MONDAY.replace(hour=14), {"location": "chilonzor", "channel": "in_store"},
         "context.windows", "2026-05-05T12:00:00+05:00"),
        (MONDAY.replace(day=9, hour=13), {"location": "chilonzor", "channel": "in_store"},  # Saturday
         "context.windows", "2026-05-11T12:00:00+05:00"),
    ],
)
def test_a_redemption_outside_names_the_rule_and_the_next_moment(
    at: datetime, where: dict[str, str], rule: str, next_allowed: str | None
) -> None:
    card, _ = _card(LUNCH)
    with pytest.raises(OutsideRedemptionContext) as caught:
        card.redeem("C1-1", SelfRedeem(), at=at, **where)
    assert caught.value.field == rule
    if next_allowed is not None:
        assert caught.value.fix == f"it can be redeemed from {next_allowed}"
    assert card.voucher("C1-1").status_at(at).value == "active"  # nothing changed


def test_a_window_across_midnight_belongs_to_the_day_it_opens() -> None:
    late = RedemptionContext(windows=(TimeWindow(days="fri", start="22:00", end="02:00"),))
    card, _ = _card(late)
    friday = MONDAY.replace(day=8)
    card.redeem("C1-1", SelfRedeem(), at=friday.replace(hour=23))
    card.redeem("C1-1", SelfRedeem(), at=friday.replace(day=9, hour=1, minute=59))  # Saturday 01:59
    with pytest.raises(OutsideRedemptionContext) as caught:
        card.redeem("C1-1", SelfRedeem(), at=friday.replace(day=9, hour=2))
    assert caught.value.fix == "it can be redeemed from 2026-05-15T22:00:00+05:00"
    with pytest.raises(OutsideRedemptionContext):
        card.redeem("C1-1", SelfRedeem(), at=friday.replace(day=7, hour=23, minute=30))  # Thursday night


def test_windows_follow_the_programs_clock_across_a_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    morning = RedemptionContext(windows=(TimeWindow(days="mon-sun", start="09:00", end="10:00"),))
    card, _ = _card(morning, zone="Europe/Berlin")
    utc = ZoneInfo("UTC")
    # 25 October 2026: Berlin goes back from +02:00 to +01:00 at 03:00
    card.redeem("C1-1", SelfRedeem(), at=datetime(2026, 10, 25, 8, 30, tzinfo=utc))  # 09:30 there
    with pytest.raises(OutsideRedemptionContext) as caught:
        card.redeem("C1-1", SelfRedeem(), at=datetime(2026, 10, 25, 7, 30, tzinfo=utc))  # 08:30 there
    assert caught.value.fix == "it can be redeemed from 2026-10-25T09:00:00+01:00"
    assert datetime(2026, 10, 24, 7, 30, tzinfo=utc).astimezone(berlin).hour == 9  # the day before: +02:00
    card.redeem("C1-1", SelfRedeem(), at=datetime(2026, 10, 24, 7, 30, tzinfo=utc))


@pytest.mark.parametrize(
    ("per_card", "second", "next_allowed"),
    [
        (PerCard.ONE_PER_DAY, timedelta(hours=5), "2026-05-05T00:00:00+05:00"),
        (PerCard.ONE_PER_VISIT, timedelta(hours=1), "2026-05-04T11:00:00+05:00"),
    ],
)
def test_per_card_limits(per_card: PerCard, second: timedelta, next_allowed: str) -> None:
    card, _ = _card(RedemptionContext(per_card=per_card))
    first = card.redeem("C1-1", SelfRedeem(), at=MONDAY).card
    with pytest.raises(OutsideRedemptionContext) as caught:
        first.redeem("C1-2", SelfRedeem(), at=MONDAY + second)
    assert caught.value.field == "context.per_card"
    assert caught.value.fix == f"it can be redeemed from {next_allowed}"
    allowed = first.redeem("C1-2", SelfRedeem(), at=datetime.fromisoformat(next_allowed))
    assert allowed.voucher.status.value == "redeemed"


def test_replay_refuses_a_redemption_outside_the_context() -> None:
    card, log = _card(LUNCH)
    at = MONDAY.replace(hour=12, minute=30)
    events = card.redeem("C1-1", SelfRedeem(), at=at, location="chilonzor", channel="in_store").events
    moved = attrs.evolve(events[0], data={**events[0].data, "location": "yunusobod"})
    with pytest.raises(ReplayError, match="chilonzor"):
        replay([*log, moved], [card.program])
    late = attrs.evolve(events[0], at=at.replace(hour=15))
    with pytest.raises(ReplayError):
        replay([*log, late], [card.program])


def test_a_context_that_makes_no_sense_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a day"):
        TimeWindow(days="mon-fry", start="12:00", end="14:00")
    with pytest.raises(ValidationError, match="HH:MM"):
        TimeWindow(days="mon", start="25:00", end="14:00")
    with pytest.raises(ValidationError, match="not a channel"):
        RedemptionContext(channels=["by_post"])
    with pytest.raises(ValidationError, match="location ids"):
        RedemptionContext(locations=["Chilonzor branch"])
