"""Read a .pkpass zip from untrusted bytes with every cost bounded before anything is trusted.

``zipfile`` is made for archives you trust: it parses the whole central directory before you
can count it, believes declared sizes, and raises half a dozen foreign exceptions (``zlib.error``,
``RuntimeError`` for encryption, ``NotImplementedError`` for other compressions). A pass needs
none of zip's range, so this reader takes the small part it needs and checks all of it:

1. the end-of-central-directory record is found and read here, and the entry count refused
   before a single central entry is parsed; zip64 and multi-disk archives are refused;
2. entry names are checked by splitting and one-class patterns, in linear time, and only
   ``file`` or ``xx.lproj/file`` (plain ASCII, no ``..``) are read at all;
3. the local header must agree with the central directory, and no two entries may share bytes
   (the overlapping-entry zip bomb);
4. only stored and deflate entries are inflated, streamed with a cap per entry and a cap on the
   total (declared sizes are compared afterwards, never trusted), and the CRC-32 is checked.

Every fault becomes a :class:`~walletvoucher.apple._rules.Problem` with the rule ``zip``.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator

import attrs

from walletvoucher.apple._rules import Problem
from walletvoucher.apple._untrusted import shown

_EOCD = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_EOCD_SIG, _CENTRAL_SIG, _LOCAL_SIG = b"PK\x05\x06", b"PK\x01\x02", b"PK\x03\x04"
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_MAX_COMMENT = 0xFFFF
_STORED, _DEFLATED = 0, 8
_ENCRYPTED_FLAGS = 0x0001 | 0x0040
_UTF8_FLAG = 0x0800
_PLAIN = re.compile(rb"[A-Za-z0-9_.@-]+")
_LPROJ = re.compile(rb"[A-Za-z0-9_-]+\.lproj")


@attrs.frozen(kw_only=True)
class ZipLimits:
    """What a bundle may cost to read; every figure is far beyond a real pass."""

    max_archive_bytes: int = 50 * 1024 * 1024
    max_entries: int = 500
    max_name_bytes: int = 255
    max_entry_bytes: int = 20 * 1024 * 1024
    max_total_bytes: int = 32 * 1024 * 1024


class _Fault(Exception):
    """The archive as a whole cannot be read; the message says why."""


@attrs.frozen
class _Entry:
    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int


def read_zip(data: bytes, limits: ZipLimits, problems: list[Problem]) -> dict[str, bytes] | None:
    """Every readable file of the archive by name, or ``None`` when it is not a zip we read.

    Problems (an entry that is refused, the whole archive refused) are appended to ``problems``.

    >>> found: list[Problem] = []
    >>> read_zip(b"not a zip", ZipLimits(), found), found[0].rule
    (None, 'zip')
    """
    try:
        entries = _central_directory(data, limits)
    except _Fault as fault:
        problems.append(Problem("zip", "/", str(fault)))
        return None
    readable = [e for e in entries if _readable(e, limits, problems)]
    return _inflate_all(data, _without_overlaps(readable, data, problems), limits, problems)


# --- end record and central directory -----------------------------------------------------------


def _central_directory(data: bytes, limits: ZipLimits) -> list[_Entry]:
    if len(data) > limits.max_archive_bytes:
        raise _Fault(f"bundle is {len(data)} bytes, over {limits.max_archive_bytes}")
    end = data.rfind(_EOCD_SIG, max(0, len(data) - _EOCD.size - _MAX_COMMENT))
    if end < 0 or end + _EOCD.size > len(data):
        raise _Fault("not a zip archive (no end-of-central-directory record)")
    _, disk, cd_disk, on_disk, total, cd_size, cd_offset, _ = _EOCD.unpack_from(data, end)
    if data[max(0, end - 20):end].startswith(_ZIP64_LOCATOR_SIG) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise _Fault("zip64 archive: a pass is small and never needs zip64 (rebuild it with a plain zip)")
    if disk or cd_disk or on_disk != total:
        raise _Fault("multi-disk (split) archive: a pass is one plain zip file")
    if total > limits.max_entries:
        raise _Fault(f"the archive declares {total} entries, over {limits.max_entries}")
    if cd_offset + cd_size > end:
        raise _Fault("the central directory runs past the end record (truncated or prefixed archive)")
    return list(_entries(data[cd_offset:cd_offset + cd_size], total, limits))


def _entries(directory: bytes, total: int, limits: ZipLimits) -> Iterator[_Entry]:
    pos = 0
    for _ in range(total):
        if pos + _CENTRAL.size > len(directory):
            raise _Fault("the central directory is shorter than its entry count")
        fields = _CENTRAL.unpack_from(directory, pos)
        if fields[0] != _CENTRAL_SIG:
            raise _Fault("the central directory is corrupt (bad entry signature)")
        flags, method, crc, compressed, size = fields[3], fields[4], fields[7], fields[8], fields[9]
        name_len, extra_len, comment_len, offset = fields[10], fields[11], fields[12], fields[16]
        raw = directory[pos + _CENTRAL.size:pos + _CENTRAL.size + name_len]
        pos += _CENTRAL.size + name_len + extra_len + comment_len
        if len(raw) != name_len or pos > len(directory):
            raise _Fault("the central directory is truncated")
        if 0xFFFFFFFF in (compressed, size, offset):
            raise _Fault("zip64 entry: a pass is small and never needs zip64 (rebuild it with a plain zip)")
        yield _Entry(_display_name(raw, flags), raw, flags, method, crc, compressed, size, offset)


def _display_name(raw: bytes, flags: int) -> str:
    text = raw.decode("utf-8", "backslashreplace") if flags & _UTF8_FLAG else raw.decode("cp437")
    return shown(text)


# --- per-entry checks ---------------------------------------------------------------------------------


def is_bundle_name(raw: bytes, max_bytes: int = ZipLimits().max_name_bytes) -> bool:
    """``file`` or ``xx.lproj/file`` in plain ASCII, no ``.``/``..``; checked in linear time.

    >>> [is_bundle_name(n) for n in (b"pass.json", b"zh-Hans.lproj/logo@2x.png", b"../x", b"a/b/c")]
    [True, True, False, False]
    """
    if len(raw) > max_bytes:
        return False
    parts = raw.split(b"/", 2)
    if len(parts) == 2 and not _LPROJ.fullmatch(parts[0]):
        return False
    last = parts[-1]
    return len(parts) <= 2 and last not in (b".", b"..") and _PLAIN.fullmatch(last) is not None


def _readable(entry: _Entry, limits: ZipLimits, problems: list[Problem]) -> bool:
    why = _refusal(entry, limits)
    if why:
        problems.append(Problem("zip", entry.name, why))
    return why is None and not entry.raw_name.endswith(b"/")


def _refusal(entry: _Entry, limits: ZipLimits) -> str | None:
    raw = entry.raw_name
    if len(raw) > limits.max_name_bytes:
        return f"entry name of {len(raw)} bytes, over {limits.max_name_bytes}"
    if raw.endswith(b"/"):
        ok = _LPROJ.fullmatch(raw[:-1]) and entry.size == 0
        return None if ok else "entry name is not a plain file or xx.lproj/file path"
    if not is_bundle_name(raw, limits.max_name_bytes):
        return "entry name is not a plain file or xx.lproj/file path"
    if entry.flags & _ENCRYPTED_FLAGS:
        return "the entry is encrypted: a pass is never encrypted"
    if entry.method not in (_STORED, _DEFLATED):
        return f"compression method {entry.method} is not used in passes (only stored or deflate)"
    return None


def _data_span(data: bytes, entry: _Entry) -> tuple[int, int] | str:
    """Where the entry's compressed bytes are, or why its local header cannot be trusted."""
    if entry.offset + _LOCAL.size > len(data):
        return "the local header is past the end of the archive"
    sig, _, _, method, _, _, _, _, _, name_len, extra_len = _LOCAL.unpack_from(data, entry.offset)
    start = entry.offset + _LOCAL.size
    if sig != _LOCAL_SIG:
        return "the local header is corrupt (bad signature)"
    if data[start:start + name_len] != entry.raw_name or method != entry.method:
        return "the local header disagrees with the central directory (name or compression)"
    start += name_len + extra_len
    if start + entry.compressed > len(data):
        return "the entry's data runs past the end of the archive (truncated)"
    return start, start + entry.compressed


_Span = tuple[_Entry, int, int]


def _without_overlaps(entries: list[_Entry], data: bytes, problems: list[Problem]) -> list[_Span]:
    spans: list[_Span] = []
    for entry in entries:
        span = _data_span(data, entry)
        if isinstance(span, str):
            problems.append(Problem("zip", entry.name, span))
        else:
            spans.append((entry, *span))
    spans.sort(key=lambda item: item[0].offset)
    kept: list[_Span] = []
    for item in spans:
        if kept and item[0].offset < kept[-1][2]:
            why = f"shares bytes with {kept[-1][0].name} (the overlapping-entry zip bomb)"
            problems.append(Problem("zip", item[0].name, why))
            continue
        kept.append(item)
    return kept


# --- inflating ----------------------------------------------------------------------------------------


def _inflate_all(
    data: bytes, spans: list[_Span], limits: ZipLimits, problems: list[Problem]
) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    budget = limits.max_total_bytes
    for entry, start, stop in sorted(spans, key=lambda item: item[0].name):
        cap = min(limits.max_entry_bytes, budget)
        try:
            content = _inflate(data[start:stop], entry, cap)
        except _TooBig:
            if cap < limits.max_entry_bytes:
                why = f"the entries unpack to over {limits.max_total_bytes} bytes in all (a zip bomb?)"
                problems.append(Problem("zip", "/", why))
                break
            problems.append(Problem("zip", entry.name, f"unpacks to over {cap} bytes"))
            continue
        if isinstance(content, str):
            problems.append(Problem("zip", entry.name, content))
            continue
        budget -= len(content)
        if entry.name in files:
            problems.append(Problem("zip", entry.name, "appears twice"))
        files[entry.name] = content
    return files


class _TooBig(Exception):
    """The entry unpacks to more bytes than its cap."""


def _inflate(compressed: bytes, entry: _Entry, cap: int) -> bytes | str:
    """The entry's bytes, or why not; never more than ``cap + 1`` bytes are produced."""
    if entry.method == _STORED:
        content = compressed
    else:
        inflater = zlib.decompressobj(-15)
        try:
            content = inflater.decompress(compressed, cap + 1)
        except zlib.error as exc:
            return f"the deflate data is corrupt ({exc})"
        if len(content) <= cap and not inflater.eof:
            return "the deflate data is truncated"
    if len(content) > cap:
        raise _TooBig
    if len(content) != entry.size:
        return f"declares {entry.size} bytes but holds {len(content)}"
    if zlib.crc32(content) != entry.crc:
        return "CRC-32 does not match (corrupt data)"
    return content
