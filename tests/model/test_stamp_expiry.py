"""Stamp expiry: never, fixed, rolling; lapsed stamps leave through stamps_expired, replayed and checked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletvoucher import (
    EventType,
    Milestone,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StampCard,
    StampExpiry,
    events_from_json,
    events_to_json,
    replay,
)
from walletvoucher.errors import ReplayError, ValidationError

from .conftest import T0, make_program

BERLIN = ZoneInfo("Europe/Berlin")


def _card(at: datetime = T0, **changes: Any) -> tuple[StampCard, list[Any]]:
    card, events = StampCard.issue(make_program(**changes), serial="C1", member_id="m", at=at)
    return card, list(events)


def test_rolling_stamps_lapse_at_the_end_of_the_nth_day_after_the_last_stamp() -> None:
    card, _ = _card(stamp_expiry=StampExpiry.rolling(30), timezone="Asia/Tashkent")
    card = card.add_stamps(3, at=T0).card  # 2026-05-07 15:30 in Tashkent
    assert card.stamps_lapse_at == datetime(2026, 6, 7, tzinfo=ZoneInfo("Asia/Tashkent"))
    later = card.add_stamps(1, at=T0 + timedelta(days=20)).card  # each stamp restarts the clock
    assert later.stamps_lapse_at == datetime(2026, 6, 27, tzinfo=ZoneInfo("Asia/Tashkent"))
    assert later.expire_stamps(at=datetime(2026, 6, 26, 18, 59, tzinfo=timezone.utc))[1] == ()
    lapsed, events = later.expire_stamps(at=datetime(2026, 6, 26, 19, 0, tzinfo=timezone.utc))
    assert lapsed.stamps == 0 and lapsed.stamps_lapse_at is None
    assert [(e.type, dict(e.data)) for e in events] == [(EventType.STAMPS_EXPIRED, {
        "stamps": 4, "cycle": 1, "lapse_at": "2026-06-27T00:00:00+05:00"})]


def test_a_stamp_after_the_lapse_starts_again_from_one() -> None:
    card, _ = _card(stamp_expiry=StampExpiry.rolling(7))
    card = card.add_stamps(4, at=T0).card
    result = card.add_stamps(1, at=T0 + timedelta(days=9))
    assert [e.type.value for e in result.events] == ["stamps_expired", "stamp_added"]
    assert result.card.stamps == 1 and result.card.lifetime_stamps == 5


def test_the_lapse_follows_the_zones_midnight_across_a_clock_change() -> None:
    last = datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN)
    card, _ = _card(last, stamp_expiry=StampExpiry.rolling(30, warn_days=7), timezone="Europe/Berlin")
    card = card.add_stamps(2, at=last).card
    assert card.stamps_lapse_at is not None
    assert card.stamps_lapse_at.astimezone(timezone.utc) == datetime(2026, 3, 31, 22, 0, tzinfo=timezone.utc)
    assert card.stamps_warn_at == datetime(2026, 3, 25, tzinfo=BERLIN)  # before the change: +01:00
    autumn = card.add_stamps(1, at=datetime(2026, 9, 25, 12, 0, tzinfo=BERLIN)).card
    assert autumn.stamps_lapse_at is not None  # 2026-10-25 is 25 hours long in Berlin
    assert autumn.stamps_lapse_at.astimezone(timezone.utc) == datetime(2026, 10, 25, 23, tzinfo=timezone.utc)


def test_a_lapse_on_a_day_whose_midnight_is_skipped_falls_when_the_clocks_jump() -> None:
    santiago = ZoneInfo("America/Santiago")  # 2026-09-06 00:00 does not exist there
    card, _ = _card(stamp_expiry=StampExpiry.rolling(5), timezone="America/Santiago")
    card = card.add_stamps(1, at=datetime(2026, 8, 31, 12, 0, tzinfo=santiago)).card
    assert card.stamps_lapse_at is not None
    assert card.stamps_lapse_at.astimezone(timezone.utc) == datetime(2026, 9, 6, 4, 0, tzinfo=timezone.utc)
    assert card.stamps_lapse_at.astimezone(santiago).hour == 1


def test_fixed_expiry_takes_the_stamps_held_at_the_date_and_not_later_ones() -> None:
    until = datetime(2026, 6, 30, 23, 59, 59, tzinfo=ZoneInfo("Asia/Tashkent"))
    card, _ = _card(stamp_expiry=StampExpiry.fixed(until, warn_days=7))
    card = card.add_stamps(3, at=T0).card
    assert card.stamps_lapse_at == until
    assert card.stamps_warn_at == datetime(2026, 6, 23, tzinfo=timezone.utc)  # the program's zone is UTC
    after = card.add_stamps(2, at=until + timedelta(days=1))
    assert [e.type.value for e in after.events] == ["stamps_expired", "stamp_added"]
    assert after.card.stamps == 2 and after.card.stamps_lapse_at is None


def test_lapsed_stamps_keep_the_cycles_milestones_issued() -> None:
    cookie = Milestone(at=2, reward=Reward(title="Cookie", description="x"),
                       redemption=RedemptionMethod.SELF_REDEEM)
    card, _ = _card(goal=5, milestones=(cookie,), stamp_expiry=StampExpiry.rolling(3))
    first = card.add_stamps(3, at=T0)
    assert len(first.vouchers) == 1
    again = first.card.add_stamps(2, at=T0 + timedelta(days=10))
    assert again.vouchers == () and again.card.stamps == 2 and again.card.milestones_reached == 1
    assert again.card.vouchers == first.card.vouchers  # the earned voucher stays


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: StampExpiry(expire="rolling"), "expire"),  # type: ignore[arg-type]
        (lambda: StampExpiry.rolling(0), "days"),
        (lambda: StampExpiry(expire=StampExpiry.rolling(3).expire), "stamps.days"),
        (lambda: StampExpiry(expire=StampExpiry.fixed(T0).expire), "stamps.until"),
        (lambda: StampExpiry(warn_days=3), "stamps.warn_days"),
        (lambda: StampExpiry.fixed(datetime(2026, 1, 1)), "until"),
    ],
)
def test_a_stamp_expiry_that_makes_no_sense_is_refused(make: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make()
    assert caught.value.field == field


# --- replay -------------------------------------------------------------------------------------


def _lapsed_log() -> tuple[Any, list[Any]]:
    card, log = _card(stamp_expiry=StampExpiry.rolling(7))
    result = card.add_stamps(4, at=T0)
    log += result.events
    _, events = result.card.expire_stamps(at=T0 + timedelta(days=8))
    return card.program, log + list(events)


def test_replay_of_a_lapse_equals_the_live_card() -> None:
    program, log = _lapsed_log()
    assert replay(events_from_json(events_to_json(log)), [program]).stamps == 0


@pytest.mark.parametrize(
    "forge",
    [
        lambda e: attrs.evolve(e, at=T0 + timedelta(days=3)),  # before the stamps lapse
        lambda e: attrs.evolve(e, data={**e.data, "stamps": 9}),
        lambda e: attrs.evolve(e, data={**e.data, "lapse_at": "2026-05-10T00:00:00+00:00"}),
    ],
)
def test_replay_refuses_a_forged_stamps_expired(forge: Any) -> None:
    program, log = _lapsed_log()
    with pytest.raises(ReplayError):
        replay([*log[:-1], forge(log[-1])], [program])


def test_replay_refuses_stamps_expired_on_a_program_whose_stamps_never_lapse() -> None:
    program, log = _lapsed_log()
    never = attrs.evolve(program, stamp_expiry=StampExpiry.never())
    with pytest.raises(ReplayError, match="do not lapse"):
        replay(log, [never])


def test_replay_refuses_a_late_stamp_that_kept_lapsed_stamps() -> None:
    card, log = _card(stamp_expiry=StampExpiry.rolling(7))
    first = card.add_stamps(4, at=T0)
    result = first.card.add_stamps(1, at=T0 + timedelta(days=9))
    assert replay([*log, *first.events, *result.events], [card.program]) == result.card
    without = [attrs.evolve(e, version=e.version - 1)  # renumbered, so only the lapse rule can tell
               for e in result.events if e.type is not EventType.STAMPS_EXPIRED and e.version is not None]
    with pytest.raises(ReplayError, match="lapsed"):
        replay([*log, *first.events, *without], [card.program])


# --- Hypothesis: any log with lapses replays to the live card -----------------------------------

_steps = st.lists(
    st.one_of(
        st.tuples(st.just("stamp"), st.integers(1, 12)),
        st.tuples(st.just("wait"), st.integers(1, 24 * 12)),
        st.tuples(st.just("lapse"), st.just(0)),
        st.tuples(st.just("redeem"), st.integers(0, 3)),
    ),
    max_size=25,
)


@settings(max_examples=120, deadline=None)
@given(days=st.integers(1, 10), zone=st.sampled_from(["UTC", "Europe/Berlin", "America/Santiago",
                                                       "Asia/Tashkent", "Australia/Lord_Howe"]),
       start=st.integers(0, 365 * 24), steps=_steps)
def test_replay_of_any_log_with_lapses_equals_the_live_card(
    days: int, zone: str, start: int, steps: list[tuple[str, int]]
) -> None:
    program = make_program(goal=6, stamp_expiry=StampExpiry.rolling(days, warn_days=2), timezone=zone)
    at = T0 + timedelta(hours=start)
    card, history = StampCard.issue(program, serial="CARD1", member_id="m", at=at)
    log = list(history)
    for action, n in steps:
        if action == "wait":
            at += timedelta(hours=n)
        elif action == "stamp":
            result = card.add_stamps(n, at=at)
            card, log = result.card, log + list(result.events)
        elif action == "lapse":
            card, events = card.expire_stamps(at=at)
            log += events
        else:
            open_ = [v for v in card.vouchers if v.status_at(at).value == "active"]
            if open_:
                outcome = card.redeem(open_[n % len(open_)].serial, SelfRedeem(), at=at)
                card, log = outcome.card, log + list(outcome.events)
        lapse = card.stamps_lapse_at
        assert lapse is None or lapse > at or action in ("wait", "redeem")
        assert replay(log, [program]) == card
    assert replay(events_from_json(events_to_json(log)), [program]) == card
