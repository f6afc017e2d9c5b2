"""Card snapshots: every field of a :class:`~walletvoucher.model.StampCard`, as JSON.

Loading a card is "latest snapshot, then fold the events after it". A snapshot is only an
optimisation: if the model gains a field this module does not know, :func:`supported` turns snapshots
off (cards are replayed from their first event) instead of writing incomplete ones, and a snapshot
that cannot be read is ignored the same way. Fields in ``_AT_REST`` are bookkeeping that is at its
default whenever a transition has finished (the model's "half-way through a goal" marker); they are
not stored, and a card where one is not at its default is not snapshotted.

**The events a snapshot covers are still checked** (issue 17). Replaying a card re-checks every
event, which is what notices a tampered log (a deleted or moved event); a snapshot that were simply
trusted would stop checking the events before it. So a snapshot (format 3) records a digest of the
stored text of every event it covers, and a load checks the stored events against it -- reading
and hashing their text, which costs a small part of parsing and applying them -- then folds only the
events after it. A digest that does not match makes the load replay the whole log (which raises for
a tampered log, and gives the right card if only the snapshot was wrong). The digest is a chain, one
link per snapshot taken: link *i* is ``sha256(link i-1 + the events after snapshot i-1 up to
snapshot i)``, with the versions the links end at recorded beside it (``marks``), so taking a
snapshot hashes only the events since the one before. A format-2 snapshot (no digest) is still
read, as before: the events after it are checked, those before it trusted.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from walletvoucher.errors import WalletVoucherError
from walletvoucher.model import Program, StampCard, Voucher
from walletvoucher.model._card import card_from_values
from walletvoucher.store._programs import ProgramRegistry

FORMAT = 3
"""Format 2 (issue 16) adds the rules' state; a format-1 snapshot lacks last_redeemed_at, so it is not read
(the card is replayed from its events, and the next snapshot is format 3). Format 3 (issue 17) adds the
digest of the events the snapshot covers (``coverage``); a format-2 snapshot is read without it."""
_READABLE = frozenset({2, 3})


@attrs.frozen
class Coverage:
    """The events a snapshot covers: *marks*, the versions each link of the digest chain ends at
    (the last is the snapshot's version), and *digest*, the last link (hex)."""

    marks: tuple[int, ...]
    digest: str


EventText = Sequence[Any]
"""A stored event as ``(version, ..., data text)``: the version first, the text last."""


def _link(previous: str, events: Iterable[EventText]) -> str:
    """The next link of the chain: *previous* and the text of *events*, in order. (Their versions
    need not be hashed: :func:`covers` finds each link's last event at the index its version gives,
    so an event missing or added moves it, and events swapped change the text's order.)"""
    return hashlib.sha256("\n".join([previous, *(event[-1] for event in events)]).encode()).hexdigest()


def extend(previous: Coverage | None, events: Sequence[EventText], version: int) -> Coverage:
    """The coverage of a snapshot at *version*: *previous* (None: from the card's first event) and
    *events*, every stored event after ``previous.marks[-1]`` (or from the first) up to *version*."""
    marks, digest = (previous.marks, previous.digest) if previous is not None else ((), "")
    return Coverage(marks=(*marks, version), digest=_link(digest, events))


def covers(coverage: Coverage, events: Sequence[EventText]) -> bool:
    """Whether *events* -- the card's stored events from its first, in version order, up to the
    snapshot's version at least -- are the very ones *coverage* was taken over.

    Event *v* sits at index *v - 1* when none is missing: each link's last event is looked for
    there, and the text of the events up to it hashed in order."""
    digest, start = "", 0
    for mark in coverage.marks:
        if not start < mark <= len(events) or int(events[mark - 1][0]) != mark:
            return False
        digest, start = _link(digest, events[start:mark]), mark
    return digest == coverage.digest


_FIELDS = frozenset(
    {
        "serial", "member_id", "program", "issued_at", "stamps", "cycle", "lifetime_stamps",
        "vouchers_issued", "vouchers", "last_stamp_at", "stamp_day", "stamps_on_day", "next_program",
        "milestones_reached", "expired", "amount_carried", "punches_used", "last_redeemed_at", "version",
    }
)  # fmt: skip


_AT_REST = frozenset({"_awaiting", "_for_milestone"})


@functools.cache
def supported() -> bool:
    """Whether this module knows every field of the model's card (a fact of the installed code: asked
    once)."""
    names = {f.name for f in attrs.fields(StampCard)}
    return _FIELDS <= names <= _FIELDS | _AT_REST


_AT_REST_DEFAULTS = tuple((f.name, f.default) for f in attrs.fields(StampCard) if f.name in _AT_REST)


def at_rest(card: StampCard) -> bool:
    """Whether every ``_AT_REST`` field of *card* holds its default (so the snapshot is complete)."""
    return all(getattr(card, name) == default for name, default in _AT_REST_DEFAULTS)


def dump(card: StampCard, coverage: Coverage) -> str:
    """The card as JSON text (programs by id and version), with the *coverage* of its events."""
    return json.dumps(
        {
            "format": FORMAT,
            "events": {"marks": list(coverage.marks), "digest": coverage.digest},
            "serial": card.serial,
            "member_id": card.member_id,
            "program": [card.program.id, card.program.version],
            "issued_at": card.issued_at.isoformat(),
            "stamps": card.stamps,
            "cycle": card.cycle,
            "lifetime_stamps": card.lifetime_stamps,
            "vouchers_issued": card.vouchers_issued,
            "vouchers": [v.to_json() for v in card.vouchers],
            "last_stamp_at": _iso(card.last_stamp_at),
            "stamp_day": card.stamp_day.isoformat() if card.stamp_day else None,
            "stamps_on_day": card.stamps_on_day,
            "next_program": [card.next_program.id, card.next_program.version] if card.next_program else None,
            "milestones_reached": card.milestones_reached,
            "expired": card.expired,
            "amount_carried": str(card.amount_carried),
            "punches_used": card.punches_used,
            "last_redeemed_at": _iso(card.last_redeemed_at),
            "version": card.version,
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def coverage_of(text: str) -> Coverage | None:
    """The coverage a snapshot's text records (None: a format-2 snapshot, or another format)."""
    raw: dict[str, Any] = json.loads(text)
    return _coverage(raw)


def _coverage(raw: dict[str, Any]) -> Coverage | None:
    events = raw.get("events") if raw.get("format") == FORMAT else None
    if not isinstance(events, dict):
        return None
    marks, digest = events.get("marks"), events.get("digest")
    if not isinstance(marks, list) or not marks or not all(isinstance(m, int) for m in marks):
        return None
    return Coverage(marks=tuple(marks), digest=str(digest))


def read(text: str, programs: ProgramRegistry, version: int) -> tuple[StampCard, Coverage | None] | None:
    """The card :func:`dump` wrote and the coverage it records (None for a format-2 snapshot, which
    has none), or None if the text is of a format this module does not read.

    *version* is the snapshot row's: snapshots written before cards knew their version take it.
    """
    raw: dict[str, Any] = json.loads(text)
    if raw.get("format") not in _READABLE or not supported():
        return None
    nxt = raw["next_program"]
    card = card_from_values(
        serial=raw["serial"],
        member_id=raw["member_id"],
        program=programs.get(raw["program"][0], raw["program"][1]),
        issued_at=datetime.fromisoformat(raw["issued_at"]),
        stamps=raw["stamps"],
        cycle=raw["cycle"],
        lifetime_stamps=raw["lifetime_stamps"],
        vouchers_issued=raw["vouchers_issued"],
        vouchers=tuple(_voucher(v, programs) for v in raw["vouchers"]),
        last_stamp_at=datetime.fromisoformat(raw["last_stamp_at"]) if raw["last_stamp_at"] else None,
        stamp_day=date.fromisoformat(raw["stamp_day"]) if raw["stamp_day"] else None,
        stamps_on_day=raw["stamps_on_day"],
        next_program=programs.get(nxt[0], nxt[1]) if nxt else None,
        milestones_reached=raw["milestones_reached"],
        expired=raw["expired"],
        amount_carried=Decimal(raw["amount_carried"]),
        punches_used=raw["punches_used"],
        last_redeemed_at=_from_iso(raw["last_redeemed_at"]),
        version=raw.get("version", version),
    )
    return card, _coverage(raw)


_REWARDS: dict[int, tuple[Program, dict[str, Any]]] = {}
"""The JSON of each program's reward, by the program object's id (the program kept alive with it)."""


def _voucher(raw: Any, programs: ProgramRegistry) -> Voucher:
    """A voucher of the snapshot: the reward is its program's own when it is exactly that reward's JSON
    (as a voucher the stamps earned holds), otherwise built from the JSON as ``Voucher.from_json``."""
    try:
        program = programs.get(raw["program_id"], raw["program_version"])
    except (WalletVoucherError, KeyError, TypeError):
        return Voucher.from_json(raw)
    known = _REWARDS.get(id(program))
    if known is None or known[0] is not program:
        if len(_REWARDS) > 1000:
            _REWARDS.clear()
        known = _REWARDS[id(program)] = (program, program.reward.to_json())
    if raw.get("reward") != known[1]:
        return Voucher.from_json(raw)
    try:
        return Voucher._from_mapping(raw, program.reward)
    except (KeyError, ValueError, TypeError):
        return Voucher.from_json(raw)  # raises the ReplayError Voucher.from_json gives


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
