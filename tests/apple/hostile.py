"""Hostile .pkpass files, built byte by byte by the tests (nothing is downloaded).

``build_zip`` writes a zip whose every field the caller may falsify (flags, method, declared
sizes, CRC, entry count); ``der`` encodes DER elements for hand-made signatures.
"""

from __future__ import annotations

import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class RawEntry:
    """One zip entry as written; ``None`` fields are computed from ``content``."""

    name: bytes
    content: bytes = b""
    method: int = 8
    flags: int = 0
    crc: int | None = None
    size: int | None = None
    stored: bytes | None = None  # the bytes written as the entry's data (default: content, deflated)

    def data(self) -> bytes:
        if self.stored is not None:
            return self.stored
        return deflate(self.content) if self.method == 8 else self.content


def deflate(content: bytes) -> bytes:
    """Raw deflate (no zlib header), as zip stores it."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(content) + packer.flush()


def deflated_zeros(megabytes: int) -> bytes:
    """``megabytes`` MiB of zeros deflated (a bomb's payload), made without compressing them all.

    After a full flush the compressor forgets its history, so every further megabyte of zeros
    compresses to the same bytes: the payload is the first block and that one repeated.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    first = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    return first + again * (megabytes - 1) + packer.flush()


def local_header(entry: RawEntry) -> bytes:
    data = entry.data()
    crc = zlib.crc32(entry.content) if entry.crc is None else entry.crc
    size = len(entry.content) if entry.size is None else entry.size
    return struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, entry.flags, entry.method, 0, 0x21,
                       crc, len(data), size, len(entry.name), 0) + entry.name


def central_header(entry: RawEntry, offset: int) -> bytes:
    data = entry.data()
    crc = zlib.crc32(entry.content) if entry.crc is None else entry.crc
    size = len(entry.content) if entry.size is None else entry.size
    return struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, entry.flags, entry.method, 0, 0x21,
                       crc, len(data), size, len(entry.name), 0, 0, 0, 0, 0, offset) + entry.name


def build_zip(
    entries: Sequence[RawEntry],
    *,
    count: int | None = None,
    offsets: Sequence[int] | None = None,
    prefix: bytes = b"",
) -> bytes:
    """A zip of ``entries``; ``count`` overrides the end record's entry count, ``offsets`` the
    central directory's local-header offsets (to point entries into each other)."""
    out = bytearray(prefix)
    real: list[int] = []
    for entry in entries:
        real.append(len(out))
        out += local_header(entry) + entry.data()
    cd_offset = len(out)
    for entry, offset in zip(entries, offsets or real, strict=True):
        out += central_header(entry, offset)
    n = len(entries) if count is None else count
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(out) - cd_offset, cd_offset, 0)
    return bytes(out)


def der(tag: int, content: bytes) -> bytes:
    """One DER element."""
    if len(content) < 0x80:
        return bytes([tag, len(content)]) + content
    size = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def measured(call: Callable[[], T]) -> tuple[T, float, int]:
    """Run ``call``; return its result, its CPU seconds (immune to other load) and its peak traced memory."""
    tracemalloc.start()
    try:
        start = time.process_time()
        result = call()
        elapsed = time.process_time() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, elapsed, peak
