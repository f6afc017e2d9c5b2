"""Verify a .pkpass without trusting it: zip layout, manifest, signature, chain, pass.json, images.

Safe for untrusted uploads. Every problem is collected (not just the first) with the rule it
breaks, and nothing the file contains can raise anything but a problem in the report. All work
before the signature check is bounded: the zip reader (``_zipread``) counts entries from the end
record, checks names in linear time and caps the unpacked bytes in total; JSON is parsed with a
cap on size, depth and number length (``_untrusted``); the DER reader is linear and the
certificates are capped (``_verify_signature``). Text from the file is escaped in every problem,
so printing a report cannot drive a terminal. Nothing is ever written to disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, Union

import attrs
from cryptography import x509

from walletvoucher.apple._images import ICON_SIZE, LOGO_MAX, STRIP_SIZES
from walletvoucher.apple._rules import STYLES, Problem, check_pass_json
from walletvoucher.apple._untrusted import MAX_JSON_BYTES, JsonRejected, load_json, shown
from walletvoucher.apple._verify_signature import SignatureFindings, check_signature
from walletvoucher.apple._zipread import ZipLimits, read_zip
from walletvoucher.errors import InvalidPkpassError, PkpassReadError, ValidationError

LIMITS = ZipLimits()
MAX_BUNDLE_BYTES = LIMITS.max_archive_bytes
MAX_ENTRIES = LIMITS.max_entries
MAX_ENTRY_BYTES = LIMITS.max_entry_bytes
MAX_UNPACKED_BYTES = LIMITS.max_total_bytes
MAX_PROBLEMS = 200
"""A report lists at most this many problems (then says how many more there were)."""
_MAX_BAD_LINES = 10

PkpassSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]
"""The bundle's bytes, or the path of a .pkpass file."""

_IMAGE = re.compile(r"(?:[^/]+\.lproj/)?(icon|logo|strip|thumbnail|background|footer)(?:@([23])x)?\.png")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# (exact?, width, height) in points
_IMAGE_SIZES: dict[str, tuple[bool, int, int]] = {
    "icon": (True, *ICON_SIZE),
    "logo": (False, *LOGO_MAX),
    "thumbnail": (False, 90, 90),
    "background": (False, 180, 220),
    "footer": (False, 286, 15),
}
_STATUS_TEXT = {
    "valid": "OK",
    "unchecked": "OK BUT CHAIN NOT CHECKED",
    "invalid": "INVALID",
}
NOT_CHECKED = (
    "chain not checked against a trusted root: without one, anyone can make a chain like this; "
    "give ca=[root] (command line: --ca ROOT.pem; Apple Root CA for real passes)"
)


@attrs.frozen(kw_only=True)
class VerifyReport:
    """What ``verify_pkpass`` found: every problem, plus what it could read.

    ``ok`` is true when there are no problems. ``chain_checked`` is true only when the signer's
    chain ends in a self-signed root given as ``ca``: without it, an ``ok`` pass may have been
    signed by anyone. ``status`` says both at once: ``"valid"``, ``"unchecked"`` (no problems, but
    the chain was not checked against a trusted root) or ``"invalid"``.
    ``raise_for_problems()`` raises :class:`~walletvoucher.errors.InvalidPkpassError` listing them.
    Every text taken from the file (names, values, certificate subjects) is escaped in
    ``problems`` and ``signer``; ``pass_json`` is the parsed document as it is.
    """

    problems: tuple[Problem, ...]
    files: tuple[str, ...] = ()
    signer: str | None = None
    signing_time: datetime | None = None
    pass_json: dict[str, Any] | None = attrs.field(default=None, repr=False)
    chain_checked: bool = False

    @property
    def ok(self) -> bool:
        """No problems found (see ``chain_checked`` for whether the signer is trusted)."""
        return not self.problems

    @property
    def status(self) -> str:
        """``"valid"``, ``"unchecked"`` (no problems, chain not checked) or ``"invalid"``."""
        if not self.ok:
            return "invalid"
        return "valid" if self.chain_checked else "unchecked"

    def __str__(self) -> str:
        return self.text()

    def text(self, *, note: bool = True) -> str:
        """The report for a terminal: a status line, one line per problem and, unless ``note`` is
        false, a line saying that the chain was not checked when it was not."""
        head = f"{_STATUS_TEXT[self.status]}: {len(self.files)} files; signer: {self.signer or '?'}"
        if self.status == "valid":
            return f"{head}; chain checked against a trusted root"
        lines = [head, *(f"  {p}" for p in self.problems)]
        if note and not self.chain_checked:
            lines.append(f"  {NOT_CHECKED}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``walletvoucher verify --json`` prints)."""
        return {
            "status": self.status, "ok": self.ok, "chain_checked": self.chain_checked,
            "signer": self.signer,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "files": list(self.files),
            "problems": [{"rule": p.rule, "where": p.where, "why": p.why} for p in self.problems],
        }

    def raise_for_problems(self) -> None:
        """Raise :class:`InvalidPkpassError` if any problem was found."""
        if self.problems:
            raise InvalidPkpassError(
                "; ".join(str(p) for p in self.problems), field="pkpass",
                fix="rebuild the pass with walletvoucher.apple.render_pkpass",
                problems=tuple((p.rule, p.where, p.why) for p in self.problems),
            )


def verify_pkpass(
    data: PkpassSource,
    *,
    ca: Sequence[x509.Certificate] | x509.Certificate = (),
    at: datetime | None = None,
) -> VerifyReport:
    """Check a .pkpass: layout, manifest hashes, signature and chain, signer, pass.json, images.

    ``data`` is the bundle's bytes or a path (read with a size cap). ``ca`` are trusted
    self-signed roots: the chain must end in one of them, and only then is
    ``report.chain_checked`` true. Without ``ca`` the signature is still checked, but anyone can
    make a chain like the pass's: the report's ``status`` is then ``"unchecked"``. ``at`` is "now"
    for certificate validity (timezone-aware; default: the current time).

    A malformed or hostile file never raises: every fault is a problem in the report. A path that
    cannot be read raises :class:`~walletvoucher.errors.PkpassReadError`, a naive ``at`` or a
    ``ca`` that is not certificates a :class:`~walletvoucher.errors.ValidationError`.

    >>> verify_pkpass(b"not a zip").problems[0].rule
    'zip'
    """
    now = _clock(at)
    roots = _roots(ca)
    problems: list[Problem] = []
    files = read_zip(_read_source(data), LIMITS, problems)
    if files is None:
        return VerifyReport(problems=_tidy(problems))
    doc = _load_pass_json(files, problems)
    _check_manifest(files, problems)
    found = SignatureFindings()
    if "signature" in files and "manifest.json" in files:
        found = check_signature(files["manifest.json"], files["signature"], roots, now, problems)
    if doc is not None:
        problems.extend(_pass_json_rules(doc))
        if found.signer is not None:
            problems.extend(_check_identity(found, doc))
        problems.extend(_check_images(files, doc))
    problems.extend(_check_strings(files))
    return VerifyReport(
        problems=_tidy(problems), files=tuple(sorted(files)), pass_json=doc,
        signer=shown(found.signer, 400) if found.signer else None, signing_time=found.signing_time,
        chain_checked=found.chain_checked,
    )


# --- arguments --------------------------------------------------------------------------------------


def _clock(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(timezone.utc)
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError("must be a timezone-aware datetime", field="at", value=at,
                              fix="pass e.g. datetime.now(timezone.utc), or leave it out for now")
    return at


def _roots(ca: Sequence[x509.Certificate] | x509.Certificate) -> tuple[x509.Certificate, ...]:
    roots = (ca,) if isinstance(ca, x509.Certificate) else ca
    if not isinstance(roots, Iterable) or isinstance(roots, (str, bytes)) or not all(
        isinstance(r, x509.Certificate) for r in roots
    ):
        raise ValidationError("must be a list of x509.Certificate", field="ca", value=ca,
                              fix="load the root with walletvoucher.keys.load_certificate(path)")
    return tuple(roots)


def _read_source(data: PkpassSource) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if not isinstance(data, (str, os.PathLike)):
        raise PkpassReadError("must be the .pkpass bytes or a path", field="data", value=type(data).__name__,
                              fix="pass Path('card.pkpass') or its bytes")
    path = os.fspath(data)
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BUNDLE_BYTES + 1)
    except OSError as exc:
        raise PkpassReadError(f"cannot read the file ({exc.strerror})", field="data", value=str(path),
                              fix="give the path of a .pkpass file") from exc


def _tidy(problems: list[Problem]) -> tuple[Problem, ...]:
    kept = [Problem(p.rule, shown(p.where), shown(p.why, 400)) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        kept.append(Problem("too-many", "/", f"{len(problems) - MAX_PROBLEMS} more problems not listed"))
    return tuple(kept)


# --- pass.json and manifest -----------------------------------------------------------------------------


def _pass_json_rules(doc: dict[str, Any]) -> list[Problem]:
    """The pass.json rules; a rule that chokes on hostile content is reported, never raised.

    The rules are shared with rendering and grow; this edge keeps verify's promise (a report,
    never an exception) even if one of them meets a value it did not expect. The fuzz suite
    fails on any ``internal`` problem, so such a rule is still found and fixed.
    """
    try:
        return check_pass_json(doc)
    except (TypeError, ValueError, LookupError, AttributeError) as exc:
        why = f"a rule could not check this content ({type(exc).__name__}: {exc})"
        return [Problem("internal", "pass.json", why)]


def _load_pass_json(files: dict[str, bytes], problems: list[Problem]) -> dict[str, Any] | None:
    for required in ("pass.json", "manifest.json", "signature", "icon.png"):
        if required not in files:
            problems.append(Problem("layout", required, "is missing"))
    if "pass.json" not in files:
        return None
    try:
        doc = load_json(files["pass.json"])
    except JsonRejected as exc:
        problems.append(Problem("pass-json", "pass.json", f"cannot be read: {exc}"))
        return None
    if not isinstance(doc, dict):
        problems.append(Problem("pass-json", "pass.json", "must be a JSON object"))
        return None
    return doc


def _check_manifest(files: dict[str, bytes], problems: list[Problem]) -> None:
    if "manifest.json" not in files:
        return
    try:
        manifest = load_json(files["manifest.json"])
    except JsonRejected as exc:
        problems.append(Problem("manifest", "manifest.json", f"cannot be read: {exc}"))
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


# --- identity, images, strings -----------------------------------------------------------------


def _check_identity(found: SignatureFindings, doc: dict[str, Any]) -> Iterator[Problem]:
    pairs = ((found.pass_type_identifier, "passTypeIdentifier"), (found.team_identifier, "teamIdentifier"))
    for value, key in pairs:
        if value != doc.get(key):
            why = f"pass.json says {doc.get(key)!r}, the certificate {value!r}"
            yield Problem("signer-identity", key, why)


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's header (its IHDR chunk), or None when it is not a PNG.

    Nothing is decoded, so an image of any claimed size costs nothing to check.

    >>> png_size(b"\\x89PNG\\r\\n\\x1a\\n" + b"\\x00\\x00\\x00\\rIHDR" + bytes([0, 0, 0, 58, 0, 0, 0, 29]))
    (58, 29)
    """
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _check_images(files: dict[str, bytes], doc: dict[str, Any]) -> Iterator[Problem]:
    style = next((s for s in STYLES if s in doc), None)
    for name, data in files.items():
        match = _IMAGE.fullmatch(name)
        if not match:
            continue
        size = png_size(data)
        if size is None:
            yield Problem("image", name, "must be a PNG image (no PNG header)")
            continue
        yield from _check_size(name, match.group(1), int(match.group(2) or 1), size, style)


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
        if name.endswith("/pass.strings"):
            yield from _check_strings_file(name, data)


def _check_strings_file(name: str, data: bytes) -> Iterator[Problem]:
    if len(data) > MAX_JSON_BYTES:
        yield Problem("strings", name, f"{len(data)} bytes, over {MAX_JSON_BYTES}")
        return
    try:
        text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8")
    except UnicodeDecodeError:
        yield Problem("strings", name, "must be UTF-8 or UTF-16 (with a byte-order mark)")
        return
    bad = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() and not _STRING_LINE.match(line)]
    for number in bad[:_MAX_BAD_LINES]:
        yield Problem("strings", f"{name}:{number}", "not a '\"key\" = \"value\";' line")
    if len(bad) > _MAX_BAD_LINES:
        yield Problem("strings", name, f"{len(bad) - _MAX_BAD_LINES} more lines that are not key = value")


_STRING_LINE = re.compile(r'^\s*"(?:[^"\\]|\\.)*"\s*=\s*"(?:[^"\\]|\\.)*"\s*;\s*\Z|^\s*(?://.*|/\*.*\*/)\s*\Z')
