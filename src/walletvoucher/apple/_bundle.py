"""The bundle: manifest.json (SHA-1 of every file) and a deterministic zip."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping

import attrs

#: Every entry gets this timestamp so the same files always zip to the same bytes.
ZIP_TIMESTAMP = (2001, 1, 1, 0, 0, 0)

_RESERVED = frozenset({"manifest.json", "signature"})


def build_manifest(files: Mapping[str, bytes]) -> bytes:
    """Return manifest.json: ``{"path": sha1-hex}`` for every file, sorted keys, UTF-8.

    >>> build_manifest({"pass.json": b"{}"})
    b'{"pass.json":"bf21a9e8fbc5a3846fb05b4fa0859e0917b2202f"}'
    """
    hashes = {name: hashlib.sha1(data).hexdigest() for name, data in files.items()}
    return json.dumps(hashes, sort_keys=True, separators=(",", ":")).encode("utf-8")


def zip_bundle(files: Mapping[str, bytes]) -> bytes:
    """Zip ``files`` with sorted entries, fixed timestamps and fixed permissions (deterministic).

    >>> zip_bundle({"b": b"2", "a": b"1"}) == zip_bundle({"a": b"1", "b": b"2"})
    True
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, files[name])
    return buffer.getvalue()


def content_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Drop ``manifest.json`` and ``signature`` from a file map (they are made, not given)."""
    return {name: data for name, data in files.items() if name not in _RESERVED}


# --- the same zip, written from precomputed entries ---------------------------------------
#
# ``zip_bundle`` through :mod:`zipfile` re-DEFLATEs every file of every pass. A pass's images
# and texts are the same bytes for thousands of passes, so each file becomes a
# :class:`ZipEntry` once (CRC, DEFLATE, headers, SHA-1) and a bundle is the concatenation
# of its entries' records plus a central directory with the offsets filled in. The bytes
# are those :func:`zip_bundle` writes (a test compares them).

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL_HEAD = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_VERSION = 20  # zipfile's DEFAULT_VERSION: what DEFLATE needs
_UNIX = 3
_UTF8_NAME = 0x800
_DOS_TIME = (ZIP_TIMESTAMP[3] << 11) | (ZIP_TIMESTAMP[4] << 5) | (ZIP_TIMESTAMP[5] // 2)
_DOS_DATE = ((ZIP_TIMESTAMP[0] - 1980) << 9) | (ZIP_TIMESTAMP[1] << 5) | ZIP_TIMESTAMP[2]
_EXTERNAL_ATTR = 0o644 << 16
_MAX_ENTRY = 0xFFFFFFFF // 2  # far below zip64; a pass file is kilobytes


@attrs.frozen
class ZipEntry:
    """One file of a bundle, ready to concatenate: its local record and central-directory parts."""

    name: str
    sha1: str
    """SHA-1 of the file's bytes, hex, for manifest.json."""
    local: bytes = attrs.field(repr=False)
    """Local file header, name and DEFLATEd data."""
    central: bytes = attrs.field(repr=False)
    """Central-directory header without the 4-byte offset of the local header, then the name."""

    @property
    def size(self) -> int:
        """Bytes this entry holds (for cache accounting)."""
        return len(self.local) + len(self.central)


def make_entry(name: str, data: bytes, *, stored: bool = False) -> ZipEntry:
    """DEFLATE ``data`` (or keep it as is: ``stored``) and build its zip records as zipfile would.

    >>> make_entry("pass.json", b"{}").sha1
    'bf21a9e8fbc5a3846fb05b4fa0859e0917b2202f'
    """
    if len(data) > _MAX_ENTRY:
        raise ValueError(f"{name}: {len(data)} bytes is too large for a pass file")
    try:
        raw_name, flags = name.encode("ascii"), 0
    except UnicodeEncodeError:
        raw_name, flags = name.encode("utf-8"), _UTF8_NAME
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    packed = data if stored else _deflate(data)
    crc = zlib.crc32(data)
    fixed = (flags, method, _DOS_TIME, _DOS_DATE, crc, len(packed), len(data), len(raw_name))
    local = _LOCAL.pack(b"PK\x03\x04", _VERSION, 0, *fixed, 0) + raw_name + packed
    central = _CENTRAL_HEAD.pack(b"PK\x01\x02", _VERSION, _UNIX, _VERSION, 0, *fixed, 0, 0, 0, 0,
                                 _EXTERNAL_ATTR, 0)[:-4]
    return ZipEntry(name=name, sha1=hashlib.sha1(data).hexdigest(), local=local, central=central + raw_name)


def _deflate(data: bytes) -> bytes:
    deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return deflate.compress(data) + deflate.flush()


def manifest_of(entries: Iterable[ZipEntry]) -> bytes:
    """manifest.json from entries' SHA-1s: the bytes :func:`build_manifest` makes for their files."""
    hashes = {entry.name: entry.sha1 for entry in entries}
    return json.dumps(hashes, sort_keys=True, separators=(",", ":")).encode("utf-8")


def assemble_zip(entries: Iterable[ZipEntry]) -> bytes:
    """Concatenate entries sorted by name and write the central directory: :func:`zip_bundle`'s bytes."""
    ordered = sorted(entries, key=lambda entry: entry.name)
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for entry in ordered:
        chunks.append(entry.local)
        central.append(entry.central[:42] + offset.to_bytes(4, "little") + entry.central[42:])
        offset += len(entry.local)
    directory = b"".join(central)
    count = len(ordered)
    end = _END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), offset, 0)
    return b"".join(chunks) + directory + end
