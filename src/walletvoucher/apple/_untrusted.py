"""Content from an untrusted file: JSON parsed within fixed bounds, text escaped before it is shown.

Both helpers run in time linear in their input, with every loop in C (``re``, ``str.replace``,
``json``), so a hostile upload cannot make them slow.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_BYTES = 1024 * 1024
"""pass.json and manifest.json are a few kilobytes; a megabyte is far beyond any real pass."""
MAX_JSON_DEPTH = 32
"""Nesting of objects and arrays; pass.json needs about six levels."""
MAX_JSON_VALUES = 10_000
"""Values (objects, arrays, strings, numbers...) in one document; a pass.json holds a few hundred.
Past this, checking every rule on every element would take longer than a hostile file deserves."""
MAX_NUMBER_CHARS = 40
"""Digits (and sign, point, exponent) of one JSON number; enough for any double and 128-bit integer."""
SHOWN_CHARS = 200
"""Text from the file is cut to this many characters in a problem."""

_ESCAPE_PAIR = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonRejected(ValueError):
    """The bytes are not JSON walletvoucher will read (syntax, encoding, depth or a number's size)."""


def load_json(data: bytes) -> Any:
    """Parse UTF-8 JSON with bounded size, depth and number length; raise :class:`JsonRejected`.

    >>> load_json(b'{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> load_json(b"[" + b"0," * 20_000 + b"0]")
    Traceback (most recent call last):
    ...
    walletvoucher.apple._untrusted.JsonRejected: more than 10000 values
    >>> load_json(b"[" * 100 + b"]" * 100)
    Traceback (most recent call last):
    ...
    walletvoucher.apple._untrusted.JsonRejected: nested deeper than 32 levels
    """
    if len(data) > MAX_JSON_BYTES:
        raise JsonRejected(f"{len(data)} bytes, over {MAX_JSON_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonRejected(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    _check_depth(text)
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise JsonRejected(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:  # pragma: no cover - _check_depth already refused it
        raise JsonRejected(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    _check_count(value)
    return value


def _check_count(value: Any) -> None:
    """Refuse more than MAX_JSON_VALUES values, counting no further than the limit."""
    pending, seen = [value], 0
    while pending:
        item = pending.pop()
        seen += 1
        if seen > MAX_JSON_VALUES:
            raise JsonRejected(f"more than {MAX_JSON_VALUES} values")
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH before ``json`` recurses into it.

    Strings are removed (escape pairs first, so the string pattern needs no backtracking), then
    everything but brackets; each pass of the loop removes one level of empty ``[]``/``{}``.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE_PAIR.sub("", text)))
    for _ in range(MAX_JSON_DEPTH):
        inner = brackets.replace("[]", "").replace("{}", "")
        if inner == brackets:
            return  # balanced (empty) or malformed: json.loads reports the latter
        brackets = inner
    if brackets:
        raise JsonRejected(f"nested deeper than {MAX_JSON_DEPTH} levels")


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonRejected(f"a number of {len(text)} digits (at most {MAX_NUMBER_CHARS})")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonRejected(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS})")
    return float(text)


def _constant(text: str) -> float:
    raise JsonRejected(f"{text} is not a JSON number")


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    r"""Text from a file made safe to print: cut to ``limit`` and every unprintable character escaped.

    Control characters (ANSI escapes, carriage returns), format characters (bidi overrides), line
    separators and lone surrogates become ``\xNN``/``\uNNNN``; printable text of any script stays.

    >>> shown("icon\x1b[31m.png\r")
    'icon\\x1b[31m.png\\r'
    >>> shown("a\ud800b")
    'a\\ud800b'
    >>> shown("咖啡卡")
    '咖啡卡'
    """
    cut = text[:limit] + (f"...({len(text) - limit} more)" if len(text) > limit else "")
    if cut.isprintable():
        return cut
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in cut)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}")
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
