"""Events: what happened to a card, serialisable to JSON so a backend can store and replay them."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from walletvoucher.errors import ReplayError, ValidationError
from walletvoucher.model._slots import setters
from walletvoucher.model._validate import _IDENT, aware, identifier, instance_of, is_aware, positive

MAX_LOG_CHARS = 50_000_000
"""The longest event log text :func:`events_from_json` reads (a card's lifetime is far shorter)."""


class EventType(enum.Enum):
    """Every kind of transition a card or voucher goes through."""

    CARD_ISSUED = "card_issued"
    STAMP_ADDED = "stamp_added"
    GOAL_REACHED = "goal_reached"
    VOUCHER_ISSUED = "voucher_issued"
    VOUCHER_REDEEMED = "voucher_redeemed"
    VOUCHER_EXPIRED = "voucher_expired"
    VOUCHER_VOIDED = "voucher_voided"
    CYCLE_STARTED = "cycle_started"
    PROGRAM_CHANGED = "program_changed"
    MILESTONE_REACHED = "milestone_reached"
    STAMPS_EXPIRED = "stamps_expired"
    CARD_EXPIRED = "card_expired"
    AMOUNT_SPENT = "amount_spent"
    PUNCH_USED = "punch_used"


_EVENT_TYPES: dict[str, EventType] = {kind.value: kind for kind in EventType}
_SCALARS = frozenset({str, bool, type(None)})
_INT_LIMIT = 2**63
"""Ints of the flat fast path: beyond it the JSON round trip decides (it refuses ints too long to read)."""


class _NotPlain(Exception):
    """A value the JSON round trip must judge (a float, a tuple, a str subclass, a huge int...)."""


def _plain(value: Any, depth: int) -> Any:
    """A copy of *value* built from exact dicts (str keys, sorted), lists, str, bool, None and 64-bit
    ints -- exactly what the JSON round trip gives for them; anything else raises :class:`_NotPlain`."""
    kind = type(value)
    if kind in _SCALARS or (kind is int and -_INT_LIMIT < value < _INT_LIMIT):
        return value
    if depth > 20:
        raise _NotPlain
    if kind is dict:
        if any(type(key) is not str for key in value):
            raise _NotPlain
        return {key: _plain(value[key], depth + 1) for key in sorted(value)}
    if kind is list:
        return [_plain(item, depth + 1) for item in value]
    raise _NotPlain


class _Parsed(dict[str, Any]):
    """Facts :func:`event_from_text` just parsed from JSON text: JSON-ready, and no one else holds them."""


def _flat(data: dict[str, Any]) -> Mapping[str, Any] | None:
    """What :func:`_plain` gives for *data* when every key is a str and every value a str, bool, None
    or 64-bit int (a transition's own facts, mostly), else None: one pass, no call per value."""
    for key, value in data.items():
        kind = type(value)
        if type(key) is not str or not (
            kind is str or value is None or kind is bool or (kind is int and -_INT_LIMIT < value < _INT_LIMIT)
        ):
            return None
    return MappingProxyType({key: data[key] for key in sorted(data)})


def _freeze(data: Mapping[str, Any]) -> Mapping[str, Any]:
    # A JSON round trip both checks that the data is JSON-ready and detaches it from the caller;
    # facts made of plain values are copied with their keys sorted instead, which gives the same.
    if type(data) is _Parsed:
        return MappingProxyType(dict(data))
    if type(data) is dict:
        flat = _flat(data)
        if flat is not None:
            return flat
    if type(data) is dict or type(data) is MappingProxyType:
        try:
            return MappingProxyType(_plain(dict(data), 0))
        except _NotPlain:
            pass
    if not isinstance(data, Mapping):
        raise ValidationError("must be a JSON object", field="data", value=type(data).__name__,
                              fix="give the event's facts as a dict")
    try:
        return MappingProxyType(json.loads(json.dumps(dict(data), sort_keys=True, allow_nan=False)))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(
            f"is not JSON-ready ({type(exc).__name__})", field="data", value=_preview(data),
            fix="give the event's facts as JSON types (str, int, list, dict, bool, None)",
        ) from None


def _preview(raw: object) -> str:
    try:
        text = repr(raw)
    except (RecursionError, ValueError):  # too deep, or an int with too many digits to print
        text = f"<{type(raw).__name__}>"
    return text if len(text) <= 120 else text[:117] + "..."


@attrs.frozen(kw_only=True)
class Event:
    """One transition of one card, with the facts needed to replay it.

    >>> from datetime import datetime, timezone
    >>> e = Event(type=EventType.STAMP_ADDED, at=datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc),
    ...           card_serial="C1", data={"count": 2, "source": "kiosk"})
    >>> Event.from_json(e.to_json()) == e
    True
    """

    type: EventType = attrs.field(validator=instance_of(EventType))
    at: datetime = attrs.field(validator=aware)
    card_serial: str = attrs.field(validator=identifier)
    data: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_freeze, hash=False, eq=attrs.cmp_using(eq=lambda a, b: dict(a) == dict(b))
    )
    version: int | None = attrs.field(default=None, validator=positive)
    """The event's place in its card's log: ``card_issued`` is 1, each event after it one more (the
    card's version once the event is applied). A card's transitions number their events; ``None`` in
    events written before walletvoucher numbered them, and in a voucher's own events until its card
    numbers them. :func:`~walletvoucher.model.replay` refuses a gap, so a deleted event is noticed."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``version`` only when the event has one)."""
        if self.version is None:
            return {"type": self.type._value_, "at": self.at.isoformat(), "card_serial": self.card_serial,
                    "data": dict(self.data)}
        return {"type": self.type._value_, "at": self.at.isoformat(), "card_serial": self.card_serial,
                "data": dict(self.data), "version": self.version}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Event:
        """Rebuild an event from :meth:`to_json` output (or its JSON text parsed).

        Anything else raises :class:`~walletvoucher.errors.ReplayError`.
        """
        if not isinstance(raw, Mapping):
            raise ReplayError("is not an event (not a JSON object)", field="event", value=_preview(raw),
                              fix="pass what Event.to_json() produced")
        try:
            kind = _EVENT_TYPES.get(raw["type"]) if type(raw["type"]) is str else None
            if kind is None:
                kind = EventType(raw["type"])  # another type's value, or none: the enum's own error
            at = datetime.fromisoformat(raw["at"])
            card_serial = raw["card_serial"]
            data = raw.get("data", {})
            version = raw.get("version")
            if cls is Event:
                # The constructor's checks, as tests, after its converter (which runs first): an
                # event that passes them is made without running them again; anything else is left
                # to the constructor, which raises its usual error.
                facts = _freeze(data)
                if (
                    is_aware(at)
                    and isinstance(card_serial, str) and _IDENT.fullmatch(card_serial) is not None
                    and (version is None or (type(version) is int and version >= 1))
                ):
                    return trusted_event(kind, at, card_serial, facts, version)
            return cls(type=kind, at=at, card_serial=card_serial, data=data, version=version)
        except (KeyError, ValueError, TypeError) as exc:  # ValidationError is a ValueError
            reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)[:200]
            raise ReplayError(
                f"is not an event ({reason})",
                field="event",
                value=_preview(raw),
                fix="pass what Event.to_json() produced",
            ) from exc


_EVENT_SETTERS = setters(Event)
_SET_TYPE, _SET_AT, _SET_SERIAL, _SET_DATA, _SET_VERSION = (
    _EVENT_SETTERS[name] for name in ("type", "at", "card_serial", "data", "version")
)


def freeze(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """An event's facts as :class:`Event` holds them (what its ``data`` converter gives): a read-only
    copy, keys sorted, of JSON-ready facts; anything else raises the converter's ValidationError."""
    return _freeze(data)


def trusted_event(
    kind: EventType, at: datetime, card_serial: str, facts: Mapping[str, Any], version: int | None
) -> Event:
    """``Event(type=kind, at=at, card_serial=card_serial, data=data, version=version)`` for an event
    the model builds from values it has checked, with *facts* = ``freeze(data)``: nothing is checked.

    The caller guarantees what the constructor would check: *kind* an :class:`EventType`, *at* a
    timezone-aware datetime, *card_serial* a checked serial (1-56 characters of A-Z a-z 0-9 _ -),
    *version* None or an int of 1 or more (a checked card version plus one, say), and *facts* what
    :func:`freeze` gives for the event's data -- ``freeze(data)`` itself, or a ``MappingProxyType``
    over a new dict of str keys in sorted order whose values are all exact ``str``, ``bool``,
    ``None`` or ``int`` within 64 bits (a copy no one else holds).
    """
    event: Event = object.__new__(Event)
    _SET_DATA(event, facts)
    _SET_TYPE(event, kind)
    _SET_AT(event, at)
    _SET_SERIAL(event, card_serial)
    _SET_VERSION(event, version)
    return event


def renumbered(event: Event, version: int) -> Event:
    """``attrs.evolve(event, version=version)`` for a *version* the caller checked (an int of 1 or
    more): the facts, already frozen and read by no one else once the caller drops *event*, are
    shared rather than frozen again."""
    return trusted_event(event.type, event.at, event.card_serial, event.data, version)


class _HasConstant(Exception):
    """The text holds ``NaN``, ``Infinity`` or ``-Infinity``."""


def _refuse_constant(name: str) -> Any:
    raise _HasConstant(name)


_STORED = json.JSONDecoder(parse_constant=_refuse_constant)
"""One decoder for stored events (``json.loads`` with an option builds a new one per call)."""


def event_from_text(text: str | bytes) -> Event:
    """``Event.from_json(json.loads(text))`` for the text of one stored event: the same event, or the
    same exception, but facts just parsed from *text* (JSON-ready, held by no one else) are frozen
    as they are, without the JSON round trip that checks and detaches a caller's facts.

    Text holding ``NaN`` or ``Infinity`` (which ``json`` reads but the round trip refuses) takes the
    ordinary way, and is refused as it always was.
    """
    raw: Any = None  # None: take the ordinary way
    if isinstance(text, str):
        try:
            raw = _STORED.decode(text)
        except _HasConstant:
            raw = None
    if type(raw) is not dict or type(raw.get("data")) is not dict:
        return Event.from_json(json.loads(text))
    raw["data"] = _Parsed(raw["data"])
    return Event.from_json(raw)


def events_to_json(events: tuple[Event, ...] | list[Event]) -> str:
    """Serialise events as a JSON array (UTF-8 safe, keys sorted, so the text is stable)."""
    return json.dumps([e.to_json() for e in events], ensure_ascii=False, sort_keys=True)


def events_from_json(text: str) -> tuple[Event, ...]:
    """Parse what :func:`events_to_json` wrote; anything else raises :class:`ReplayError`.

    The events are checked one by one; :func:`~walletvoucher.model.replay` checks that they follow
    from each other.
    """
    if not isinstance(text, (str, bytes, bytearray)):
        raise ReplayError("must be JSON text", field="events", value=type(text).__name__,
                          fix="pass the text events_to_json() wrote")
    if len(text) > MAX_LOG_CHARS:
        raise ReplayError(
            f"is {len(text)} characters, more than the {MAX_LOG_CHARS} an event log may have",
            field="events", value=len(text), fix="store and replay each card's events separately",
        )
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, huge ints, deep nesting
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise ReplayError(
            f"is not JSON ({reason})",
            field="events",
            value=_preview(text[:40]),
            fix="pass the text events_to_json() wrote",
        ) from None
    if not isinstance(raw, list):
        raise ReplayError(
            "must be a JSON array of events",
            field="events",
            value=type(raw).__name__,
            fix="pass the text events_to_json() wrote",
        )
    return tuple(Event.from_json(item) for item in raw)
