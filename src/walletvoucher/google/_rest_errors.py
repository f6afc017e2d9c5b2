"""What the REST client tells its caller when a request fails: Google's error bodies, transport
errors from ``requests`` and ``Retry-After`` headers turned into library terms.

Everything quoted from a response is redacted first: a proxy or a misbehaving server that
echoes the ``Authorization`` header, an access token or a signed JWT never gets it into an
exception message.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import requests

from walletvoucher.errors import (
    GoogleApiError,
    GoogleAuthError,
    GoogleBadRequest,
    GoogleConflict,
    GoogleError,
    GoogleNotFound,
    GoogleOptionsError,
    GoogleUnavailable,
)

__all__ = [
    "RETRY_STATUSES",
    "api_error",
    "json_body",
    "redact",
    "retry_after_seconds",
    "transport_error",
]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONSOLE = "the Google Pay & Wallet Console (https://pay.google.com/business/console)"
_MAX_QUOTED = 300
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|authorization)(\s*[:=]?\s*)[^\s\"',;]+(?:\s+[^\s\"',;]+)?"),
    re.compile(r"ya29\.[\w\-.~+/]+"),
    re.compile(r"\beyJ[\w-]*\.[\w-]*\.?[\w-]*"),
    re.compile(r"(?i)(\"?(?:access_token|id_token|refresh_token|assertion)\"?\s*[:=]\s*\"?)[^\s\"',&}]+"),
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without tokens, bearer credentials or JWTs, control characters escaped, bounded.

    >>> redact('{"error": "bad token ya29.a0AfH6SMB-secret", "Authorization": "Bearer abc.def"}')
    '{"error": "bad token <redacted>", "Authorization": "<redacted>"}'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    text = _SECRET_PATTERNS[0].sub("<redacted>", text)
    text = _SECRET_PATTERNS[1].sub("<redacted>", text)
    text = _SECRET_PATTERNS[2].sub("<redacted>", text)
    text = _SECRET_PATTERNS[3].sub(lambda m: m.group(1) + "<redacted>", text)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= _MAX_QUOTED else text[:_MAX_QUOTED] + "..."


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, in either form of RFC 9110 §10.2.3.

    ``delta-seconds`` (``"120"``) or an HTTP-date, counted from ``now`` (the client's injected
    clock). ``None`` when the header is missing or unreadable; a date in the past gives 0.

    >>> now = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
    >>> retry_after_seconds("7", now), retry_after_seconds("Thu, 07 May 2026 10:30:12 GMT", now)
    (7.0, 12.0)
    >>> retry_after_seconds("soon", now) is None
    True
    """
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322's "UTC, origin unknown"
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def json_body(response: requests.Response) -> dict[str, Any]:
    """The response's JSON object, or ``{}`` for anything else (empty, not JSON, too deep)."""
    try:
        data = response.json()
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def transport_error(exc: requests.RequestException, method: str, what: str) -> GoogleError | None:
    """A library error for a ``requests`` failure that retrying cannot fix; ``None`` if it might.

    Only the exception's type is named: ``requests`` puts header values (the bearer token)
    into some of its messages.
    """
    kind = type(exc).__name__
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema, requests.exceptions.URLRequired)):
        return GoogleOptionsError(
            f"{method} could not be sent: the URL is not usable ({kind})",
            field="base_url",
            value=None,
            fix="pass base_url='https://walletobjects.googleapis.com/walletobjects/v1' (the default) "
            "or the full https URL of your test server",
        )
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return GoogleAuthError(
            f"{method} could not be sent: the access token is not a valid header value ({kind})",
            field="token",
            value=None,
            fix="check the token source returns a bare OAuth2 access token (no spaces or newlines)",
        )
    if isinstance(exc, requests.exceptions.InvalidJSONError):
        return GoogleOptionsError(
            f"{method} could not be sent: the body is not JSON ({kind})",
            field="body",
            value=None,
            fix="build bodies with walletvoucher.google's builders (plain dicts, lists, str, int, bool)",
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return GoogleUnavailable(
            f"{method} failed: the TLS connection could not be verified ({kind})",
            field="id",
            value=what,
            fix="check the system time and CA bundle (REQUESTS_CA_BUNDLE); a corporate proxy may be "
            "intercepting TLS",
        )
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError)):
        return None
    return GoogleUnavailable(
        f"{method} failed ({kind})",
        field="id",
        value=what,
        fix="check base_url and the network between this host and the Wallet API",
    )


def unreachable(method: str, what: str, attempts: int, last: str) -> GoogleUnavailable:
    """The error after every attempt failed without an answer."""
    return GoogleUnavailable(
        f"{method} could not reach the Wallet API after {attempts} attempts ({last})",
        field="id",
        value=what,
        fix="check the network (and base_url), then try again",
    )


def _google_error(response: requests.Response, secrets: Iterable[str]) -> tuple[str, str | None]:
    error = json_body(response).get("error")
    if not isinstance(error, dict):
        return redact(response.text[:2000] or response.reason or "no error body", secrets), None
    details = error.get("errors")
    first = details[0] if isinstance(details, list) and details else None
    reason = first.get("reason") if isinstance(first, dict) else None
    reason = redact(reason, secrets) if isinstance(reason, str) else None
    return redact(str(error.get("message", ""))[:2000], secrets), reason


def api_error(
    response: requests.Response,
    method: str,
    what: str,
    attempts: int,
    secrets: Iterable[str] = (),
    retry_after: float | None = None,
) -> GoogleApiError:
    """The library error for Google's refusal, with the fix; secrets in the body redacted.

    *retry_after* (the seconds a 429/5xx asked for) is kept on the error for a caller that retries
    later, e.g. the outbox worker."""
    message, reason = _google_error(response, tuple(secrets))
    status = response.status_code
    cls, fix = classify(status, message, reason)
    text = f"{method} failed with HTTP {status} ({reason or 'no reason'}): {message}"
    if status in RETRY_STATUSES:
        text += f" after {attempts} attempts"
    wait = retry_after if status in RETRY_STATUSES else None
    return cls(text, status=status, reason=reason, field="id", value=what, fix=fix, retry_after=wait)


def classify(status: int, message: str, reason: str | None) -> tuple[type[GoogleApiError], str]:
    """Google's status and message -> the exception class and what to do."""
    lowered = message.lower()
    if status == 401:
        return GoogleAuthError, (
            "the access token was refused (even after fetching a new one): make sure the "
            "service-account key is active and not rotated, and that tokens come from the right token_uri"
        )
    if "not allowed to save" in lowered or "test user" in lowered or "demo mode" in lowered:
        return GoogleAuthError, (
            f"the issuer is in demo mode: add the Google account as a test user in {CONSOLE}, "
            "or request publishing access"
        )
    if status == 403:
        return GoogleAuthError, (
            f"add the service-account email as a user (Developer access) in {CONSOLE} > Users, "
            "enable the Google Wallet API in the Cloud project, and check the id starts with your issuer id"
        )
    if status == 404:
        return GoogleNotFound, (
            "check the id starts with the Issuer ID from the Pay & Wallet Console (not the service "
            "account's client_id or the Cloud project number), and insert the class before its objects"
        )
    if status == 409:
        return GoogleConflict, "use upsert(), replace() or patch() for an id that already exists"
    if "approv" in lowered or "review" in lowered or "draft" in lowered:
        return GoogleBadRequest, (
            "the class is not approved: set reviewStatus to UNDER_REVIEW (not DRAFT; a draft class "
            f"cannot have objects); until the issuer has publishing access only test users in {CONSOLE} "
            "can save passes"
        )
    if "class" in lowered and ("not found" in lowered or "does not exist" in lowered):
        return GoogleBadRequest, "insert the class (loyalty_class()/offer_class()) before its objects"
    if status in RETRY_STATUSES:
        return GoogleUnavailable, "the API is overloaded or failing: try again later with a longer backoff"
    return GoogleBadRequest, (
        "the body does not match the walletobjects v1 schema: remove unknown fields, and build bodies "
        "with walletvoucher.google's builders"
    )
