"""The merchants' rules in the store: when each card's stamps lapse and when it expires, so
``expire_due`` finds them (migrations 20 and 21).

The model decides (``StampCard.stamps_lapse_at``); every transition writes the moment it gives into
``cards.stamps_lapse_at`` (migration 20), and ``expire_due`` reads the cards whose moment has come.
Cards stored before migration 20 have no moment until their next transition; their programs could
not have stamp expiry then, and a program's rules change only with a new version, from a card's next
cycle (a transition that records the moment).
"""

from __future__ import annotations

from datetime import datetime

from walletvoucher.model import StampCard
from walletvoucher.store._engine import Tx
from walletvoucher.store._types import to_us


def rule_columns(card: StampCard) -> tuple[int | None, int | None]:
    """``(stamps_lapse_at, expires_at)`` for *card*'s row, written with its version in the same
    statement (NULL: the stamps do not lapse; the card does not expire, or its end is recorded)."""
    expires = None if card.expired else card.expires_at
    return _us(card.stamps_lapse_at), _us(expires)


def _us(moment: datetime | None) -> int | None:
    return to_us(moment) if moment is not None else None


def due_cards(tx: Tx, due_us: int, after: str, limit: int) -> list[str]:
    """Serials after *after* (in order, at most *limit*) of the cards with something due by *due_us*:
    an open voucher whose validity has ended, stamps that have lapsed, or the card's own end."""
    rows = tx.rows(
        "SELECT card_serial AS serial FROM vouchers WHERE state = 'open' AND expires_at IS NOT NULL"
        " AND expires_at <= ? AND card_serial > ?"
        " UNION SELECT serial FROM cards WHERE (stamps_lapse_at <= ? OR expires_at <= ?) AND serial > ?"
        " ORDER BY serial LIMIT ?",
        (due_us, after, due_us, due_us, after, limit),
    )
    return [str(r[0]) for r in rows]
