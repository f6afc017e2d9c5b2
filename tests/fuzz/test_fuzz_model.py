"""Fuzzing the model and codes with generated hostile input (issue 7, "Our own fuzz suite").

Codes (``normalize_code``, ``codes_match``, ``pos_code``), Staff-Scan tokens (``verify_scan_token``
on arbitrary and mutated text) and event logs (``events_from_json`` on arbitrary and mutated JSON,
``replay`` on mutated valid logs, ``Voucher.from_json``). For every input:

- only :class:`~walletvoucher.errors.WalletVoucherError` subclasses escape;
- it is handled in under a second (a safety bound, not a speed test);
- peak memory stays bounded (checked with tracemalloc on the largest generated inputs);
- a mutated log that still replays never holds more vouchers than its stamps earn.

Every input is generated here; nothing is downloaded. Budget: about 15 s of one core. The runs are
derandomized so CI tries the same inputs each time; raise max_examples and drop derandomize to hunt.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletvoucher import (
    Brand,
    EarnPolicy,
    Overflow,
    Program,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StampCard,
    Validity,
    Voucher,
    events_from_json,
    events_to_json,
    replay,
)
from walletvoucher.codes import (
    ScanKey,
    Symbology,
    codes_match,
    generate_code,
    issue_scan_token,
    normalize_code,
    pos_code,
    verify_scan_token,
)
from walletvoucher.errors import ReplayError, WalletVoucherError

T = TypeVar("T")
T0 = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
KEY = ScanKey(key_id="k1", secret=b"0123456789abcdef0123456789abcdef")
OTHER = ScanKey(key_id="k2", secret=b"fedcba9876543210fedcba9876543210")
FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True, database=None)
ONE_SECOND = 1.0
MEMORY_LIMIT = 64 * 1024 * 1024


def _library_errors_only(fn: Callable[[], T]) -> T | None:
    """Run *fn*; a WalletVoucherError is an answer, anything else fails the test. Time-bounded."""
    start = time.process_time()
    try:
        return fn()
    except WalletVoucherError:
        return None
    finally:
        assert time.process_time() - start < ONE_SECOND


def _peak_bytes(fn: Callable[[], object]) -> int:
    """Peak traced memory of *fn* (tracemalloc slows it several times: time it separately)."""
    tracemalloc.start()
    try:
        with contextlib.suppress(WalletVoucherError):
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- codes --------------------------------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyzOoIiLl -\n\t\u00df\ufb01",
            max_size=40),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(1, 5000)),
)


@FUZZ
@given(typed=hostile_text)
def test_normalize_code_raises_only_library_errors(typed: str) -> None:
    normalized = _library_errors_only(lambda: normalize_code(typed))
    if normalized is not None:  # what it accepts is a canonical code that matches itself
        assert normalized == normalized.upper() and normalized.isascii()
        assert codes_match(normalized, typed)


@FUZZ
@given(typed=hostile_text, seed=st.binary(min_size=11, max_size=11))
def test_codes_match_raises_only_library_errors(typed: str, seed: bytes) -> None:
    code = generate_code(lambda n: seed[:n]).value
    _library_errors_only(lambda: codes_match(code, typed))


@FUZZ
@given(value=hostile_text, symbology=st.sampled_from(Symbology))
def test_pos_code_raises_only_library_errors(value: str, symbology: Symbology) -> None:
    code = _library_errors_only(lambda: pos_code(value, symbology))
    if code is not None:
        assert code.value.startswith(value)  # shown as given (EAN/UPC may gain their check digit)


# --- scan tokens ----------------------------------------------------------------------------------------


def _mutate_text(text: str, data: st.DataObject) -> str:
    if not text:
        return data.draw(st.text(max_size=50))
    position = data.draw(st.integers(0, len(text) - 1))
    action = data.draw(st.sampled_from(["replace", "delete", "insert", "swap-dot", "truncate"]))
    char = data.draw(st.characters())
    if action == "replace":
        return text[:position] + char + text[position + 1 :]
    if action == "delete":
        return text[:position] + text[position + 1 :]
    if action == "insert":
        return text[:position] + char + text[position:]
    if action == "swap-dot":
        return text.replace(".", char, 1)
    return text[:position]


token_serials = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
expiries = st.none() | st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)
)


@FUZZ
@given(token=st.one_of(st.text(max_size=300), st.from_regex(
    r"wv1\.[a-z0-9]{1,3}\.[A-Z0-9-]{1,8}\.[-0-9a-z]{1,13}\.[A-Za-z0-9_-]{20,24}", fullmatch=True)))
def test_verify_scan_token_on_arbitrary_text_raises_only_library_errors(token: str) -> None:
    claims = _library_errors_only(lambda: verify_scan_token(token, keys=[KEY, OTHER], at=T0))
    assert claims is None  # no forged token is ever accepted


@FUZZ
@given(serial=token_serials, expires_at=expiries, data=st.data())
def test_mutated_scan_tokens_are_refused_or_unchanged(
    serial: str, expires_at: datetime | None, data: st.DataObject
) -> None:
    token = issue_scan_token(serial, expires_at=expires_at, key=KEY)
    at = data.draw(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31),
                                timezones=st.just(timezone.utc)))
    mutated = _mutate_text(token, data)
    claims = _library_errors_only(lambda: verify_scan_token(mutated, keys=[KEY, OTHER], at=at))
    if claims is not None:  # only the token itself (maybe with surrounding whitespace) verifies
        assert mutated.strip() == token
        assert claims.voucher_serial == serial


# --- event logs ------------------------------------------------------------------------------------------


def _program(goal: int, overflow: Overflow, method: RedemptionMethod) -> Program:
    return Program(id="coffee", name="Coffee card", goal=goal, overflow=overflow, redemption=method,
                   brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
                   reward=Reward(title="Free coffee", description="Any size"),
                   validity=Validity.for_days(3), earn_policy=EarnPolicy(max_per_call=40))


def _counting_random() -> Callable[[int], bytes]:
    state = {"n": 7}

    def random(n: int) -> bytes:
        out = bytes((state["n"] + i) % 256 for i in range(n))
        state["n"] += n
        return out

    return random


@st.composite
def valid_logs(draw: st.DrawFn) -> tuple[Program, list[dict[str, Any]]]:
    """A program and the JSON of a card's log made by real transitions."""
    method = draw(st.sampled_from([RedemptionMethod.SELF_REDEEM, RedemptionMethod.REDEEM_CODE]))
    program = _program(draw(st.integers(1, 6)), draw(st.sampled_from(Overflow)), method)
    card, log = StampCard.issue(program, serial="CARD1", member_id="m-1", at=T0)
    events, at, random = list(log), T0, _counting_random()
    for step in draw(st.lists(st.tuples(st.sampled_from("swr"), st.integers(1, 15)), max_size=8)):
        at += timedelta(hours=draw(st.integers(0, 30)))
        if step[0] == "s":
            result = card.add_stamps(step[1], at=at, random=random)
            card, events = result.card, events + list(result.events)
        elif card.open_voucher(at) is not None and step[0] == "r":
            voucher = card.open_voucher(at)
            assert voucher is not None
            if method is RedemptionMethod.SELF_REDEEM:
                outcome = card.redeem(voucher.serial, SelfRedeem(), at=at)
            else:
                outcome = card.void_voucher(voucher.serial, "fuzz", at=at)
            card, events = outcome.card, events + list(outcome.events)
        else:
            card, expired = card.expire_vouchers(at=at)
            events += expired
    return program, json.loads(events_to_json(events))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=20,
)


def _mutate_log(raw: list[dict[str, Any]], data: st.DataObject) -> list[Any]:
    log: list[Any] = copy.deepcopy(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        action = data.draw(st.sampled_from(["dup", "drop", "swap", "field", "datum", "voucher", "junk"]))
        i = data.draw(st.integers(0, max(len(log) - 1, 0)))
        if not log or action == "junk":
            log.insert(i, data.draw(json_values))
        elif action == "dup":
            log.insert(data.draw(st.integers(0, len(log))), copy.deepcopy(log[i]))
        elif action == "drop":
            del log[i]
        elif action == "swap":
            j = data.draw(st.integers(0, len(log) - 1))
            log[i], log[j] = log[j], log[i]
        elif isinstance(log[i], dict):
            _mutate_event(log[i], action, data)
    return log


_PLAUSIBLE = [
    "stamp_added", "goal_reached", "voucher_issued", "cycle_started", "voucher_redeemed",
    "2026-05-07T10:30:00+00:00", "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00", "CARD1",
]


def _mutate_event(event: dict[str, Any], action: str, data: st.DataObject) -> None:
    if action == "field":
        key = data.draw(st.sampled_from(["type", "at", "card_serial", "data"]))
        event[key] = data.draw(st.one_of(json_values, st.sampled_from(_PLAUSIBLE)))
    elif isinstance(event.get("data"), dict) and event["data"]:
        facts = event["data"]
        key = data.draw(st.sampled_from(sorted(facts)))
        if action == "voucher" and isinstance(facts.get("voucher"), dict) and facts["voucher"]:
            facts = facts["voucher"]
            key = data.draw(st.sampled_from(sorted(facts)))
        old = facts[key]
        nearby = st.integers(-3, 100).map(lambda n: n + old)
        number = isinstance(old, int) and not isinstance(old, bool)
        facts[key] = data.draw(st.one_of(json_values, nearby) if number else json_values)


def _replay_text(text: str | bytes, program: Program) -> StampCard:
    return replay(events_from_json(text), [program])


def _check_no_minting(card: StampCard | None, program: Program) -> None:
    if card is None:
        return
    earned = card.lifetime_stamps // program.goal
    if program.overflow is Overflow.CARRY_OVER:
        assert card.vouchers_issued == earned
    else:
        assert card.vouchers_issued <= earned
    assert 0 <= card.stamps < card.goal
    assert len({v.serial for v in card.vouchers}) == len(card.vouchers) <= card.vouchers_issued


@settings(FUZZ, max_examples=300)
@given(log=valid_logs())
def test_valid_logs_replay_to_the_live_card(log: tuple[Program, list[dict[str, Any]]]) -> None:
    program, raw = log
    card = _replay_text(json.dumps(raw), program)
    _check_no_minting(card, program)


@settings(FUZZ, max_examples=1500)
@given(log=valid_logs(), data=st.data())
def test_mutated_logs_raise_only_library_errors_and_never_mint(
    log: tuple[Program, list[dict[str, Any]]], data: st.DataObject
) -> None:
    program, raw = log
    try:
        text = json.dumps(_mutate_log(raw, data))
    except ValueError:  # a float Python's json cannot write; not a log anyone could store
        return
    _check_no_minting(_library_errors_only(lambda: _replay_text(text, program)), program)


@FUZZ
@given(text=st.one_of(st.text(max_size=300), st.binary(max_size=300),
                      json_values.map(lambda v: json.dumps(v))))
def test_events_from_json_on_arbitrary_text_raises_only_library_errors(text: str | bytes) -> None:
    _library_errors_only(lambda: events_from_json(text))


@FUZZ
@given(raw=json_values, log=valid_logs(), data=st.data())
def test_voucher_from_json_on_arbitrary_and_mutated_objects(
    raw: object, log: tuple[Program, list[dict[str, Any]]], data: st.DataObject
) -> None:
    _library_errors_only(lambda: Voucher.from_json(raw))  # type: ignore[arg-type]
    vouchers = [e["data"]["voucher"] for e in log[1] if e["type"] == "voucher_issued"]
    if vouchers:
        voucher = copy.deepcopy(data.draw(st.sampled_from(vouchers)))
        key = data.draw(st.sampled_from(sorted(voucher)))
        voucher[key] = data.draw(json_values)
        _library_errors_only(lambda: Voucher.from_json(voucher))


HOSTILE_LOGS = [
    "[" * 200_000 + "]" * 200_000,
    "[" + "9" * 100_000 + "]",
    json.dumps([{"type": "card_issued", "at": "2026-05-07T10:30:00+00:00", "card_serial": "C",
                 "data": {"member_id": "m", "program_id": "coffee", "program_version": 1}}]
               + [{"type": "stamp_added", "at": "2026-05-07T10:30:00+00:00", "card_serial": "C",
                   "data": {"count": 40, "source": "s"}}] * 5_000),
    json.dumps([{"type": "stamp_added", "at": "x" * 1_000_000, "card_serial": "C"}]),
]


def test_hostile_logs_stay_within_time_and_memory() -> None:
    program = _program(1, Overflow.CARRY_OVER, RedemptionMethod.SELF_REDEEM)
    for text in HOSTILE_LOGS:
        _library_errors_only(lambda text=text: _replay_text(text, program))  # type: ignore[misc]
        peak = _peak_bytes(lambda text=text: _replay_text(text, program))  # type: ignore[misc]
        assert peak < MEMORY_LIMIT, (len(text), peak)


def test_a_billion_stamps_and_far_expiries_stay_within_time_and_memory() -> None:
    program = _program(1, Overflow.CARRY_OVER, RedemptionMethod.SELF_REDEEM)
    card, _ = StampCard.issue(program, serial="C", member_id="m", at=T0)
    _library_errors_only(lambda: card.add_stamps(10**9, at=T0))
    assert _peak_bytes(lambda: card.add_stamps(10**9, at=T0)) < MEMORY_LIMIT
    ancient = datetime(1, 1, 1, tzinfo=timezone.utc)
    assert _peak_bytes(lambda: issue_scan_token("C-1", expires_at=ancient, key=KEY)) < MEMORY_LIMIT


# --- constructors with a wrong value in one field ---------------------------------------------------------

_BRAND = Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E")
_REWARD = Reward(title="Free coffee", description="Any size")
_VALID: dict[type, dict[str, Any]] = {
    Program: {"id": "coffee", "name": "Coffee card", "brand": _BRAND, "goal": 10, "reward": _REWARD,
              "redemption": RedemptionMethod.SELF_REDEEM},
    Reward: {"title": "Free coffee", "description": "Any size"},
    Brand: {"name": "Kahve", "foreground": "#FFFFFF", "background": "#1E3A5F", "label": "#F2C14E"},
    Validity: {"days": 3},
    EarnPolicy: {"max_per_day": 3},
    Voucher: {"serial": "C1-1", "card_serial": "C1", "program_id": "coffee", "program_version": 1,
              "reward": _REWARD, "method": RedemptionMethod.SELF_REDEEM, "issued_at": T0, "valid_from": T0},
    StampCard: {"serial": "C1", "member_id": "m", "issued_at": T0,
                "program": _program(3, Overflow.CARRY_OVER, RedemptionMethod.SELF_REDEEM)},
    ScanKey: {"key_id": "k1", "secret": b"0123456789abcdef"},
}
junk = st.one_of(
    st.none(), st.integers(), st.floats(), st.text(max_size=20), st.binary(max_size=20),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.datetimes(), st.timedeltas(), st.just(object()), st.sampled_from(list(RedemptionMethod)),
)


@FUZZ
@given(kind=st.sampled_from(sorted(_VALID, key=lambda k: k.__name__)), data=st.data())
def test_a_wrong_value_in_any_field_is_a_library_error(kind: type, data: st.DataObject) -> None:
    kwargs = dict(_VALID[kind])
    fields = sorted({*kwargs, *(a.name for a in attrs.fields(kind) if not a.name.startswith("_"))})
    kwargs[data.draw(st.sampled_from(fields))] = data.draw(junk)
    _library_errors_only(lambda: kind(**kwargs))


# --- live transitions at any time ---------------------------------------------------------------------

any_time = st.builds(
    lambda moment, hours: moment.replace(tzinfo=timezone(timedelta(hours=hours))),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    st.integers(-12, 14),
)


@FUZZ
@given(
    zone=st.sampled_from(["UTC", "Asia/Tashkent", "America/New_York", "Pacific/Kiritimati"]),
    days=st.none() | st.integers(1, 10**6),
    delay=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10**5)),
    interval=st.none() | st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=10**8)),
    per_day=st.none() | st.integers(1, 50),
    steps=st.lists(st.tuples(st.sampled_from("srve"), st.integers(1, 30), any_time), max_size=6),
)
def test_live_transitions_at_any_time_raise_only_their_own_library_errors(
    zone: str, days: int | None, delay: timedelta, interval: timedelta | None, per_day: int | None,
    steps: list[tuple[str, int, datetime]],
) -> None:
    program = Program(id="coffee", name="Coffee card", goal=5, timezone=zone,
                      redemption=RedemptionMethod.SELF_REDEEM, brand=_BRAND, reward=_REWARD,
                      validity=Validity(days=days, start_delay=delay),
                      earn_policy=EarnPolicy(min_interval=interval, max_per_day=per_day))
    steps = sorted(steps, key=lambda step: step[2])  # mostly in time order, so cards make progress
    card, log = StampCard.issue(program, serial="CARD1", member_id="m", at=steps[0][2] if steps else T0)
    events = list(log)
    for action, n, at in steps:
        try:
            if action == "s":
                result = card.add_stamps(n, at=at)
                card, events = result.card, events + list(result.events)
            elif action == "e":
                card, expired = card.expire_vouchers(at=at)
                events += expired
            elif card.vouchers:
                serial = card.vouchers[n % len(card.vouchers)].serial
                outcome = (card.redeem(serial, SelfRedeem(), at=at) if action == "r"
                           else card.void_voucher(serial, "fuzz", at=at))
                card, events = outcome.card, events + list(outcome.events)
        except ReplayError:
            raise
        except WalletVoucherError:
            continue
    assert replay(events_from_json(events_to_json(events)), [program]) == card
