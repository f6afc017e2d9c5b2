"""Google Wallet's save and delete callbacks, recorded once each.

Google may deliver a callback more than once; each carries a ``nonce``. :func:`record_google_callback`
keeps the nonce in ``google_callbacks`` and, **in the same transaction**, logs the save or delete as
:class:`~walletvoucher.store.PassActivity` (``card_saved`` / ``card_removed``, device
``google/<objectId>``), so the wallet's activity hooks (webhooks) hear of it exactly as of an Apple
device's registration. A nonce seen before changes nothing: the replay is ignored.
"""

from __future__ import annotations

from datetime import datetime

from walletvoucher.store._engine import UniqueViolation
from walletvoucher.store._passes import CARD_REMOVED, CARD_SAVED, PassUpdates, check_text
from walletvoucher.store._types import to_us

__all__ = ["CALLBACKS_DESCRIPTION", "CALLBACKS_STATEMENTS", "GOOGLE_DEVICE_PREFIX", "record_google_callback"]

GOOGLE_DEVICE_PREFIX = "google/"
"""The device of a Google activity: ``google/`` and the object id (Google names no device; an Apple
device id is one path segment, so it never starts so)."""
CALLBACKS_DESCRIPTION = "Google Wallet save/delete callbacks: each nonce once (a replay is ignored)"
CALLBACKS_STATEMENTS = (
    """CREATE TABLE google_callbacks (
        nonce TEXT PRIMARY KEY, event TEXT NOT NULL, class_id TEXT NOT NULL, object_id TEXT NOT NULL,
        serial TEXT NOT NULL, received_at BIGINT NOT NULL)""",
)
"""Migration 42's statements (appended to ``MIGRATIONS`` in ``_schema``)."""


def record_google_callback(
    passes: PassUpdates, *, nonce: str, event: str, class_id: str, object_id: str, serial: str,
    at: datetime,
) -> bool:  # fmt: skip
    """Record one verified callback for the pass *serial*; False (and nothing written) when its *nonce*
    was recorded before. *event* is ``card_saved`` or ``card_removed``."""
    if event not in (CARD_SAVED, CARD_REMOVED):
        raise ValueError(f"event must be {CARD_SAVED!r} or {CARD_REMOVED!r}, not {event!r}")
    for name, value in (("nonce", nonce), ("class_id", class_id), ("object_id", object_id),
                        ("serial", serial)):  # fmt: skip
        check_text(value, name)
    at_us = to_us(at)
    reason = "" if event == CARD_SAVED else "google"
    try:
        with passes._db.write() as tx:
            tx.run(
                "INSERT INTO google_callbacks (nonce, event, class_id, object_id, serial, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (nonce, event, class_id, object_id, serial, at_us),
            )
            passes._log(tx, event, serial, GOOGLE_DEVICE_PREFIX + object_id, at_us, reason)
    except UniqueViolation:
        return False
    return True
