from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from walletvoucher import (
    EarnPolicy,
    EventType,
    Overflow,
    RedemptionMethod,
    SelfRedeem,
    StampCard,
    Symbology,
    Validity,
    VoucherStatus,
    events_from_json,
    events_to_json,
    replay,
)
from walletvoucher.codes import CodePool, normalize_code
from walletvoucher.errors import (
    EarnPolicyViolation,
    ReplayError,
    UnknownVoucher,
    ValidationError,
)

from .conftest import T0, counting_random, make_program


def new_card(**program_changes: object) -> StampCard:
    card, _ = StampCard.issue(make_program(**program_changes), serial="CARD1", member_id="m-1", at=T0)
    return card


def test_stamps_below_goal_issue_nothing() -> None:
    result = new_card().add_stamps(7, at=T0, source="staff")
    assert (result.card.stamps, result.card.cycle, result.card.progress) == (7, 1, "7/10")
    assert result.vouchers == ()
    assert [e.type for e in result.events] == [EventType.STAMP_ADDED]


def test_reaching_goal_issues_voucher_and_carries_over() -> None:
    result = new_card().add_stamps(7, at=T0).card.add_stamps(5, at=T0 + timedelta(minutes=1))
    assert result.card.stamps == 2
    assert result.card.cycle == 2
    assert result.card.lifetime_stamps == 12
    assert [v.serial for v in result.vouchers] == ["CARD1-1"]
    assert [e.type for e in result.events] == [
        EventType.STAMP_ADDED,
        EventType.GOAL_REACHED,
        EventType.VOUCHER_ISSUED,
        EventType.CYCLE_STARTED,
    ]
    assert result.card.open_voucher(T0 + timedelta(minutes=1)) == result.vouchers[0]


def test_crossing_goal_twice_in_one_call_issues_two_vouchers() -> None:
    result = new_card().add_stamps(23, at=T0)
    assert [v.serial for v in result.vouchers] == ["CARD1-1", "CARD1-2"]
    assert (result.card.stamps, result.card.cycle, len(result.card.vouchers)) == (3, 3, 2)


def test_drop_policy_discards_stamps_past_goal() -> None:
    result = new_card(overflow=Overflow.DROP).add_stamps(23, at=T0)
    assert len(result.vouchers) == 1
    assert result.card.stamps == 0
    assert result.card.lifetime_stamps == 23


def test_redeeming_on_the_card_keeps_the_same_card_and_next_cycle() -> None:
    earned = new_card().add_stamps(11, at=T0)
    after = earned.card.redeem("CARD1-1", SelfRedeem(), at=T0 + timedelta(hours=1))
    assert after.voucher.status is VoucherStatus.REDEEMED
    assert after.card.serial == "CARD1"
    assert after.card.vouchers == ()
    assert after.card.stamps == 1
    more = after.card.add_stamps(2, at=T0 + timedelta(hours=2))
    assert more.card.stamps == 3


def test_unknown_voucher_on_card() -> None:
    with pytest.raises(UnknownVoucher, match="CARD1-9"):
        new_card().redeem("CARD1-9", SelfRedeem(), at=T0)


def test_redeem_code_program_generates_crockford_codes() -> None:
    card = new_card(redemption=RedemptionMethod.REDEEM_CODE)
    voucher = card.add_stamps(10, at=T0, random=counting_random()).vouchers[0]
    assert voucher.code is not None
    assert normalize_code(voucher.code.value) == voucher.code.value
    assert voucher.code.symbology is Symbology.QR


def test_redeem_code_program_without_codes_says_how_to_fix_and_changes_nothing() -> None:
    card = new_card(redemption=RedemptionMethod.REDEEM_CODE)
    with pytest.raises(ValidationError, match=r"random=secrets\.token_bytes"):
        card.add_stamps(10, at=T0)
    assert card.stamps == 0


def test_ean_programs_need_pos_codes() -> None:
    card = new_card(redemption=RedemptionMethod.REDEEM_CODE, code_symbology=Symbology.EAN_13)
    with pytest.raises(ValidationError, match="CodePool"):
        card.add_stamps(10, at=T0, random=counting_random())
    pool = CodePool(["590123412345"], Symbology.EAN_13)
    voucher = card.add_stamps(10, at=T0, codes=pool).vouchers[0]
    assert voucher.code is not None and voucher.code.value == "5901234123457"


def test_validity_delay_makes_voucher_issued_then_active() -> None:
    card = new_card(validity=Validity.for_days(7, start_delay=timedelta(hours=1)))
    voucher = card.add_stamps(10, at=T0).vouchers[0]
    assert voucher.status is VoucherStatus.ISSUED
    assert voucher.status_at(T0) is VoucherStatus.ISSUED
    assert voucher.status_at(T0 + timedelta(hours=1)) is VoucherStatus.ACTIVE
    assert voucher.status_at(T0 + timedelta(days=7, hours=1)) is VoucherStatus.EXPIRED


def test_expire_vouchers_removes_them_from_the_card() -> None:
    card = new_card(validity=Validity.for_days(1)).add_stamps(10, at=T0).card
    same, events = card.expire_vouchers(at=T0 + timedelta(hours=1))
    assert events == () and same == card
    later, events = card.expire_vouchers(at=T0 + timedelta(days=2))
    assert [e.type for e in events] == [EventType.VOUCHER_EXPIRED]
    assert later.vouchers == ()


def test_void_voucher_on_card() -> None:
    card = new_card().add_stamps(10, at=T0).card
    result = card.void_voucher("CARD1-1", "refund", at=T0)
    assert result.voucher.status is VoucherStatus.VOIDED
    assert result.card.vouchers == ()


@pytest.mark.parametrize("count", [0, -1, True, 1.5])
def test_bad_stamp_count(count: object) -> None:
    with pytest.raises(ValidationError, match="count"):
        new_card().add_stamps(count, at=T0)  # type: ignore[arg-type]


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        new_card().add_stamps(1, at=datetime(2026, 5, 7, 10, 30))


def test_time_must_not_go_backwards() -> None:
    card = new_card().add_stamps(1, at=T0).card
    with pytest.raises(ValidationError, match="time order"):
        card.add_stamps(1, at=T0 - timedelta(seconds=1))


def test_earn_policy_max_per_call() -> None:
    card = new_card(earn_policy=EarnPolicy(max_per_call=2))
    with pytest.raises(EarnPolicyViolation, match="at most 2"):
        card.add_stamps(3, at=T0)


def test_earn_policy_min_interval() -> None:
    card = new_card(earn_policy=EarnPolicy(min_interval=timedelta(minutes=10))).add_stamps(1, at=T0).card
    with pytest.raises(EarnPolicyViolation, match="too soon") as info:
        card.add_stamps(1, at=T0 + timedelta(minutes=9))
    assert "10:40:00" in str(info.value)
    assert card.add_stamps(1, at=T0 + timedelta(minutes=10)).card.stamps == 2


def test_earn_policy_daily_cap_counts_in_program_time_zone() -> None:
    # Tashkent is UTC+5: 18:30 UTC on 7 May is 23:30 local; 19:30 UTC is already 8 May there.
    card = new_card(timezone="Asia/Tashkent", earn_policy=EarnPolicy(max_per_day=2))
    evening = datetime(2026, 5, 7, 18, 30, tzinfo=timezone.utc)
    card = card.add_stamps(2, at=evening).card
    with pytest.raises(EarnPolicyViolation, match="daily limit of 2"):
        card.add_stamps(1, at=evening + timedelta(minutes=20))
    assert card.add_stamps(2, at=evening + timedelta(hours=1)).card.stamps == 4


def test_program_change_applies_from_next_cycle() -> None:
    program = make_program()
    card, _ = StampCard.issue(program, serial="CARD1", member_id="m-1", at=T0)
    card = card.add_stamps(4, at=T0).card
    v2 = program.revise(goal=5)
    card, _events = card.change_program(v2, at=T0)
    assert card.goal == 10  # still the current cycle's goal
    result = card.add_stamps(12, at=T0)  # 16: first cycle ends at 10, next goal is 5 -> one more voucher
    assert [v.program_version for v in result.vouchers] == [1, 2]
    assert (result.card.goal, result.card.stamps) == (5, 1)
    with pytest.raises(ValidationError, match="newer version"):
        result.card.change_program(program, at=T0)


def test_replay_rebuilds_an_equal_card_from_json() -> None:
    program = make_program(redemption=RedemptionMethod.REDEEM_CODE)
    v2 = program.revise(goal=4)
    card, log = StampCard.issue(program, serial="CARD1", member_id="m-1", at=T0)
    history = list(log)
    rng = counting_random()
    for step in range(5):
        result = card.add_stamps(7, at=T0 + timedelta(hours=step), random=rng)
        card, history = result.card, history + list(result.events)
        if step == 1:
            card, events = card.change_program(v2, at=T0 + timedelta(hours=step))
            history += events
    redeemed = card.redeem(card.vouchers[0].serial, _code_entry(card), at=T0 + timedelta(days=1))
    history += redeemed.events
    rebuilt = replay(events_from_json(events_to_json(history)), [program, v2])
    assert rebuilt == redeemed.card


def _code_entry(card: StampCard):  # type: ignore[no-untyped-def]
    from walletvoucher import CodeEntry

    code = card.vouchers[0].code
    assert code is not None
    return CodeEntry(code=code.value.lower().replace("-", " "), by="till-1")


def test_replay_errors() -> None:
    program = make_program()
    _card, log = StampCard.issue(program, serial="CARD1", member_id="m-1", at=T0)
    with pytest.raises(ReplayError, match="card_issued"):
        replay([], [program])
    with pytest.raises(ReplayError, match="not known"):
        replay(log, [])
    other, _other_log = StampCard.issue(program, serial="CARD2", member_id="m-2", at=T0)
    stamps = other.add_stamps(1, at=T0).events
    with pytest.raises(ReplayError, match="another card"):
        replay([*log, *stamps], [program])
    with pytest.raises(ReplayError, match="first event"):
        replay([*log, *log], [program])
    with pytest.raises(ReplayError, match="not JSON"):
        events_from_json("{")


def test_code_pool_symbology_must_match_program() -> None:
    card = new_card(redemption=RedemptionMethod.REDEEM_CODE, code_symbology=Symbology.QR)
    pool = CodePool(["590123412345"], Symbology.EAN_13)
    with pytest.raises(ValidationError, match="code pool of qr codes"):
        card.add_stamps(10, at=T0, codes=pool)
    assert pool.remaining == 1
