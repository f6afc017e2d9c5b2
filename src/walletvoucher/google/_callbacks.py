"""Google Wallet's save and delete callbacks, verified offline.

When a holder saves or deletes a pass, Google POSTs to the class's ``callbackOptions.url`` a body
signed with the ``ECv2SigningOnly`` protocol of Google's payment-token cryptography (Google's
callback guide: sender id ``GooglePayPasses``, recipient id = your issuer id, root keys from
``https://pay.google.com/gp/m/issuer/keys``)::

    {"protocolVersion": "ECv2SigningOnly", "signature": "<base64 DER ECDSA>",
     "intermediateSigningKey": {"signedKey": "{\\"keyValue\\": ..., \\"keyExpiration\\": ...}",
                                "signatures": ["<base64 DER ECDSA>"]},
     "signedMessage": "{\\"classId\\": ..., \\"objectId\\": ..., \\"expTimeMillis\\": ...,
                        \\"eventType\\": \\"save\\" | \\"del\\", \\"nonce\\": ...}"}

Verification (as Tink's ``PaymentMethodTokenRecipient`` does it): a root key that has not expired
signed the intermediate key over ``lv(sender) lv(protocol) lv(signedKey)``; the intermediate key,
not expired, signed ``lv(sender) lv(recipient) lv(protocol) lv(signedMessage)``, where ``lv`` is a
4-byte little-endian length then the UTF-8 bytes; ECDSA P-256 with SHA-256, DER signatures; the
message has not expired. The root keys are given (fetching them is the caller's I/O); time is
given too (``at=``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from walletvoucher.errors import GoogleCallbackInvalid

__all__ = ["CALLBACK_KEYS_URL", "GoogleCallback", "verify_callback"]

CALLBACK_KEYS_URL = "https://pay.google.com/gp/m/issuer/keys"
"""Where Google publishes the root keys that sign its callbacks' intermediate keys."""
SENDER_ID = "GooglePayPasses"
PROTOCOL = "ECv2SigningOnly"
MAX_BODY = 64 * 1024
MAX_MILLIS = 253_402_300_799_999
"""The last millisecond of year 9999: an expiry past it is no time a datetime can hold."""
_EVENTS = {"save": "card_saved", "del": "card_removed"}
_MILLIS = re.compile(r"[0-9]{1,15}")


@attrs.frozen(kw_only=True)
class GoogleCallback:
    """A verified save or delete: ``event`` is ``"card_saved"`` or ``"card_removed"``.

    ``nonce`` is unique per callback; Google may deliver one more than once, so use it to
    de-duplicate.
    """

    event: str
    class_id: str
    object_id: str
    nonce: str
    expires_at: datetime


def verify_callback(
    body: bytes | str, *, issuer_id: str, root_keys: Mapping[str, Any] | str, at: datetime
) -> GoogleCallback:
    """Verify a callback body and return what it says; :class:`GoogleCallbackInvalid` otherwise.

    *root_keys*: the JSON served at :data:`CALLBACK_KEYS_URL` (``{"keys": [{"keyValue",
    "protocolVersion", "keyExpiration"}]}``), parsed or as text. *at*: now, for the expiries.
    Every value is checked before it is used, signed or not: texts must be valid UTF-8 (no lone
    surrogate), expiries digits 0-9 up to :data:`MAX_MILLIS`, ``eventType`` the string ``save`` or
    ``del``; so a hostile body ends in :class:`GoogleCallbackInvalid`, never a foreign error.
    """
    now_ms = _millis(at)
    issuer_id = _issuer(issuer_id)
    token = _object(_parse(body, "body"), "body")
    if token.get("protocolVersion") != PROTOCOL:
        raise _invalid("protocolVersion", token.get("protocolVersion"), f"must be {PROTOCOL!r}")
    block = _object(token.get("intermediateSigningKey"), "intermediateSigningKey")
    intermediate = _verified_intermediate(block, _root_keys(root_keys, now_ms), now_ms)
    signed_message = _text(token.get("signedMessage"), "signedMessage")
    signed = _length_values(SENDER_ID, issuer_id, PROTOCOL, signed_message)
    if not _any_verifies([intermediate], [_b64(token.get("signature"), "signature")], signed):
        raise _invalid("signature", None, "does not verify with the intermediate key for this issuer id")
    return _message(_object(_parse(signed_message, "signedMessage"), "signedMessage"), now_ms)


def _verified_intermediate(
    block: Mapping[str, Any], roots: list[ec.EllipticCurvePublicKey], now_ms: int
) -> ec.EllipticCurvePublicKey:
    signed_key = _text(block.get("signedKey"), "intermediateSigningKey.signedKey")
    raw = block.get("signatures")
    if not isinstance(raw, list) or not raw or len(raw) > 10:
        raise _invalid("intermediateSigningKey.signatures", None, "must be a list of 1 to 10 signatures")
    signatures = [_b64(s, "intermediateSigningKey.signatures") for s in raw]
    if not _any_verifies(roots, signatures, _length_values(SENDER_ID, PROTOCOL, signed_key)):
        raise _invalid("intermediateSigningKey", None, "is not signed by any current Google root key")
    key = _object(_parse(signed_key, "signedKey"), "signedKey")
    if _expiry(key.get("keyExpiration"), "signedKey.keyExpiration") <= now_ms:
        raise _invalid(
            "signedKey.keyExpiration", key.get("keyExpiration"), "the intermediate key has expired"
        )
    return _public_key(key.get("keyValue"), "signedKey.keyValue")


def _root_keys(root_keys: Mapping[str, Any] | str, now_ms: int) -> list[ec.EllipticCurvePublicKey]:
    document = _object(
        _parse(root_keys, "root_keys") if isinstance(root_keys, str) else root_keys, "root_keys"
    )
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise _invalid("root_keys", None, 'must be {"keys": [...]} as served by Google')
    keys = []
    for entry in entries[:50]:
        if not isinstance(entry, dict) or entry.get("protocolVersion") != PROTOCOL:
            continue
        expiry = entry.get("keyExpiration")
        if expiry is not None and _expiry(expiry, "root_keys.keyExpiration") <= now_ms:
            continue
        keys.append(_public_key(entry.get("keyValue"), "root_keys.keyValue"))
    if not keys:
        raise _invalid("root_keys", None, f"hold no current {PROTOCOL} key")
    return keys


def _message(message: Mapping[str, Any], now_ms: int) -> GoogleCallback:
    expires = _expiry(message.get("expTimeMillis"), "expTimeMillis")
    if expires <= now_ms:
        raise _invalid("expTimeMillis", message.get("expTimeMillis"), "the callback has expired")
    kind = message.get("eventType")
    if not isinstance(kind, str) or kind not in _EVENTS:
        raise _invalid("eventType", kind, "must be 'save' or 'del'")
    return GoogleCallback(
        event=_EVENTS[str(kind)],
        class_id=_text(message.get("classId"), "classId"),
        object_id=_text(message.get("objectId"), "objectId"),
        nonce=_text(message.get("nonce"), "nonce"),
        expires_at=datetime.fromtimestamp(expires / 1000, tz=timezone.utc),
    )


def _length_values(*chunks: str) -> bytes:
    out = b""
    for chunk in chunks:
        data = chunk.encode("utf-8")
        out += len(data).to_bytes(4, "little") + data
    return out


def _any_verifies(keys: list[ec.EllipticCurvePublicKey], signatures: list[bytes], data: bytes) -> bool:
    for key in keys:
        for signature in signatures:
            try:
                key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                continue
            return True
    return False


def _public_key(value: object, field: str) -> ec.EllipticCurvePublicKey:
    der = _b64(value, field)
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as exc:
        raise _invalid(field, None, "is not a DER SubjectPublicKeyInfo") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise _invalid(field, None, "must be an EC P-256 public key")
    return key


def _parse(text: bytes | str, field: str) -> Any:
    if len(text) > MAX_BODY:
        raise _invalid(field, f"{len(text)} bytes", f"is over {MAX_BODY} bytes")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _invalid(field, None, "is not JSON") from exc


def _object(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _invalid(field, type(value).__name__, "must be a JSON object")
    return value


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise _invalid(field, type(value).__name__, "must be a non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, from a "\\ud800" escape in the JSON
        raise _invalid(field, None, f"is not valid UTF-8 text (a lone surrogate at {exc.start})") from None
    return value


def _issuer(issuer_id: object) -> str:
    """The caller's issuer id: the digits Google gave the account (signed over as text)."""
    if not isinstance(issuer_id, str) or not issuer_id.isascii() or not issuer_id.strip():
        raise GoogleCallbackInvalid(
            "must be your Google Wallet issuer id as text",
            field="issuer_id",
            value=_shown(issuer_id) if isinstance(issuer_id, (str, int)) else type(issuer_id).__name__,
            fix="pass issuer_id='3388000000012345678' (from the Google Pay & Wallet console)",
        )
    return issuer_id


def _b64(value: object, field: str) -> bytes:
    try:
        return base64.b64decode(_text(value, field), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(field, None, "is not base64") from exc


def _expiry(value: object, field: str) -> int:
    """Milliseconds since the epoch, as digits 0-9 (text or a JSON number), up to year 9999."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not _MILLIS.fullmatch(text) or int(text) > MAX_MILLIS:
        why = f"must be milliseconds since the epoch (digits 0-9, at most {MAX_MILLIS})"
        raise _invalid(field, value, why)
    return int(text)


def _millis(at: datetime) -> int:
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise GoogleCallbackInvalid(
            "must be a timezone-aware datetime",
            field="at",
            value=at,
            fix="pass e.g. datetime.now(timezone.utc)",
        )
    return int(at.timestamp() * 1000)


def _invalid(field: str, value: object, message: str) -> GoogleCallbackInvalid:
    """The error; *value* None quotes no value (keys, signatures and bodies are not worth quoting)."""
    shown: dict[str, Any] = {} if value is None else {"value": _shown(value)}
    return GoogleCallbackInvalid(
        message,
        field=field,
        fix="answer 400 and do not record it: only Google's signed callbacks for your issuer id count "
        f"(keep the root keys from {CALLBACK_KEYS_URL} current)",
        **shown,
    )


def _shown(value: object) -> object:
    """A value fit to quote: short text, a small int, or only the type's name (hostile input is bounded)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**20):
        return value
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:80] + "..."
    return f"<{type(value).__name__}>"
