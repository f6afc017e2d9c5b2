"""Card snapshots: every field of a :class:`~walletvoucher.model.StampCard`, as JSON.

Loading a card is "latest snapshot, then fold the events after it". A snapshot is only an
optimisation: if the model gains a field this module does not know, :func:`supported` turns snapshots
off (cards are replayed from their first event) instead of writing incomplete ones, and a snapshot
that cannot be read is ignored the same way. Fields in ``_AT_REST`` are bookkeeping that is at its
default whenever a transition has finished (the model's "half-way through a goal" marker); they are
not stored, and a card where one is not at its default is not snapshotted.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import attrs

from walletvoucher.model import StampCard, Voucher
from walletvoucher.store._programs import ProgramRegistry

FORMAT = 1
_FIELDS = frozenset(
    {
        "serial", "member_id", "program", "issued_at", "stamps", "cycle", "lifetime_stamps",
        "vouchers_issued", "vouchers", "last_stamp_at", "stamp_day", "stamps_on_day", "next_program",
        "version",
    }
)  # fmt: skip


_AT_REST = frozenset({"_awaiting"})


def supported() -> bool:
    """Whether this module knows every field of the model's card."""
    names = {f.name for f in attrs.fields(StampCard)}
    return _FIELDS <= names <= _FIELDS | _AT_REST


def at_rest(card: StampCard) -> bool:
    """Whether every ``_AT_REST`` field of *card* holds its default (so the snapshot is complete)."""
    return all(getattr(card, f.name) == f.default for f in attrs.fields(StampCard) if f.name in _AT_REST)


def dump(card: StampCard) -> str:
    """The card as JSON text (programs by id and version)."""
    return json.dumps(
        {
            "format": FORMAT,
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
            "version": card.version,
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def load(text: str, programs: ProgramRegistry, version: int) -> StampCard | None:
    """The card :func:`dump` wrote, or None if the text is of another format.

    *version* is the snapshot row's: snapshots written before cards knew their version take it.
    """
    raw: dict[str, Any] = json.loads(text)
    if raw.get("format") != FORMAT or not supported():
        return None
    nxt = raw["next_program"]
    return StampCard(
        serial=raw["serial"],
        member_id=raw["member_id"],
        program=programs.get(raw["program"][0], raw["program"][1]),
        issued_at=datetime.fromisoformat(raw["issued_at"]),
        stamps=raw["stamps"],
        cycle=raw["cycle"],
        lifetime_stamps=raw["lifetime_stamps"],
        vouchers_issued=raw["vouchers_issued"],
        vouchers=tuple(Voucher.from_json(v) for v in raw["vouchers"]),
        last_stamp_at=datetime.fromisoformat(raw["last_stamp_at"]) if raw["last_stamp_at"] else None,
        stamp_day=date.fromisoformat(raw["stamp_day"]) if raw["stamp_day"] else None,
        stamps_on_day=raw["stamps_on_day"],
        next_program=programs.get(nxt[0], nxt[1]) if nxt else None,
        version=raw.get("version", version),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
