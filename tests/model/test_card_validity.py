"""Card validity: a card valid N days after joining or until a date stops earning and redeeming."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
import pytest

from walletvoucher import CardValidity, SelfRedeem, StampCard, replay
from walletvoucher.errors import CardExpired, ReplayError, ValidationError

from .conftest import T0, make_program

TASHKENT = ZoneInfo("Asia/Tashkent")


def _card(validity: CardValidity) -> tuple[StampCard, list]:  # type: ignore[type-arg]
    program = make_program(goal=3, card_validity=validity, timezone="Asia/Tashkent")
    card, events = StampCard.issue(program, serial="C1", member_id="m", at=T0)
    return card, list(events)


def test_a_card_valid_n_days_after_joining_expires_at_the_zones_midnight() -> None:
    card, _ = _card(CardValidity(days_after_join=30))
    assert card.expires_at == datetime(2026, 6, 7, tzinfo=TASHKENT)  # joined 2026-05-07 15:30 there


def test_an_expired_card_neither_earns_nor_redeems_and_nothing_changes() -> None:
    card, _ = _card(CardValidity(days_after_join=30))
    result = card.add_stamps(3, at=T0)
    [voucher] = result.vouchers
    end = datetime(2026, 6, 7, tzinfo=TASHKENT)
    still = result.card.add_stamps(1, at=end - timedelta(seconds=1)).card
    with pytest.raises(CardExpired, match="expired at 2026-06-07T00:00:00\\+05:00") as caught:
        still.add_stamps(1, at=end)
    assert caught.value.field == "card" and caught.value.value == "C1"
    with pytest.raises(CardExpired):
        still.redeem(voucher.serial, SelfRedeem(), at=end)
    assert still.void_voucher(voucher.serial, "card ended", at=end).card.vouchers == ()  # staff may void


def test_expire_card_records_it_once_and_replay_rebuilds_it() -> None:
    until = datetime(2026, 12, 31, 23, 59, 59, tzinfo=TASHKENT)
    card, log = _card(CardValidity(until=until))
    assert card.expire_card(at=until - timedelta(seconds=1)) == (card, ())
    ended, events = card.expire_card(at=until)
    assert ended.expired and [e.type.value for e in events] == ["card_expired"]
    assert ended.expire_card(at=until + timedelta(days=1))[1] == ()
    assert replay([*log, *events], [card.program]) == ended


@pytest.mark.parametrize(
    "forge",
    [
        lambda e: attrs.evolve(e, at=e.at - timedelta(days=1)),
        lambda e: attrs.evolve(e, data={"expires_at": "2026-01-01T00:00:00+00:00"}),
    ],
)
def test_replay_refuses_a_forged_card_expired(forge) -> None:  # type: ignore[no-untyped-def]
    until = datetime(2026, 12, 31, tzinfo=timezone.utc)
    card, log = _card(CardValidity(until=until))
    _, events = card.expire_card(at=until)
    with pytest.raises(ReplayError):
        replay([*log, forge(events[0])], [card.program])
    with pytest.raises(ReplayError):
        replay([*log, *events, *events], [card.program])


def test_replay_refuses_stamps_after_the_card_expired() -> None:
    card, log = _card(CardValidity(days_after_join=1))
    late = card.add_stamps(1, at=T0).events  # decided while valid, then moved past the end
    moved = [attrs.evolve(e, at=T0 + timedelta(days=5)) for e in late]
    with pytest.raises(ReplayError, match="expired"):
        replay([*log, *moved], [card.program])


def test_card_validity_takes_days_or_a_date_not_both() -> None:
    with pytest.raises(ValidationError) as caught:
        CardValidity(days_after_join=3, until=T0)
    assert caught.value.field == "card.valid"
    with pytest.raises(ValidationError):
        CardValidity(days_after_join=0)
