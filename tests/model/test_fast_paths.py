"""The model's fast paths (issue 17) give exactly what the slow ways they replace gave.

An event's facts used to be frozen by a JSON round trip; plain facts are now copied. Applying an
event used to rebuild the card through ``attrs.evolve`` (every field checked again); ``evolve_card``
checks only the fields that change. Both are compared here with the old way itself (the standard
library's ``json`` and ``attrs.evolve``), including on hostile values.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import attrs
import pytest

from tests.model.conftest import T0, make_program
from walletvoucher.errors import ReplayError, ValidationError
from walletvoucher.model import Event, EventType, StampCard
from walletvoucher.model._card import evolve_card


def _round_trip(data: Any) -> tuple[str, ...]:
    """What the JSON round trip made of *data*: its text and value types, or that it refused."""
    try:
        frozen = json.loads(json.dumps(dict(data), sort_keys=True, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return ("refused",)
    return ("ok", json.dumps(frozen), repr([type(v) for v in frozen.values()]), repr(list(frozen)))


def _frozen(data: Any) -> tuple[str, ...]:
    try:
        event = Event(type=EventType.STAMP_ADDED, at=T0, card_serial="C1", data=data)
    except ValidationError:
        return ("refused",)
    facts = event.data
    assert isinstance(facts, MappingProxyType)
    return ("ok", json.dumps(dict(facts)), repr([type(v) for v in facts.values()]), repr(list(facts)))


def _circular() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return loop


def _deep(levels: int) -> dict[str, Any]:
    top: dict[str, Any] = {}
    inner = top
    for _ in range(levels):
        inner["x"] = {}
        inner = inner["x"]
    return top


CASES: dict[str, Any] = {
    "flat": {"source": "till", "count": 2, "ok": True, "none": None},
    "unsorted keys": {"b": 1, "a": 2},
    "lone surrogate": {"source": "\ud800"},
    "nested voucher": {
        "voucher": {"serial": "C1-1", "reward": {"title": {"en": "x"}}, "codes": [1, {"b": 2, "a": 1}]}
    },
    "64-bit edge": {"n": -(2**63) + 1, "m": 2**63 - 1},
    "past 64 bits": {"n": 2**70},
    "too many digits": {"n": 10**5000},
    "tuple": {"t": (1, 2)},
    "float": {"f": 1.5},
    "nan": {"f": float("nan")},
    "int key": {1: "a"},
    "nested int key": {"x": {1: "a"}},
    "nested proxy": {"x": MappingProxyType({"a": 1})},
    "str subclass": {"s": type("S", (str,), {})("x")},
    "circular": _circular(),
    "deep": _deep(40),
    "proxy": MappingProxyType({"b": 1, "a": {"c": [None]}}),
    "empty": {},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_event_facts_are_frozen_as_the_json_round_trip_froze_them(name: str) -> None:
    data = CASES[name]
    assert _frozen(data) == _round_trip(data)


def test_frozen_facts_are_detached_from_the_callers_dict() -> None:
    facts: dict[str, Any] = {"voucher": {"serial": "C1-1"}, "list": [1]}
    event = Event(type=EventType.STAMP_ADDED, at=T0, card_serial="C1", data=facts)
    facts["voucher"]["serial"] = "changed"
    facts["list"].append(2)
    assert event.data["voucher"] == {"serial": "C1-1"} and event.data["list"] == [1]


def test_evolve_card_equals_attrs_evolve_and_checks_what_changes() -> None:
    card, _ = StampCard.issue(make_program(), serial="C1", member_id="m-1", at=T0)
    changes = {"stamps": 3, "lifetime_stamps": 3, "last_stamp_at": T0, "version": 2}
    assert evolve_card(card, **changes) == attrs.evolve(card, **changes)
    with pytest.raises(ValidationError, match="stamps"):
        evolve_card(card, stamps=-1)
    with pytest.raises(ValidationError, match="last_stamp_at"):
        evolve_card(card, last_stamp_at=T0.replace(tzinfo=None))
    with pytest.raises(ValidationError, match="vouchers"):
        evolve_card(card, vouchers=("not a voucher",))
    with pytest.raises(TypeError, match="no_such_field"):
        evolve_card(card, no_such_field=1)
    # Every field is copied through its slot, the private ones too, in a card far from its defaults.
    worn = card.add_stamps(3, at=T0, source="till").card
    copied = evolve_card(worn)
    assert copied == worn and copied is not worn
    for field in attrs.fields(StampCard):
        assert getattr(copied, field.name) is getattr(worn, field.name), field.name


_EVENT = '{"at":"2026-05-07T10:30:00+00:00","card_serial":"C1","data":DATA,"type":"stamp_added","version":2}'
TEXTS: dict[str, str] = {
    "as stored": _EVENT.replace("DATA", '{"count":1,"source":"till"}'),
    "nested, unsorted": _EVENT.replace("DATA", '{"b":{"z":1,"a":[1.5,{"q":null}]},"a":1}'),
    "NaN": _EVENT.replace("DATA", '{"x":NaN}'),
    "Infinity deep": _EVENT.replace("DATA", '{"x":[{"y":-Infinity}]}'),
    "no data": _EVENT.replace(',"data":DATA', ""),
    "data not an object": _EVENT.replace("DATA", "[1]"),
    "not an object": "[1]",
    "bad time": _EVENT.replace("DATA", "{}").replace("2026-05-07T10:30:00+00:00", "yesterday"),
    "int too long to read": _EVENT.replace("DATA", '{"n":1' + "0" * 5000 + "}"),
    "not JSON": "{",
}


def _outcome(parse: Any, text: str) -> tuple[Any, ...]:
    try:
        event = parse(text)
    except Exception as exc:  # the exact exception is what must match
        return ("refused", type(exc))
    return ("ok", event, json.dumps(event.to_json(), sort_keys=True))


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_a_stored_event_parses_as_event_from_json_parsed_it(name: str) -> None:
    from walletvoucher.model._events import event_from_text

    text = TEXTS[name]
    assert _outcome(event_from_text, text) == _outcome(lambda t: Event.from_json(json.loads(t)), text)


def test_a_stamp_applied_equals_the_card_attrs_evolve_builds() -> None:
    """A stamp's apply sets its derived fields unchecked (stamp_applied): the card is the one
    ``attrs.evolve`` makes with every field checked, across days in the program's zone (the day's
    count restarts), and a stamp that cannot apply is still refused."""
    from datetime import timedelta

    from walletvoucher.model import fold

    program = make_program(goal=1000, timezone="Asia/Tashkent")
    card, _ = StampCard.issue(program, serial="C1", member_id="m-1", at=T0)
    for hours, count in ((0, 1), (1, 3), (13, 2), (14, 1), (40, 5)):
        at = T0 + timedelta(hours=hours)
        event = Event(type=EventType.STAMP_ADDED, at=at, card_serial="C1",
                      data={"count": count, "source": "till"}, version=card.version + 1)
        day = at.astimezone(program.zone).date()
        expected = attrs.evolve(
            card, stamps=card.stamps + count, lifetime_stamps=card.lifetime_stamps + count,
            last_stamp_at=at, stamp_day=day,
            stamps_on_day=(card.stamps_on_day if card.stamp_day == day else 0) + count,
            version=card.version + 1,
        )
        card = fold(card, (event,))
        assert card == expected
    late = Event(type=EventType.STAMP_ADDED, at=T0, card_serial="C1",
                 data={"count": 0, "source": "till"}, version=card.version + 1)
    with pytest.raises(ReplayError, match="count"):
        fold(card, (late,))
