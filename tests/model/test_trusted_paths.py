"""The model's trusted paths (issue 17) give exactly what the checked ways they replace gave.

A transition now builds its events, vouchers and card from values it has checked without checking
them again: ``issue`` (new_card, trusted_event), ``add_stamps`` (the stamp applied unchecked),
``redeem`` (the voucher copied, one numbered event, the card copied), ``Voucher._from_mapping`` and
``card_from_values`` (a constructor without a call per field). Each is compared here with the slow
way it replaces, written out with the constructors, ``attrs.evolve`` and the checked ``fold`` --
objects equal field by field *and of the same types*, the same exception with the same message --
including over random histories (Hypothesis) and hostile values.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.model.conftest import T0, counting_random, make_program
from walletvoucher import (
    CodeEntry,
    Milestone,
    Overflow,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StampCard,
    Validity,
    Voucher,
    VoucherStatus,
    events_from_json,
    events_to_json,
    replay,
)
from walletvoucher.codes import CodeOrigin, RedeemCode, Symbology
from walletvoucher.errors import ReplayError, WalletVoucherError
from walletvoucher.model import EarnPolicy, Event, EventType, Program, fold
from walletvoucher.model._card import Vouchers, card_from_values, evolve_card
from walletvoucher.model._context import RedemptionContext
from walletvoucher.model._events import freeze, trusted_event
from walletvoucher.model._slots import changer, copier, maker

# --- how two outcomes are compared -------------------------------------------------------------------


def _fields(obj: Any) -> list[tuple[str, Any, type]]:
    return [(f.name, getattr(obj, f.name), type(getattr(obj, f.name))) for f in attrs.fields(type(obj))]


def _same(a: Any, b: Any) -> None:
    """Equal, of the same class, every field equal and of the same type (a plain tuple where the slow
    way made a ``Vouchers`` would pass ``==`` but not this); events' facts in the same key order."""
    assert type(a) is type(b)
    assert a == b
    assert _fields(a) == _fields(b)
    if isinstance(a, Event):
        assert list(a.data.items()) == list(b.data.items())
        assert json.dumps(dict(a.data)) == json.dumps(dict(b.data))
        assert type(a.data) is type(b.data)


def _outcome(make: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        made = make()
    except Exception as exc:  # the exact exception is what must match
        return ("refused", type(exc), str(exc))
    return ("ok", made)


def _same_outcome(fast: Callable[[], Any], slow: Callable[[], Any]) -> None:
    got, expected = _outcome(fast), _outcome(slow)
    assert got[0] == expected[0], (got, expected)
    if got[0] == "refused":
        assert got == expected
    else:
        _same(got[1], expected[1])


def _slow_event(event: Event) -> Event:
    """The event as the full constructor makes it from the same values (every validator, the facts
    frozen through the converter)."""
    return Event(type=event.type, at=event.at, card_serial=event.card_serial, data=dict(event.data),
                 version=event.version)


# --- issue ---------------------------------------------------------------------------------------------


def _slow_issue(program: Any, serial: Any, member_id: Any, at: Any) -> tuple[StampCard, tuple[Event, ...]]:
    """StampCard.issue as it was: the constructor, then the event's constructor."""
    from walletvoucher.model._validate import check_at

    check_at(at)
    card = StampCard(serial=serial, member_id=member_id, program=program, issued_at=at, version=1)
    event = Event(type=EventType.CARD_ISSUED, at=at, card_serial=serial,
                  data={"member_id": member_id, "program_id": program.id, "program_version": program.version},
                  version=1)
    return card, (event,)


class _Str(str):
    pass


class _Int(int):
    pass


class _Count(enum.IntEnum):
    TWO = 2


ISSUES: dict[str, tuple[Any, ...]] = {
    "plain": (make_program(), "C1", "m-1", T0),
    "zone": (make_program(timezone="Asia/Tashkent"), "C-9_x", "M",
             T0.astimezone(timezone(timedelta(hours=5)))),
    "str subclass member": (make_program(), "C1", _Str("m-1"), T0),
    "str subclass serial": (make_program(), _Str("C1"), "m-1", T0),
    "version past 64 bits": (make_program(version=2**70), "C1", "m-1", T0),
    "version too long for JSON": (make_program(version=10**5000), "C1", "m-1", T0),
    "bad serial": (make_program(), "C 1", "m-1", T0),
    "bad serial and member": (make_program(), "", "m 1", T0),
    "bad member": (make_program(), "C1", 42, T0),
    "serial too long": (make_program(), "C" * 57, "m-1", T0),
    "trailing newline": (make_program(), "C1\n", "m-1", T0),
    "not a program": ("coffee", "C1", "m-1", T0),
    "naive time": (make_program(), "C1", "m-1", T0.replace(tzinfo=None)),
    "not a time": (make_program(), "C1", "m-1", "2026-05-07"),
}


@pytest.mark.parametrize("name", sorted(ISSUES))
def test_issue_gives_what_the_constructors_gave(name: str) -> None:
    program, serial, member_id, at = ISSUES[name]
    got = _outcome(lambda: StampCard.issue(program, serial=serial, member_id=member_id, at=at))
    expected = _outcome(lambda: _slow_issue(program, serial, member_id, at))
    assert got[0] == expected[0]
    if got[0] == "refused":
        assert got == expected
        return
    (card, (event,)), (slow_card, (slow_event,)) = got[1], expected[1]
    _same(card, slow_card)
    _same(event, slow_event)
    assert type(card.vouchers) is Vouchers


def test_a_subclass_is_still_issued_by_its_own_constructor() -> None:
    class Loyal(StampCard):
        pass

    card, _ = Loyal.issue(make_program(), serial="C1", member_id="m-1", at=T0)
    assert type(card) is Loyal


# --- events ----------------------------------------------------------------------------------------------

FACTS: dict[str, Any] = {
    "flat, sorted": {"count": 1, "source": "till"},
    "flat, unsorted": {"voucher": "C1-1", "by": "customer", "location": "chilonzor"},
    "bools and None": {"z": True, "a": None, "m": False},
    "64-bit edges": {"n": -(2**63) + 1, "m": 2**63 - 1},
    "past 64 bits": {"n": 2**63},
    "negative past 64 bits": {"n": -(2**63)},
    "too many digits": {"n": 10**5000},
    "str subclass": {"s": _Str("x")},
    "int subclass": {"n": _Int(3)},
    "int enum": {"n": _Count.TWO},
    "float": {"f": 1.5},
    "nan": {"f": float("nan")},
    "int key": {1: "a"},
    "nested": {"voucher": {"b": [1, {"d": 2, "c": None}], "a": "x"}},
    "tuple": {"t": (1, 2)},
    "lone surrogate": {"s": "\ud800"},
    "empty": {},
}


@pytest.mark.parametrize("name", sorted(FACTS))
def test_a_trusted_event_equals_the_constructors(name: str) -> None:
    data = FACTS[name]
    _same_outcome(
        lambda: trusted_event(EventType.STAMP_ADDED, T0, "C1", freeze(dict(data)), 3),
        lambda: Event(type=EventType.STAMP_ADDED, at=T0, card_serial="C1", data=dict(data), version=3),
    )


def _old_event_json(event: Event) -> dict[str, Any]:
    raw = {"type": event.type.value, "at": event.at.isoformat(), "card_serial": event.card_serial,
           "data": dict(event.data)}
    return raw if event.version is None else {**raw, "version": event.version}


@pytest.mark.parametrize("version", [None, 1, 7])
def test_event_to_json_is_what_it_was_key_for_key(version: int | None) -> None:
    event = Event(type=EventType.VOUCHER_REDEEMED, at=T0, card_serial="C1",
                  data={"voucher": "C1-1", "by": "till"}, version=version)
    got, expected = event.to_json(), _old_event_json(event)
    assert list(got.items()) == list(expected.items())
    assert json.dumps(got) == json.dumps(expected)


# --- add_stamps ------------------------------------------------------------------------------------------


def _slow_stamp(card: StampCard, event: Event) -> StampCard:
    """Applying a stamp_added as it was written before the fast paths: attrs.evolve, every field
    checked, then the goal or milestone the card now awaits."""
    count, at = event.data["count"], event.at
    day = at.astimezone(card.program.zone).date()
    stamped = attrs.evolve(
        card, stamps=card.stamps + count, lifetime_stamps=card.lifetime_stamps + count, last_stamp_at=at,
        stamp_day=day, stamps_on_day=(card.stamps_on_day if card.stamp_day == day else 0) + count,
        version=card.version + 1,
    )
    milestones, reached = stamped.program.milestones, stamped.milestones_reached
    if reached < len(milestones) and stamped.stamps >= milestones[reached].at:
        awaiting: EventType | None = EventType.MILESTONE_REACHED
    else:
        awaiting = EventType.GOAL_REACHED if stamped.stamps >= stamped.goal else None
    return attrs.evolve(stamped, _awaiting=awaiting)


def _check_stamped(card: StampCard, result: Any) -> None:
    """The card add_stamps returned is the one the checked fold makes of its events -- its stamp
    applied the old way, written out here -- and each event is the one the constructor makes."""
    events = list(result.events)
    if events[0].type is EventType.STAMPS_EXPIRED:
        card = fold(card, events[:1])
        events = events[1:]
    if events[0].type is EventType.STAMP_ADDED:
        card = _slow_stamp(card, events[0])
        events = events[1:]
    _same(result.card, fold(card, events))
    for event in result.events:
        _same(event, _slow_event(event))
    slow_vouchers = tuple(Voucher(**{f.name: getattr(v, f.name) for f in attrs.fields(Voucher)})
                          for v in result.vouchers)
    assert len(slow_vouchers) == len(result.vouchers)
    for voucher, slow in zip(result.vouchers, slow_vouchers, strict=True):
        _same(voucher, slow)


@pytest.mark.parametrize("count", [1, 3, _Int(2), _Count.TWO, 10**4])
@pytest.mark.parametrize("source", ["till", _Str("till"), "\ud800"])
def test_a_stamp_gives_what_the_checked_apply_gives(count: int, source: str) -> None:
    program = make_program(goal=4, timezone="Asia/Tashkent")
    card, _ = StampCard.issue(program, serial="C1", member_id="m-1", at=T0)
    card = card.add_stamps(1, at=T0, source="till").card
    result = card.add_stamps(count, at=T0 + timedelta(hours=14), source=source)
    _check_stamped(card, result)
    stamp = result.events[0]
    assert type(stamp.data["count"]) is int and type(stamp.data["source"]) is str


@pytest.mark.parametrize(("count", "source"), [(0, "till"), (-1, "till"), (True, "till"), (1.0, "till"),
                                               (10**5, "till"), (1, ""), (1, " "), (1, "x" * 121), (1, 5)])
def test_a_refused_stamp_is_refused_as_before(count: Any, source: Any) -> None:
    card, _ = StampCard.issue(make_program(), serial="C1", member_id="m-1", at=T0)
    with pytest.raises(WalletVoucherError) as caught:
        card.add_stamps(count, at=T0, source=source)
    field = "source" if type(count) is int and count == 1 else "count"
    assert caught.value.field == field  # type: ignore[attr-defined]


# --- redeem ----------------------------------------------------------------------------------------------


def _slow_redeem(card: StampCard, serial: str, proof: Any, at: datetime, where: dict[str, str]) -> Any:
    """What redeem gave: its checks, attrs.evolve of the voucher, its event evolved with the place and
    renumbered through the constructor, and the checked fold (written out as it was)."""
    from walletvoucher.model._card import _where
    from walletvoucher.model._validate import check_at

    card._check_at_rest()
    check_at(at)
    card._check_after_issue(at)
    voucher = card.voucher(serial)
    card._check_valid(at)
    where = _where(where.get("location"), where.get("channel"))
    card._check_context(voucher, at, where)
    voucher._check_redeemable(at)
    voucher._check_proof(proof, at)
    done = attrs.evolve(voucher, status=VoucherStatus.REDEEMED, redeemed_at=at, redeemed_by=proof.by)
    event = Event(type=EventType.VOUCHER_REDEEMED, at=at, card_serial=voucher.card_serial,
                  data={"voucher": voucher.serial, "by": proof.by})
    if where:
        event = attrs.evolve(event, data={**event.data, **where})
    event = attrs.evolve(event, version=card.version + 1)
    return fold(card, (event,)), done, (event,)


def _earned(program: Any, serial: str = "C1") -> StampCard:
    card, _ = StampCard.issue(program, serial=serial, member_id="m-1", at=T0)
    return card.add_stamps(program.goal, at=T0, source="till", random=counting_random()).card


@pytest.mark.parametrize("where", [{}, {"location": "chilonzor"}, {"channel": "online"},
                                   {"location": "chilonzor", "channel": "in_store"}])
@pytest.mark.parametrize("by", ["customer", _Str("till-1")])
def test_a_redemption_gives_what_the_checked_ways_gave(where: dict[str, str], by: str) -> None:
    card = _earned(make_program(goal=3))
    at = T0 + timedelta(hours=1)
    result = card.redeem("C1-1", SelfRedeem(by=by), at=at, **where)  # type: ignore[arg-type]
    slow_card, slow_voucher, slow_events = _slow_redeem(card, "C1-1", SelfRedeem(by=by), at, where)
    _same(result.card, slow_card)
    _same(result.voucher, slow_voucher)
    assert len(result.events) == len(slow_events) == 1
    _same(result.events[0], slow_events[0])
    assert type(result.card.vouchers) is Vouchers


def test_a_redemption_of_a_voucher_of_another_card_is_refused_as_before() -> None:
    """A card made with a voucher of another card: redeem still says the event belongs to another card."""
    other = _earned(make_program(goal=3), serial="OTHER")
    card = _earned(make_program(goal=3))
    forged = evolve_card(card, vouchers=(*card.vouchers, *(attrs.evolve(v, serial="X-9")
                                                            for v in other.vouchers)))
    with pytest.raises(ReplayError, match="belongs to another card"):
        forged.redeem("X-9", SelfRedeem(), at=T0 + timedelta(hours=1))


@pytest.mark.parametrize(("by", "error"), [(123, "must be text or None"), ("", "must name who redeemed"),
                                           ("x" * 121, "must name who redeemed")])
def test_a_proof_changed_behind_its_validator_is_refused_as_before(by: Any, error: str) -> None:
    card = _earned(make_program(goal=3))
    proof = SelfRedeem()
    object.__setattr__(proof, "by", by)  # what no caller can do through the constructor
    at = T0 + timedelta(hours=1)
    got = _outcome(lambda: card.redeem("C1-1", proof, at=at))
    assert got == _outcome(lambda: _slow_redeem(card, "C1-1", proof, at, {}))
    assert got[0] == "refused" and error in got[2]


def test_a_redemption_outside_its_context_is_refused_as_before() -> None:
    reward = Reward(title="Lunch", description="x", context=RedemptionContext(locations=("chilonzor",)))
    card = _earned(make_program(goal=2, reward=reward))
    with pytest.raises(WalletVoucherError, match="only at chilonzor"):
        card.redeem("C1-1", SelfRedeem(), at=T0, location="yunusobod")
    result = card.redeem("C1-1", SelfRedeem(), at=T0, location="chilonzor")
    _same(result.card, _slow_redeem(card, "C1-1", SelfRedeem(), T0, {"location": "chilonzor"})[0])


# --- vouchers --------------------------------------------------------------------------------------------


def _voucher(**changes: Any) -> Voucher:
    fields: dict[str, Any] = {
        "serial": "C1-1", "card_serial": "C1", "program_id": "coffee", "program_version": 1,
        "reward": Reward(title="Free coffee", description="Any size"), "method": RedemptionMethod.SELF_REDEEM,
        "issued_at": T0, "valid_from": T0, "expires_at": T0 + timedelta(days=3),
    }
    fields.update(changes)
    return Voucher(**fields)


CODE = RedeemCode(value="ABC-123", symbology=Symbology.QR, origin=CodeOrigin.GENERATED)

EVOLUTIONS: dict[str, dict[str, Any]] = {
    "redeemed": {"status": VoucherStatus.REDEEMED, "redeemed_at": T0, "redeemed_by": "till"},
    "voided": {"status": VoucherStatus.VOIDED, "void_reason": "fraud"},
    "nothing": {},
    "bad status": {"status": "redeemed"},
    "naive redeemed_at": {"redeemed_at": T0.replace(tzinfo=None)},
    "two bad, constructor's order": {"void_reason": 5, "status": "x"},
    "expiry before valid_from": {"expires_at": T0 - timedelta(days=1)},
    "code without its method": {"code": CODE},
    "method and code": {"code": CODE, "method": RedemptionMethod.REDEEM_CODE},
    "bad milestone": {"milestone": 0},
    "bad serial": {"serial": "C1 1"},
}


@pytest.mark.parametrize("transition", ["redeem", "expire", "void"])
def test_a_vouchers_own_transitions_give_what_attrs_evolve_gave(transition: str) -> None:
    voucher = _voucher()
    late = T0 + timedelta(days=4)
    if transition == "redeem":
        done, events = voucher.redeem(SelfRedeem(by="till"), at=T0)
        slow = attrs.evolve(voucher, status=VoucherStatus.REDEEMED, redeemed_at=T0, redeemed_by="till")
        facts: dict[str, Any] = {"voucher": "C1-1", "by": "till"}
        at = T0
    elif transition == "expire":
        done, events = voucher.expire(at=late)
        slow, facts, at = attrs.evolve(voucher, status=VoucherStatus.EXPIRED), {"voucher": "C1-1"}, late
    else:
        done, events = voucher.void("refund", at=T0)
        slow = attrs.evolve(voucher, status=VoucherStatus.VOIDED, void_reason="refund")
        facts, at = {"voucher": "C1-1", "reason": "refund"}, T0
    _same(done, slow)
    _same(events[0], Event(type=events[0].type, at=at, card_serial="C1", data=facts))


def _old_voucher_json(v: Voucher) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "serial": v.serial, "card_serial": v.card_serial, "program_id": v.program_id,
        "program_version": v.program_version, "method": v.method.value,
        "code": v.code.to_dict() if v.code else None, "status": v.status.value,
        "issued_at": v.issued_at.isoformat(), "valid_from": v.valid_from.isoformat(),
        "expires_at": iso(v.expires_at), "redeemed_at": iso(v.redeemed_at), "redeemed_by": v.redeemed_by,
        "void_reason": v.void_reason, "reward": v.reward.to_json(),
        **({"milestone": v.milestone} if v.milestone is not None else {}),
    }


@pytest.mark.parametrize("changes", [{}, {"milestone": 3}, {"expires_at": None},
                                     {"code": CODE, "method": RedemptionMethod.REDEEM_CODE},
                                     EVOLUTIONS["redeemed"], EVOLUTIONS["voided"]])
def test_voucher_to_json_is_what_it_was_key_for_key(changes: dict[str, Any]) -> None:
    voucher = _voucher(**changes)
    got, expected = voucher.to_json(), _old_voucher_json(voucher)
    assert list(got.items()) == list(expected.items())
    assert json.dumps(got) == json.dumps(expected)
    got["reward"]["title"]["default"] = "changed"  # each call's dict is its own
    assert voucher.to_json() == expected


def _slow_from_mapping(raw: Any, reward: Reward | None = None) -> Voucher:
    """Voucher._from_mapping as it was: every value through the constructor."""
    from walletvoucher.model._voucher import _from_iso

    return Voucher(
        serial=raw["serial"], card_serial=raw["card_serial"], program_id=raw["program_id"],
        program_version=raw["program_version"],
        reward=reward if reward is not None else Reward.from_json(raw["reward"]),
        method=RedemptionMethod(raw["method"]),
        code=RedeemCode.from_dict(raw["code"]) if raw.get("code") else None,
        status=VoucherStatus(raw["status"]), issued_at=datetime.fromisoformat(raw["issued_at"]),
        valid_from=datetime.fromisoformat(raw["valid_from"]), expires_at=_from_iso(raw.get("expires_at")),
        redeemed_at=_from_iso(raw.get("redeemed_at")), redeemed_by=raw.get("redeemed_by"),
        void_reason=raw.get("void_reason"), milestone=raw.get("milestone"),
    )


_JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([2**63, 1.0, 2.5, [], {}, [1]]),
    st.sampled_from(["", "C1", "C1-1", "C 1", "x" * 65, "coffee", "2026-05-07T10:30:00+00:00",
                     "2026-05-07T10:30:00", "2026-05-06T10:30:00+05:00", "nope", "self_redeem", "redeem_code",
                     "active", "redeemed"]),
    st.text(max_size=8),
)
_KEYS = ["serial", "card_serial", "program_id", "program_version", "method", "code", "status", "issued_at",
         "valid_from", "expires_at", "redeemed_at", "redeemed_by", "void_reason", "milestone", "reward"]


@settings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from([{}, {"milestone": 2}, EVOLUTIONS["redeemed"],
                          {"code": CODE, "method": RedemptionMethod.REDEEM_CODE}]),
    edits=st.lists(st.tuples(st.sampled_from(_KEYS), _JSON_VALUES | st.just("<delete>")), max_size=3),
    own_reward=st.booleans(),
)
def test_a_voucher_read_from_json_is_what_the_constructor_made(
    base: dict[str, Any], edits: list[tuple[str, Any]], own_reward: bool
) -> None:
    """Voucher._from_mapping (the snapshot's and from_json's way) against the constructor, on a
    voucher's JSON with up to three fields replaced by any JSON value or deleted."""
    voucher = _voucher(**base)
    raw: dict[str, Any] = json.loads(json.dumps(voucher.to_json()))
    for key, value in edits:
        if value == "<delete>":
            raw.pop(key, None)
        else:
            raw[key] = value
    reward = voucher.reward if own_reward else None
    _same_outcome(lambda: Voucher._from_mapping(raw, reward), lambda: _slow_from_mapping(raw, reward))
    _same_outcome(lambda: Voucher.from_json(raw),
                  lambda: Voucher.from_json.__func__(_SlowVoucher, raw))  # type: ignore[attr-defined]


class _SlowVoucher(Voucher):
    """Voucher.from_json's error handling around the old _from_mapping (compared by type and message)."""

    @classmethod
    def _from_mapping(cls, raw: Any, reward: Reward | None = None) -> Voucher:
        return _slow_from_mapping(raw, reward)


def test_a_voucher_subclass_is_read_by_its_constructor() -> None:
    class Mine(Voucher):
        pass

    raw = _voucher().to_json()
    assert type(Mine._from_mapping(raw)) is Mine
    assert _fields(Mine._from_mapping(raw)) == _fields(_voucher())


# --- card_from_values --------------------------------------------------------------------------------


def _stored_fields(card: StampCard) -> dict[str, Any]:
    return {f.name: getattr(card, f.name) for f in attrs.fields(StampCard) if not f.name.startswith("_")}


def _worn_card() -> StampCard:
    program = make_program(goal=3, redemption=RedemptionMethod.REDEEM_CODE,
                           milestones=(Milestone(at=2, reward=Reward(title="Cookie", description="x"),
                                                 redemption=RedemptionMethod.SELF_REDEEM),))
    card, _ = StampCard.issue(program, serial="C1", member_id="m-1", at=T0)
    card = card.add_stamps(7, at=T0, source="till", random=counting_random()).card
    return card.redeem("C1-1", SelfRedeem(), at=T0 + timedelta(hours=1)).card


_CARD_VALUES = st.sampled_from([
    None, True, False, 0, 1, -1, _Int(2), 2**70, 1.0, "", "C1", "m 1", "x" * 57, _Str("C1"), (), [],
    T0, T0.replace(tzinfo=None), date(2026, 5, 7), Decimal(3), "3", make_program(),
])


@settings(max_examples=400, deadline=None)
@given(edits=st.lists(st.tuples(st.sampled_from(sorted(_stored_fields(_worn_card()))), _CARD_VALUES),
                      max_size=3),
       vouchers_as=st.sampled_from(["Vouchers", "tuple", "list", "with a stranger"]))
def test_card_from_values_is_the_constructor(edits: list[tuple[str, Any]], vouchers_as: str) -> None:
    """card_from_values against StampCard(...) on a real card's values with up to three replaced by
    values of the wrong type, range or pattern (and its vouchers given in other containers)."""
    fields = _stored_fields(_worn_card())
    held = fields["vouchers"]
    fields["vouchers"] = {"Vouchers": held, "tuple": tuple(held), "list": list(held),
                          "with a stranger": (*held, "not a voucher")}[vouchers_as]
    fields.update(edits)
    _same_outcome(lambda: card_from_values(**fields), lambda: StampCard(**fields))


def test_card_from_values_takes_the_constructors_defaults() -> None:
    _same(card_from_values(serial="C1", member_id="m", program=make_program(), issued_at=T0),
          StampCard(serial="C1", member_id="m", program=make_program(), issued_at=T0))
    worn = _worn_card()
    _same(card_from_values(**_stored_fields(worn)), worn)


# --- the slot copiers ------------------------------------------------------------------------------------


def test_the_generated_copies_hold_the_very_values() -> None:
    card = _worn_card()
    for copy in (copier(StampCard)(card), changer(StampCard)(card)):
        assert copy == card and copy is not card
        for field in attrs.fields(StampCard):
            assert getattr(copy, field.name) is getattr(card, field.name), field.name
    changed = changer(StampCard, "version", "stamps")(card, 99, 2)
    assert changed == attrs.evolve(card, version=99, stamps=2)
    made = maker(StampCard, {name: getattr(card, name) for name in _stored_fields(card)},
                 "_awaiting", "_for_milestone")(EventType.GOAL_REACHED, True)
    assert made == attrs.evolve(card, _awaiting=EventType.GOAL_REACHED, _for_milestone=True)
    with pytest.raises(TypeError):
        maker(StampCard, {}, "serial")
    with pytest.raises(TypeError):
        changer(StampCard, "no_such_field")


# --- random histories ------------------------------------------------------------------------------------

_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("stamp"), st.integers(1, 9)),
        st.tuples(st.just("redeem"), st.integers(0, 5)),
        st.tuples(st.just("void"), st.integers(0, 5)),
        st.tuples(st.just("expire"), st.just(0)),
        st.tuples(st.just("wait"), st.integers(1, 40)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(
    goal=st.integers(1, 8),
    overflow=st.sampled_from(Overflow),
    days=st.none() | st.integers(1, 3),
    method=st.sampled_from([RedemptionMethod.SELF_REDEEM, RedemptionMethod.REDEEM_CODE]),
    milestone=st.booleans(),
    per_day=st.none() | st.integers(5, 20),
    zone=st.sampled_from(["UTC", "Asia/Tashkent", "America/New_York"]),
    where=st.sampled_from([{}, {"location": "chilonzor"}, {"channel": "online"}]),
    steps=_ACTIONS,
)
def test_every_transition_equals_its_checked_slow_way(
    goal: int, overflow: Overflow, days: int | None, method: RedemptionMethod, milestone: bool,
    per_day: int | None, zone: str, where: dict[str, str], steps: list[tuple[str, int]],
) -> None:
    """Over random histories: each transition's card is the one the checked fold makes of its events
    (and, for a redemption, its voucher is attrs.evolve's and its event the constructors'), each event
    is the constructor's, failures are the same, and the whole log replays to the card."""
    milestones = (Milestone(at=goal - 1, reward=Reward(title="Cookie", description="x"),
                            redemption=RedemptionMethod.SELF_REDEEM),) if milestone and goal > 2 else ()
    program = make_program(goal=goal, overflow=overflow, redemption=method, milestones=milestones,
                           validity=Validity.for_days(days) if days else Validity.unlimited(),
                           earn_policy=EarnPolicy(max_per_day=per_day) if per_day else None, timezone=zone)
    card, log_start = StampCard.issue(program, serial="CARD1", member_id="m", at=T0)
    log, at, rng = list(log_start), T0, counting_random()
    for action, n in steps:
        if action == "wait":
            at += timedelta(hours=n)
            continue
        if action == "stamp":
            try:
                result = card.add_stamps(n, at=at, source="till", random=rng)
            except WalletVoucherError:
                continue  # the daily limit: refused before anything was made
            _check_stamped(card, result)
            card, log = result.card, log + list(result.events)
        elif action == "expire":
            new, events = card.expire_vouchers(at=at)
            _same(new, fold(card, events))
            card, log = new, log + list(events)
        elif card.vouchers:
            voucher = card.vouchers[n % len(card.vouchers)]
            if action == "redeem":
                proof: Any = CodeEntry(code=voucher.code.value) if voucher.code else SelfRedeem()
                got = _outcome(lambda: card.redeem(voucher.serial, proof, at=at, **where))  # noqa: B023
                expected = _outcome(lambda: _slow_redeem(card, voucher.serial, proof, at, where))  # noqa: B023
                assert got[0] == expected[0], (got, expected)
                if got[0] == "refused":
                    assert got == expected
                    continue
                outcome, (slow_card, slow_voucher, slow_events) = got[1], expected[1]
                _same(outcome.card, slow_card)
                _same(outcome.voucher, slow_voucher)
                _same(outcome.events[0], slow_events[0])
            else:
                try:
                    outcome = card.void_voucher(voucher.serial, "test", at=at)
                except WalletVoucherError:
                    continue
                _same(outcome.card, fold(card, outcome.events))
                _same(outcome.voucher, attrs.evolve(voucher, status=VoucherStatus.VOIDED, void_reason="test"))
            for event in outcome.events:
                _same(event, _slow_event(event))
            card, log = outcome.card, log + list(outcome.events)
    _same(replay(events_from_json(events_to_json(log)), [program]), card)


def test_a_program_of_every_kind_still_replays() -> None:
    """A sanity pass through the derived events' slow path (milestones, codes, carry-over)."""
    program: Program = make_program(
        goal=3, redemption=RedemptionMethod.REDEEM_CODE,
        milestones=(Milestone(at=1, reward=Reward(title="Cookie", description="x"),
                              redemption=RedemptionMethod.SELF_REDEEM),),
    )
    card, log = StampCard.issue(program, serial="C1", member_id="m-1", at=T0)
    result = card.add_stamps(10, at=T0, source="till", random=counting_random())
    _check_stamped(card, result)
    assert replay((*log, *result.events), [program]) == result.card
    assert datetime.fromisoformat(result.events[0].to_json()["at"]) == T0


class _SlowEvent(Event):
    """Event.from_json on a subclass takes the constructor's way (compared field by field)."""


_EVENT_KEYS = ["type", "at", "card_serial", "data", "version"]


@settings(max_examples=400, deadline=None)
@given(
    edits=st.lists(st.tuples(st.sampled_from(_EVENT_KEYS), _JSON_VALUES | st.just("<delete>")), max_size=3),
    version=st.sampled_from([None, 1, 12]),
    data=st.sampled_from([{"count": 1, "source": "till"}, {"voucher": {"b": 1, "a": [2.5]}}, {}]),
)
def test_an_event_read_from_json_is_what_the_constructor_made(
    edits: list[tuple[str, Any]], version: int | None, data: dict[str, Any]
) -> None:
    """Event.from_json (and the stored text's way) against the constructor, on an event's JSON with up
    to three fields replaced by any JSON value or deleted."""
    from walletvoucher.model._events import event_from_text

    raw: dict[str, Any] = Event(type=EventType.STAMP_ADDED, at=T0, card_serial="C1", data=data,
                                version=version).to_json()
    for key, value in edits:
        if value == "<delete>":
            raw.pop(key, None)
        else:
            raw[key] = value

    def fields_of(make: Callable[[], Event]) -> Callable[[], list[tuple[str, Any, type]]]:
        return lambda: _fields(make())

    slow = fields_of(lambda: Event.from_json.__func__(_SlowEvent, raw))  # type: ignore[attr-defined]
    assert _outcome(fields_of(lambda: Event.from_json(raw))) == _outcome(slow)
    assert _outcome(fields_of(lambda: event_from_text(json.dumps(raw)))) == _outcome(slow)


_NAIVE = "2026-05-07T10:30:00"
EVENT_EDITS: dict[str, dict[str, Any]] = {
    "as written": {},
    "naive time": {"at": _NAIVE},
    "time not text": {"at": 5},
    "bad serial": {"card_serial": "C 1"},
    "serial not text": {"card_serial": 7},
    "version 0": {"version": 0},
    "version true": {"version": True},
    "version text": {"version": "2"},
    "version past 64 bits": {"version": 2**64},
    "unknown type": {"type": "stamp_eaten"},
    "data a list": {"data": [1]},
    "data with a float": {"data": {"f": 1.5}},
    "bad serial and data": {"card_serial": "", "data": {"f": float("nan")}},
}


@pytest.mark.parametrize("name", sorted(EVENT_EDITS))
def test_an_edited_event_reads_as_the_constructor_read_it(name: str) -> None:
    raw = {**Event(type=EventType.STAMP_ADDED, at=T0, card_serial="C1", data={"count": 1, "source": "t"},
                   version=2).to_json(), **EVENT_EDITS[name]}
    got = _outcome(lambda: _fields(Event.from_json(raw)))
    assert got == _outcome(lambda: _fields(Event.from_json.__func__(_SlowEvent, raw)))  # type: ignore[attr-defined]
    assert (got[0] == "ok") == (name in {"as written", "data with a float", "version past 64 bits"})


VOUCHER_EDITS: dict[str, dict[str, Any]] = {
    "naive issued_at": {"issued_at": _NAIVE},
    "naive valid_from": {"valid_from": _NAIVE},
    "naive expires_at": {"expires_at": _NAIVE},
    "naive redeemed_at": {"redeemed_at": _NAIVE},
    "version true": {"program_version": True},
    "version 0": {"program_version": 0},
    "milestone 0": {"milestone": 0},
    "milestone text": {"milestone": "2"},
    "redeemed_by a number": {"redeemed_by": 5},
    "void_reason a list": {"void_reason": ["x"]},
    "expiry before validity": {"expires_at": "2026-05-01T00:00:00+00:00"},
    "long serial": {"serial": "x" * 65},
    "bad card serial": {"card_serial": "C 1"},
    "bad program id": {"program_id": ""},
}


@pytest.mark.parametrize("name", sorted(VOUCHER_EDITS))
def test_an_edited_voucher_reads_as_the_constructor_read_it(name: str) -> None:
    raw = {**_voucher().to_json(), **VOUCHER_EDITS[name]}
    got = _outcome(lambda: Voucher._from_mapping(raw))
    assert got == _outcome(lambda: _slow_from_mapping(raw))
    assert got[0] == "refused"


def test_what_the_trusted_paths_make_pickles_and_hashes_as_the_constructors_make() -> None:
    """Objects made without __init__ still pickle (a store's worker processes) and hash alike."""
    import pickle

    card, (issued,) = StampCard.issue(make_program(goal=2), serial="C1", member_id="m-1", at=T0)
    stamped = card.add_stamps(2, at=T0, source="till")
    redeemed = stamped.card.redeem("C1-1", SelfRedeem(), at=T0)
    for made in (card, stamped.card, redeemed.card, redeemed.voucher, *stamped.vouchers):
        again = pickle.loads(pickle.dumps(made))
        _same(again, made)
    for event in (issued, *stamped.events, *redeemed.events):  # read-only facts never pickled
        assert _outcome(lambda: pickle.dumps(event)) == _outcome(  # noqa: B023
            lambda: pickle.dumps(_slow_event(event)))  # noqa: B023
    _same(issued, _slow_event(issued))
    assert hash(issued) == hash(_slow_event(issued))
    assert hash(redeemed.voucher) == hash(attrs.evolve(redeemed.voucher))
