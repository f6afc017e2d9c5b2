"""What the Google sync must remember between runs: classes inserted, messages added, notification budgets.

The store knows nothing of Google's vocabulary: a class is an id, the program version it was inserted
for and a digest of the body sent; a notification is an object id, the key of the sync that used it
and when. ``wallet.google`` is the one instance per wallet.

Budget: Google notifies the holder of at most 3 updates per pass per 24 hours
(``notifyPreference: NOTIFY_ON_UPDATE``), and of at most 3 messages that notify (``TEXT_AND_NOTIFY``,
"Trigger Push Notifications" in Google Wallet's guides); both take from this one budget per object.
:meth:`GoogleRecords.take_notification` keeps a sliding
window per object, decided under a lock on the object's row so two workers cannot both take the
third slot, and remembers which sync took a slot so a retried sync keeps it instead of taking another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from walletvoucher.errors import ValidationError
from walletvoucher.store import _checks
from walletvoucher.store._engine import Database, Tx
from walletvoucher.store._types import to_us

__all__ = ["NOTIFICATION_LIMIT", "NOTIFICATION_WINDOW", "GoogleRecords", "RecordedClass"]

NOTIFICATION_LIMIT = 3
"""Google's budget: notifications per pass..."""
NOTIFICATION_WINDOW = timedelta(hours=24)
"""...per this window."""


@attrs.frozen(kw_only=True)
class RecordedClass:
    """A class the store says was inserted: for which program version, with which body digest."""

    class_id: str
    program_version: int
    digest: str


class GoogleRecords:
    """The Google sync's bookkeeping in the wallet's database (``wallet.google``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- classes -------------------------------------------------------------------------------

    def recorded_class(self, class_id: str) -> RecordedClass | None:
        """The class as last recorded, or None when it was never inserted through this store."""
        _id(class_id, "class_id")
        with self._db.read() as tx:
            row = tx.one("SELECT program_version, digest FROM google_classes WHERE class_id = ?", (class_id,))
        if row is None:
            return None
        return RecordedClass(class_id=class_id, program_version=int(row[0]), digest=str(row[1]))

    def class_is_current(self, class_id: str, *, program_version: int, digest: str) -> bool:
        """Whether the class needs no insert for this program version and body.

        A class recorded for a *newer* program version is current too: cards still on an older
        version never roll a shared class back.
        """
        found = self.recorded_class(class_id)
        if found is None:
            return False
        if found.program_version != program_version:
            return found.program_version > program_version
        return found.digest == digest

    def record_class(self, class_id: str, *, program_version: int, digest: str, at: datetime) -> None:
        """Record that the class was inserted (or brought up to date) for this version and body.

        An older program version never replaces a newer record.
        """
        _id(class_id, "class_id")
        _id(digest, "digest")
        _checks.whole(program_version, "program_version", low=1, fix="pass the program's version")
        with self._db.write() as tx:
            tx.run(
                "INSERT INTO google_classes (class_id, program_version, digest, recorded_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (class_id) DO UPDATE SET"
                " program_version = excluded.program_version, digest = excluded.digest,"
                " recorded_at = excluded.recorded_at"
                " WHERE google_classes.program_version <= excluded.program_version",
                (class_id, program_version, digest, to_us(at)),
            )

    # --- messages added to objects --------------------------------------------------------------

    def record_message(self, object_id: str, message_id: str, *, voucher: str, at: datetime) -> None:
        """Remember that a message about *voucher* was added to the object (to remove it later)."""
        _id(object_id, "object_id")
        _id(message_id, "message_id")
        _id(voucher, "voucher")
        with self._db.write() as tx:
            tx.run(
                "INSERT INTO google_messages (object_id, message_id, voucher, added_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (object_id, message_id) DO NOTHING",
                (object_id, message_id, voucher, to_us(at)),
            )

    def messages(self, object_id: str) -> dict[str, str]:
        """The messages recorded for the object: message id -> voucher serial."""
        _id(object_id, "object_id")
        with self._db.read() as tx:
            rows = tx.rows(
                "SELECT message_id, voucher FROM google_messages WHERE object_id = ?", (object_id,)
            )
        return {str(r[0]): str(r[1]) for r in rows}

    # --- notification budget -------------------------------------------------------------------

    def take_notification(
        self,
        object_id: str,
        *,
        key: str,
        at: datetime,
        limit: int = NOTIFICATION_LIMIT,
        window: timedelta = NOTIFICATION_WINDOW,
    ) -> bool:
        """Take one of the object's notifications for the sync *key*; False when the budget is spent.

        The same *key* again (a retried sync) gets True without taking a second slot.
        """
        _check_key(key)
        _budget(object_id, limit, window)
        now = to_us(at)
        since = now - int(window.total_seconds() * 1_000_000)
        with self._db.write() as tx:
            _lock_object(tx, object_id)
            if tx.one(
                "SELECT 1 FROM google_notifications WHERE object_id = ? AND sync_key = ?", (object_id, key)
            ):
                return True
            tx.run(
                "DELETE FROM google_notifications WHERE object_id = ? AND sent_at <= ?", (object_id, since)
            )
            if _count(tx, object_id, since) >= limit:
                return False
            tx.run(
                "INSERT INTO google_notifications (object_id, sync_key, sent_at) VALUES (?, ?, ?)",
                (object_id, key, now),
            )
            tx.run(
                "UPDATE google_objects SET notifications = notifications + 1 WHERE object_id = ?",
                (object_id,),
            )
        return True

    def notifications_left(
        self,
        object_id: str,
        *,
        at: datetime,
        limit: int = NOTIFICATION_LIMIT,
        window: timedelta = NOTIFICATION_WINDOW,
    ) -> int:
        """How many notifications the object may still get in the window ending at *at*."""
        _budget(object_id, limit, window)
        since = to_us(at) - int(window.total_seconds() * 1_000_000)
        with self._db.read() as tx:
            return max(0, limit - _count(tx, object_id, since))

    def notifications_total(self, object_id: str) -> int:
        """Every notification ever taken for the object (for monitoring)."""
        _id(object_id, "object_id")
        with self._db.read() as tx:
            row = tx.one("SELECT notifications FROM google_objects WHERE object_id = ?", (object_id,))
        return int(row[0]) if row else 0


def _lock_object(tx: Tx, object_id: str) -> None:
    """Create the object's row if needed and hold its lock until commit (one budget decision at a time)."""
    tx.run(
        "INSERT INTO google_objects (object_id, notifications) VALUES (?, 0)"
        " ON CONFLICT (object_id) DO NOTHING",
        (object_id,),
    )
    tx.run("UPDATE google_objects SET notifications = notifications WHERE object_id = ?", (object_id,))


def _count(tx: Tx, object_id: str, since: int) -> int:
    row = tx.one(
        "SELECT COUNT(*) FROM google_notifications WHERE object_id = ? AND sent_at > ?", (object_id, since)
    )
    return int(row[0]) if row else 0


def _id(value: object, field: str) -> str:
    return _checks.text(value, field, fix="pass the id the Google sync uses (text)")


def _budget(object_id: object, limit: object, window: object) -> None:
    _id(object_id, "object_id")
    _checks.whole(limit, "limit", fix="give how many notifications the window allows, e.g. 3")
    _checks.duration(window, "window", fix="give the budget's window, e.g. timedelta(hours=24)")


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not 1 <= len(key) <= 200 or key != _checks.printable(key):
        raise ValidationError(
            "must be text of 1 to 200 characters",
            field="key",
            value=key,
            fix="use the sync's key from the outbox message (e.g. 'CARD-1@42')",
        )
