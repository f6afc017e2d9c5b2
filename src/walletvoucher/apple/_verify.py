"""Verify a .pkpass without trusting it: zip layout, manifest, signature, chain, pass.json, images.

Every problem is collected (not just the first) with the rule it breaks. Reads are bounded
(bundle size, entry count, entry size) and entry names are checked before anything else, so
no path can point outside the bundle; nothing is ever written to disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from PIL import Image

from walletvoucher.apple import _der
from walletvoucher.apple._images import ICON_SIZE, LOGO_MAX, STRIP_SIZES
from walletvoucher.apple._rules import STYLES, Problem, check_pass_json
from walletvoucher.errors import InvalidPkpassError

MAX_BUNDLE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 500
MAX_ENTRY_BYTES = 20 * 1024 * 1024
_NAME = re.compile(r"^(?:[A-Za-z0-9_-]+(?:-[A-Za-z0-9]+)*\.lproj/)?[A-Za-z0-9_.@-]+\Z")
_IMAGE = re.compile(r"^(?:[^/]+\.lproj/)?(icon|logo|strip|thumbnail|background|footer)(?:@([23])x)?\.png\Z")
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
_DIGESTS: dict[str, hashes.HashAlgorithm] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256(),
    "2.16.840.1.101.3.4.2.2": hashes.SHA384(),
    "2.16.840.1.101.3.4.2.3": hashes.SHA512(),
    "1.3.14.3.2.26": hashes.SHA1(),
}
# (exact?, width, height) in points
_IMAGE_SIZES: dict[str, tuple[bool, int, int]] = {
    "icon": (True, *ICON_SIZE),
    "logo": (False, *LOGO_MAX),
    "thumbnail": (False, 90, 90),
    "background": (False, 180, 220),
    "footer": (False, 286, 15),
}


@attrs.frozen(kw_only=True)
class VerifyReport:
    """What ``verify_pkpass`` found: every problem, plus what it could read.

    ``ok`` is true when there are no problems. ``raise_for_problems()`` raises
    :class:`~walletvoucher.errors.InvalidPkpassError` listing them.
    """

    problems: tuple[Problem, ...]
    files: tuple[str, ...] = ()
    signer: str | None = None
    signing_time: datetime | None = None
    pass_json: dict[str, Any] | None = attrs.field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """No problems found."""
        return not self.problems

    def __str__(self) -> str:
        head = f"{len(self.files)} files; signer: {self.signer or '?'}"
        if self.ok:
            return f"OK: {head}"
        return "\n".join([f"INVALID: {head}", *(f"  {p}" for p in self.problems)])

    def raise_for_problems(self) -> None:
        """Raise :class:`InvalidPkpassError` if any problem was found."""
        if self.problems:
            raise InvalidPkpassError(
                "; ".join(str(p) for p in self.problems), field="pkpass",
                fix="rebuild the pass with walletvoucher.apple.render_pkpass",
                problems=tuple((p.rule, p.where, p.why) for p in self.problems),
            )


def verify_pkpass(
    data: bytes,
    *,
    ca: Sequence[x509.Certificate] = (),
    at: datetime | None = None,
) -> VerifyReport:
    """Check a .pkpass: layout, manifest hashes, signature and chain, signer, pass.json, images.

    ``ca`` are trusted roots (the chain must end in one of them; without any, the chain is
    checked up to the WWDR certificate in the bundle only). ``at`` is "now" for certificate
    validity (default: the current time).

    >>> verify_pkpass(b"not a zip").problems[0].rule
    'zip'
    """
    now = at or datetime.now(timezone.utc)
    problems: list[Problem] = []
    files = _read_zip(data, problems)
    if files is None:
        return VerifyReport(problems=tuple(problems))
    doc = _load_pass_json(files, problems)
    _check_manifest(files, problems)
    signer, signed_at = _check_signature(files, ca, now, problems)
    if doc is not None:
        problems.extend(check_pass_json(doc))
        if signer is not None:
            problems.extend(_check_identity(signer, doc))
        problems.extend(_check_images(files, doc))
    problems.extend(_check_strings(files))
    return VerifyReport(
        problems=tuple(problems), files=tuple(sorted(files)), pass_json=doc,
        signer=signer.subject.rfc4514_string() if signer else None, signing_time=signed_at,
    )


# --- zip -------------------------------------------------------------------------------------


def _read_zip(data: bytes, problems: list[Problem]) -> dict[str, bytes] | None:
    if len(data) > MAX_BUNDLE_BYTES:
        problems.append(Problem("zip", "/", f"bundle is {len(data)} bytes, over {MAX_BUNDLE_BYTES}"))
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        problems.append(Problem("zip", "/", f"not a zip archive ({exc})"))
        return None
    if len(infos) > MAX_ENTRIES:
        problems.append(Problem("zip", "/", f"{len(infos)} entries, over {MAX_ENTRIES}"))
        return None
    files: dict[str, bytes] = {}
    for info in infos:
        content = _read_entry(archive, info, problems)
        if content is not None:
            if info.filename in files:
                problems.append(Problem("zip", info.filename, "appears twice"))
            files[info.filename] = content
    return files


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, problems: list[Problem]) -> bytes | None:
    name = info.filename
    if info.is_dir():
        return None
    if not _NAME.match(name) or ".." in name.split("/"):
        shown = name if name.isprintable() else repr(name)
        problems.append(Problem("zip", shown, "entry name is not a plain file or xx.lproj/file path"))
        return None
    if info.file_size > MAX_ENTRY_BYTES:
        problems.append(Problem("zip", name, f"{info.file_size} bytes, over {MAX_ENTRY_BYTES}"))
        return None
    try:
        with archive.open(info) as handle:
            content = handle.read(MAX_ENTRY_BYTES + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        problems.append(Problem("zip", name, f"cannot be read ({exc})"))
        return None
    if len(content) > MAX_ENTRY_BYTES:
        problems.append(Problem("zip", name, f"over {MAX_ENTRY_BYTES} bytes"))
        return None
    return content


def _load_pass_json(files: dict[str, bytes], problems: list[Problem]) -> dict[str, Any] | None:
    for required in ("pass.json", "manifest.json", "signature", "icon.png"):
        if required not in files:
            problems.append(Problem("layout", required, "is missing"))
    if "pass.json" not in files:
        return None
    try:
        doc = json.loads(files["pass.json"].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem("pass-json", "pass.json", f"not UTF-8 JSON ({exc})"))
        return None
    if not isinstance(doc, dict):
        problems.append(Problem("pass-json", "pass.json", "must be a JSON object"))
        return None
    return doc


# --- manifest ----------------------------------------------------------------------------------


def _check_manifest(files: dict[str, bytes], problems: list[Problem]) -> None:
    if "manifest.json" not in files:
        return
    try:
        manifest = json.loads(files["manifest.json"].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem("manifest", "manifest.json", f"not UTF-8 JSON ({exc})"))
        return
    if not isinstance(manifest, dict) or not all(isinstance(v, str) for v in manifest.values()):
        problems.append(Problem("manifest", "manifest.json", "must map file names to SHA-1 hex strings"))
        return
    for name, data in files.items():
        if name in ("manifest.json", "signature"):
            continue
        if name not in manifest:
            problems.append(Problem("manifest", name, "is in the bundle but not in manifest.json"))
        elif manifest[name].lower() != hashlib.sha1(data).hexdigest():
            problems.append(Problem("manifest", name, "SHA-1 does not match manifest.json (file changed)"))
    for name in manifest:
        if name not in files:
            problems.append(Problem("manifest", name, "is listed in manifest.json but missing"))


# --- signature ---------------------------------------------------------------------------------


@attrs.frozen
class _SignedData:
    certificates: tuple[x509.Certificate, ...]
    issuer: bytes
    serial: int
    digest_oid: str
    signed_attrs: bytes  # re-tagged as SET, what the signature covers
    attributes: dict[str, bytes]
    signature: bytes


def _parse_signed_data(blob: bytes) -> _SignedData:
    info, end = _der.read_one(blob)
    if end != len(blob):
        raise ValueError("trailing bytes after the signature")
    content_type, explicit = _der.expect(info, _der.SEQUENCE, "ContentInfo").children()[:2]
    if _der.decode_oid(_der.expect(content_type, _der.OID, "contentType").content) != _OID_SIGNED_DATA:
        raise ValueError("not a CMS SignedData")
    parts = _der.expect(explicit.children()[0], _der.SEQUENCE, "SignedData").children()
    certs = tuple(
        x509.load_der_x509_certificate(c.raw) for p in parts if p.tag == 0xA0 for c in p.children()
    )
    encap = _der.expect(parts[2], _der.SEQUENCE, "encapContentInfo").children()
    if len(encap) > 1:
        raise ValueError("the signature embeds its content: it must be detached")
    signer_infos = _der.expect(parts[-1], _der.SET, "signerInfos").children()
    if len(signer_infos) != 1:
        raise ValueError(f"expected one signer, found {len(signer_infos)}")
    return _signer_info(certs, signer_infos[0].children())


def _signer_info(certs: tuple[x509.Certificate, ...], fields: list[_der.Tlv]) -> _SignedData:
    sid = _der.expect(fields[1], _der.SEQUENCE, "issuerAndSerialNumber").children()
    digest_oid = _der.decode_oid(fields[2].children()[0].content)
    attrs_tlv = _der.expect(fields[3], 0xA0, "signedAttrs")
    attributes: dict[str, bytes] = {}
    for attribute in attrs_tlv.children():
        oid, values = attribute.children()[:2]
        attributes[_der.decode_oid(oid.content)] = values.children()[0].content
    signed = bytes([_der.SET]) + attrs_tlv.raw[1:]
    signature = _der.expect(fields[5], _der.OCTET_STRING, "signature").content
    return _SignedData(certs, sid[0].raw, int.from_bytes(sid[1].content, "big", signed=True),
                       digest_oid, signed, attributes, signature)


def _check_signature(
    files: dict[str, bytes], ca: Sequence[x509.Certificate], now: datetime, problems: list[Problem]
) -> tuple[x509.Certificate | None, datetime | None]:
    if "signature" not in files or "manifest.json" not in files:
        return None, None
    try:
        signed = _parse_signed_data(files["signature"])
    except (ValueError, IndexError) as exc:
        problems.append(Problem("signature", "signature", f"not a DER PKCS#7 SignedData ({exc})"))
        return None, None
    signer = next((c for c in signed.certificates if c.serial_number == signed.serial
                   and c.issuer.public_bytes() == signed.issuer), None)
    if signer is None:
        problems.append(Problem("signature", "signature", "the signer's certificate is not embedded"))
        return None, None
    problems.extend(_check_digest_and_signature(signed, signer, files["manifest.json"]))
    problems.extend(_check_chain(signer, signed.certificates, ca, now))
    return signer, _signing_time(signed.attributes.get(_OID_SIGNING_TIME))


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
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signed.signature, signed.signed_attrs, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signed.signature, signed.signed_attrs, ec.ECDSA(algorithm))
        else:
            yield Problem("signature", "signer", f"unsupported key type {type(key).__name__}")
    except InvalidSignature:
        yield Problem("signature", "signature", "the signature does not verify with the signer's key")


def _check_chain(
    signer: x509.Certificate, certs: Sequence[x509.Certificate], ca: Sequence[x509.Certificate], now: datetime
) -> Iterator[Problem]:
    chain = [signer]
    pool = [c for c in certs if c != signer]
    while len(chain) < 5:
        issuer = _issuer_of(chain[-1], [*pool, *ca])
        if issuer is None or issuer in chain:
            break
        chain.append(issuer)
    for cert in chain:
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            yield Problem("chain", cert.subject.rfc4514_string(),
                          f"not valid at {now.isoformat()} (valid {cert.not_valid_before_utc.isoformat()} "
                          f"to {cert.not_valid_after_utc.isoformat()})")
    if len(chain) < 2:
        yield Problem("chain", "signature", "the WWDR intermediate certificate is not embedded")
    if ca and chain[-1] not in ca:
        top = chain[-1].subject.rfc4514_string()
        yield Problem("chain", top, "the chain does not end in a trusted --ca root")


def _issuer_of(cert: x509.Certificate, candidates: Sequence[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None


def _signing_time(value: bytes | None) -> datetime | None:
    if value is None:
        return None
    try:
        text = value.decode("ascii")
        fmt = "%y%m%d%H%M%SZ" if len(text) == 13 else "%Y%m%d%H%M%SZ"
        return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
    except (UnicodeDecodeError, ValueError):
        return None


# --- identity, images, strings -----------------------------------------------------------------


def _check_identity(signer: x509.Certificate, doc: dict[str, Any]) -> Iterator[Problem]:
    pairs = ((NameOID.USER_ID, "passTypeIdentifier"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "teamIdentifier"))
    for oid, key in pairs:
        values = signer.subject.get_attributes_for_oid(oid)
        found = str(values[0].value) if values else None
        if found != doc.get(key):
            why = f"pass.json says {doc.get(key)!r}, the certificate {found!r}"
            yield Problem("signer-identity", key, why)


def _check_images(files: dict[str, bytes], doc: dict[str, Any]) -> Iterator[Problem]:
    style = next((s for s in STYLES if s in doc), None)
    for name, data in files.items():
        match = _IMAGE.match(name)
        if not match:
            continue
        base, scale = match.group(1), int(match.group(2) or 1)
        try:
            with Image.open(io.BytesIO(data)) as image:
                size, fmt = image.size, image.format
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            yield Problem("image", name, f"not a readable image ({exc})")
            continue
        if fmt != "PNG":
            yield Problem("image", name, f"must be PNG, is {fmt}")
        yield from _check_size(name, base, scale, size, style)


def _check_size(
    name: str, base: str, scale: int, size: tuple[int, int], style: str | None
) -> Iterator[Problem]:
    if base == "strip":
        if style in STRIP_SIZES:
            want = (STRIP_SIZES[style][0] * scale, STRIP_SIZES[style][1] * scale)
            if size != want:
                why = f"{style} strips are {want[0]}x{want[1]} px, got {size[0]}x{size[1]}"
                yield Problem("image-size", name, why)
        return
    exact, width, height = _IMAGE_SIZES[base]
    want = (width * scale, height * scale)
    bad = size != want if exact else (size[0] > want[0] or size[1] > want[1])
    if bad:
        rule = "exactly" if exact else "at most"
        yield Problem("image-size", name, f"must be {rule} {want[0]}x{want[1]} px, got {size[0]}x{size[1]}")


def _check_strings(files: dict[str, bytes]) -> Iterator[Problem]:
    for name, data in files.items():
        if not name.endswith("/pass.strings"):
            continue
        try:
            text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8")
        except UnicodeDecodeError:
            yield Problem("strings", name, "must be UTF-8 or UTF-16 (with a byte-order mark)")
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip() and not _STRING_LINE.match(line):
                yield Problem("strings", f"{name}:{number}", "not a '\"key\" = \"value\";' line")


_STRING_LINE = re.compile(r'^\s*"(?:[^"\\]|\\.)*"\s*=\s*"(?:[^"\\]|\\.)*"\s*;\s*\Z|^\s*(?://.*|/\*.*\*/)\s*\Z')
