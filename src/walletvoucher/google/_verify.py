"""Offline verification of a save link: signature, claims, payload, length."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from walletvoucher.errors import GoogleOptionsError, SaveLinkInvalid
from walletvoucher.google._credentials import ServiceAccountCredentials
from walletvoucher.google._savelink import MAX_LINK_LENGTH, SAVE_URL_PREFIX
from walletvoucher.google._schema import find_discovery_document, load_discovery_document, payload_problems

__all__ = ["MAX_CHECKED_LENGTH", "LinkReport", "verify_save_link"]


@attrs.frozen(kw_only=True)
class LinkReport:
    """What :func:`verify_save_link` found. ``ok`` is true when ``problems`` is empty."""

    url_length: int
    jwt_length: int
    claims: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    schema_checked: bool = False

    @property
    def ok(self) -> bool:
        """No problems found."""
        return not self.problems

    def raise_for_problems(self) -> LinkReport:
        """Return the report if the link is good; otherwise raise :class:`SaveLinkInvalid`."""
        if self.ok:
            return self
        raise SaveLinkInvalid(
            "; ".join(self.problems),
            field="save_link",
            value=f"<{self.url_length} characters>",
            fix="re-sign the link with walletvoucher.google.save_link and the service account's current key",
        )

    def lines(self) -> list[str]:
        """A human-readable report, one finding per line."""
        head = "OK" if self.ok else f"{len(self.problems)} problem(s)"
        out = [f"{head}: link {self.url_length} characters (limit {MAX_LINK_LENGTH}), JWT {self.jwt_length}"]
        out += [f"problem: {p}" for p in self.problems]
        out += [f"note: {n}" for n in self.notes]
        return out


def verify_save_link(
    url: str,
    *,
    key: ServiceAccountCredentials | rsa.RSAPublicKey,
    discovery: Mapping[str, Any] | str | Path | None = None,
) -> LinkReport:
    """Check a save link offline against the service account's public key.

    Checks the URL prefix and length, the RS256 signature, the ``kid`` header, the claims
    (``iss``, ``aud: google``, ``typ: savetowallet``, integer ``iat``, ``origins``) and the
    payload against the walletobjects v1 discovery document (``discovery`` as a dict or path,
    else the copy in an installed google-api-python-client; skipped with a note otherwise).

    Whatever the input, it answers with a report: text it cannot read (not a string, lone
    surrogates, non-ASCII characters, garbage, more than :data:`MAX_CHECKED_LENGTH` characters)
    is a problem in the report, never an exception, and every quoted value is escaped so the
    report is safe to print.

    >>> # report = verify_save_link(url, key=load_service_account("key.json"))
    >>> # report.ok, report.lines()
    >>> print(*verify_save_link(SAVE_URL_PREFIX + chr(0xD800), key=None).problems)
    url: character '\\ud800' at position 33 is not ASCII (a save link is base64url text)
    """
    if not isinstance(url, str):
        problem = f"url: must be text, got {type(url).__name__}"
        return LinkReport(url_length=0, jwt_length=0, problems=(problem,))
    problems: list[str] = []
    notes: list[str] = []
    token = url[len(SAVE_URL_PREFIX) :] if url.startswith(SAVE_URL_PREFIX) else url
    if token == url:
        problems.append(f"url: does not start with {SAVE_URL_PREFIX}")
    if len(url) > MAX_LINK_LENGTH:
        problems.append(f"length: {len(url)} characters is over Google's safe maximum of {MAX_LINK_LENGTH}")
    unreadable = _unreadable(url)
    if unreadable is not None:
        problems.append(unreadable)
        return LinkReport(url_length=len(url), jwt_length=len(token), problems=tuple(problems))
    claims = _decode(token, key, problems)
    if claims is not None:
        _check_claims(claims, key, problems)
        checked = _check_payload(claims.get("payload"), discovery, problems, notes)
    else:
        checked = False
    return LinkReport(
        url_length=len(url),
        jwt_length=len(token),
        claims=claims or {},
        problems=tuple(problems),
        notes=tuple(notes),
        schema_checked=checked,
    )


MAX_CHECKED_LENGTH = 64 * 1024
"""Links longer than this are reported as too long without being decoded (bounded work)."""
_QUOTE_LIMIT = 80


def _unreadable(url: str) -> str | None:
    """Why ``url`` cannot be decoded as a JWT at all, or ``None``."""
    if len(url) > MAX_CHECKED_LENGTH:
        return f"url: {len(url)} characters is too long to check (limit {MAX_CHECKED_LENGTH})"
    if url.isascii():
        return None
    index, char = next((i, c) for i, c in enumerate(url) if not c.isascii())
    return f"url: character {char!a} at position {index} is not ASCII (a save link is base64url text)"


def _quote(value: Any) -> str:
    """A printable, bounded ``repr`` (escapes control characters and lone surrogates)."""
    text = ascii(value)
    return text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "..."


def _public(key: ServiceAccountCredentials | rsa.RSAPublicKey) -> rsa.RSAPublicKey:
    return key.public_key() if isinstance(key, ServiceAccountCredentials) else key


def _decode(
    token: str, key: ServiceAccountCredentials | rsa.RSAPublicKey, problems: list[str]
) -> dict[str, Any] | None:
    try:
        header = jwt.get_unverified_header(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            _public(key),
            algorithms=["RS256"],
            audience="google",
            options={"require": ["iss", "aud", "iat"], "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        problems.append(f"jwt: {type(exc).__name__}: {_quote(str(exc))[1:-1]}")
        return None
    except (ValueError, TypeError, RecursionError) as exc:  # what PyJWT lets through on odd input
        problems.append(f"jwt: cannot be decoded ({type(exc).__name__})")
        return None
    if header.get("alg") != "RS256":
        problems.append(f"header.alg: {_quote(header.get('alg'))}, expected 'RS256'")
    if not header.get("kid"):
        problems.append("header.kid: missing (Google picks the key by it)")
    elif isinstance(key, ServiceAccountCredentials) and header["kid"] != key.private_key_id:
        problems.append(f"header.kid: {_quote(header['kid'])} is not this key's id {key.private_key_id!r}")
    return claims


def _check_claims(
    claims: Mapping[str, Any], key: ServiceAccountCredentials | rsa.RSAPublicKey, problems: list[str]
) -> None:
    if claims.get("typ") != "savetowallet":
        problems.append(f"claims.typ: {_quote(claims.get('typ'))}, expected 'savetowallet'")
    if type(claims.get("iat")) is not int:
        problems.append(f"claims.iat: {_quote(claims.get('iat'))} must be an integer")
    if isinstance(key, ServiceAccountCredentials) and claims.get("iss") != key.client_email:
        iss = _quote(claims.get("iss"))
        problems.append(f"claims.iss: {iss} is not the service account {key.client_email!r}")
    origins = claims.get("origins")
    if not isinstance(origins, list) or not origins or not all(isinstance(o, str) and o for o in origins):
        problems.append(f"claims.origins: {_quote(origins)} must be a non-empty list of origins")


def _check_payload(
    payload: Any, discovery: Mapping[str, Any] | str | Path | None, problems: list[str], notes: list[str]
) -> bool:
    if not isinstance(payload, dict) or not payload:
        problems.append("claims.payload: must be a non-empty object of classes and objects")
        return False
    document = _document(discovery)
    if document is None:
        notes.append(
            "payload not checked against the discovery document: install "
            "google-api-python-client or pass --discovery PATH"
        )
        return False
    try:
        found = payload_problems(payload, "Resources", document)
    except RecursionError:
        problems.append("payload: nested too deeply to check")
        return False
    except (KeyError, TypeError, AttributeError) as exc:  # only the document can break the walk
        why = f"a schema it names is broken: {type(exc).__name__}"
        raise _not_a_discovery_document(discovery, why) from exc
    problems.extend(f"payload: {_quote(p)[1:-1]}" for p in found[:50])
    if len(found) > 50:
        problems.append(f"payload: ... and {len(found) - 50} more problems")
    return True


def _document(discovery: Mapping[str, Any] | str | Path | None) -> Mapping[str, Any] | None:
    if isinstance(discovery, Mapping):
        document: Any = discovery
    else:
        path = Path(discovery) if discovery is not None else find_discovery_document()
        if path is None:
            return None
        document = _load(str(path))
    schemas = document.get("schemas") if isinstance(document, Mapping) else None
    if not isinstance(schemas, Mapping) or not isinstance(schemas.get("Resources"), Mapping):
        raise _not_a_discovery_document(discovery, "it has no schemas.Resources")
    return document  # type: ignore[no-any-return]


def _not_a_discovery_document(discovery: object, why: str) -> GoogleOptionsError:
    shown = "<dict>" if isinstance(discovery, Mapping) else str(discovery)
    return GoogleOptionsError(
        f"is not a walletobjects v1 discovery document ({why})", field="discovery", value=shown,
        fix="pass the walletobjects.v1.json of google-api-python-client, or leave discovery unset",
    )


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Mapping[str, Any]:
    """The discovery document at ``path``, read once (it is about a megabyte of JSON)."""
    try:
        return load_discovery_document(path)
    except (OSError, ValueError) as exc:
        raise GoogleOptionsError(
            f"cannot be read as a discovery document ({type(exc).__name__})",
            field="discovery",
            value=path,
            fix="pass the walletobjects.v1.json of google-api-python-client, or leave discovery unset",
        ) from exc
