"""From a URL or a path to a connected :class:`~walletvoucher.store._engine.Database`."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from walletvoucher.errors import StoreUrlError
from walletvoucher.store._engine import Database

_SECRET_PARAMETERS = frozenset({"password", "sslpassword"})


def redact(url: str) -> str:
    """*url* fit for a message: a password in the user part or in a ``password=`` (or
    ``sslpassword=``) parameter is replaced by ``***``; the rest is kept to say which database.

    >>> redact("postgresql://shop:hunter2@db.example/wallet?password=hunter3&sslmode=require")
    'postgresql://shop:***@db.example/wallet?password=***&sslmode=require'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a URL that cannot be parsed>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = "&".join(_redact_parameter(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=""))


def _redact_parameter(pair: str) -> str:
    name = pair.split("=", 1)[0]
    return f"{name}=***" if unquote(name).strip().lower() in _SECRET_PARAMETERS else pair


def connect(url: str | os.PathLike[str]) -> Database:
    """``sqlite:///relative.db``, ``sqlite:////absolute.db``, a plain path, or ``postgresql://...``.

    ``?mode=ro`` on a SQLite URL opens it read-only; ``?timeout=5`` sets how many seconds a writer
    waits for another process's write lock (30 by default).
    """
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if not isinstance(url, str) or not url.strip():
        raise StoreUrlError(
            "must be a database URL or a file path",
            field="url",
            value=url,
            fix='e.g. "sqlite:///wallet.db" or "postgresql://user@host/db"',
        )
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        from walletvoucher.store._postgres import PostgresDatabase

        return PostgresDatabase(url)
    from walletvoucher.store._sqlite import SqliteDatabase

    if scheme == "sqlite":
        parts = urlsplit(url)
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        query = parse_qs(parts.query)
        read_only = query.get("mode") == ["ro"]
        return SqliteDatabase(path or ":memory:", read_only=read_only, busy_timeout=_timeout(query))
    if scheme:
        raise StoreUrlError(
            "uses a scheme the store does not know",
            field="url",
            value=url.split("://", 1)[0] + "://...",
            fix='use "sqlite:///path.db" or "postgresql://user@host/db"',
        )
    return SqliteDatabase(str(Path(url)))


def _timeout(query: dict[str, list[str]]) -> float:
    raw = query.get("timeout", ["30"])[-1]
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise StoreUrlError(
            "must be a number of seconds from 0 to 3600",
            field="timeout",
            value=raw,
            fix='e.g. "sqlite:///wallet.db?timeout=5"',
        )
    return value
