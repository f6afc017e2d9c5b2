"""Code pools kept in the database: POS codes imported once, each handed out to one voucher.

A code is taken inside the transaction of the stamp that needs it (:class:`PoolCodes` is the
:class:`~walletvoucher.codes.CodeSource` the model draws from), so a transition that fails or is retried
gives its code back by rolling back, and two processes never take the same code: on PostgreSQL the
row is taken ``FOR UPDATE SKIP LOCKED`` (and when every free code is held by draws in flight, the
draw waits for them, ``FOR UPDATE``: a pool is empty only when it is), on SQLite the writer holds
the database's write lock.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from walletvoucher.codes import RedeemCode, Symbology, pos_code
from walletvoucher.errors import CodeError, CodePoolEmpty, UnknownCodePool, ValidationError
from walletvoucher.store._engine import _UNSTORABLE, Database, Tx, iter_chunks
from walletvoucher.store._types import PoolStatus


class PoolCodes:
    """A :class:`~walletvoucher.codes.CodeSource` taking codes from a stored pool in an open transaction."""

    def __init__(self, tx: Tx, db: Database, name: str, *, taken_by: str, at_us: int) -> None:
        self._tx, self._db, self._name = tx, db, name
        self._taken_by, self._at_us = taken_by, at_us
        self.symbology = Symbology(_pool_row(tx, name)[0])

    def next_code(self) -> RedeemCode:
        """Take the pool's next free code; :class:`~walletvoucher.errors.CodePoolEmpty` if none is left."""
        free = "SELECT id, value FROM pool_codes WHERE pool = ? AND taken_by IS NULL ORDER BY id LIMIT 1"
        row = self._tx.one(free + self._db.skip_locked, (self._name,))
        if row is None and self._db.skip_locked:
            # Every free code may be held by a draw in flight that can still roll back (a lost race,
            # a failed hook): wait for those draws; only then is "none left" true.
            row = self._tx.one(free + " FOR UPDATE", (self._name,))
        if row is None:
            raise CodePoolEmpty(
                "has no codes left",
                field="pool",
                value=self._name,
                fix="import more codes from the POS with wallet.pools.import_codes(...)",
            )
        self._tx.run(
            "UPDATE pool_codes SET taken_by = ?, taken_at = ? WHERE id = ?",
            (self._taken_by, self._at_us, row[0]),
        )
        return pos_code(row[1], self.symbology)


class CodePools:
    """The wallet's code pools (``wallet.pools``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def import_codes(
        self, name: str, codes: Iterable[str], *, symbology: Symbology | str, low_stock: int | None = None
    ) -> int:
        """Add POS codes to the pool *name* (created on first import); return how many were new.

        Every code is validated for *symbology*; codes already in the pool are skipped, so importing
        the same export twice is harmless. *low_stock* sets the threshold under which
        :attr:`PoolStatus.low` turns true (kept from earlier imports when None; 0 for a new pool).
        """
        symbology = _symbology(symbology)
        _check_name(name)
        _check_low_stock(low_stock)
        if isinstance(codes, str):
            raise CodeError(
                "must be an iterable of codes, not a single str",
                field="codes",
                value=codes[:40],
                fix="wrap the code in a list",
            )
        values = list(dict.fromkeys(pos_code(raw, symbology).value for raw in codes))
        with self._db.write() as tx:
            self._ensure_pool(tx, name, symbology, low_stock)
            added = 0
            for chunk in iter_chunks(values, 200):
                for value in chunk:
                    added += tx.run(
                        "INSERT INTO pool_codes (pool, value) VALUES (?, ?)"
                        " ON CONFLICT (pool, value) DO NOTHING",
                        (name, value),
                    )
        return added

    def import_csv(
        self,
        name: str,
        source: str | os.PathLike[str] | TextIO,
        *,
        symbology: Symbology | str,
        column: int | str = 0,
        low_stock: int | None = None,
    ) -> int:
        """Import the codes in one column (by index or header name) of a CSV export."""
        if isinstance(source, (str, os.PathLike)):
            text = _read_csv(Path(source))
            return self.import_codes(
                name, _column(io.StringIO(text), column), symbology=symbology, low_stock=low_stock
            )
        return self.import_codes(name, _column(source, column), symbology=symbology, low_stock=low_stock)

    def status(self, name: str) -> PoolStatus:
        """Total, remaining and the low-stock threshold of the pool *name*."""
        _check_name(name)
        with self._db.read() as tx:
            symbology, low_stock = _pool_row(tx, name)
            row = tx.one(
                "SELECT COUNT(*), COUNT(*) - COUNT(taken_by) FROM pool_codes WHERE pool = ?", (name,)
            )
        total, remaining = (int(row[0]), int(row[1])) if row else (0, 0)
        return PoolStatus(
            name=name, symbology=symbology, total=total, remaining=remaining, low_stock=low_stock
        )

    def remaining(self, name: str) -> int:
        """How many codes of the pool are left to hand out."""
        return self.status(name).remaining

    def names(self) -> tuple[str, ...]:
        """Every pool's name, sorted."""
        with self._db.read() as tx:
            return tuple(str(r[0]) for r in tx.rows("SELECT name FROM code_pools ORDER BY name"))

    def _ensure_pool(self, tx: Tx, name: str, symbology: Symbology, low_stock: int | None) -> None:
        row = tx.one("SELECT symbology FROM code_pools WHERE name = ?", (name,))
        if row is None:
            tx.run(
                "INSERT INTO code_pools (name, symbology, low_stock) VALUES (?, ?, ?)",
                (name, symbology.value, low_stock or 0),
            )
        elif row[0] != symbology.value:
            raise CodeError(
                f"holds {row[0]} codes, not {symbology.value}",
                field="symbology",
                value=symbology.value,
                fix=f"import {row[0]} codes into {name!r}, or use a new pool name",
            )
        elif low_stock is not None:
            tx.run("UPDATE code_pools SET low_stock = ? WHERE name = ?", (low_stock, name))


def _pool_row(tx: Tx, name: str) -> tuple[str, int]:
    row = tx.one("SELECT symbology, low_stock FROM code_pools WHERE name = ?", (name,))
    if row is None:
        raise UnknownCodePool(
            "is not an imported code pool",
            field="pool",
            value=name,
            fix="import its codes first with wallet.pools.import_codes(name, codes, symbology=...)",
        )
    return str(row[0]), int(row[1])


def _symbology(value: Symbology | str) -> Symbology:
    try:
        return value if isinstance(value, Symbology) else Symbology(value)
    except ValueError:
        raise ValidationError(
            "is not a symbology",
            field="symbology",
            value=value,
            fix=f"use one of {[s.value for s in Symbology]}",
        ) from None


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 100 or _UNSTORABLE.search(name):
        raise ValidationError(
            "must be a short non-empty name",
            field="pool",
            value=name,
            fix="name the pool after the POS export, e.g. 'pos-2026-05'",
        )


def _check_low_stock(low_stock: int | None) -> None:
    if low_stock is None:
        return
    if not isinstance(low_stock, int) or isinstance(low_stock, bool) or not 0 <= low_stock <= 2**31 - 1:
        raise ValidationError(
            "must be a whole number of 0 or more",
            field="low_stock",
            value=low_stock,
            fix="give the number of remaining codes at which to restock",
        )


def _read_csv(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CodeError(
            f"cannot be read ({reason})",
            field="source",
            value=str(path),
            fix="give the path of the POS export, a UTF-8 CSV file",
        ) from None


def _column(source: TextIO, column: int | str) -> Iterator[str]:
    if isinstance(column, bool) or not isinstance(column, (int, str)) or (
        isinstance(column, int) and not 0 <= column < 10_000
    ):
        raise CodeError(
            "must be a column index from 0 or a header name",
            field="column",
            value=column,
            fix="e.g. column=0 or column='code'",
        )
    reader = csv.reader(source)
    index = column if isinstance(column, int) else None
    for number, row in enumerate(reader):
        if index is None:
            if column not in row:
                raise CodeError(
                    "is not a column of the CSV header",
                    field="column",
                    value=column,
                    fix=f"use one of {row}",
                )
            index = row.index(str(column))
            continue
        if not row or not "".join(row).strip():
            continue
        if index >= len(row):
            raise CodeError(
                f"is missing on line {number + 1}",
                field="column",
                value=column,
                fix="check the CSV export: every row needs the code column",
            )
        yield row[index].strip()
