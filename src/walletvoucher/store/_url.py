"""From a URL or a path to a connected :class:`~walletvoucher.store._engine.Database`."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from walletvoucher.errors import StoreUrlError
from walletvoucher.store._engine import Database

_SECRET_PARAMETERS = frozenset({"password", "sslpassword"})


def redact(url: str) -> str:
    """*url* fit for a message: a password in the user part or in a ``password=`` (or
    ``sslpassword=``) parameter is replaced by ``***``, a fragment dropped; the rest is kept as
    written, to say which database. When in doubt it hides more (everything up to the last ``@``
    after a ``user:``), never less.

    >>> redact("postgresql://shop:hunter2@db.example/wallet?password=hunter3&sslmode=require")
    'postgresql://shop:***@db.example/wallet?password=***&sslmode=require'
    >>> redact("sqlite:////var/lib/wallet.db")
    'sqlite:////var/lib/wallet.db'
    """
    scheme, slashes, rest = url.partition("://")
    head = ""
    if slashes:
        head = scheme + slashes
        userinfo, at, after = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        if at and colon and not any(c in user for c in "/?#"):
            head, rest = f"{head}{user}:***@", after
    else:
        rest = url
    path, question, query = rest.split("#", 1)[0].partition("?")
    if question:
        query = "&".join(_redact_parameter(pair) for pair in query.split("&"))
    return head + path + question + query


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
