"""The signature half of ``verify``: the detached CMS SignedData, its signer and its chain.

Untrusted bytes: the signature file is size-capped, taken apart by the linear DER reader, holds at
most ``MAX_CERTIFICATES`` certificates, and every ``ValueError`` that ``cryptography`` raises for
a certificate or key it cannot read (it parses some fields lazily) becomes a problem.

Trust: a certificate given in ``roots`` anchors the chain only when it is a self-signed CA; an
intermediate (the WWDR certificate) given as a root is refused, because anyone can make a pass whose
chain ends in a WWDR look-alike. Every issuer on the way must be a CA (basicConstraints).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from walletvoucher.apple import _der
from walletvoucher.apple._rules import Problem

MAX_SIGNATURE_BYTES = 256 * 1024
"""Apple's signature with its two certificates is about 4 KB."""
MAX_CERTIFICATES = 8
"""The signer, WWDR, perhaps a root: a handful at most."""
MAX_CHAIN = 5
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_DATA = "1.2.840.113549.1.7.1"
_DATA_OID_CONTENT = bytes.fromhex("2a864886f70d010701")
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
_SINGLE_VALUED = {_OID_CONTENT_TYPE: _der.OID, "1.2.840.113549.1.9.4": _der.OCTET_STRING}
_DIGESTS: dict[str, hashes.HashAlgorithm] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256(),
    "2.16.840.1.101.3.4.2.2": hashes.SHA384(),
    "2.16.840.1.101.3.4.2.3": hashes.SHA512(),
    "1.3.14.3.2.26": hashes.SHA1(),
}
_RSA_SIGNATURES = frozenset({"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.5", "1.2.840.113549.1.1.11",
                             "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13"})
_EC_SIGNATURES = frozenset({"1.2.840.10045.4.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3",
                            "1.2.840.10045.4.3.4"})


@attrs.frozen(kw_only=True)
class SignatureFindings:
    """What the signature check could read: the signer, its identity, the signing time, the trust."""

    signer: str | None = None
    pass_type_identifier: str | None = None
    team_identifier: str | None = None
    signing_time: datetime | None = None
    chain_checked: bool = False


@attrs.frozen
class _SignedData:
    certificates: tuple[x509.Certificate, ...]
    issuer: bytes
    serial: int
    digest_oid: str
    signature_oid: str
    signed_attrs: bytes  # re-tagged as SET, what the signature covers
    attributes: dict[str, bytes]
    signature: bytes


def check_signature(
    manifest: bytes,
    signature: bytes,
    roots: Sequence[x509.Certificate],
    now: datetime,
    problems: list[Problem],
) -> SignatureFindings:
    """Check the signature over ``manifest`` and its chain; append what is wrong to ``problems``."""
    if len(signature) > MAX_SIGNATURE_BYTES:
        why = f"{len(signature)} bytes, over {MAX_SIGNATURE_BYTES}"
        problems.append(Problem("signature", "signature", why))
        return SignatureFindings()
    try:
        signed = _parse_signed_data(signature)
    except (ValueError, IndexError, x509.InvalidVersion) as exc:  # InvalidVersion is no ValueError
        problems.append(Problem("signature", "signature", f"not a DER PKCS#7 SignedData ({exc})"))
        return SignatureFindings()
    try:
        return _check_signed(signed, manifest, roots, now, problems)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion, x509.DuplicateExtension,
            x509.UnsupportedGeneralNameType) as exc:  # the last three are no ValueError; cryptography
        # raises TypeError for a name attribute whose string type its OID does not allow
        why = f"a certificate or key in the signature cannot be read ({exc})"
        problems.append(Problem("signature", "signature", why))
        return SignatureFindings()


def _check_signed(
    signed: _SignedData, manifest: bytes, roots: Sequence[x509.Certificate], now: datetime,
    problems: list[Problem],
) -> SignatureFindings:
    signer = next((c for c in signed.certificates if c.serial_number == signed.serial
                   and c.issuer.public_bytes() == signed.issuer), None)
    if signer is None:
        problems.append(Problem("signature", "signature", "the signer's certificate is not embedded"))
        return SignatureFindings()
    problems.extend(_check_digest_and_signature(signed, signer, manifest))
    chain_problems, anchored = _check_chain(signer, signed.certificates, roots, now)
    problems.extend(chain_problems)
    return SignatureFindings(
        signer=signer.subject.rfc4514_string(),
        pass_type_identifier=_attribute(signer.subject, NameOID.USER_ID),
        team_identifier=_attribute(signer.subject, NameOID.ORGANIZATIONAL_UNIT_NAME),
        signing_time=_signing_time(signed.attributes.get(_OID_SIGNING_TIME)),
        chain_checked=anchored,
    )


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


# --- taking the SignedData apart --------------------------------------------------------------------


def _parse_signed_data(blob: bytes) -> _SignedData:
    """Take a detached CMS SignedData apart, checking the tag of every part it reads (RFC 5652)."""
    info, end = _der.read_one(blob)
    if end != len(blob):
        raise ValueError("trailing bytes after the signature")
    content_type, explicit = _shape(_der.expect(info, _der.SEQUENCE, "ContentInfo"), (_der.OID, 0xA0))
    if _der.decode_oid(content_type.content) != _OID_SIGNED_DATA:
        raise ValueError("not a CMS SignedData")
    (signed_data,) = _shape(explicit, (_der.SEQUENCE,))
    parts = _der.expect(signed_data, _der.SEQUENCE, "SignedData").children()
    if not 4 <= len(parts) <= 6 or [p.tag for p in parts[:3]] != [_der.INTEGER, _der.SET, _der.SEQUENCE]:
        raise ValueError("SignedData does not have the shape version, digestAlgorithms, encapContentInfo")
    if [p.tag for p in parts[3:-1]] not in ([], [0xA0], [0xA1], [0xA0, 0xA1]):
        raise ValueError("SignedData holds something other than certificates and CRLs")
    (encap_type,) = _shape(parts[2], (_der.OID,))  # no eContent: the signature is detached
    if _der.decode_oid(encap_type.content) != _OID_DATA:
        raise ValueError("the signed content type is not id-data")
    embedded = [c for p in parts[3:-1] if p.tag == 0xA0 for c in p.children()]
    if len(embedded) > MAX_CERTIFICATES:
        raise ValueError(f"{len(embedded)} certificates embedded, over {MAX_CERTIFICATES}")
    certs = tuple(x509.load_der_x509_certificate(c.raw) for c in embedded)
    signer_infos = _der.expect(parts[-1], _der.SET, "signerInfos").children()
    if len(signer_infos) != 1:
        raise ValueError(f"expected one signer, found {len(signer_infos)}")
    digests = {_algorithm(a) for a in parts[1].children()}
    return _signer_info(certs, digests, _der.expect(signer_infos[0], _der.SEQUENCE, "SignerInfo"))


_SIGNER_INFO = (_der.INTEGER, _der.SEQUENCE, _der.SEQUENCE, 0xA0, _der.SEQUENCE, _der.OCTET_STRING)


def _signer_info(certs: tuple[x509.Certificate, ...], digests: set[str], info: _der.Tlv) -> _SignedData:
    _, sid, digest, attrs_tlv, algorithm, signature = _shape(info, _SIGNER_INFO, optional=1)[:6]
    issuer, serial = _shape(sid, (_der.SEQUENCE, _der.INTEGER))
    digest_oid = _algorithm(digest)
    if digest_oid not in digests:
        raise ValueError("the signer's digest algorithm is not listed in digestAlgorithms")
    attributes = _attributes(attrs_tlv)
    signature_oid = _algorithm(algorithm)
    return _SignedData(certs, issuer.raw, int.from_bytes(serial.content, "big", signed=True), digest_oid,
                       signature_oid, bytes([_der.SET]) + attrs_tlv.raw[1:], attributes, signature.content)


def _attributes(signed_attrs: _der.Tlv) -> dict[str, bytes]:
    """The signed attributes by OID; contentType must say id-data, messageDigest be an OCTET STRING."""
    attributes: dict[str, bytes] = {}
    for attribute in signed_attrs.children():
        oid_tlv, values = _shape(_der.expect(attribute, _der.SEQUENCE, "Attribute"), (_der.OID, _der.SET))
        oid = _der.decode_oid(oid_tlv.content)
        if oid in attributes:
            raise ValueError(f"signed attribute {oid} appears twice")
        value = values.children()
        if len(value) != 1 and oid in _SINGLE_VALUED:
            raise ValueError(f"signed attribute {oid} must have exactly one value")
        attributes[oid] = value[0].content if value else b""
        if oid in _SINGLE_VALUED and value[0].tag != _SINGLE_VALUED[oid]:
            raise ValueError(f"signed attribute {oid} has the wrong type")
    if attributes.get(_OID_CONTENT_TYPE) != _DATA_OID_CONTENT:
        raise ValueError("the signed attributes do not say the content type is id-data")
    return attributes


def _algorithm(tlv: _der.Tlv) -> str:
    """The OID of an AlgorithmIdentifier: SEQUENCE { OID, optional parameters }."""
    return _der.decode_oid(_shape(_der.expect(tlv, _der.SEQUENCE, "AlgorithmIdentifier"), (_der.OID,),
                                  optional=1)[0].content)


def _shape(tlv: _der.Tlv, tags: tuple[int, ...], *, optional: int = 0) -> list[_der.Tlv]:
    """The children of ``tlv``, which must carry ``tags`` in order (plus up to ``optional`` more)."""
    children = tlv.children()
    if not len(tags) <= len(children) <= len(tags) + optional:
        raise ValueError(f"expected {len(tags)} elements in a DER 0x{tlv.tag:02x}, found {len(children)}")
    for child, tag in zip(children, tags, strict=False):  # the optional ones are not checked here
        _der.expect(child, tag, f"element of 0x{tlv.tag:02x}")
    return children


def _check_digest_and_signature(
    signed: _SignedData, signer: x509.Certificate, manifest: bytes
) -> Iterator[Problem]:
    algorithm = _DIGESTS.get(signed.digest_oid)
    if algorithm is None:
        yield Problem("signature", "digestAlgorithm", f"unsupported digest {signed.digest_oid}")
        return
    digest = hashes.Hash(algorithm)
    digest.update(manifest)
    if signed.attributes.get(_OID_MESSAGE_DIGEST) != digest.finalize():
        yield Problem("signature", "manifest.json", "the signature does not cover this manifest (changed)")
    key = signer.public_key()
    allowed = _RSA_SIGNATURES if isinstance(key, rsa.RSAPublicKey) else _EC_SIGNATURES
    if signed.signature_oid not in allowed:
        why = f"signature algorithm {signed.signature_oid} does not fit the signer's {type(key).__name__}"
        yield Problem("signature", "signatureAlgorithm", why)
        return
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signed.signature, signed.signed_attrs, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signed.signature, signed.signed_attrs, ec.ECDSA(algorithm))
        else:
            yield Problem("signature", "signer", f"unsupported key type {type(key).__name__}")
    except InvalidSignature:
        yield Problem("signature", "signature", "the signature does not verify with the signer's key")


# --- the chain ------------------------------------------------------------------------------------------


def _check_chain(
    signer: x509.Certificate, embedded: Sequence[x509.Certificate], roots: Sequence[x509.Certificate],
    now: datetime,
) -> tuple[list[Problem], bool]:
    problems = [_not_an_anchor(root) for root in roots if not _is_self_signed_ca(root)]
    anchors = [root for root in roots if _is_self_signed_ca(root)]
    pool = [c for c in embedded if c != signer]
    if _issuer_of(signer, pool) is None:
        why = "the WWDR intermediate that issued the signer is not embedded"
        problems.append(Problem("chain", "signature", why))
    chain = _build_chain(signer, pool, anchors)
    problems.extend(_validity(chain, now))
    anchored = chain[-1] in anchors
    if roots and not anchored:
        top = chain[-1].subject.rfc4514_string()
        problems.append(Problem("chain", top, "the chain does not end in a trusted root given as ca= / --ca"))
    return problems, anchored


def _build_chain(
    signer: x509.Certificate, pool: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    chain = [signer]
    while len(chain) < MAX_CHAIN and chain[-1] not in anchors:
        issuer = _issuer_of(chain[-1], [*pool, *anchors])
        if issuer is None or issuer in chain:
            break
        chain.append(issuer)
    return chain


def _validity(chain: Sequence[x509.Certificate], now: datetime) -> Iterator[Problem]:
    for cert in chain:
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            yield Problem("chain", cert.subject.rfc4514_string(),
                          f"not valid at {now.isoformat()} (valid {cert.not_valid_before_utc.isoformat()} "
                          f"to {cert.not_valid_after_utc.isoformat()})")


def _not_an_anchor(root: x509.Certificate) -> Problem:
    return Problem(
        "trust", root.subject.rfc4514_string(),
        "was given as a trusted root but is not a self-signed CA: an intermediate such as WWDR is not a "
        "trust anchor (anyone can make a chain ending in a look-alike); give the root CA that issued it "
        "(Apple Root CA for real passes)",
    )


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, x509.DuplicateExtension, x509.UnsupportedGeneralNameType, ValueError):
        return False  # a certificate whose extensions cannot be read is no CA we trust


def _is_self_signed_ca(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer and _issued_by(cert, cert) and _is_ca(cert)


def _issuer_of(cert: x509.Certificate, candidates: Sequence[x509.Certificate]) -> x509.Certificate | None:
    return next((c for c in candidates if _is_ca(c) and _issued_by(cert, c)), None)


@functools.lru_cache(maxsize=64)
def _issued_by(cert: x509.Certificate, candidate: x509.Certificate) -> bool:
    """Did ``candidate`` sign ``cert``? Cached: the chain builder asks some pairs twice, and a
    hostile bundle's certificates may carry keys that are slow to verify with."""
    if candidate.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(candidate)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _signing_time(value: bytes | None) -> datetime | None:
    if value is None:
        return None
    try:
        text = value.decode("ascii")
        fmt = "%y%m%d%H%M%SZ" if len(text) == 13 else "%Y%m%d%H%M%SZ"
        return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
    except (UnicodeDecodeError, ValueError):
        return None

