"""An independent reader of ``.strings`` files and of how Wallet resolves pass.json texts.

Written for the tests from Apple's description of the format, sharing no code with the writer
(walletvoucher.apple._strings): byte-order marks, UTF-16 and UTF-8, ``/* */`` and ``//``
comments, ``"key" = "value";`` entries with ``\\"``, ``\\\\``, ``\\n``, ``\\r``, ``\\t``,
``\\Uxxxx`` and ``\\uxxxx`` escapes.

Wallet shows a localisable text ``s`` on a device in language ``L`` as
``L.lproj/pass.strings[s]`` if that key exists, else ``s`` itself (:func:`resolve`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

_SIMPLE = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "'": "'", "0": "\0"}
WORD_JOINER = "\u2060"


class StringsSyntaxError(ValueError):
    """The file is not a well-formed .strings file."""


def decode(data: bytes) -> str:
    """Decode by byte-order mark (UTF-16 LE/BE, UTF-8), else UTF-8."""
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le")
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    return data.decode("utf-8")


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        while self.pos < len(self.text):
            if self.text[self.pos].isspace():
                self.pos += 1
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise StringsSyntaxError("unclosed comment")
                self.pos = end + 2
            elif self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            else:
                return

    def expect(self, char: str) -> None:
        self.skip()
        if not self.text.startswith(char, self.pos):
            raise StringsSyntaxError(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def quoted(self) -> str:
        self.expect('"')
        out: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise StringsSyntaxError("unterminated string")
            char = self.text[self.pos]
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\n":
                raise StringsSyntaxError("raw newline inside a string")
            out.append(self.escape() if char == "\\" else char)

    def escape(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        if char in _SIMPLE:
            return _SIMPLE[char]
        if char in "Uu":
            digits = self.text[self.pos:self.pos + 4]
            self.pos += 4
            return chr(int(digits, 16))
        raise StringsSyntaxError(f"unknown escape \\{char}")


def parse_strings(data: bytes) -> dict[str, str]:
    """Parse a .strings file; a key given twice is an error (the writer must not do that)."""
    reader = _Reader(decode(data))
    entries: dict[str, str] = {}
    reader.skip()
    while reader.pos < len(reader.text):
        key = reader.quoted()
        reader.expect("=")
        value = reader.quoted()
        reader.expect(";")
        if key in entries:
            raise StringsSyntaxError(f"duplicate key {key!r}")
        entries[key] = value
        reader.skip()
    return entries


def unzip(pkpass: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def lproj_tables(files: Mapping[str, bytes]) -> dict[str, dict[str, str]]:
    """``{lproj: {key: text}}`` for every ``xx.lproj/pass.strings`` in a bundle."""
    return {name.split(".lproj/")[0]: parse_strings(data) for name, data in files.items()
            if name.endswith(".lproj/pass.strings")}


_AREAS = ("headerFields", "primaryFields", "secondaryFields", "auxiliaryFields", "backFields")
_STYLES = ("storeCard", "coupon", "generic", "eventTicket", "boardingPass")


def localisable(doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(path, text)`` of every pass.json string Wallet looks up in pass.strings."""
    for key in ("organizationName", "description", "logoText"):
        if isinstance(doc.get(key), str):
            yield key, doc[key]
    style = next(s for s in _STYLES if s in doc)
    for area in _AREAS:
        for field in doc[style].get(area, []):
            where = f"{area}.{field['key']}"
            dated = "dateStyle" in field or "timeStyle" in field
            for part in ("label", "value", "changeMessage", "attributedValue"):
                if isinstance(field.get(part), str) and not (part == "value" and dated):
                    yield f"{where}.{part}", field[part]
    for index, loc in enumerate(doc.get("locations", [])):
        if "relevantText" in loc:
            yield f"locations[{index}].relevantText", loc["relevantText"]
    for index, code in enumerate(doc.get("barcodes", [])):
        if "altText" in code:
            yield f"barcodes[{index}].altText", code["altText"]


def resolve(doc: Mapping[str, Any], tables: Mapping[str, Mapping[str, str]], lang: str) -> dict[str, str]:
    """What Wallet shows for each localisable text on a device in ``lang``.

    A language the pass has no lproj for shows the keys; the invisible word joiners some keys
    carry draw nothing, so they are dropped from what is "shown".
    """
    if lang not in tables:
        return {path: key.rstrip(WORD_JOINER) for path, key in localisable(doc)}
    return {path: tables[lang].get(key, key) for path, key in localisable(doc)}
