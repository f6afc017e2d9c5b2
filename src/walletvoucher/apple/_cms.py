"""The manifest signature at the speed of the private-key operation.

``cryptography``'s ``PKCS7SignatureBuilder`` re-encodes both certificates and every fixed
attribute for each signature, and stamps the wall clock as signing time. Everything in a
detached SignedData except three values is the same for every pass of one signer:

- the ``messageDigest`` attribute (SHA-256 of manifest.json),
- the ``signingTime`` attribute (here: the render clock ``at``, so output is deterministic),
- the signature value over the DER ``SET OF`` signed attributes.

So a :class:`CmsTemplate` is taken once per signer from one signature the builder makes
(a probe): its fixed DER pieces are kept and each pass only encodes the three values and
the lengths around them. The output is the builder's, byte for byte, for the same signing
time (RSA PKCS#1 v1.5 is deterministic; a test compares them). Templates hold certificates
and algorithm identifiers only, never key material; the key is used from the signer at
signing time.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import weakref
from collections import OrderedDict
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeAlias, Union

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from walletvoucher.apple import _der
from walletvoucher.apple._sign import sign_manifest
from walletvoucher.errors import AppleError

if TYPE_CHECKING:  # the signer's home may move; only its attributes are used here
    from walletvoucher.apple import AppleSigner

_OID_SIGNING_TIME = bytes.fromhex("06092a864886f70d010905")
_OID_MESSAGE_DIGEST = bytes.fromhex("06092a864886f70d010904")
_PROBE = b"{}"
TEMPLATE_CACHE_SIZE = 16
_Key: TypeAlias = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]  # noqa: UP007 (3.10 runtime)


def der_length(length: int) -> bytes:
    """The DER length octets for ``length``.

    >>> der_length(5).hex(), der_length(200).hex(), der_length(2610).hex()
    ('05', '81c8', '820a32')
    """
    if length < 0x80:
        return bytes((length,))
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element: tag, length, content."""
    return bytes((tag,)) + der_length(len(content)) + content


def encode_time(moment: datetime) -> bytes:
    """RFC 5652 ``Time``: UTCTime for 1950-2049, GeneralizedTime otherwise (UTC, seconds).

    >>> encode_time(datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc))
    b'\\x17\\r260507103000Z'
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise AppleError("must be timezone-aware", field="at", value=moment.isoformat(),
                         fix="pass datetimes with a tzinfo, e.g. datetime.now(timezone.utc)")
    utc = moment.astimezone(timezone.utc)
    if 1950 <= utc.year < 2050:
        return tlv(0x17, utc.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return tlv(0x18, f"{utc.year:04d}{utc.strftime('%m%d%H%M%S')}Z".encode("ascii"))


@attrs.frozen
class CmsTemplate:
    """The fixed DER pieces of one signer's detached SignedData (no key material)."""

    outer_oid: bytes = attrs.field(repr=False)
    """``contentType`` of the ContentInfo (signedData), whole element."""
    head: bytes = attrs.field(repr=False)
    """SignedData fields before ``signerInfos``: version, digest algorithms, content, certificates."""
    signer_head: bytes = attrs.field(repr=False)
    """SignerInfo fields before the signed attributes: version, issuer and serial, digest algorithm."""
    attributes: tuple[bytes, ...] = attrs.field(repr=False)
    """Each signed attribute's whole element; signingTime and messageDigest are replaced per pass."""
    signature_algorithm: bytes = attrs.field(repr=False)

    def sign(self, manifest: bytes, key: _Key, at: datetime) -> bytes:
        """The DER SignedData of ``manifest`` signed by ``key`` at ``at``."""
        digest = hashlib.sha256(manifest).digest()
        time_attr = _time_attribute(at)
        digest_attr = tlv(0x30, _OID_MESSAGE_DIGEST + tlv(0x31, tlv(0x04, digest)))
        attrs_der = b"".join(_replace(a, time_attr, digest_attr) for a in self.attributes)
        value = _sign_bytes(key, tlv(0x31, attrs_der))
        signer_info = tlv(0x30, self.signer_head + tlv(0xA0, attrs_der) + self.signature_algorithm
                          + tlv(0x04, value))
        signed_data = tlv(0x30, self.head + tlv(0x31, signer_info))
        return tlv(0x30, self.outer_oid + tlv(0xA0, signed_data))


@functools.lru_cache(maxsize=64)  # a batch signs thousands of passes at one clock
def _time_attribute(at: datetime) -> bytes:
    return tlv(0x30, _OID_SIGNING_TIME + tlv(0x31, encode_time(at)))


def _replace(attribute: bytes, time_attr: bytes, digest_attr: bytes) -> bytes:
    if attribute.startswith(_OID_SIGNING_TIME, 2):
        return time_attr
    if attribute.startswith(_OID_MESSAGE_DIGEST, 2):
        return digest_attr
    return attribute


_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_ECDSA = ec.ECDSA(_SHA256)


def _sign_bytes(key: _Key, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, _PKCS1, _SHA256)
    return key.sign(data, _ECDSA)


def builder_signature(manifest: bytes, signer: AppleSigner) -> bytes:
    """The signature exactly as ``cryptography``'s builder makes it (wall-clock signing time)."""
    return sign_manifest(manifest, signer)


def parse_template(signature: bytes) -> CmsTemplate:
    """Split a builder-made detached SignedData into its fixed pieces.

    Raises :class:`ValueError` when the layout is not the one expected (one signer,
    signed attributes present), so a change in ``cryptography`` is caught, not copied.
    """
    outer_oid, wrapped = _der.read_one(signature)[0].children()
    (signed_data,) = _der.expect(wrapped, 0xA0, "content").children()
    fields = _der.expect(signed_data, _der.SEQUENCE, "SignedData").children()
    (signer_info,) = _der.expect(fields[-1], _der.SET, "signerInfos").children()
    parts = signer_info.children()
    if len(parts) != 6 or parts[3].tag != 0xA0 or parts[5].tag != _der.OCTET_STRING:
        raise ValueError("unexpected SignerInfo layout")
    attributes = tuple(a.raw for a in _der.read_all(parts[3].content))
    wanted = {_OID_SIGNING_TIME, _OID_MESSAGE_DIGEST}
    if {a[2:13] for a in attributes} & wanted != wanted:
        raise ValueError("signed attributes lack signingTime or messageDigest")
    return CmsTemplate(
        outer_oid=outer_oid.raw,
        head=b"".join(f.raw for f in fields[:-1]),
        signer_head=b"".join(p.raw for p in parts[:3]),
        attributes=attributes,
        signature_algorithm=parts[4].raw,
    )


class _TemplateCache:
    """A bounded, locked LRU of templates keyed by the signer's certificates and key type.

    The last signer seen is remembered by weak reference, so a run of passes with one
    signer skips hashing its certificates (and never keeps a signer alive).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[x509.Certificate, x509.Certificate, type], CmsTemplate] = OrderedDict()
        self._last: tuple[weakref.ref[AppleSigner], CmsTemplate] | None = None

    def get(self, signer: AppleSigner) -> CmsTemplate:
        last = self._last
        if last is not None and last[0]() is signer:
            return last[1]
        found = self._lookup(signer)
        self._last = (weakref.ref(signer), found)
        return found

    def _lookup(self, signer: AppleSigner) -> CmsTemplate:
        key = (signer.certificate, signer.wwdr, type(signer.key))
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        made = parse_template(builder_signature(_PROBE, signer))
        with self._lock:
            self._items[key] = made
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return made


    def renew_lock(self) -> None:
        """A fresh lock, for a child made by ``fork``."""
        self._lock = threading.Lock()


_TEMPLATES = _TemplateCache(TEMPLATE_CACHE_SIZE)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_TEMPLATES.renew_lock)


def cms_template(signer: AppleSigner) -> CmsTemplate:
    """The signer's template, made once (from one probe signature) and then reused."""
    return _TEMPLATES.get(signer)


def sign_manifest_at(manifest: bytes, signer: AppleSigner, *, at: datetime) -> bytes:
    """Detached DER PKCS#7 signature of ``manifest`` with signing time ``at``; deterministic for RSA.

    Same bytes as :func:`walletvoucher.apple.sign_manifest` made at the same second. Like
    ``sign_manifest(..., at=at)``, it first asks a signer that can check its certificates'
    validity window (``check_valid_at``) to do so at ``at``.

    >>> # signature = sign_manifest_at(manifest, signer, at=now)
    """
    check_valid_at = getattr(signer, "check_valid_at", None)
    if check_valid_at is not None:
        check_valid_at(at)
    return cms_template(signer).sign(manifest, signer.key, at)

