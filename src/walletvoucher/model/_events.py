"""Events: what happened to a card, serialisable to JSON so a backend can store and replay them."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from walletvoucher.errors import ReplayError
from walletvoucher.model._validate import aware


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


def _freeze(data: Mapping[str, Any]) -> Mapping[str, Any]:
    # A JSON round trip both checks that the data is JSON-ready and detaches it from the caller.
    return MappingProxyType(json.loads(json.dumps(dict(data), sort_keys=True)))


@attrs.frozen(kw_only=True)
class Event:
    """One transition of one card, with the facts needed to replay it.

    >>> from datetime import datetime, timezone
    >>> e = Event(type=EventType.STAMP_ADDED, at=datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc),
    ...           card_serial="C1", data={"count": 2, "source": "kiosk"})
    >>> Event.from_json(e.to_json()) == e
    True
    """

    type: EventType = attrs.field(validator=attrs.validators.instance_of(EventType))
    at: datetime = attrs.field(validator=aware)
    card_serial: str
    data: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_freeze, hash=False, eq=attrs.cmp_using(eq=lambda a, b: dict(a) == dict(b))
    )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "type": self.type.value,
            "at": self.at.isoformat(),
            "card_serial": self.card_serial,
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Event:
        """Rebuild an event from :meth:`to_json` output (or its JSON text parsed)."""
        try:
            return cls(
                type=EventType(raw["type"]),
                at=datetime.fromisoformat(raw["at"]),
                card_serial=raw["card_serial"],
                data=raw.get("data", {}),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ReplayError(
                f"is not an event ({exc})",
                field="event",
                value=dict(raw),
                fix="pass what Event.to_json() produced",
            ) from exc


def events_to_json(events: tuple[Event, ...] | list[Event]) -> str:
    """Serialise events as a JSON array (UTF-8 safe, keys sorted, so the text is stable)."""
    return json.dumps([e.to_json() for e in events], ensure_ascii=False, sort_keys=True)


def events_from_json(text: str) -> tuple[Event, ...]:
    """Parse what :func:`events_to_json` wrote."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReplayError(
            f"is not JSON ({exc.msg})",
            field="events",
            value=text[:40],
            fix="pass the text events_to_json() wrote",
        ) from exc
    if not isinstance(raw, list):
        raise ReplayError(
            "must be a JSON array of events",
            field="events",
            value=type(raw).__name__,
            fix="pass the text events_to_json() wrote",
        )
    return tuple(Event.from_json(item) for item in raw)
