"""The plain data the store hands out and takes in: changes, messages, journal entries, counts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

import attrs

from walletvoucher.errors import ValidationError
from walletvoucher.model import Event, StampCard

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)


def to_us(at: datetime) -> int:
    """Microseconds since the Unix epoch (UTC) of an aware datetime: how the store keeps times."""
    if type(at) is datetime and at.tzinfo is _UTC:  # the common case, several times per transition
        delta = at - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(
            "must be a timezone-aware datetime",
            field="at",
            value=at,
            fix="pass e.g. datetime.now(timezone.utc)",
        )
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    """The UTC datetime of :func:`to_us` microseconds."""
    from datetime import timedelta

    return _EPOCH + timedelta(microseconds=value)


def _json_payload(value: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        return MappingProxyType(json.loads(json.dumps(dict(value), sort_keys=True)))
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"must be JSON-ready ({exc})",
            field="payload",
            value=type(value).__name__,
            fix="use str, int, float, bool, None, lists and dicts with str keys",
        ) from exc


@attrs.frozen(kw_only=True)
class Change:
    """One committed transition, as effect hooks see it (inside the transaction, before commit).

    ``before`` is None for a new card. ``positions`` are the events' global journal positions.
    """

    action: str
    before: StampCard | None
    card: StampCard
    events: tuple[Event, ...]
    positions: tuple[int, ...]
    at: datetime


@attrs.frozen(kw_only=True)
class Message:
    """What an effect hook returns: an outbox row written in the same transaction as the events."""

    topic: str
    payload: Mapping[str, Any] = attrs.field(
        converter=_json_payload, eq=attrs.cmp_using(eq=lambda a, b: dict(a) == dict(b))
    )
    available_at: datetime | None = None


Effect = Callable[[Change], Iterable[Message]]
"""An effect hook: given a change, the outbox messages that must follow it (e.g. a push)."""


@attrs.frozen(kw_only=True)
class OutboxMessage:
    """An outbox row claimed by a worker."""

    id: int
    topic: str
    payload: Mapping[str, Any]
    created_at: datetime
    attempts: int
    last_error: str | None


@attrs.frozen(kw_only=True)
class JournalEntry:
    """One stored event with its global position (monotonic across the whole store)."""

    position: int
    version: int
    event: Event


@attrs.frozen(kw_only=True)
class CardInfo:
    """A card's bookkeeping row: its version and the position of its last event (an update tag)."""

    serial: str
    member_id: str
    program_id: str
    program_version: int
    version: int
    last_position: int
    updated_at: datetime


@attrs.frozen(kw_only=True)
class PoolStatus:
    """How a code pool stands; ``low`` once ``remaining`` is at or under ``low_stock``."""

    name: str
    symbology: str
    total: int
    remaining: int
    low_stock: int

    @property
    def low(self) -> bool:
        """Whether the pool is at or under its low-stock threshold."""
        return self.remaining <= self.low_stock


@attrs.frozen(kw_only=True)
class Counts:
    """How much the store holds."""

    cards: int
    events: int
    vouchers: Mapping[str, int]
    outbox_pending: int
    codes_remaining: int


@attrs.frozen(kw_only=True)
class CardToImport:
    """One existing card for :meth:`Wallet.import_cards`: a paper card or another product's, with the
    stamps it already holds (stamps past the goal issue vouchers, as stamping would)."""

    serial: str
    member_id: str
    stamps: int = 0
    program: str | None = None
    """The program id (None: the import's default program)."""


@attrs.frozen(kw_only=True)
class ImportReport:
    """What :meth:`Wallet.import_cards` did: cards stored now, and serials already stored (skipped,
    so an interrupted import can simply be run again)."""

    imported: int
    skipped: int
