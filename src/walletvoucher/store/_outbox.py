"""The outbox: messages written with a transition, performed after it by a worker.

A worker claims ready messages (each claim is a lease: unfinished messages come back after it),
performs them, then completes or retries each. On PostgreSQL concurrent workers claim disjoint
messages (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from types import MappingProxyType

from walletvoucher.errors import ValidationError
from walletvoucher.store._engine import Database
from walletvoucher.store._types import OutboxMessage, from_us, to_us


class Outbox:
    """The wallet's outbox (``wallet.outbox``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def claim(
        self,
        *,
        at: datetime,
        limit: int = 10,
        lease: timedelta = timedelta(seconds=60),
        topics: Iterable[str] | None = None,
    ) -> tuple[OutboxMessage, ...]:
        """Take up to *limit* messages that are due at *at*, oldest first, for *lease*.

        *topics* limits the claim to those topics (a worker takes only what it can handle; the rest
        stay pending for a worker that can).
        """
        now = to_us(at)
        _positive(limit, "limit")
        wanted = None if topics is None else sorted(set(topics))
        only = "" if wanted is None else f" AND topic IN ({', '.join('?' * len(wanted)) or 'NULL'})"
        with self._db.write() as tx:
            rows = tx.rows(
                "UPDATE outbox SET available_at = ?, attempts = attempts + 1 WHERE id IN ("
                "SELECT id FROM outbox WHERE done_at IS NULL AND available_at <= ?"
                + only
                + " ORDER BY id LIMIT ?"
                + self._db.skip_locked
                + ") RETURNING id, topic, payload, created_at, attempts, last_error",
                (now + int(lease.total_seconds() * 1_000_000), now, *(wanted or ()), limit),
            )
        return tuple(
            OutboxMessage(
                id=int(r[0]),
                topic=str(r[1]),
                payload=MappingProxyType(json.loads(r[2])),
                created_at=from_us(int(r[3])),
                attempts=int(r[4]),
                last_error=r[5],
            )
            for r in sorted(rows)
        )

    def complete(self, message_id: int, *, at: datetime) -> None:
        """Mark a claimed message done; it is never handed out again."""
        with self._db.write() as tx:
            tx.run("UPDATE outbox SET done_at = ? WHERE id = ?", (to_us(at), message_id))

    def retry(
        self, message_id: int, *, error: str, at: datetime, delay: timedelta = timedelta(seconds=30)
    ) -> None:
        """Give a claimed message back, due again after *delay*, recording why it failed."""
        with self._db.write() as tx:
            tx.run(
                "UPDATE outbox SET available_at = ?, last_error = ? WHERE id = ? AND done_at IS NULL",
                (to_us(at + delay), error[:1000], message_id),
            )

    def pending(self) -> int:
        """Messages not yet completed."""
        with self._db.read() as tx:
            row = tx.one("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL")
        return int(row[0]) if row else 0


def _positive(value: int, field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError("must be 1 or more", field=field, value=value, fix="claim at least one message")
