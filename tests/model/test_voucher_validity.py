"""Voucher validity in calendar months, counted on the program's calendar from issue, never retroactive."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from walletvoucher import StampCard, Validity, replay
from walletvoucher.errors import ValidationError

from .conftest import make_program

BERLIN = ZoneInfo("Europe/Berlin")


def _voucher(validity: Validity, at: datetime, zone: str = "Europe/Berlin"):  # type: ignore[no-untyped-def]
    program = make_program(goal=1, validity=validity, timezone=zone)
    card, log = StampCard.issue(program, serial="C1", member_id="m", at=at)
    result = card.add_stamps(1, at=at)
    assert replay([*log, *result.events], [program]) == result.card
    return result.vouchers[0]


@pytest.mark.parametrize(
    ("issued", "months", "expires"),
    [
        (datetime(2026, 1, 31, 10, tzinfo=BERLIN), 1, datetime(2026, 2, 28, 10, tzinfo=BERLIN)),  # no 31st
        (datetime(2028, 1, 31, 10, tzinfo=BERLIN), 1, datetime(2028, 2, 29, 10, tzinfo=BERLIN)),  # leap year
        (datetime(2026, 3, 15, 10, tzinfo=BERLIN), 1, datetime(2026, 4, 15, 10, tzinfo=BERLIN)),  # over DST
        (datetime(2026, 10, 31, 23, 30, tzinfo=BERLIN), 4, datetime(2027, 2, 28, 23, 30, tzinfo=BERLIN)),
        (datetime(2026, 12, 15, 9, tzinfo=BERLIN), 12, datetime(2027, 12, 15, 9, tzinfo=BERLIN)),
    ],
)
def test_months_count_on_the_programs_calendar(issued: datetime, months: int, expires: datetime) -> None:
    voucher = _voucher(Validity.for_months(months), issued)
    assert voucher.expires_at == expires
    assert voucher.expires_at is not None and voucher.expires_at.utcoffset() == expires.utcoffset()


def test_months_follow_the_local_date_not_utcs() -> None:
    # 2026-01-31 23:30 in Berlin is still the 31st there but 22:30 UTC: one month is the 28th of
    # February in Berlin, not 28 February 22:30 UTC shifted.
    issued = datetime(2026, 1, 31, 23, 30, tzinfo=BERLIN)
    assert _voucher(Validity.for_months(1), issued).expires_at == datetime(2026, 2, 28, 23, 30, tzinfo=BERLIN)
    tokyo = _voucher(Validity.for_months(1), issued, zone="Asia/Tokyo")  # 1 February 07:30 there
    assert tokyo.expires_at == datetime(2026, 3, 1, 7, 30, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_a_time_skipped_by_the_clock_change_moves_on_by_the_gap() -> None:
    skipped = _voucher(Validity.for_months(2), datetime(2026, 1, 29, 2, 30, tzinfo=BERLIN))
    assert skipped.expires_at is not None  # 29 March 02:30 does not exist in Berlin: 03:30 summer time
    assert skipped.expires_at.astimezone(timezone.utc) == datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc)
    assert skipped.expires_at.astimezone(BERLIN).hour == 3


def test_a_rule_change_reaches_only_vouchers_issued_after_it() -> None:
    program = make_program(goal=1, validity=Validity.for_days(30), timezone="Europe/Berlin")
    at = datetime(2026, 5, 7, 10, tzinfo=BERLIN)
    card, log = StampCard.issue(program, serial="C1", member_id="m", at=at)
    first = card.add_stamps(1, at=at)
    revised = program.revise(validity=Validity.for_months(3))
    card, changed = first.card.change_program(revised, at=at)
    second = card.add_stamps(1, at=at + timedelta(days=1))  # ends the cycle the change found: old rule
    third = second.card.add_stamps(1, at=at + timedelta(days=2))  # the first cycle on the new version
    old = first.vouchers[0]
    assert old.expires_at == at + timedelta(days=30)
    assert third.card.voucher(old.serial).expires_at == at + timedelta(days=30)  # never retroactive
    assert second.vouchers[0].expires_at == at + timedelta(days=31)
    assert third.vouchers[0].expires_at == datetime(2026, 8, 9, 10, tzinfo=BERLIN)
    log = [*log, *first.events, *changed, *second.events, *third.events]
    assert replay(log, [program, revised]) == third.card


def test_validity_takes_one_of_days_months_or_until() -> None:
    with pytest.raises(ValidationError, match="one of days, months or until, not both"):
        Validity(days=3, months=1)
    with pytest.raises(ValidationError):
        Validity.for_months(0)
