"""The SQLite engine (stdlib :mod:`sqlite3`): WAL, a busy timeout, ``BEGIN IMMEDIATE`` for writers.

SQLite allows one writer at a time. Taking the write lock when the transaction starts (``BEGIN
IMMEDIATE``) rather than at its first write is the honest way to serialise writers: a transition then
loads, decides and appends under the lock, so it never works from a state another process is about to
change, and a waiting writer queues on the busy timeout instead of failing half-way with SQLITE_BUSY.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from walletvoucher.errors import DatabaseReadOnly, DatabaseUnavailable
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


class _Transaction(AbstractContextManager[Tx]):
    """One transaction (a class rather than a generator: it runs on every transition)."""

    __slots__ = ("_begin", "_conn", "_lock", "_tx")

    def __init__(self, conn: sqlite3.Connection, begin: str, lock: threading.RLock | None) -> None:
        self._conn, self._begin, self._lock = conn, begin, lock
        self._tx = _SqliteTx(conn)  # holds nothing but the connection: one serves every transaction

    def __enter__(self) -> Tx:
        if self._lock is not None:
            self._lock.acquire()
        try:
            self._conn.execute(self._begin)
        except BaseException as exc:
            if self._lock is not None:
                self._lock.release()
            if isinstance(exc, sqlite3.Error):
                ours = _translate(self._conn, exc)
                if ours is not exc:
                    raise ours from exc
            raise
        return self._tx

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is not None:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                return
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as error:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                ours = _translate(self._conn, error)
                if ours is error:
                    raise
                raise ours from error
        finally:
            if self._lock is not None:
                self._lock.release()


class _SqliteTx(Tx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def run(self, sql: str, params: Params = ()) -> int:
        try:
            return self._conn.execute(sql, storable(params)).rowcount
        except sqlite3.Error as exc:
            ours = _translate(self._conn, exc)
            if ours is exc:
                raise
            raise ours from exc

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, storable(params)).fetchall()
        except sqlite3.Error as exc:
            ours = _translate(self._conn, exc)
            if ours is exc:
                raise
            raise ours from exc

    def inserted(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT; return the rowid of the last row it inserted."""
        try:
            rowid = self._conn.execute(sql, storable(params)).lastrowid
        except sqlite3.Error as exc:
            ours = _translate(self._conn, exc)
            if ours is exc:
                raise
            raise ours from exc
        assert rowid is not None
        return rowid


_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _writer_lock(key: str) -> threading.RLock:
    """The in-process writer lock of one database file (``:memory:`` databases each have their own)."""
    if key == ":memory:":
        return threading.RLock()
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.RLock())


class SqliteDatabase(Database):
    """A SQLite file (or ``:memory:``) opened in autocommit mode with explicit transactions."""

    dialect = "sqlite"
    next_position = (
        "(SELECT MAX(IFNULL((SELECT MAX(position) FROM events), 0), position) FROM positions_taken)"
    )

    def __init__(self, target: str, *, busy_timeout: float = 30.0, read_only: bool = False) -> None:
        self.target = target
        uri = target.startswith("file:")
        if not uri and target != ":memory:":
            folder = Path(target).expanduser().resolve().parent
            if not folder.is_dir():
                raise DatabaseUnavailable(
                    "is in a folder that does not exist",
                    field="url",
                    value=target,
                    fix=f"create {str(folder)!r} first, or give another path",
                )
        self._key = target if uri or target == ":memory:" else str(Path(target).expanduser().resolve())
        self._lock = _writer_lock(self._key)
        try:
            if read_only and not uri:
                self._conn = _open_read_only(Path(target).expanduser().resolve(), busy_timeout)
            else:
                self._conn = _connect(target, busy_timeout, uri=uri)
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if not read_only:
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._writer = _Transaction(self._conn, "BEGIN IMMEDIATE", self._lock)
            self._reader = _Transaction(self._conn, "BEGIN", None)
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(
                f"cannot be opened ({exc})",
                field="url",
                value=self.target,
                fix="check the path, its permissions and that the file is a SQLite database",
            ) from exc

    def write(self) -> AbstractContextManager[Tx]:
        # Writers of one process queue on a lock per database file before BEGIN IMMEDIATE: SQLite's
        # busy handler makes a waiting writer sleep in growing steps, so threads of one server (each
        # with its own connection) would otherwise spend their time asleep while the file is free.
        # (A _Transaction keeps no state of its own transaction: one serves them all.)
        return self._writer

    def read(self) -> AbstractContextManager[Tx]:
        return self._reader

    def insert_events(
        self, tx: Tx, serial: str, rows: Sequence[EventRow], *, first: int | None = None,
        positions: bool = True,
    ) -> list[int]:
        # BEGIN IMMEDIATE holds the one write lock to the commit: positions commit in order. A plain
        # INTEGER PRIMARY KEY (no AUTOINCREMENT: its counter is one more page written per commit)
        # numbers a row one above the highest stored; the first row of a batch is numbered explicitly
        # above a position a re-mark took (positions_taken, see take_position) as well, the others
        # follow it. Events are never deleted, so no number is handed out twice.
        # The positions are the rows' rowids, consecutive within one statement (nothing else inserts
        # under the write lock): read from the last one, not with RETURNING (a temporary table).
        del first, positions
        assert isinstance(tx, _SqliteTx)
        if len(rows) == 1:  # a stamp, an issue, a redemption
            return [tx.inserted(_insert_events_sql(1), (serial, *rows[0]))]
        found: list[int] = []
        for chunk in iter_chunks(rows, 1000) if len(rows) > 1000 else (rows,):  # at most 5,000 parameters
            params: list[object] = []
            for row in chunk:
                params += (serial, *row)
            last = tx.inserted(_insert_events_sql(len(chunk)), params)
            found += range(last - len(chunk) + 1, last + 1)
        return found

    def insert_activity(self, tx: Tx, params: Params) -> int:
        row = tx.one(
            "INSERT INTO pass_activity (type, serial, device, at, reason) VALUES (?, ?, ?, ?, ?)"
            " RETURNING position",
            params,
        )
        assert row is not None
        return int(row[0])

    def take_position(self, tx: Tx) -> int:
        # Above every event's position and every one taken before; the next event is numbered above it.
        row = tx.one(
            "UPDATE positions_taken SET position = MAX(position, IFNULL((SELECT MAX(position) FROM events),"
            " 0)) + 1 RETURNING position"
        )
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        self._conn.close()


_NEXT_POSITION = f"{SqliteDatabase.next_position} + 1"
_INSERT_EVENTS: dict[int, str] = {}


def _insert_events_sql(rows: int) -> str:
    """The INSERT of *rows* events, built once per row count: the first row numbered above every
    stored and taken position, the others one above the row before."""
    sql = _INSERT_EVENTS.get(rows)
    if sql is None:
        sql = _INSERT_EVENTS[rows] = (
            "INSERT INTO events (position, serial, version, type, at, data) VALUES "
            + ", ".join([f"({_NEXT_POSITION}, ?, ?, ?, ?, ?)"] + ["(NULL, ?, ?, ?, ?, ?)"] * (rows - 1))
        )
    return sql


def _connect(target: str, busy_timeout: float, *, uri: bool) -> sqlite3.Connection:
    # check_same_thread off: a wallet may be handed to another thread (and closed by the one that
    # opened it, e.g. WalletPerThread.close); it is still never used by two at once.
    return sqlite3.connect(
        target, timeout=busy_timeout, isolation_level=None, uri=uri, check_same_thread=False
    )


def _open_read_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """``?mode=ro``: read through the WAL like any reader when its ``-shm`` file exists or can be
    made; in a folder we cannot write (no ``-shm``, and no ``-wal`` holding commits the file lacks)
    read the file as it is (``immutable=1``: a fixed copy, later changes unseen)."""
    conn = _connect(f"file:{path}?mode=ro", busy_timeout, uri=True)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        text = str(exc).lower()
        if "readonly" not in text and "unable to open" not in text:
            raise
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise DatabaseReadOnly(
                "cannot be read in a read-only folder while its -wal file holds commits",
                field="url",
                value=str(path),
                fix="open it once with write access (this checkpoints the WAL), or make the folder writable",
            ) from exc
        return _connect(f"file:{path}?mode=ro&immutable=1", busy_timeout, uri=True)


@contextmanager
def _translated(conn: sqlite3.Connection) -> Iterator[None]:
    """sqlite3's exceptions in the store's terms."""
    try:
        yield
    except sqlite3.Error as exc:
        ours = _translate(conn, exc)
        if ours is exc:
            raise
        raise ours from exc


def _translate(conn: sqlite3.Connection, exc: sqlite3.Error) -> BaseException:
    """The store's exception for *exc* (*exc* itself when it has no meaning in the store's terms)."""
    if isinstance(exc, sqlite3.IntegrityError):
        text = str(exc)
        if "UNIQUE" in text or "PRIMARY KEY" in text:
            return UniqueViolation(text.rsplit(":", 1)[-1].strip())
        return exc
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return Conflict(text)
        if "readonly" in text or "read-only" in text:
            return DatabaseReadOnly(
                "refuses writes",
                field="url",
                value=_name(conn),
                fix="open a writable copy, or check the file's permissions (and its folder's, for the WAL)",
            )
        if "unable to open" in text or "disk i/o" in text or "not a database" in text:
            return DatabaseUnavailable(
                f"cannot be used ({exc})",
                field="url",
                value=_name(conn),
                fix="check the path, its permissions and free disk space",
            )
    return exc


def _name(conn: sqlite3.Connection) -> str:
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
        return str(row[2]) if row else "?"
    except sqlite3.Error:
        return "?"
