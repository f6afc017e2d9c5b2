"""One small interface over both databases: transactions, statements, and errors in our own terms.

Statements are written once with ``?`` placeholders; the PostgreSQL engine turns them into psycopg's
``%s``. The places where the engines honestly differ are named here and nowhere else:

- how a writer starts (SQLite ``BEGIN IMMEDIATE`` takes the single write lock up front; PostgreSQL
  starts a READ COMMITTED transaction and relies on row locks and unique constraints),
- ``FOR UPDATE SKIP LOCKED`` when a writer takes a code or an outbox message (PostgreSQL only: SQLite
  has one writer at a time, so there is nothing to skip),
- how journal positions are drawn so that followers reading "after position N" never miss one
  (SQLite: numbered under its single write lock, so positions commit in order; PostgreSQL:
  positions derived from the transaction id, read only below the oldest running transaction, with
  no lock at all -- see :mod:`walletvoucher.store._postgres`): :meth:`Database.insert_events`,
  :meth:`Database.insert_activity`, :meth:`Database.take_position` and :meth:`Database.settled`,
- taking a journal position that no event holds, to re-mark a pass without a transition,
- whether a transition's writes wait for ``COMMIT`` (PostgreSQL: one round trip, the row counts
  checked by the server): :attr:`Database.defers_writes`, :meth:`Database.expect`,
  :meth:`Database.claim` and :attr:`Database.position_sql`.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from walletvoucher.errors import ValidationError

Row = tuple[Any, ...]
Params = Sequence[Any]
EventRow = tuple[int, str, int, str]
"""One event to append: its version, type, time (microseconds) and JSON text."""


class Conflict(Exception):
    """Another writer got there first (version moved, serialisation failure, lock timeout): retry."""


class UniqueViolation(Exception):
    """A unique constraint refused a row; ``what`` names the table or constraint when known."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Tx(abc.ABC):
    """An open transaction: run statements and fetch rows."""

    @abc.abstractmethod
    def run(self, sql: str, params: Params = ()) -> int:
        """Execute one statement; return the number of rows it changed."""

    @abc.abstractmethod
    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        """Execute a query and return every row."""

    def defer(self, sql: str, params: Params = ()) -> None:
        """Execute a statement whose result nobody reads. An engine may send it with the next
        statement (PostgreSQL: no round trip of its own); its error is raised by then at the latest,
        and rolls the transaction back as any error does."""
        self.run(sql, params)

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        found = self.rows(sql, params)
        return found[0] if found else None


class Database(abc.ABC):
    """A connection to one store database (one per process; not shared between threads)."""

    dialect: str
    skip_locked: str = ""
    next_position: str = ""
    """A SQL expression for the journal position the next event inserted in this transaction takes,
    when the engine can tell it before the insert (SQLite, under its one write lock), so the card's
    own pass mark rides in the card's own statement; empty when it cannot (PostgreSQL)."""

    defers_writes: bool = False
    """Whether a transition's writes wait to travel with ``COMMIT`` (PostgreSQL: one round trip for
    all of them). The engine then checks in the server what the store would otherwise check between
    statements (the card's version, the events' order: :meth:`expect`), and journal positions are
    computed in SQL (:attr:`position_sql`) from the numbers :meth:`claim` hands out."""
    position_sql: str = ""
    """(:attr:`defers_writes` engines) A SQL expression with one parameter *n* for the journal
    position numbered *n* in this transaction (see :meth:`claim`)."""

    def claim(self, tx: Tx, count: int) -> int:
        """(:attr:`defers_writes` engines) Take *count* consecutive position numbers of *tx*; return
        the first. What :meth:`insert_events` and :attr:`position_sql` number from."""
        raise NotImplementedError(f"{self.dialect} numbers positions as it inserts them")

    def expect(self, sql: str, rows: int, *, then: str = "") -> str:
        """*sql* (a data-modifying statement with a ``RETURNING`` clause) wrapped so that the server
        raises a conflict, rolling the transaction back, unless it changes exactly *rows* rows
        (:attr:`defers_writes` engines; the others read the count and check it themselves). *then*:
        a statement reading what *sql* returned as ``changed``, run with it."""
        raise NotImplementedError(f"{self.dialect} checks row counts as statements run")

    @abc.abstractmethod
    def write(self) -> AbstractContextManager[Tx]:
        """A transaction that may write; commits on success, rolls back on any exception."""

    @abc.abstractmethod
    def read(self) -> AbstractContextManager[Tx]:
        """A read-only transaction that sees one consistent state."""

    @abc.abstractmethod
    def insert_events(
        self, tx: Tx, serial: str, rows: Sequence[EventRow], *, first: int | None = None,
        positions: bool = True,
    ) -> list[int]:
        """Append the events *rows* (``(version, type, at_us, data)``, consecutive versions) of card
        *serial* and return their journal positions, in the rows' order. A journal follower never
        misses them: they commit in position order (SQLite), or become readable only once every
        transaction that could still commit a lower position has ended (PostgreSQL,
        :meth:`settled`).

        :attr:`defers_writes` engines: *first* is the number :meth:`claim` gave for them (None:
        claimed here); with *positions* false nobody reads the positions, so the insert waits for
        the next statement or ``COMMIT`` and ``[]`` is returned (a refused insert still raises, by
        then)."""

    @abc.abstractmethod
    def insert_activity(self, tx: Tx, params: Params) -> int:
        """Log one ``pass_activity`` row (type, serial, device, at, reason); return its position,
        ordered for followers as the journal's are."""

    @abc.abstractmethod
    def take_position(self, tx: Tx) -> int:
        """A new journal position above every one handed out, held by no event (a pass re-marked
        without a transition), ordered for followers as the journal's are."""

    def settled(self, column: str) -> str:
        """A SQL condition (`` AND ...``) that a follower reading "after position N" adds on
        *column*, so that it never reads past a position a running transaction may still commit
        below (nothing on SQLite: its positions commit in order)."""
        del column
        return ""

    def upkeep(self) -> None:  # noqa: B027 - a hook most engines do not need
        """What opening a wallet checks once the schema is current (nothing by default)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection."""


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(params: Params) -> tuple[Any, ...]:
    """*params* as a tuple, once no text among them holds a NUL (PostgreSQL text cannot) or a lone
    surrogate (not encodable as UTF-8, so neither engine can): the same error on both engines,
    raised before the statement runs, instead of a driver's exception."""
    values = tuple(params)
    for value in values:
        # ASCII text (str.isascii is a flag CPython keeps) can only hold a NUL: no regex for it.
        if isinstance(value, str) and (not value.isascii() or "\x00" in value) and _UNSTORABLE.search(value):
            raise ValidationError(
                "holds a NUL character or a lone surrogate, which the database cannot store",
                field="text",
                value=value[:80],
                fix="pass printable text; refuse such input where it enters (a form, a request)",
            )
    return values


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """*items* in slices of at most *size*."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
