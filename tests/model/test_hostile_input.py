"""The model and codes on bad input (issue 7, section 5): one regression test per behaviour."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from walletvoucher import (
    Brand,
    CodeEntry,
    EarnPolicy,
    Event,
    EventType,
    LocalizedText,
    Money,
    Program,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StaffScan,
    StampCard,
    Symbology,
    Validity,
    Voucher,
    events_from_json,
    events_to_json,
    replay,
)
from walletvoucher.codes import (
    CodePool,
    RedeemCode,
    ScanKey,
    codes_match,
    generate_code,
    issue_scan_token,
    normalize_code,
    verify_scan_token,
)
from walletvoucher.errors import (
    CodeError,
    CodePoolEmpty,
    EarnPolicyViolation,
    ReplayError,
    ScanTokenMalformed,
    TransitionError,
    ValidationError,
    WalletVoucherError,
)
from walletvoucher.model import fold

from .conftest import T0, counting_random, make_program

KEY = ScanKey(key_id="k1", secret=b"0123456789abcdef")


def _issue(program: Program | None = None) -> tuple[StampCard, list[Event]]:
    card, events = StampCard.issue(program or make_program(), serial="CARD1", member_id="m-1", at=T0)
    return card, list(events)


# --- add_stamps bounded --------------------------------------------------------------------------


def test_add_stamps_of_a_billion_raises_quickly_with_the_limit_and_the_fix() -> None:
    card, _ = _issue(make_program(goal=1))
    start = time.process_time()
    with pytest.raises(EarnPolicyViolation, match="10,000 stamps allowed at once") as info:
        card.add_stamps(10**9, at=T0)
    assert time.process_time() - start < 1.0  # a safety bound: it must not try to build the vouchers
    assert "EarnPolicy(max_per_call=...)" in str(info.value)


def test_the_per_call_limit_is_configurable_on_the_earn_policy() -> None:
    card, _ = _issue(make_program(earn_policy=EarnPolicy(max_per_call=20_000)))
    assert card.add_stamps(15_000, at=T0).card.lifetime_stamps == 15_000
    low, _ = _issue(make_program(earn_policy=EarnPolicy(max_per_call=5)))
    with pytest.raises(EarnPolicyViolation, match="5 stamps allowed at once"):
        low.add_stamps(6, at=T0)


def test_a_per_call_limit_over_a_million_is_refused() -> None:
    with pytest.raises(ValidationError, match="max_per_call"):
        EarnPolicy(max_per_call=10**9)


def test_a_card_of_a_default_program_takes_exactly_the_default_limit() -> None:
    card, _ = _issue()
    assert card.add_stamps(10_000, at=T0).card.lifetime_stamps == 10_000
    with pytest.raises(EarnPolicyViolation):
        card.add_stamps(10_001, at=T0)


# --- scan tokens and expiries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_at",
    [
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
        datetime(1, 1, 1, tzinfo=timezone.utc),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_issue_scan_token_with_an_expiry_outside_1970_9999_raises_at_once(expires_at: datetime) -> None:
    start = time.process_time()
    with pytest.raises(ValidationError, match="expires_at"):
        issue_scan_token("CARD1-1", expires_at=expires_at, key=KEY)
    assert time.process_time() - start < 1.0


def test_scan_tokens_at_the_ends_of_the_range_round_trip() -> None:
    for expiry in (datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc),
                   datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)):
        token = issue_scan_token("CARD1-1", expires_at=expiry, key=KEY)
        claims = verify_scan_token(token, keys=[KEY], at=datetime(1970, 1, 1, tzinfo=timezone.utc))
        assert claims.expires_at == expiry


def test_a_token_with_an_expiry_past_year_9999_is_malformed_not_an_overflow() -> None:
    body = "wv1.k1.CARD1-1.zzzzzzzzzzzz"
    from walletvoucher.codes._scan import _sign

    with pytest.raises(ScanTokenMalformed):
        verify_scan_token(f"{body}.{_sign(KEY, body)}", keys=[KEY], at=T0)


def test_verify_scan_token_with_a_naive_clock_or_wrong_keys_is_a_library_error() -> None:
    token = issue_scan_token("CARD1-1", expires_at=None, key=KEY)
    with pytest.raises(ValidationError, match="at"):
        verify_scan_token(token, keys=[KEY], at=datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="keys"):
        verify_scan_token(token, keys=["k1"], at=T0)  # type: ignore[list-item]


# --- trailing newlines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: StampCard.issue(make_program(), serial="C1\n", member_id="m", at=T0),
        lambda: StampCard.issue(make_program(), serial="C1", member_id="m\n", at=T0),
        lambda: make_program(id="coffee\n"),
        lambda: make_program(default_language="en\n"),
        lambda: LocalizedText(default="x", translations={"en\n": "y"}),
        lambda: Brand(name="b", foreground="#FFFFFF\n", background="#000000", label="#000000"),
        lambda: ScanKey(key_id="k1\n", secret=b"0123456789abcdef"),
        lambda: issue_scan_token("CARD1-1\n", expires_at=None, key=KEY),
        lambda: Voucher(serial="C1-1\n", card_serial="C1", program_id="p", program_version=1,
                        reward=Reward(title="t", description="d"), method=RedemptionMethod.SELF_REDEEM,
                        issued_at=T0, valid_from=T0),
        lambda: Event(type=EventType.STAMP_ADDED, at=T0, card_serial="C1\n", data={}),
    ],
)
def test_identifiers_serials_key_ids_and_language_tags_refuse_a_trailing_newline(
    build: Callable[[], object],
) -> None:
    with pytest.raises(ValidationError):
        build()


def test_a_scan_token_whose_serial_ends_in_a_newline_is_malformed() -> None:
    with pytest.raises(ScanTokenMalformed):
        verify_scan_token("wv1.k1.C1\n.-.AAAAAAAAAAAAAAAAAAAAAA", keys=[KEY], at=T0)


# --- wrong types become ValidationErrors naming the field ------------------------------------------


def _brand() -> Brand:
    return Brand(name="b", foreground="#FFFFFF", background="#000000", label="#000000")


WRONG_TYPES: list[tuple[str, Callable[[], object]]] = [
    ("brand", lambda: make_program(brand="Kahve")),
    ("reward", lambda: make_program(reward="free coffee")),
    ("redemption", lambda: make_program(redemption="self_redeem")),
    ("validity", lambda: make_program(validity=30)),
    ("earn_policy", lambda: make_program(earn_policy={"max_per_day": 2})),
    ("overflow", lambda: make_program(overflow="drop")),
    ("code_symbology", lambda: make_program(code_symbology="qr")),
    ("name", lambda: make_program(name=42)),
    ("stamp_label", lambda: make_program(stamp_label=["Stamps"])),
    ("timezone", lambda: make_program(timezone="x" * 5000)),
    ("title", lambda: Reward(title=None, description="d")),
    ("value", lambda: Reward(title="t", description="d", value="4.50 EUR")),
    ("amount", lambda: Money(amount=[4], currency="EUR")),
    ("currency", lambda: Money(amount="4.50", currency=["EUR"])),
    ("start_delay", lambda: Validity(start_delay=3600)),
    ("min_interval", lambda: EarnPolicy(min_interval=300)),
    ("foreground", lambda: Brand(name="b", foreground=0xFFFFFF, background="#000000", label="#000000")),
    ("translations", lambda: LocalizedText(default="x", translations=5)),
    ("type", lambda: Event(type="stamp_added", at=T0, card_serial="C1")),
    ("data", lambda: Event(type=EventType.STAMP_ADDED, at=T0, card_serial="C1", data=[1])),
    ("data", lambda: Event(type=EventType.STAMP_ADDED, at=T0, card_serial="C1", data={"x": object()})),
    ("code", lambda: CodeEntry(code=1234)),
    ("token", lambda: StaffScan(token=None, keys=[KEY])),
    ("keys", lambda: StaffScan(token="t", keys=["k1"])),
    ("reward", lambda: Voucher(serial="C1-1", card_serial="C1", program_id="p", program_version=1,
                               reward="t", method=RedemptionMethod.SELF_REDEEM, issued_at=T0, valid_from=T0)),
    ("method", lambda: Voucher(serial="C1-1", card_serial="C1", program_id="p", program_version=1,
                               reward=Reward(title="t", description="d"), method="self_redeem",
                               issued_at=T0, valid_from=T0)),
    ("value", lambda: RedeemCode(value=1234, symbology=Symbology.QR, origin="pos")),
    ("symbology", lambda: RedeemCode(value="1234", symbology="qr", origin="pos")),
    ("program", lambda: StampCard(serial="C1", member_id="m", program="coffee", issued_at=T0)),
    ("vouchers", lambda: StampCard(serial="C1", member_id="m", program=make_program(), issued_at=T0,
                                   vouchers=["C1-1"])),
    ("next_program", lambda: StampCard(serial="C1", member_id="m", program=make_program(), issued_at=T0,
                                       next_program="v2")),
    ("key", lambda: issue_scan_token("C1-1", expires_at=None, key=b"0123456789abcdef")),
    ("expires_at", lambda: issue_scan_token("C1-1", expires_at="2026-01-01", key=KEY)),
    ("groups", lambda: generate_code(bytes, groups="3")),
    ("random", lambda: generate_code(lambda n: "x" * n)),
    ("changes", lambda: make_program().revise(gaol=8)),
    ("program", lambda: _issue()[0].change_program("v2", at=T0)),
    ("codes", lambda: _issue(make_program(redemption=RedemptionMethod.REDEEM_CODE))[0].add_stamps(
        10, at=T0, codes=["A1"])),
    ("random", lambda: _issue(make_program(redemption=RedemptionMethod.REDEEM_CODE))[0].add_stamps(
        10, at=T0, random=b"not a function")),
]


@pytest.mark.parametrize(
    ("field", "build"), WRONG_TYPES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(WRONG_TYPES)]
)
def test_a_wrong_type_is_a_validation_error_naming_the_field(field: str, build: Callable[[], object]) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    assert info.value.field == field or str(info.value).startswith(field)


@pytest.mark.parametrize("typed", [1234, None, b"0123-4567", ["0123"]])
def test_normalize_code_of_something_that_is_not_text_is_a_code_error(typed: object) -> None:
    with pytest.raises(CodeError, match="must be text"):
        normalize_code(typed)  # type: ignore[arg-type]


def test_normalize_code_upper_cases_ascii_only() -> None:
    with pytest.raises(CodeError):
        normalize_code("ßßßßßßßßßß")  # str.upper() would make it 'SSSS...'
    with pytest.raises(CodeError, match="far longer"):
        normalize_code("0" * 100_000)


def test_normalize_code_refuses_more_symbols_than_any_code_so_its_output_matches_itself() -> None:
    with pytest.raises(CodeError, match="more than any redeem code"):
        normalize_code("0" * 801)
    with pytest.raises(ValidationError, match="longer than 64"):
        generate_code(bytes, groups=10, group_size=10)
    longest = generate_code(lambda n: bytes(range(n)), groups=16, group_size=4).value
    assert codes_match(longest, normalize_code(longest))


def test_a_huge_number_in_an_error_message_does_not_break_the_message() -> None:
    with pytest.raises(EarnPolicyViolation):
        _issue()[0].add_stamps(10**5000, at=T0)
    with pytest.raises(ValidationError):
        _issue()[0].add_stamps(-(10**5000), at=T0)


# --- years 1 and 9999 --------------------------------------------------------------------------------

END = datetime(9999, 12, 31, 12, tzinfo=timezone.utc)
START = datetime(1, 1, 1, tzinfo=timezone.utc)


def test_a_voucher_whose_validity_ends_after_9999_is_a_validation_error() -> None:
    card, _ = StampCard.issue(make_program(validity=Validity.for_days(30), goal=1), serial="C1",
                              member_id="m", at=END)
    with pytest.raises(ValidationError, match=r"validity\.days"):
        card.add_stamps(1, at=END)
    delayed, _ = StampCard.issue(make_program(validity=Validity.unlimited(start_delay=timedelta(days=30)),
                                              goal=1), serial="C1", member_id="m", at=END)
    with pytest.raises(ValidationError, match="start_delay"):
        delayed.add_stamps(1, at=END)


def test_validity_days_beyond_the_calendar_are_refused() -> None:
    with pytest.raises(ValidationError, match="days"):
        Validity.for_days(10**10)


@pytest.mark.parametrize(
    ("zone", "at"), [("America/New_York", START), ("Asia/Tashkent", END + timedelta(hours=11))]
)
def test_daily_limits_at_the_ends_of_the_calendar_are_validation_errors(zone: str, at: datetime) -> None:
    card, _ = StampCard.issue(make_program(timezone=zone, earn_policy=EarnPolicy(max_per_day=5)),
                              serial="C1", member_id="m", at=at)
    with pytest.raises(ValidationError, match="1 or 9999"):
        card.add_stamps(1, at=at)


def test_a_live_stamp_whose_day_does_not_exist_is_a_validation_error_not_a_replay_error() -> None:
    at = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    card, _ = StampCard.issue(make_program(timezone="Asia/Tokyo"), serial="C1", member_id="m", at=at)
    with pytest.raises(ValidationError, match="1 or 9999") as info:
        card.add_stamps(1, at=at)
    assert not isinstance(info.value, ReplayError)


def test_transitions_on_a_card_folded_only_halfway_through_a_goal_say_so() -> None:
    card, _ = _issue(make_program(goal=2))
    events = card.add_stamps(2, at=T0).events
    halfway = fold(card, events[:2])  # stamp_added and goal_reached, not yet the voucher
    for transition in (lambda: halfway.add_stamps(1, at=T0), lambda: halfway.expire_vouchers(at=T0),
                       lambda: halfway.change_program(halfway.program.revise(goal=3), at=T0)):
        with pytest.raises(TransitionError, match="voucher_issued must come next"):
            transition()
    assert fold(halfway, events[2:]) == card.add_stamps(2, at=T0).card


def test_a_min_interval_reaching_past_9999_is_a_policy_violation_not_an_overflow() -> None:
    card, _ = _issue(make_program(earn_policy=EarnPolicy(min_interval=timedelta(days=999_999_999))))
    card = card.add_stamps(1, at=T0).card
    with pytest.raises(EarnPolicyViolation, match="past year 9999"):
        card.add_stamps(1, at=T0 + timedelta(days=1))


# --- a failed add_stamps takes no code -----------------------------------------------------------------


def _pos_program(**changes: Any) -> Program:
    return make_program(redemption=RedemptionMethod.REDEEM_CODE, code_symbology=Symbology.CODE_128,
                        goal=5, **changes)


def test_a_pool_too_small_for_the_whole_call_hands_out_nothing() -> None:
    pool = CodePool(["ONLY-1"], Symbology.CODE_128)
    card, _ = _issue(_pos_program())
    with pytest.raises(CodePoolEmpty, match="2 codes are needed but 1"):
        card.add_stamps(10, at=T0, codes=pool)
    assert (pool.remaining, pool.issued) == (1, ())
    assert card.add_stamps(5, at=T0, codes=pool).vouchers[0].code.value == "ONLY-1"  # type: ignore[union-attr]


def test_an_earn_policy_violation_takes_no_code() -> None:
    pool = CodePool(["A-1", "A-2"], Symbology.CODE_128)
    card, _ = _issue(_pos_program(earn_policy=EarnPolicy(max_per_day=7)))
    with pytest.raises(EarnPolicyViolation):
        card.add_stamps(8, at=T0, codes=pool)
    assert pool.remaining == 2


def test_a_failure_midway_through_the_vouchers_gives_no_code_away() -> None:
    pool = CodePool(["A-1", "A-2", "A-3"], Symbology.CODE_128)
    v1 = _pos_program()
    v2 = v1.revise(code_symbology=Symbology.QR)  # the second voucher would need a QR code
    card, _ = _issue(v1)
    card, _ = card.change_program(v2, at=T0)
    with pytest.raises(ValidationError, match="code pool of qr codes"):
        card.add_stamps(10, at=T0, codes=pool)
    assert (pool.remaining, pool.issued) == (3, ())


def test_a_voucher_validity_overflow_midway_takes_no_code() -> None:
    pool = CodePool(["A-1", "A-2"], Symbology.CODE_128)
    program = _pos_program(validity=Validity.for_days(30))
    card, _ = StampCard.issue(program, serial="C1", member_id="m", at=END)
    with pytest.raises(ValidationError):
        card.add_stamps(10, at=END, codes=pool)
    assert pool.remaining == 2


def test_code_pool_take_is_all_or_nothing() -> None:
    pool = CodePool(["A-1", "A-2"], Symbology.CODE_128)
    with pytest.raises(CodePoolEmpty):
        pool.take(3)
    assert pool.remaining == 2
    assert [c.value for c in pool.take(2)] == ["A-1", "A-2"]
    assert pool.issued == ("A-1", "A-2")


# --- malformed logs --------------------------------------------------------------------------------------

MALFORMED_TEXT = [
    "null", "{}", '{"type": "card_issued"}', "[1]", "[[]]", '["x"]', "[{}]", '[{"type": "nope"}]',
    '[{"type": "stamp_added", "at": 5, "card_serial": "C1"}]',
    '[{"type": "stamp_added", "at": "2026-01-01T00:00:00", "card_serial": "C1"}]',
    '[{"type": "stamp_added", "at": "2026-01-01T00:00:00+00:00", "card_serial": "C1\\n"}]',
    '[{"type": "stamp_added", "at": "2026-01-01T00:00:00+00:00", "card_serial": 7}]',
    '[{"type": "stamp_added", "at": "2026-01-01T00:00:00+00:00", "card_serial": "C1", "data": [1]}]',
    '[{"type": "stamp_added", "at": "2026-01-01T00:00:00+00:00", "card_serial": "C1", "data": {"x": NaN}}]',
    "[" * 100_000 + "]" * 100_000,
    "[" + "9" * 5000 + "]",
    "\udcff",
]


@pytest.mark.parametrize("text", MALFORMED_TEXT, ids=[str(i) for i in range(len(MALFORMED_TEXT))])
def test_events_from_json_on_malformed_text_raises_replay_error(text: str) -> None:
    with pytest.raises(ReplayError):
        events_from_json(text)


@pytest.mark.parametrize("value", [None, 5, ["[]"]])
def test_events_from_json_of_something_that_is_not_text_raises_replay_error(value: object) -> None:
    with pytest.raises(ReplayError):
        events_from_json(value)  # type: ignore[arg-type]


def _voucher_json() -> dict[str, Any]:
    card, _ = _issue(make_program(redemption=RedemptionMethod.REDEEM_CODE))
    return card.add_stamps(10, at=T0, random=counting_random()).vouchers[0].to_json()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda v: v.pop("serial"),
        lambda v: v.update(reward=None),
        lambda v: v.update(reward={"title": 5}),
        lambda v: v.update(code={"value": "x", "symbology": "nope", "origin": "pos"}),
        lambda v: v.update(code=[1]),
        lambda v: v.update(issued_at=5),
        lambda v: v.update(valid_from="2026-01-01T00:00:00"),
        lambda v: v.update(status="gone"),
        lambda v: v.update(program_version="1"),
        lambda v: v.update(serial=10**5000),
        lambda v: v.update(reward={"title": {"default": "t", "translations": {"en": ["x"]}},
                                   "description": "d"}),
    ],
)
def test_voucher_from_json_on_malformed_input_raises_replay_error(
    mutate: Callable[[dict[str, Any]], object],
) -> None:
    raw = _voucher_json()
    mutate(raw)
    with pytest.raises(ReplayError):
        Voucher.from_json(raw)


def test_voucher_from_json_of_a_non_object_raises_replay_error() -> None:
    with pytest.raises(ReplayError):
        Voucher.from_json([1, 2])  # type: ignore[arg-type]


# --- forged and inconsistent logs ----------------------------------------------------------------------


def _log(stamps: int = 12, **changes: Any) -> tuple[Program, list[dict[str, Any]]]:
    program = make_program(redemption=RedemptionMethod.REDEEM_CODE, validity=Validity.for_days(30), **changes)
    card, events = _issue(program)
    events += card.add_stamps(stamps, at=T0, random=counting_random()).events
    return program, json.loads(events_to_json(events))


def _replay(program: Program, raw: list[dict[str, Any]]) -> StampCard:
    # The forger renumbers the log (events carry their place in it), so what refuses these logs is
    # replay's check of what each event says, not the numbering (test_replay_numbering covers that).
    renumbered = [{**event, "version": n} for n, event in enumerate(raw, start=1)]
    return replay(events_from_json(json.dumps(renumbered)), [program])


def test_a_valid_log_replays() -> None:
    program, raw = _log()
    assert _replay(program, raw).vouchers_issued == 1


def test_a_forged_voucher_issued_without_the_stamps_is_refused() -> None:
    program, raw = _log(stamps=12)
    forged = [raw[0], {**raw[1], "data": {"count": 3, "source": "staff"}}, *raw[2:]]
    with pytest.raises(ReplayError, match=r"goal_reached|command"):
        _replay(program, forged)
    only_voucher = [raw[0], raw[3]]  # voucher_issued with no stamps at all
    with pytest.raises(ReplayError):
        _replay(program, only_voucher)


def test_a_duplicated_stamp_added_is_refused() -> None:
    program, raw = _log(stamps=6)
    with pytest.raises(ReplayError, match="goal_reached is missing"):
        _replay(program, [*raw, raw[1]])  # 12 stamps, but no goal reached


def test_a_duplicated_goal_step_is_refused() -> None:
    program, raw = _log(stamps=12)
    with pytest.raises(ReplayError):
        _replay(program, [*raw, *raw[2:5]])


def test_goal_reached_without_enough_stamps_is_refused() -> None:
    program, raw = _log(stamps=9)
    goal = {"type": "goal_reached", "at": raw[1]["at"], "card_serial": "CARD1",
            "data": {"cycle": 1, "goal": 10}}
    with pytest.raises(ReplayError, match="goal_reached"):
        _replay(program, [*raw, goal])


def test_cycle_started_with_the_wrong_carry_over_is_refused() -> None:
    program, raw = _log(stamps=12)
    raw[4]["data"]["stamps"] = 9
    with pytest.raises(ReplayError, match="stamps give"):
        _replay(program, raw)


@pytest.mark.parametrize(
    ("field", "value"),
    [("serial", "CARD1-7"), ("expires_at", "2099-01-01T00:00:00+00:00"), ("program_version", 2),
     ("method", "self_redeem"), ("status", "redeemed"), ("reward", {"title": "A car", "description": "x"}),
     ("valid_from", "2020-01-01T00:00:00+00:00")],
)
def test_a_voucher_issued_that_differs_from_what_the_stamps_earn_is_refused(
    field: str, value: object
) -> None:
    program, raw = _log(stamps=12)
    raw[3]["data"]["voucher"][field] = value
    with pytest.raises(ReplayError):
        _replay(program, raw)


def test_a_voucher_with_a_code_of_another_symbology_is_refused() -> None:
    program, raw = _log(stamps=12)
    raw[3]["data"]["voucher"]["code"]["symbology"] = "code128"
    with pytest.raises(ReplayError, match="code128"):
        _replay(program, raw)


def test_a_redeemed_event_for_a_voucher_not_held_is_refused() -> None:
    program, raw = _log(stamps=12)
    later = (T0 + timedelta(hours=1)).isoformat()
    redeemed = {"type": "voucher_redeemed", "at": later, "card_serial": "CARD1",
                "data": {"voucher": "CARD1-2", "by": "till"}}
    with pytest.raises(ReplayError, match="not an open voucher"):
        _replay(program, [*raw, redeemed])
    twice = {**redeemed, "data": {"voucher": "CARD1-1", "by": "till"}}
    with pytest.raises(ReplayError):
        _replay(program, [*raw, twice, twice])


def test_a_redemption_outside_the_validity_window_is_refused() -> None:
    program, raw = _log(stamps=12)
    late = (T0 + timedelta(days=31)).isoformat()
    redeemed = {"type": "voucher_redeemed", "at": late, "card_serial": "CARD1",
                "data": {"voucher": "CARD1-1", "by": "till"}}
    with pytest.raises(ReplayError, match="expired"):
        _replay(program, [*raw, redeemed])
    early_expiry = {"type": "voucher_expired", "at": raw[1]["at"], "card_serial": "CARD1",
                    "data": {"voucher": "CARD1-1"}}
    with pytest.raises(ReplayError, match="expiry"):
        _replay(program, [*raw, early_expiry])


def test_a_log_cut_short_in_the_middle_of_a_goal_is_refused() -> None:
    program, raw = _log(stamps=12)
    for end in (2, 3, 4):
        with pytest.raises(ReplayError, match="is missing"):
            _replay(program, raw[:end])


def test_stamps_out_of_time_order_or_over_the_limit_are_refused() -> None:
    program, raw = _log(stamps=3)
    earlier = {**raw[1], "at": (T0 - timedelta(days=1)).isoformat()}  # before the last stamp and the issue
    with pytest.raises(ReplayError, match="before card_issued"):
        _replay(program, [*raw, earlier])
    with pytest.raises(ReplayError, match="allowed at once"):
        _replay(program, [raw[0], {**raw[1], "data": {"count": 10**9, "source": "staff"}}])
    for count in (0, -5, "3", 2.5, None):
        with pytest.raises(ReplayError):
            _replay(program, [raw[0], {**raw[1], "data": {"count": count, "source": "staff"}}])


def test_program_changed_to_an_older_or_unknown_version_is_refused() -> None:
    program, raw = _log(stamps=3)
    change = {"type": "program_changed", "at": raw[1]["at"], "card_serial": "CARD1",
              "data": {"program_id": "coffee", "program_version": 1}}
    with pytest.raises(ReplayError, match="newer version"):
        _replay(program, [*raw, change])
    change["data"] = {"program_id": "coffee", "program_version": 7}
    with pytest.raises(ReplayError, match="not known"):
        _replay(program, [*raw, change])


def test_fold_checks_events_one_at_a_time_as_the_store_may_apply_them() -> None:
    program, raw = _log(stamps=12)
    events = events_from_json(json.dumps(raw))
    card = replay(events[:1], [program])
    for event in events[1:]:
        card = fold(card, [event])
    assert card == replay(events, [program])
    with pytest.raises(ReplayError):
        fold(card, [events[3]])  # a second voucher_issued out of the blue


@pytest.mark.parametrize("bad", [None, 5, "events", [1, 2]])
def test_replay_of_something_that_is_not_a_log_raises_replay_error(bad: object) -> None:
    with pytest.raises(ReplayError):
        replay(bad, [make_program()])  # type: ignore[arg-type]


def test_card_issued_with_bad_facts_raises_replay_error() -> None:
    program, raw = _log(stamps=1)
    for data in ({}, {"program_id": "coffee", "program_version": 1, "member_id": 5},
                 {"program_id": ["coffee"], "program_version": 1, "member_id": "m"}):
        with pytest.raises(ReplayError):
            _replay(program, [{**raw[0], "data": data}])


def test_every_replay_error_is_a_library_error() -> None:
    assert issubclass(ReplayError, WalletVoucherError)


def test_a_live_card_redeemed_and_voided_replays_equal() -> None:
    program = make_program(validity=Validity.for_days(30))
    card, log = _issue(program)
    result = card.add_stamps(25, at=T0)
    log += result.events
    first = result.card.redeem("CARD1-1", SelfRedeem(), at=T0 + timedelta(hours=1))
    second = first.card.void_voucher("CARD1-2", "refund", at=T0 + timedelta(hours=2))
    expired, events = second.card.add_stamps(1, at=T0 + timedelta(days=2)).card.expire_vouchers(
        at=T0 + timedelta(days=60))
    log += [*first.events, *second.events]
    log += [*second.card.add_stamps(1, at=T0 + timedelta(days=2)).events, *events]
    assert replay(events_from_json(events_to_json(log)), [program]) == expired
