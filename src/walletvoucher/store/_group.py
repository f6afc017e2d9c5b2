"""Group commit on SQLite: several calls of one wallet in one transaction, each write in a savepoint.

A server that has several stamps and redemptions waiting can apply them in one ``BEGIN IMMEDIATE``
... ``COMMIT`` instead of one each: the write lock is taken once and the WAL written once, which on
SQLite costs about as much as a redemption itself. Each write of the wallet (a transition, a key's
last use, a rotating code's step) runs in a ``SAVEPOINT`` of its own, so a call that fails rolls back
alone, exactly as its own transaction would have, and raises as it would have; the others go on.
Additive: it changes nothing outside the ``with`` block, and nothing at all on PostgreSQL, where
each call keeps committing alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from walletvoucher.errors import DatabaseUnavailable
from walletvoucher.store._engine import Tx
from walletvoucher.store._sqlite import SqliteDatabase, _SqliteTx, _translate

if TYPE_CHECKING:
    from walletvoucher.store._wallet import Wallet

_NAME = "walletvoucher_call"


class _Group:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.broken = False  # SQLite rolled the whole transaction back (disk full, I/O error)

    def check(self) -> None:
        if self.broken or not self.conn.in_transaction:
            self.broken = True
            raise DatabaseUnavailable(
                "lost the transaction of a group of calls", field="url",
                fix="retry the call; check the disk (full?) if this repeats",
            )


class _Savepoint(AbstractContextManager[Tx]):
    def __init__(self, group: _Group) -> None:
        self._group = group

    def __enter__(self) -> Tx:
        self._group.check()
        self._execute(f"SAVEPOINT {_NAME}")
        return _SqliteTx(self._group.conn)

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self._execute(f"RELEASE {_NAME}")
            return
        if self._group.conn.in_transaction:
            self._execute(f"ROLLBACK TO {_NAME}")
            self._execute(f"RELEASE {_NAME}")
        else:
            self._group.broken = True  # the exception propagates; the group's commit then fails

    def _execute(self, sql: str) -> None:
        try:
            self._group.conn.execute(sql)
        except sqlite3.Error as exc:
            self._group.broken = True
            ours = _translate(self._group.conn, exc)
            if ours is exc:
                raise
            raise ours from exc


class _Inside(AbstractContextManager[Tx]):
    """A read inside the group's transaction (it sees the group's own writes, as a later call would)."""

    def __init__(self, group: _Group) -> None:
        self._group = group

    def __enter__(self) -> Tx:
        self._group.check()
        return _SqliteTx(self._group.conn)

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        return None


@contextmanager
def grouped(wallet: Wallet) -> Iterator[None]:
    """Run the calls of *wallet* made inside the block (on this thread) in one SQLite transaction.

    Every write the wallet makes inside runs in a savepoint: one that raises is rolled back alone and
    its exception reaches its caller as usual. When the block ends the survivors commit together;
    until then none of it is visible to other connections or durable, so answer the calls' callers
    only after the block. If that commit fails, none of them happened: the exception propagates and
    the wallet's card cache is dropped. Blocks do not nest (an inner one is part of the outer), and on
    PostgreSQL the block does nothing.

    >>> # with grouped(wallet):
    >>> #     results = [wallet.stamp(serial, 1, at=now) for serial in waiting]
    """
    db = wallet._db  # the store's own primitive
    if not isinstance(db, SqliteDatabase) or "write" in vars(db):  # PostgreSQL, or already grouped
        yield
        return
    try:
        with db.write():  # the writer lock and BEGIN IMMEDIATE, once for the group
            group = _Group(db._conn)
            # this connection's writes and reads, until the end (instance attributes over the methods)
            vars(db).update(write=lambda: _Savepoint(group), read=lambda: _Inside(group))
            try:
                yield
            finally:
                vars(db).pop("write")
                vars(db).pop("read")
            group.check()  # SQLite gave the transaction up: commit nothing, fail the group
    except BaseException:
        wallet._cache.clear()  # it may hold cards as the group left them
        raise
