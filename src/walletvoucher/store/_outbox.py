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
from walletvoucher.store import _checks
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
        _checks.duration(lease, "lease", fix="lease for as long as performing one may take, e.g. 60 s")
        if isinstance(topics, str):
            raise ValidationError("must be a collection of topics, not one str", field="topics",
                                  value=topics[:80], fix="wrap the topic in a list: topics=['apple.push']")
        wanted = None if topics is None else sorted(
            {_checks.text(t, "topics", fix="name topics as text, e.g. 'apple.push'") for t in topics}
        )
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
        _message_id(message_id)
        with self._db.write() as tx:
            tx.run("UPDATE outbox SET done_at = ? WHERE id = ?", (to_us(at), message_id))

    def retry(
        self, message_id: int, *, error: str, at: datetime, delay: timedelta = timedelta(seconds=30)
    ) -> None:
        """Give a claimed message back, due again after *delay*, recording why it failed.

        *error* is recorded as given, with characters no database can store (NUL, lone surrogates)
        replaced by U+FFFD: it often quotes what a remote server answered.
        """
        _message_id(message_id)
        _checks.text(error, "error", fix="say why performing the message failed", empty=True)
        _checks.duration(delay, "delay", fix="give a delay from 0 to 36,600 days, e.g. 30 s")
        with self._db.write() as tx:
            tx.run(
                "UPDATE outbox SET available_at = ?, last_error = ? WHERE id = ? AND done_at IS NULL",
                (to_us(at + delay), _checks.printable(error[:1000]), message_id),
            )

    def pending(self) -> int:
        """Messages not yet completed."""
        with self._db.read() as tx:
            row = tx.one("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL")
        return int(row[0]) if row else 0


def _positive(value: int, field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100_000:
        raise ValidationError("must be from 1 to 100,000", field=field, value=value,
                              fix="claim at least one message, and a batch a worker can perform")


def _message_id(value: object) -> int:
    return _checks.whole(value, "message_id", low=1, fix="pass the id of a message claim() returned")
