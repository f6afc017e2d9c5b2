"""The PostgreSQL engine (psycopg 3, imported only when a ``postgresql://`` URL is opened).

Writers run READ COMMITTED. Optimistic concurrency comes from the card row: the append is
``UPDATE cards ... WHERE serial = ? AND version = <loaded>``; a concurrent writer of the same card
blocks on the row lock, then sees the new version and changes no row, which the store treats as a
conflict and retries. The row count is checked by the server (:data:`EXPECT_FUNCTION`, migration
45), since a transition's writes are sent with ``COMMIT`` in one round trip and nothing is read
back between them. Unique violations on ``(serial, version)`` and serialisation failures or
deadlocks are conflicts too. Codes and outbox messages are taken with ``FOR UPDATE SKIP LOCKED`` so
that concurrent writers never wait for, or take, the same row.

**Journal positions without a lock.** A position is ``(xid + shift) * 2**20 + n``: the writing
transaction's id (``pg_current_xact_id()``), the database's ``journal_clock.shift`` (0 unless the
database came from elsewhere, see below), and ``n``, the transaction's own count of positions taken
(events, ``pass_activity`` rows, re-marked passes; at most :data:`PER_TRANSACTION`). Writers take no
lock and draw from no shared sequence. Followers (:meth:`PostgresDatabase.settled`) read only
positions below ``(xmin + shift) * 2**20``, where ``xmin`` is their snapshot's oldest running
transaction id: every transaction below it has ended, and every transaction that may still commit
has an id at or above it, so all its positions lie above everything a follower has read. A position
cursor therefore never skips a slower commit, and stays a plain integer. Two costs: a long-running
transaction anywhere on the server holds followers back (they see nothing newer until it ends; they
never miss it), and positions are large numbers with gaps.

A card's events must also follow each other in the journal: a transaction whose id is older than
the one that wrote the card's previous event (it took its id, e.g. with its idempotency key, before
that one committed) inserts nothing and retries as a conflict, with a new, younger id.

``journal_clock.shift`` keeps new positions above every stored one when transaction ids restart (a
``pg_dump`` restored into a new server): opening the wallet checks, and raises the shift under an
``ACCESS EXCLUSIVE`` lock on ``journal_clock``, which waits for every writer that read the old shift
to end. The package docstring weighs the alternatives.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from walletvoucher.errors import DatabaseReadOnly, DatabaseUnavailable, StoreUrlError, ValidationError
from walletvoucher.store._engine import (
    Conflict,
    Database,
    EventRow,
    Params,
    Row,
    Tx,
    UniqueViolation,
    iter_chunks,
    storable,
)
from walletvoucher.store._url import redact

__all__ = ["PostgresDatabase", "redact"]

if TYPE_CHECKING:
    import psycopg

PER_TRANSACTION = 1 << 20
"""How many journal positions one transaction may take (events, activity rows, re-marked passes)."""
_BASE = f"((pg_current_xact_id()::text::bigint + shift) * {PER_TRANSACTION})"
"""This transaction's first position (a column list of ``journal_clock``)."""
_HORIZON = (
    f"(SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint + shift) * {PER_TRANSACTION}"
    " FROM journal_clock)"
)
"""The lowest position a transaction still running may commit: followers read below it."""
_STORED_MAX = (
    "(SELECT GREATEST((SELECT MAX(position) FROM events), (SELECT MAX(position) FROM pass_activity),"
    " (SELECT MAX(update_position) FROM pass_updates), (SELECT MAX(pass_position) FROM cards), 0))"
)
SHIFT_SQL = f"GREATEST(0, {_STORED_MAX} / {PER_TRANSACTION} + 1 - pg_current_xact_id()::text::bigint)"
"""The shift that puts this transaction's positions (and every later one's) above every stored one."""
SHIFT_SQL_40 = SHIFT_SQL.replace(", (SELECT MAX(pass_position) FROM cards)", "")
""":data:`SHIFT_SQL` as migration 40 runs it (before cards held their pass marks, migration 43)."""


EXPECT_FUNCTION = (
    "CREATE OR REPLACE FUNCTION walletvoucher_expect(got bigint, wanted bigint, what text)"
    " RETURNS bigint LANGUAGE plpgsql AS $body$ BEGIN IF got IS DISTINCT FROM wanted THEN"
    " RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = what; END IF; RETURN got; END $body$"
)
"""Raises a serialisation failure (a conflict: the store retries) when a statement changed another
number of rows than the store counted on: how a write sent with ``COMMIT`` is still checked."""
POSITION_SQL = f"((SELECT {_BASE} FROM journal_clock) + ?)"
"""This transaction's position numbered ``?`` (:meth:`_PgTx.claim`)."""


class _PgTx(Tx):
    """A transaction begun lazily: ``BEGIN`` travels in one round trip with the first statement, and
    statements whose result nobody reads (:meth:`defer`) travel with the next one or with ``COMMIT``
    (psycopg's pipeline mode: the statements and one sync in one round trip). Every statement is a
    server-side prepared one. A transaction that runs no statement never reaches the server."""

    def __init__(self, conn: psycopg.Connection[Any], begin: str) -> None:
        self._conn = conn
        self._pending: list[tuple[str, tuple[Any, ...]]] = [(begin, ())]
        self._begun = False
        self._taken = 0

    @property
    def begun(self) -> bool:
        """Whether ``BEGIN`` was sent (the server holds a transaction to commit or roll back)."""
        return self._begun

    def defer(self, sql: str, params: Params = ()) -> None:
        """Send the statement with the next one (or with ``COMMIT``): no round trip of its own. Its
        error, if any, is raised by that next statement, and rolls the transaction back the same."""
        self._pending.append((_pg(sql), storable(params)))

    def _execute(self, sql: str, params: Params) -> psycopg.Cursor[Any]:
        values = storable(params)
        if not self._pending:
            return self._conn.execute(_pg(sql), values, prepare=True)
        cursor = self._flush((_pg(sql), values))
        assert cursor is not None
        return cursor

    def _flush(self, last: tuple[str, tuple[Any, ...]] | None) -> psycopg.Cursor[Any] | None:
        """The pending statements and *last* in one round trip; *last*'s cursor."""
        import psycopg

        pending, self._pending = self._pending, []
        self._begun = True  # from here the server may hold a transaction, even if this fails
        first: psycopg.Error | None = None  # the statement that failed (psycopg may see it while sending)
        try:
            with self._conn.pipeline():
                try:
                    for sql, values in pending:
                        self._conn.execute(sql, values, prepare=True)
                    cursor = self._conn.execute(last[0], last[1], prepare=True) if last else None
                except psycopg.Error as exc:
                    first = exc  # leaving the pipeline then reports only "pipeline aborted"
        except psycopg.Error as exc:
            raise (first or exc) from None
        if first is not None:
            raise first
        return cursor

    def commit(self) -> None:
        """``COMMIT``, with the deferred statements still pending (nothing if nothing was sent)."""
        if not self._begun and len(self._pending) <= 1:
            return  # only BEGIN pending: the server never saw this transaction
        if self._pending:
            self._flush(("COMMIT", ()))
        else:
            self._conn.execute("COMMIT")

    def run(self, sql: str, params: Params = ()) -> int:
        with _translated(self._conn):
            return self._execute(sql, params).rowcount

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        with _translated(self._conn):
            return [tuple(r) for r in self._execute(sql, params).fetchall()]

    def claim(self, count: int) -> int:
        """Take *count* consecutive position numbers of this transaction; return the first."""
        first = self._taken
        if first + count > PER_TRANSACTION:
            raise ValidationError(
                f"would write more than {PER_TRANSACTION:,} journal entries in one transaction",
                field="batch",
                value=first + count,
                fix="write fewer cards per transaction (a smaller batch=)",
            )
        self._taken += count
        return first


class PostgresDatabase(Database):
    """One psycopg connection in autocommit mode; every store operation is an explicit transaction."""

    dialect = "postgres"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    defers_writes = True
    position_sql = POSITION_SQL

    def claim(self, tx: Tx, count: int) -> int:
        assert isinstance(tx, _PgTx)
        return tx.claim(count)

    def expect(self, sql: str, rows: int, *, then: str = "") -> str:
        return (
            f"WITH changed AS ({sql}){f', pushed AS ({then})' if then else ''}"
            f" SELECT walletvoucher_expect(COUNT(*), {int(rows)},"
            " 'the card moved, or a younger transaction wrote its last event') FROM changed"
        )

    def __init__(self, url: str, *, connect_timeout: int = 10) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise StoreUrlError(
                "needs psycopg 3, which is not installed",
                field="url",
                value=redact(url),
                fix='pip install "walletvoucher[postgres]"',
            ) from exc
        self.url = url
        try:
            self._conn: psycopg.Connection[Any] = psycopg.connect(
                url, autocommit=True, connect_timeout=connect_timeout
            )
        except psycopg.Error as exc:
            raise DatabaseUnavailable(
                f"cannot be reached ({type(exc).__name__}: {_first_line(exc)})",
                field="url",
                value=redact(url),
                fix="check that the server is running, the host, port, database name and credentials",
            ) from exc

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self._transaction("BEGIN ISOLATION LEVEL READ COMMITTED") as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY") as tx:
            yield tx

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Tx]:
        # BEGIN with the first statement, deferred statements with the next or with COMMIT: one
        # round trip fewer than psycopg's transaction() (two fewer for a read, which also set its
        # isolation level apart), and one fewer per deferred statement.
        import psycopg

        tx = _PgTx(self._conn, begin)
        try:
            with _translated(self._conn):
                yield tx
            with _translated(self._conn):
                tx.commit()
        except BaseException:
            if tx.begun and not self._conn.closed:
                with suppress(psycopg.Error):  # a broken connection: the server ends the transaction
                    self._conn.execute("ROLLBACK")
            raise

    def insert_events(
        self, tx: Tx, serial: str, rows: Sequence[EventRow], *, first: int | None = None,
        positions: bool = True,
    ) -> list[int]:
        assert isinstance(tx, _PgTx)
        if first is None:
            first = tx.claim(len(rows))
        if not positions and len(rows) <= 1000:  # sent with COMMIT, checked by the server
            values: list[Any] = [serial]
            for n, (version, kind, at_us, data) in enumerate(rows, start=first):
                values += (version, kind, at_us, data, n)
            tx.defer(self.expect(_insert_events_sql(len(rows)), len(rows)), [*values, serial, rows[0][0] - 1])
            return []
        found: list[Row] = []
        for start, chunk in enumerate(iter_chunks(rows, 1000)):  # at most 5,000 parameters a statement
            offset = first + start * 1000
            params: list[Any] = [serial]
            for n, (version, kind, at_us, data) in enumerate(chunk, start=offset):
                params += (version, kind, at_us, data, n)
            # The card's previous event must not lie above this transaction's positions (written by
            # a younger transaction); otherwise nothing is inserted and the transition is retried.
            previous = chunk[0][0] - 1 if start == 0 else -1
            inserted = tx.rows(_insert_events_sql(len(chunk)), [*params, serial, previous])
            if not inserted:
                raise Conflict(f"card {serial}'s last event was written by a younger transaction")
            found += inserted
        return [int(position) for _, position in sorted(found)]

    def insert_activity(self, tx: Tx, params: Params) -> int:
        assert isinstance(tx, _PgTx)
        row = tx.one(
            "INSERT INTO pass_activity (position, type, serial, device, at, reason)"
            f" SELECT {_BASE} + ?, ?, ?, ?, ?, ? FROM journal_clock RETURNING position",
            (tx.claim(1), *params),
        )
        assert row is not None
        return int(row[0])

    def take_position(self, tx: Tx) -> int:
        assert isinstance(tx, _PgTx)
        row = tx.one(f"SELECT {_BASE} + ? FROM journal_clock", (tx.claim(1),))
        assert row is not None
        return int(row[0])

    def settled(self, column: str) -> str:
        return f" AND {column} < {_HORIZON}"

    def upkeep(self) -> None:
        """Raise ``journal_clock.shift`` when stored positions reach this server's transaction ids
        (a database restored into a new server), so new positions stay above them."""
        with self.read() as tx:
            if not (tx.one("SELECT to_regclass('journal_clock') IS NOT NULL") or (False,))[0]:
                return  # migrated only part of the way (a test of an older schema)
            row = tx.one(
                "SELECT GREATEST((SELECT MAX(position) FROM events), (SELECT MAX(position) FROM"
                " pass_activity)) >= (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + shift)"
                f" * {PER_TRANSACTION} FROM journal_clock"
            )
        if not (row and row[0]):
            return
        with self.write() as tx:  # waits for every writer that read the old shift, then holds the rest
            tx.run("LOCK TABLE journal_clock IN ACCESS EXCLUSIVE MODE")
            tx.run(f"UPDATE journal_clock SET shift = GREATEST(shift, {SHIFT_SQL})")

    def close(self) -> None:
        self._conn.close()


_INSERT_EVENTS: dict[int, str] = {}


def _insert_events_sql(rows: int) -> str:
    """The INSERT of *rows* events of one card at this transaction's positions, returning ``(version,
    position)``: nothing is inserted if the card's previous event lies above them (written by a
    younger transaction). Built once per row count."""
    sql = _INSERT_EVENTS.get(rows)
    if sql is None:
        sql = _INSERT_EVENTS[rows] = (
            "INSERT INTO events (position, serial, version, type, at, data)"
            " SELECT b.base + v.n, ?, v.version, v.type, v.at, v.data"
            f" FROM (SELECT {_BASE} AS base FROM journal_clock) AS b, (VALUES "
            + ", ".join(["(?::integer, ?, ?::bigint, ?, ?::bigint)"] * rows)
            + ") AS v (version, type, at, data, n) WHERE NOT EXISTS (SELECT 1 FROM events AS e"
            f" WHERE e.serial = ? AND e.version = ? AND e.position >= b.base + {PER_TRANSACTION})"
            " RETURNING version, position"
        )
    return sql


@functools.lru_cache(maxsize=2048)
def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


@contextmanager
def _translated(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """psycopg's exceptions in the store's terms."""
    import psycopg
    from psycopg import errors

    try:
        yield
    except errors.UniqueViolation as exc:
        raise UniqueViolation(exc.diag.constraint_name or exc.diag.table_name or "?") from exc
    except (errors.SerializationFailure, errors.DeadlockDetected, errors.LockNotAvailable) as exc:
        raise Conflict(_first_line(exc)) from exc
    except errors.ReadOnlySqlTransaction as exc:
        raise DatabaseReadOnly(
            "refuses writes (read-only transaction)",
            field="url",
            value=_where(conn),
            fix="connect to the primary server with a role that may write",
        ) from exc
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"stopped answering ({_first_line(exc)})",
            field="url",
            value=_where(conn),
            fix="check that the server is running and reachable, then retry",
        ) from exc


def _where(conn: psycopg.Connection[Any]) -> str:
    try:
        info = conn.info
        return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
    except Exception:
        return "postgresql://?"
