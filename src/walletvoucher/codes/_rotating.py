"""Rotating Staff-Scan codes (Google Wallet's ``rotatingBarcode``): a screenshot goes stale in seconds.

Google Wallet redraws a rotating barcode every period from a TOTP key (RFC 6238, HMAC-SHA1) the pass
carries. Each voucher's key is **derived** from the business's :class:`~walletvoucher.codes.ScanKey`
(an HMAC of the voucher's serial), so a scanner that holds the scan key verifies any voucher offline,
without a table of per-object keys, and a key read off one pass opens no other. The value shown is::

    wvr1.<key id>.<serial>.<generation time, Unix seconds>.<8-digit TOTP>

:func:`verify_rotating_value` accepts the current step and one step of drift either way, refuses a
generation time further than that from the scanner's clock (a screenshot an hour old), and returns
the step so the store can accept each (serial, step) once. Apple Wallet cannot rotate a barcode: Apple
passes keep the signed token of :mod:`walletvoucher.codes._scan`, and the store's single use.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import struct
from collections.abc import Iterable
from datetime import datetime

import attrs

from walletvoucher.errors import ScanTokenExpired, ScanTokenMalformed, ScanTokenTampered, ValidationError

PREFIX = "wvr1"
PERIOD_SECONDS = 30
DIGITS = 8
DRIFT_STEPS = 1
_VALUE = re.compile(r"wvr1\.([A-Za-z0-9_-]{1,40})\.([A-Za-z0-9_-]{1,64})\.([0-9]{1,12})\.([0-9]{8})")


def totp(key: bytes, step: int, *, digits: int = DIGITS) -> str:
    """The RFC 6238 (HOTP over time steps, HMAC-SHA1) value of *key* at time step *step*.

    >>> totp(b"12345678901234567890", 59 // 30)       # RFC 6238, appendix B
    '94287082'
    """
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def object_key(secret: bytes, serial: str) -> bytes:
    """The 20-byte TOTP key of one voucher (or card): an HMAC of its serial under the scan key's secret."""
    label = b"walletvoucher rotating v1\x00" + serial.encode("ascii")
    return hmac.new(secret, label, hashlib.sha256).digest()[:20]


@attrs.frozen(kw_only=True)
class RotatingBarcode:
    """What a wallet needs to draw a rotating code: the value pattern, the key (hex), period, digits.

    ``key_hex`` is a secret of this one pass: it travels only in a REST call, never in a save link.
    """

    value_pattern: str
    key_hex: str = attrs.field(repr=False)
    period_seconds: int = PERIOD_SECONDS
    digits: int = DIGITS


def rotating_barcode(serial: str, *, key_id: str, secret: bytes) -> RotatingBarcode:
    """The rotating code of *serial* under a scan key (see :func:`verify_rotating_value`).

    >>> rotating_barcode("CARD1-1", key_id="k1", secret=b"0123456789abcdef").value_pattern
    'wvr1.k1.CARD1-1.{totp_timestamp_seconds}.{totp_value_0}'
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", serial or ""):
        raise ValidationError(
            "must be 1-64 characters of A-Z a-z 0-9 _ -",
            field="serial",
            value=serial,
            fix="use the voucher's serial as walletvoucher made it",
        )
    pattern = f"{PREFIX}.{key_id}.{serial}.{{totp_timestamp_seconds}}.{{totp_value_0}}"
    return RotatingBarcode(value_pattern=pattern, key_hex=object_key(secret, serial).hex().upper())


def rotating_value(serial: str, *, key_id: str, secret: bytes, at: datetime) -> str:
    """The value the wallet shows for *serial* at *at* (what a scanner reads): for tests and kiosks.

    >>> from datetime import datetime, timezone
    >>> rotating_value("C1-1", key_id="k1", secret=b"0123456789abcdef",
    ...                at=datetime(2026, 5, 7, tzinfo=timezone.utc))
    'wvr1.k1.C1-1.1778112000.30094777'
    """
    seconds = int(at.timestamp())
    code = totp(object_key(secret, serial), seconds // PERIOD_SECONDS)
    return f"{PREFIX}.{key_id}.{serial}.{seconds}.{code}"


@attrs.frozen(kw_only=True)
class RotatingClaims:
    """What a verified rotating value says: the serial, the key id and the TOTP step it was made in."""

    serial: str
    key_id: str
    step: int


def is_rotating_value(value: object) -> bool:
    """Whether *value* looks like a rotating code (``wvr1.``) rather than a signed token."""
    return isinstance(value, str) and value.strip().startswith(PREFIX + ".")


def verify_rotating_value(
    value: str, *, secrets: Iterable[tuple[str, bytes]], at: datetime, drift: int = DRIFT_STEPS
) -> RotatingClaims:
    """Check a scanned rotating value against the scan keys ``(key_id, secret)`` at the scanner's *at*.

    Raises :class:`ScanTokenMalformed` (not a rotating value), :class:`ScanTokenExpired` (made more
    than *drift* steps from *at*: a screenshot or a replay), :class:`ScanTokenTampered` (the code is
    not the serial's) or :class:`~walletvoucher.errors.ScanTokenUnknownKey` via the caller's lookup.
    """
    match = _VALUE.fullmatch(value.strip()) if isinstance(value, str) and len(value) <= 256 else None
    if match is None:
        raise ScanTokenMalformed(
            "is not a walletvoucher rotating code",
            field="token",
            secret=True,
            fix="scan the voucher's code in Google Wallet",
        )
    key_id, serial, seconds, code = match.group(1), match.group(2), int(match.group(3)), match.group(4)
    secret = dict(secrets).get(key_id)
    if secret is None:
        from walletvoucher.errors import ScanTokenUnknownKey

        raise ScanTokenUnknownKey(
            "was made with a key this scanner does not hold",
            field="token.key_id",
            value=key_id,
            fix="check the scanner is set up for this business",
        )
    step, now_step = seconds // PERIOD_SECONDS, int(at.timestamp()) // PERIOD_SECONDS
    if abs(step - now_step) > drift:
        away = abs(int(at.timestamp()) - seconds)
        raise ScanTokenExpired(
            f"was shown {away} s from now: a screenshot or a replay",
            field="token.timestamp",
            value=seconds,
            fix="ask the customer to open the pass in Google Wallet and scan it live",
        )
    if not hmac.compare_digest(totp(object_key(secret, serial), step), code):
        raise ScanTokenTampered(
            "code does not match the voucher",
            field="token",
            secret=True,
            fix="reject the voucher: the code was altered or forged",
        )
    return RotatingClaims(serial=serial, key_id=key_id, step=step)
