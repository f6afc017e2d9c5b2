"""Offline verification of a save link: signature, claims, payload, length."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from walletvoucher.errors import SaveLinkInvalid
from walletvoucher.google._credentials import ServiceAccountCredentials
from walletvoucher.google._savelink import MAX_LINK_LENGTH, SAVE_URL_PREFIX
from walletvoucher.google._schema import find_discovery_document, load_discovery_document, payload_problems

__all__ = ["LinkReport", "verify_save_link"]


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

    >>> # report = verify_save_link(url, key=load_service_account("key.json"))
    >>> # report.ok, report.lines()
    """
    problems: list[str] = []
    notes: list[str] = []
    token = url[len(SAVE_URL_PREFIX) :] if url.startswith(SAVE_URL_PREFIX) else url
    if token == url:
        problems.append(f"url: does not start with {SAVE_URL_PREFIX}")
    if len(url) > MAX_LINK_LENGTH:
        problems.append(f"length: {len(url)} characters is over Google's safe maximum of {MAX_LINK_LENGTH}")
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
        problems.append(f"jwt: {type(exc).__name__}: {exc}")
        return None
    if header.get("alg") != "RS256":
        problems.append(f"header.alg: {header.get('alg')!r}, expected 'RS256'")
    if not header.get("kid"):
        problems.append("header.kid: missing (Google picks the key by it)")
    elif isinstance(key, ServiceAccountCredentials) and header["kid"] != key.private_key_id:
        problems.append(f"header.kid: {header['kid']!r} is not this key's id {key.private_key_id!r}")
    return claims


def _check_claims(
    claims: Mapping[str, Any], key: ServiceAccountCredentials | rsa.RSAPublicKey, problems: list[str]
) -> None:
    if claims.get("typ") != "savetowallet":
        problems.append(f"claims.typ: {claims.get('typ')!r}, expected 'savetowallet'")
    if type(claims.get("iat")) is not int:
        problems.append(f"claims.iat: {claims.get('iat')!r} must be an integer")
    if isinstance(key, ServiceAccountCredentials) and claims.get("iss") != key.client_email:
        problems.append(f"claims.iss: {claims.get('iss')!r} is not the service account {key.client_email!r}")
    origins = claims.get("origins")
    if not isinstance(origins, list) or not origins or not all(isinstance(o, str) and o for o in origins):
        problems.append(f"claims.origins: {origins!r} must be a non-empty list of origins")


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
    problems.extend(f"payload: {p}" for p in payload_problems(payload, "Resources", document))
    return True


def _document(discovery: Mapping[str, Any] | str | Path | None) -> Mapping[str, Any] | None:
    if isinstance(discovery, Mapping):
        return discovery
    path = Path(discovery) if discovery is not None else find_discovery_document()
    return None if path is None else load_discovery_document(path)
