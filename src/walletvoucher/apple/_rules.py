"""pass.json rules, checked before signing and again by ``verify``.

Each rule has a short name (shown in every problem) so a report says *which* rule broke:

=======================  ===========================================================
``required-key``         description, formatVersion (1), organizationName,
                         passTypeIdentifier, serialNumber, teamIdentifier
``one-style``            exactly one of boardingPass, coupon, eventTicket, generic, storeCard
``field-shape``          every field is an object with a string ``key`` and a ``value``
``field-key-unique``     field keys are unique across the whole pass (back fields included)
``field-count``          no more fields in an area than the style shows
``change-message``       a ``changeMessage`` has exactly one ``%@`` and no other ``%`` Wallet
                         would substitute (a literal percent sign is written ``%%``)
``currency-number``      ``currencyCode`` only on a numeric value
``safe-number``          numeric values are finite and below 2**53 in magnitude, so every JSON
                         reader holds them exactly
``color``                colours written as ``rgb(r, g, b)`` with 0-255 channels
``w3c-date``             dates like ``2026-05-07T10:30:00+02:00`` or ``...Z``: no milliseconds,
                         never without a zone
``no-relevant-date``     no ``relevantDate`` on a store (loyalty) card
``locations``            at most 10, each with numeric latitude and longitude
``web-service``          ``webServiceURL`` is https and comes with an ``authenticationToken``
                         of 16+ characters (and the other way round)
``barcode``              known format, a string message and ``messageEncoding``; the message
                         can be written in that encoding (e.g. Chinese needs ``utf-8``)
``boolean``              ``voided`` and ``sharingProhibited`` are true/false
=======================  ===========================================================
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from walletvoucher.errors import PassJsonError

STYLES = ("boardingPass", "coupon", "eventTicket", "generic", "storeCard")
AREAS = ("headerFields", "primaryFields", "secondaryFields", "auxiliaryFields", "backFields")
BARCODE_FORMATS = frozenset(
    {"PKBarcodeFormatQR", "PKBarcodeFormatPDF417", "PKBarcodeFormatAztec", "PKBarcodeFormatCode128"}
)
REQUIRED = ("description", "organizationName", "passTypeIdentifier", "serialNumber", "teamIdentifier")
MAX_LOCATIONS = 10
MIN_TOKEN_LENGTH = 16
MAX_SAFE_INTEGER = 2**53

# (header, primary, secondary, auxiliary, secondary+auxiliary) per style; None = no extra limit.
_LIMITS: dict[str, tuple[int, int, int, int, int | None]] = {
    "storeCard": (3, 1, 4, 4, 4),
    "coupon": (3, 1, 4, 4, 4),
    "generic": (3, 1, 4, 4, None),
    "eventTicket": (3, 1, 4, 4, None),
    "boardingPass": (3, 2, 5, 5, None),
}
_RGB = re.compile(r"^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)\Z")
_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})\Z")
_COLORS = ("foregroundColor", "backgroundColor", "labelColor")
_DATES = ("expirationDate", "relevantDate")


@attrs.frozen
class Problem:
    """One broken rule: its name, where in the document, and why.

    >>> str(Problem("color", "backgroundColor", "must be rgb(r, g, b), got '#fff'"))
    "[color] backgroundColor: must be rgb(r, g, b), got '#fff'"
    """

    rule: str
    where: str
    why: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.why}"


def check_pass_json(doc: Mapping[str, Any]) -> list[Problem]:
    """Return every rule ``doc`` breaks (an empty list when it is fine).

    >>> [p.rule for p in check_pass_json({"formatVersion": 1})][:2]
    ['required-key', 'required-key']
    """
    problems: list[Problem] = []
    for check in (_required, _style, _colors, _dates, _locations, _web_service, _barcodes, _booleans):
        problems.extend(check(doc))
    return problems


def validate_pass_json(doc: Mapping[str, Any]) -> None:
    """Raise :class:`PassJsonError` listing every broken rule, or return quietly."""
    problems = check_pass_json(doc)
    if problems:
        raise PassJsonError(
            "pass.json breaks Wallet's rules: " + "; ".join(str(p) for p in problems),
            field="pass.json",
            fix="correct each named rule (see walletvoucher.apple._rules)",
            problems=tuple((p.rule, p.where, p.why) for p in problems),
        )


def _required(doc: Mapping[str, Any]) -> Iterator[Problem]:
    for key in REQUIRED:
        value = doc.get(key)
        if not isinstance(value, str) or not value:
            yield Problem("required-key", key, f"must be a non-empty string, got {value!r}")
    if doc.get("formatVersion") != 1:
        yield Problem("required-key", "formatVersion", f"must be 1, got {doc.get('formatVersion')!r}")


def _style(doc: Mapping[str, Any]) -> Iterator[Problem]:
    present = [s for s in STYLES if s in doc]
    if len(present) != 1:
        yield Problem("one-style", "/", f"needs exactly one of {', '.join(STYLES)}; found {present}")
        return
    style = present[0]
    body = doc[style]
    if not isinstance(body, Mapping):
        yield Problem("one-style", style, "must be an object")
        return
    yield from _fields(style, body)
    if style == "storeCard" and "relevantDate" in doc:
        yield Problem("no-relevant-date", "relevantDate", "store cards must not carry a relevantDate")


def _fields(style: str, body: Mapping[str, Any]) -> Iterator[Problem]:
    seen: set[str] = set()
    counts: dict[str, int] = {}
    for area in AREAS:
        fields = body.get(area, [])
        if not isinstance(fields, list):
            yield Problem("field-shape", f"{style}.{area}", "must be a list of fields")
            continue
        counts[area] = len(fields)
        for index, field in enumerate(fields):
            where = f"{style}.{area}[{index}]"
            yield from _field(where, field, seen)
    yield from _counts(style, counts)


def _field(where: str, field: Any, seen: set[str]) -> Iterator[Problem]:
    if not isinstance(field, Mapping) or not isinstance(field.get("key"), str) or "value" not in field:
        yield Problem("field-shape", where, "needs a string 'key' and a 'value'")
        return
    key = field["key"]
    if key in seen:
        yield Problem("field-key-unique", where, f"key {key!r} is used twice")
    seen.add(key)
    message = field.get("changeMessage")
    if message is not None and not _one_placeholder(message):
        yield Problem("change-message", f"{where}.changeMessage",
                      f"must contain %@ once and no other unescaped %, got {message!r}")
    value = field["value"]
    if _unsafe_number(value):
        yield Problem("safe-number", f"{where}.value", f"must be finite and below 2**53, got {value!r}")
    if "currencyCode" in field and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        yield Problem("currency-number", f"{where}.currencyCode", f"value must be a number, got {value!r}")
    if ("dateStyle" in field or "timeStyle" in field) and not _is_w3c(value):
        yield Problem("w3c-date", f"{where}.value", f"must be a W3C date with a zone, got {value!r}")


def _one_placeholder(message: Any) -> bool:
    if not isinstance(message, str):
        return False
    rest = message.replace("%%", "")
    return rest.count("%") == 1 and "%@" in rest


def _unsafe_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not math.isfinite(value) or abs(value) >= MAX_SAFE_INTEGER


def _counts(style: str, counts: Mapping[str, int]) -> Iterator[Problem]:
    limits = _LIMITS[style]
    for area, limit in zip(AREAS[:4], limits[:4], strict=True):
        if counts.get(area, 0) > limit:
            why = f"{style} shows at most {limit}, got {counts[area]}"
            yield Problem("field-count", f"{style}.{area}", why)
    both = limits[4]
    total = counts.get("secondaryFields", 0) + counts.get("auxiliaryFields", 0)
    if both is not None and total > both:
        yield Problem(
            "field-count", f"{style}.secondaryFields+auxiliaryFields",
            f"{style} shows at most {both} secondary and auxiliary fields together, got {total}",
        )


def _is_w3c(value: Any) -> bool:
    return isinstance(value, str) and bool(_W3C.match(value))


def _colors(doc: Mapping[str, Any]) -> Iterator[Problem]:
    for key in _COLORS:
        if key not in doc:
            continue
        match = _RGB.match(doc[key]) if isinstance(doc[key], str) else None
        if not match or any(int(c) > 255 for c in match.groups()):
            yield Problem("color", key, f"must be rgb(r, g, b) with 0-255, got {doc[key]!r}")


def _dates(doc: Mapping[str, Any]) -> Iterator[Problem]:
    for key in _DATES:
        if key in doc and not _is_w3c(doc[key]):
            yield Problem("w3c-date", key, f"must look like 2026-05-07T10:30:00+02:00, got {doc[key]!r}")


def _locations(doc: Mapping[str, Any]) -> Iterator[Problem]:
    locations = doc.get("locations", [])
    if not isinstance(locations, list):
        yield Problem("locations", "locations", "must be a list")
        return
    if len(locations) > MAX_LOCATIONS:
        yield Problem("locations", "locations", f"at most {MAX_LOCATIONS}, got {len(locations)}")
    for index, loc in enumerate(locations):
        ok = isinstance(loc, Mapping) and all(
            isinstance(loc.get(k), (int, float)) and not isinstance(loc.get(k), bool)
            for k in ("latitude", "longitude")
        )
        if not ok:
            yield Problem("locations", f"locations[{index}]", "needs numeric latitude and longitude")


def _web_service(doc: Mapping[str, Any]) -> Iterator[Problem]:
    url, token = doc.get("webServiceURL"), doc.get("authenticationToken")
    if url is None and token is None:
        return
    if not isinstance(url, str) or not url.startswith("https://"):
        yield Problem("web-service", "webServiceURL", f"must be an https:// URL, got {url!r}")
    if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH:
        yield Problem("web-service", "authenticationToken", f"must be {MIN_TOKEN_LENGTH}+ characters")


def _barcodes(doc: Mapping[str, Any]) -> Iterator[Problem]:
    barcodes = doc.get("barcodes", [])
    if not isinstance(barcodes, list):
        yield Problem("barcode", "barcodes", "must be a list")
        return
    for index, code in enumerate(barcodes):
        where = f"barcodes[{index}]"
        if not isinstance(code, Mapping):
            yield Problem("barcode", where, "must be an object")
            continue
        if not isinstance(code.get("format"), str) or code["format"] not in BARCODE_FORMATS:
            yield Problem("barcode", f"{where}.format", f"unknown format {code.get('format')!r}")
        message, encoding = code.get("message"), code.get("messageEncoding")
        if not isinstance(message, str) or not isinstance(encoding, str):
            yield Problem("barcode", where, "needs a string message and messageEncoding")
        elif not _encodes(message, encoding):
            yield Problem("barcode", f"{where}.messageEncoding",
                          f"{encoding!r} cannot carry the message; declare 'utf-8'")


def _encodes(message: str, encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
        message.encode(encoding)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return False
    return True


def _booleans(doc: Mapping[str, Any]) -> Iterator[Problem]:
    for key in ("voided", "sharingProhibited"):
        if key in doc and not isinstance(doc[key], bool):
            yield Problem("boolean", key, f"must be true or false, got {doc[key]!r}")
