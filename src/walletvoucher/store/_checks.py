"""Arguments of the store's public API checked where they enter, the same way on both engines.

A wrong type, a number the database cannot hold (both engines keep 64-bit integers) or text neither
engine can store (NUL: PostgreSQL text cannot hold it; a lone surrogate: not encodable as UTF-8)
raises :class:`~walletvoucher.errors.ValidationError` naming the argument, before any statement
runs, instead of a driver's ``OverflowError``, ``DataError`` or ``UnicodeEncodeError``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from walletvoucher.errors import ValidationError

MAX_INT = 2**63 - 1
"""The largest integer both engines store and compare (64-bit)."""
MAX_DURATION = timedelta(days=36_600)
"""The longest lease or delay the store takes (about a century): times stay within 64-bit microseconds."""
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text(value: Any, field: str, *, fix: str, empty: bool = False) -> str:
    """*value* when it is a str both engines can store (non-empty unless *empty*)."""
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", field=field, value=value, fix=fix)
    if not value and not empty:
        raise ValidationError("must not be empty", field=field, value=value, fix=fix)
    if (not value.isascii() or "\x00" in value) and _UNSTORABLE.search(value):  # ASCII: only a NUL
        raise ValidationError(
            "holds a NUL character or a lone surrogate, which the database cannot store",
            field=field,
            value=value[:80],
            fix=fix,
        )
    return value


def optional_text(value: Any, field: str, *, fix: str) -> str | None:
    """None, or :func:`text`."""
    return None if value is None else text(value, field, fix=fix)


def whole(value: Any, field: str, *, low: int = 0, high: int = MAX_INT, fix: str) -> int:
    """*value* when it is an int (not a bool) from *low* to *high*."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(
            f"must be a whole number from {low} to {'2**63 - 1' if high == MAX_INT else high}",
            field=field,
            value=value,
            fix=fix,
        )
    return value


def position(value: Any, field: str = "since") -> int:
    """A journal position to read after (0 for the start)."""
    return whole(value, field, fix="pass 0, or the position of the last entry already read")


def limit(value: Any, field: str = "limit") -> int:
    """How many rows a query returns at most (0 or more; there is no "no limit")."""
    return whole(value, field, fix="pass how many rows to read at most, e.g. 1000, and page on by position")


def duration(value: Any, field: str, *, fix: str) -> timedelta:
    """A :class:`timedelta` from zero to :data:`MAX_DURATION`."""
    if not isinstance(value, timedelta) or not timedelta(0) <= value <= MAX_DURATION:
        raise ValidationError(
            "must be a timedelta from 0 to 36,600 days", field=field, value=value, fix=fix
        )
    return value


def printable(value: str) -> str:
    """*value* with NUL and lone surrogates replaced by U+FFFD (for text recorded, not looked up)."""
    return _UNSTORABLE.sub("\ufffd", value)
