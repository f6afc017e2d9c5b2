"""A small, bounds-checked DER reader: just enough to take a CMS SignedData apart for ``verify``.

It parses, it never verifies: the signature checks are done by ``cryptography``. Every
malformed input raises :class:`ValueError` (untrusted bytes from a .pkpass land here).
Work is linear in the input: no recursion (callers walk the levels they need), at most
``MAX_CHILDREN`` elements in one constructed element, and OIDs of at most ``MAX_OID_BYTES``.
"""

from __future__ import annotations

import attrs

SEQUENCE = 0x30
SET = 0x31
OID = 0x06
OCTET_STRING = 0x04
INTEGER = 0x02
MAX_DEPTH_BYTES = 4  # lengths above 4 GiB are refused
MAX_CHILDREN = 64  # a SignedData has a handful of parts, a few certificates and attributes
MAX_OID_BYTES = 64  # real OIDs are under 30 bytes; a 2.25 UUID OID is about 20


@attrs.frozen
class Tlv:
    """One DER element: its tag, its whole encoding and its content."""

    tag: int
    raw: bytes = attrs.field(repr=False)
    content: bytes = attrs.field(repr=False)

    def children(self) -> list[Tlv]:
        """The elements inside a constructed element."""
        if not self.tag & 0x20:
            raise ValueError(f"tag 0x{self.tag:02x} is not constructed")
        return read_all(self.content)


def read_one(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Read the element at ``offset``; return it and the offset after it."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER element")
    tag, first = data[offset], data[offset + 1]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags are not used in CMS signatures")
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > MAX_DEPTH_BYTES or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError("DER element runs past the end of its container")
    return Tlv(tag, data[offset:end], data[pos:end]), end


def read_all(data: bytes) -> list[Tlv]:
    """Every element in ``data``, in order; more than ``MAX_CHILDREN`` raise ValueError."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        if len(out) == MAX_CHILDREN:
            raise ValueError(f"more than {MAX_CHILDREN} elements in one DER container")
        tlv, pos = read_one(data, pos)
        out.append(tlv)
    return out


def expect(tlv: Tlv, tag: int, what: str) -> Tlv:
    """Return ``tlv`` if it has ``tag``, else raise naming ``what``."""
    if tlv.tag != tag:
        raise ValueError(f"{what}: expected tag 0x{tag:02x}, found 0x{tlv.tag:02x}")
    return tlv


def decode_oid(content: bytes) -> str:
    """Dotted form of an OBJECT IDENTIFIER's content.

    >>> decode_oid(bytes.fromhex("2a864886f70d010702"))
    '1.2.840.113549.1.7.2'
    >>> decode_oid(b"\\x81" * 100_000)
    Traceback (most recent call last):
    ...
    ValueError: OID of 100000 bytes, over 64
    """
    if not content:
        raise ValueError("empty OID")
    if len(content) > MAX_OID_BYTES:
        raise ValueError(f"OID of {len(content)} bytes, over {MAX_OID_BYTES}")
    if content[-1] & 0x80:
        raise ValueError("OID ends inside a sub-identifier")
    parts: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(n) for n in (first, parts[0] - 40 * first, *parts[1:]))
