"""Staff-Scan tokens: a compact signed payload for a voucher's QR code.

A token names the voucher and its expiry and is signed with the business's secret key (HMAC-SHA256,
cut to 128 bits), so a scanner app that holds the key verifies it offline. The form is::

    wv1.<key id>.<voucher serial>.<expiry, base-36 Unix seconds or "-">.<signature, base64url>

A symmetric key keeps the token short enough (well under 120 characters) for a QR code that scans
from a phone screen; an Ed25519 signature alone would take 86 characters. The scanner must be
trusted with the key: treat it like a till password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import datetime, timezone

import attrs

from walletvoucher.codes._crockford import RandomSource
from walletvoucher.codes._rotating import is_rotating_value, verify_rotating_value
from walletvoucher.errors import (
    ScanTokenExpired,
    ScanTokenMalformed,
    ScanTokenTampered,
    ScanTokenUnknownKey,
    ValidationError,
)

_PREFIX = "wv1"
_SIG_BYTES = 16
_PART = re.compile(r"[A-Za-z0-9_-]{1,40}")
_SERIAL = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
_LAST_SECOND = int(_LAST.timestamp())


def _check_key_id(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _PART.fullmatch(value):
        raise ValidationError(
            "must be 1-40 characters of A-Z a-z 0-9 _ -",
            field="key_id",
            value=value,
            fix="choose a short id such as 'k1' or '2026-05'",
        )


def _check_secret(instance: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) < 16:
        raise ValidationError(
            "must be at least 16 bytes",
            field="secret",
            secret=True,
            fix="use ScanKey.generate(secrets.token_bytes, key_id=...)",
        )


@attrs.frozen(kw_only=True)
class ScanKey:
    """The business's secret for signing Staff-Scan tokens. Its repr never shows the secret.

    >>> key = ScanKey(key_id="k1", secret=b"0123456789abcdef")
    >>> key
    ScanKey(key_id='k1', secret=<redacted>)
    """

    key_id: str = attrs.field(validator=_check_key_id)
    secret: bytes = attrs.field(validator=_check_secret, repr=lambda _: "<redacted>")

    @classmethod
    def generate(cls, random: RandomSource, *, key_id: str) -> ScanKey:
        """A new 32-byte key from the caller's random source (e.g. :func:`secrets.token_bytes`)."""
        return cls(key_id=key_id, secret=random(32))

    def __repr__(self) -> str:
        return f"ScanKey(key_id={self.key_id!r}, secret=<redacted>)"


@attrs.frozen(kw_only=True)
class ScanClaims:
    """What a verified token says."""

    voucher_serial: str
    expires_at: datetime | None
    key_id: str
    step: int | None = None
    """The TOTP step of a rotating code (Google Wallet); None for a signed token."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(key: ScanKey, body: str) -> str:
    return _b64(hmac.new(key.secret, body.encode("ascii"), hashlib.sha256).digest()[:_SIG_BYTES])


def _encode_expiry(expires_at: datetime | None) -> str:
    if expires_at is None:
        return "-"
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None or expires_at.utcoffset() is None:
        raise ValidationError(
            "must be a timezone-aware datetime or None",
            field="expires_at",
            value=expires_at,
            fix="pass datetime(..., tzinfo=timezone.utc)",
        )
    if expires_at < _EPOCH:
        raise ValidationError(
            "is before 1970: a token that expired before it was made",
            field="expires_at",
            value=expires_at.isoformat(),
            fix="give the voucher's real expiry, or None for a token that never expires",
        )
    if expires_at > _LAST:
        raise ValidationError(
            "is after the end of year 9999 (UTC)",
            field="expires_at",
            value=expires_at.isoformat(),
            fix="give the voucher's real expiry, or None for a token that never expires",
        )
    return _to_base36(int(expires_at.timestamp()))


def _to_base36(number: int) -> str:
    """Base 36 of a non-negative int (the caller checks the sign)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def issue_scan_token(voucher_serial: str, *, expires_at: datetime | None, key: ScanKey) -> str:
    """Sign a Staff-Scan token for a voucher.

    >>> key = ScanKey(key_id="k1", secret=b"0123456789abcdef")
    >>> issue_scan_token("CARD1-1", expires_at=None, key=key)
    'wv1.k1.CARD1-1.-.pfTRXIG2bgEMAkJObaGWYg'
    """
    if not isinstance(key, ScanKey):
        raise ValidationError(
            f"must be a ScanKey, not {type(key).__name__}", field="key", value=type(key).__name__,
            fix="pass ScanKey(key_id=..., secret=...)",
        )
    if not isinstance(voucher_serial, str) or not _SERIAL.fullmatch(voucher_serial):
        raise ValidationError(
            "must be 1-64 characters of A-Z a-z 0-9 _ -",
            field="voucher_serial",
            value=voucher_serial,
            fix="use the voucher's serial as walletvoucher made it",
        )
    body = f"{_PREFIX}.{key.key_id}.{voucher_serial}.{_encode_expiry(expires_at)}"
    return f"{body}.{_sign(key, body)}"


def verify_scan_token(token: str, *, keys: Iterable[ScanKey], at: datetime) -> ScanClaims:
    """Check a scanned token offline and return its claims.

    Raises :class:`ScanTokenMalformed`, :class:`ScanTokenUnknownKey`, :class:`ScanTokenTampered` or
    :class:`ScanTokenExpired`, in that order of checking. The token itself is never put in a message.
    A rotating code from Google Wallet (``wvr1.``, see :mod:`walletvoucher.codes._rotating`) is checked
    with the same keys and returns its TOTP ``step`` in the claims.

    >>> from datetime import datetime, timezone
    >>> key = ScanKey(key_id="k1", secret=b"0123456789abcdef")
    >>> token = issue_scan_token("CARD1-1", expires_at=None, key=key)
    >>> verify_scan_token(token, keys=[key], at=datetime(2026, 5, 7, tzinfo=timezone.utc)).voucher_serial
    'CARD1-1'
    """
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(
            "must be a timezone-aware datetime", field="at", value=at,
            fix="pass datetime(..., tzinfo=timezone.utc)",
        )
    if is_rotating_value(token):
        held = _keys(keys)
        rotating = verify_rotating_value(token, secrets=[(k.key_id, k.secret) for k in held], at=at)
        return ScanClaims(voucher_serial=rotating.serial, expires_at=None, key_id=rotating.key_id,
                          step=rotating.step)
    parts = _split(token)
    _, key_id, serial, expiry, signature = parts
    key = _find_key(_keys(keys), key_id)
    if not hmac.compare_digest(_sign(key, ".".join(parts[:4])), signature):
        raise ScanTokenTampered(
            "signature does not match the payload",
            field="token",
            secret=True,
            fix="reject the voucher: the code was altered or forged",
        )
    expires_at = None if expiry == "-" else datetime.fromtimestamp(int(expiry, 36), tz=timezone.utc)
    if expires_at is not None and at >= expires_at:
        raise ScanTokenExpired(
            f"expired at {expires_at.isoformat()}",
            field="token.expires_at",
            value=expires_at.isoformat(),
            fix="the voucher can no longer be redeemed",
        )
    return ScanClaims(voucher_serial=serial, expires_at=expires_at, key_id=key_id)


def _split(token: str) -> list[str]:
    parts = token.strip().split(".") if isinstance(token, str) and len(token) <= 256 else []
    ok = (
        len(parts) == 5
        and parts[0] == _PREFIX
        and _PART.fullmatch(parts[1]) is not None
        and _SERIAL.fullmatch(parts[2]) is not None
        and re.fullmatch(r"-|[0-9a-z]{1,12}", parts[3]) is not None
        and (parts[3] == "-" or int(parts[3], 36) <= _LAST_SECOND)
        and re.fullmatch(r"[A-Za-z0-9_-]{22}", parts[4]) is not None
    )
    if not ok:
        raise ScanTokenMalformed(
            "is not a walletvoucher scan token",
            field="token",
            secret=True,
            fix="scan the voucher's Staff-Scan QR code",
        )
    return parts


def _keys(keys: Iterable[ScanKey]) -> tuple[ScanKey, ...]:
    try:
        held = tuple(keys)
    except TypeError:
        held = (keys,)  # type: ignore[assignment]
    for key in held:
        if not isinstance(key, ScanKey):
            raise ValidationError(
                f"must be ScanKey objects, not {type(key).__name__}", field="keys", value=type(key).__name__,
                fix="pass keys=[ScanKey(...), ...]",
            )
    return held


def _find_key(keys: Iterable[ScanKey], key_id: str) -> ScanKey:
    for key in keys:
        if hmac.compare_digest(key.key_id, key_id):
            return key
    raise ScanTokenUnknownKey(
        "was signed with a key this scanner does not hold",
        field="token.key_id",
        value=key_id,
        fix="check the scanner is set up for this business",
    )
