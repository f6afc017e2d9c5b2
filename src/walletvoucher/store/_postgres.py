"""The PostgreSQL engine (psycopg 3, imported only when a ``postgresql://`` URL is opened).

Writers run READ COMMITTED. Optimistic concurrency comes from the card row: the append is
``UPDATE cards ... WHERE serial = ? AND version = <loaded>``; a concurrent writer of the same card
blocks on the row lock, then sees the new version and changes no row, which the store treats as a
conflict and retries. Unique violations on ``(serial, version)`` and serialisation failures or
deadlocks are conflicts too. Codes and outbox messages are taken with ``FOR UPDATE SKIP LOCKED`` so
that concurrent writers never wait for, or take, the same row. Global positions come from an identity
column; a transaction-scoped advisory lock, taken by the very statement that inserts the events
(:meth:`PostgresDatabase.insert_events_sql`), makes them commit in position order, so a follower
reading "events after N" never misses one (the package docstring weighs the alternatives).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from walletvoucher.errors import DatabaseReadOnly, DatabaseUnavailable, StoreUrlError
from walletvoucher.store._engine import Conflict, Database, Params, Row, Tx, UniqueViolation, storable
from walletvoucher.store._url import redact

__all__ = ["PostgresDatabase", "redact"]

if TYPE_CHECKING:
    import psycopg

_JOURNAL_LOCK = 0x77765F6A6F75726E  # "wv_journ": the advisory lock key that orders global positions


class _PgTx(Tx):
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def run(self, sql: str, params: Params = ()) -> int:
        with _translated(self._conn):
            return self._conn.execute(_pg(sql), storable(params), prepare=True).rowcount

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        with _translated(self._conn):
            return [tuple(r) for r in self._conn.execute(_pg(sql), storable(params), prepare=True).fetchall()]


class PostgresDatabase(Database):
    """One psycopg connection in autocommit mode; every store operation is an explicit transaction."""

    dialect = "postgres"
    skip_locked = " FOR UPDATE SKIP LOCKED"

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
        with _translated(self._conn), self._conn.transaction():
            yield _PgTx(self._conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with _translated(self._conn), self._conn.transaction():
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _PgTx(self._conn)

    def lock_journal(self, tx: Tx) -> None:
        tx.rows("SELECT pg_advisory_xact_lock(?)", (_JOURNAL_LOCK,))

    def insert_events_sql(self, rows: int) -> str:
        # The journal lock taken by the statement itself, one round trip fewer: the lock's one-row
        # subquery must produce its row before any event row is formed, so positions (the identity)
        # are drawn after the lock is held.
        return (
            "INSERT INTO events (serial, version, type, at, data)"
            " SELECT v.column1, v.column2, v.column3, v.column4, v.column5"
            f" FROM (SELECT pg_advisory_xact_lock({_JOURNAL_LOCK})) AS journal,"
            " (VALUES " + ", ".join(["(?, ?::integer, ?, ?::bigint, ?)"] * rows) + ") AS v"
            " RETURNING version, position"
        )

    def take_position(self, tx: Tx) -> int:
        row = tx.one("SELECT nextval(pg_get_serial_sequence('events', 'position'))")
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        self._conn.close()


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
