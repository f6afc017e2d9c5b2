"""The "Add to Google Wallet" save link: a JWT signed RS256 by the service account.

``https://pay.google.com/gp/v/save/<jwt>``, where the JWT carries the claims ``iss``
(service-account email), ``aud: "google"``, ``typ: "savetowallet"``, an integer ``iat``,
``origins`` and a ``payload`` of classes and objects (or only their ids).

JSON is serialised with sorted keys and compact separators and RS256 (PKCS#1 v1.5) is
deterministic, so the same input and clock give the same token, byte for byte.
"""

from __future__ import annotations

import base64
import enum
import functools
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import attrs
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from walletvoucher.errors import GoogleOptionsError, SaveLinkTooLong
from walletvoucher.google._credentials import ServiceAccountCredentials

__all__ = [
    "MAX_LINK_LENGTH",
    "SAVE_URL_PREFIX",
    "LinkMode",
    "SaveLink",
    "check_link_length",
    "save_url",
    "sign_save_jwt",
]

SAVE_URL_PREFIX = "https://pay.google.com/gp/v/save/"
MAX_LINK_LENGTH = 1800
"""Google's safe maximum for a save link. walletvoucher applies it to the whole URL, which
is stricter than applying it to the JWT alone, so a link that passes is safe either way."""


class LinkMode(enum.Enum):
    """What the JWT carries."""

    FULL = "full"
    """Classes and objects in full, inside the JWT: nothing to insert beforehand."""
    BY_ID = "by_id"
    """Only ``{"id": ...}``: the class and object were inserted through the REST API first."""
    OBJECT = "object"
    """The object in full, its class only by ``classId``: the class was inserted before (REST), and
    Google creates the object from the JWT (``payload: {"loyaltyObjects": [object]}``)."""


@attrs.frozen(kw_only=True)
class SaveLink:
    """A signed save link with its measured length."""

    url: str
    jwt: str
    mode: LinkMode
    warnings: tuple[str, ...] = ()
    """Texts over Google's recommended lengths (also raised as ``RecommendedLengthWarning``)."""

    @property
    def length(self) -> int:
        """Characters in the whole URL, the number compared with :data:`MAX_LINK_LENGTH`."""
        return len(self.url)


def dumps(data: Any) -> bytes:
    """Deterministic compact JSON (sorted keys, UTF-8, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN = re.compile(rf"https://(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{{1,5}}))?")
_MAX_ORIGIN = 300  # a scheme, a host name of at most 253 characters and a port


def check_origin(origin: object) -> str:
    """``origin`` if it is a web origin ``https://host[:port]``; else :class:`GoogleOptionsError`.

    Google shows the save button only on a page whose origin is listed, compared as a whole: a
    path, query, fragment, user name, upper-case letters, a trailing slash or the default port
    ``:443`` never match a page, and the button silently does not show. The error names the
    origin to use instead.

    >>> check_origin("https://shop.example.com:8443")
    'https://shop.example.com:8443'
    >>> try:
    ...     check_origin("https://shop.example.com/path")
    ... except GoogleOptionsError as error:
    ...     print(error.fix)
    use 'https://shop.example.com'
    """
    if isinstance(origin, str) and len(origin) <= _MAX_ORIGIN:
        found = _ORIGIN.fullmatch(origin)
        port = found["port"] if found is not None else None
        if found is not None and (port is None or (port[0] != "0" and port != "443" and int(port) <= 65535)):
            return origin
    shown = origin[:_MAX_ORIGIN] + "..." if isinstance(origin, str) and len(origin) > _MAX_ORIGIN else origin
    raise GoogleOptionsError(
        "is not a web origin (https://host[:port], nothing after the host or port), so no page matches it "
        "and the save button never shows",
        field="origins",
        value=shown,
        fix=_origin_fix(origin),
    )


def _origin_fix(origin: object) -> str:
    """The origin of the page ``origin`` points at, when it has one."""
    example = "give the origin of the pages that show the button, e.g. 'https://shop.example.com'"
    if not isinstance(origin, str) or len(origin) > _MAX_ORIGIN:
        return example
    try:
        parts = urlsplit(origin.strip())
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number, a bad IPv6 literal
        return example
    if parts.scheme.lower() not in ("https", "http") or not host or port == 0:
        return example
    host = f"[{host}]" if ":" in host else host
    suggestion = f"https://{host}" + (f":{port}" if port not in (None, 443) else "")
    if _ORIGIN.fullmatch(suggestion) is None:
        return example + " (a host name in ASCII: punycode for an international name)"
    return f"use {suggestion!r}"


def _check_origins(origins: Sequence[str]) -> list[str]:
    if isinstance(origins, str) or not isinstance(origins, Sequence) or not origins:
        raise GoogleOptionsError(
            "must be a non-empty list of https origins",
            field="origins",
            value=origins,
            fix="list the web origins that show the button, e.g. ['https://shop.example.com']",
        )
    return [check_origin(origin) for origin in origins]


def _check_at(at: datetime) -> int:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise GoogleOptionsError(
            "must be a timezone-aware datetime",
            field="at",
            value=at,
            fix="pass e.g. datetime.now(timezone.utc)",
        )
    return int(at.timestamp())


def sign_save_jwt(
    payload: Mapping[str, Any],
    *,
    credentials: ServiceAccountCredentials,
    origins: Sequence[str],
    at: datetime,
) -> str:
    """Sign a save-to-wallet JWT for ``payload`` (``{"loyaltyObjects": [...], ...}``).

    >>> from datetime import datetime, timezone
    >>> from cryptography.hazmat.primitives.asymmetric import rsa
    >>> creds = ServiceAccountCredentials(client_email="sa@p.iam.gserviceaccount.com",
    ...     private_key_id="k1", private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    >>> token = sign_save_jwt({"loyaltyObjects": [{"id": "3388000000022222222.c1"}]},
    ...     credentials=creds, origins=["https://shop.example.com"],
    ...     at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> token.count(".")
    2
    """
    claims = {
        "aud": "google",
        "iat": _check_at(at),
        "iss": credentials.client_email,
        "origins": _check_origins(origins),
        "payload": dict(payload),
        "typ": "savetowallet",
    }
    signing_input = f"{_encoded_header(credentials.private_key_id)}.{_b64url(dumps(claims))}"
    signature = credentials.private_key.sign(signing_input.encode("ascii"), _PKCS1, _SHA256)
    return f"{signing_input}.{_b64url(signature)}"


# Signing speed: the key object is loaded once (ServiceAccountCredentials holds it), the padding
# and hash objects are made once, and the base64url header is encoded once per key id, so a
# link costs the claims' JSON and the RSA operation, no more.
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


@functools.lru_cache(maxsize=64)
def _encoded_header(key_id: str) -> str:
    return _b64url(dumps({"alg": "RS256", "kid": key_id, "typ": "JWT"}))


def save_url(token: str) -> str:
    """The link for a signed token: ``https://pay.google.com/gp/v/save/<jwt>``."""
    return SAVE_URL_PREFIX + token


def check_link_length(link: SaveLink, *, what: str) -> SaveLink:
    """Return ``link`` if it is within :data:`MAX_LINK_LENGTH`; otherwise raise with the remedy."""
    if link.length <= MAX_LINK_LENGTH:
        return link
    raise SaveLinkTooLong(
        f"the save link for {what} is {link.length} characters (JWT {len(link.jwt)}), "
        f"over Google's safe maximum of {MAX_LINK_LENGTH}",
        field="rest",
        value=None,
        fix="pass rest=WalletRestClient(...) so the class and object are inserted through the REST API "
        "and the link carries only their ids (Google's documented path for large passes)",
    )
