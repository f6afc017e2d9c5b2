"""Whether other connections changed the database: a cheap check for caches kept beside the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from walletvoucher.store._sqlite import SqliteDatabase

if TYPE_CHECKING:
    from walletvoucher.store._wallet import Wallet


def outside_commits(wallet: Wallet) -> int | None:
    """A number that changes whenever another connection (another thread's wallet, another process
    such as ``walletvoucher api-key revoke``) has committed to *wallet*'s database since the last call,
    and stays the same across this wallet's own commits: SQLite's ``PRAGMA data_version``. None on
    PostgreSQL, which has no such counter (there, cache nothing on its strength)."""
    db = wallet._db  # the store's own primitive
    if not isinstance(db, SqliteDatabase):
        return None
    row = db._conn.execute("PRAGMA data_version").fetchone()
    return int(row[0])
