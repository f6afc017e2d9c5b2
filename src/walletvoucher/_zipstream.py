"""A write-once zip of many files whose memory does not grow with the number of files.

:class:`zipfile.ZipFile` keeps a ``ZipInfo`` per member until it writes the central
directory (a few hundred bytes each: tens of megabytes for 100,000 passes). Here each
member's central-directory record is written to a temporary file as soon as the member is
written, and copied after the last member. Members are STORED (a ``.pkpass`` is itself a
compressed zip). Zip64 records are written when there are more than 65,535 members or the
archive passes 4 GiB, so any count works.
"""

from __future__ import annotations

import array
import hashlib
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable
from typing import BinaryIO

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_EXTRA64 = struct.Struct("<2HQ")
_DOS_DATE = ((2001 - 1980) << 9) | (1 << 5) | 1  # the bundles' fixed 2001-01-01 00:00
_MAX32 = 0xFFFFFFFF
_MAX16 = 0xFFFF
_UTF8_NAME = 0x800
_EXTERNAL_ATTR = 0o644 << 16


class ZipStream:
    """Append members to a zip being written to ``target``; :meth:`close` writes the directory.

    >>> import io, zipfile
    >>> out = io.BytesIO()
    >>> with ZipStream(out) as archive:
    ...     archive.add("a.pkpass", b"data")
    >>> zipfile.ZipFile(out).read("a.pkpass")
    b'data'
    """

    def __init__(self, target: BinaryIO, *, force_zip64: bool = False) -> None:
        self._out = target
        self._directory = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._offset = 0
        self._count = 0
        self._force_zip64 = force_zip64

    def add(self, name: str, data: bytes, *, crc: int | None = None) -> None:
        """Write one STORED member; ``crc`` is its CRC-32 when already known (e.g. from a worker)."""
        self._member(name, len(data), zlib.crc32(data) if crc is None else crc,
                     lambda: self._out.write(data))

    def add_file(self, name: str, source: BinaryIO, *, size: int, crc: int) -> None:
        """Write one STORED member copied from *source* (*size* bytes, CRC-32 *crc*) in small blocks,
        so the member's bytes are never held in memory whole."""

        def copy() -> None:
            left = size
            while left:
                block = source.read(min(left, 1 << 16))
                if not block:
                    raise ValueError(f"{name}: the source ended {left} bytes early")
                self._out.write(block)
                left -= len(block)

        self._member(name, size, crc, copy)

    def _member(self, name: str, size: int, crc: int, write_body: Callable[[], object]) -> None:
        try:
            raw, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            raw, flags = name.encode("utf-8"), _UTF8_NAME
        if size >= _MAX32:
            raise ValueError(f"{name}: {size} bytes is too large for one member")
        fixed = (flags, 0, 0, _DOS_DATE, crc, size, size, len(raw))
        header = _LOCAL.pack(b"PK\x03\x04", 20, 0, *fixed, 0)
        self._out.write(header + raw)
        write_body()
        far = self._offset >= _MAX32 or self._force_zip64
        extra = _EXTRA64.pack(1, 8, self._offset) if far else b""
        offset = _MAX32 if far else self._offset
        version = 45 if far else 20
        record = _CENTRAL.pack(b"PK\x01\x02", version, 3, version, 0, *fixed, len(extra), 0, 0, 0,
                               _EXTERNAL_ATTR, offset)
        self._directory.write(record + raw + extra)
        self._offset += len(header) + len(raw) + size
        self._count += 1

    def close(self) -> None:
        """Copy the central directory after the members and write the end records."""
        start = self._offset
        self._directory.seek(0)
        shutil.copyfileobj(self._directory, self._out)
        size = self._directory.tell()
        self._directory.close()
        if self._force_zip64 or self._count >= _MAX16 or start + size >= _MAX32:
            end64_at = start + size
            count = self._count
            self._out.write(_END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, start))
            self._out.write(_LOCATOR64.pack(b"PK\x06\x07", 0, end64_at, 1))
            self._out.write(_END.pack(b"PK\x05\x06", 0, 0, _MAX16, _MAX16, _MAX32, _MAX32, 0))
        else:
            self._out.write(_END.pack(b"PK\x05\x06", 0, 0, self._count, self._count, size, start, 0))

    @property
    def count(self) -> int:
        """Members written so far."""
        return self._count

    def __enter__(self) -> ZipStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NameSet:
    """Names seen so far, in 16 bytes per name at most: an open-addressing table of 64-bit digests.

    A zip of 100,000 passes must notice a repeated name without keeping 100,000 strings
    (about 7 MB). Two different names share a BLAKE2b-64 digest with odds of about n²/2⁶⁵
    (3·10⁻¹⁰ for 100,000 names); the price of that is one item wrongly reported as a repeat.

    >>> seen = NameSet()
    >>> seen.add("a.pkpass"), seen.add("b.pkpass"), seen.add("a.pkpass")
    (True, True, False)
    """

    def __init__(self) -> None:
        self._slots = array.array("Q", bytes(8 * 1024))
        self._count = 0

    def add(self, name: str) -> bool:
        """Remember ``name``; False if it was already there."""
        digest = int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little") | 1
        if not self._insert(digest):
            return False
        self._count += 1
        if 2 * self._count > len(self._slots):
            self._grow()
        return True

    def _insert(self, digest: int) -> bool:
        slots, mask = self._slots, len(self._slots) - 1
        at = digest & mask
        while slots[at]:
            if slots[at] == digest:
                return False
            at = (at + 1) & mask
        slots[at] = digest
        return True

    def _grow(self) -> None:
        old = self._slots
        self._slots = array.array("Q", bytes(16 * len(old)))
        for digest in old:
            if digest:
                self._insert(digest)

    def __len__(self) -> int:
        return self._count
