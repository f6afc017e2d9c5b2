"""Loading certificates and keys: the only module that reads key material from files or bytes.

Apple: pass-type certificates and keys (PEM, PKCS#12) and the WWDR intermediate.
Google: service-account JSON keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from walletvoucher.errors import ServiceAccountKeyError
from walletvoucher.google._credentials import GOOGLE_TOKEN_URI, ServiceAccountCredentials

# --- Apple signing material (owned by the Apple renderer work) -------------------------------


# --- Google service accounts (owned by the Google renderer work) -----------------------------

_SERVICE_ACCOUNT_FIELDS = ("client_email", "private_key", "private_key_id")


def load_service_account(source: str | os.PathLike[str] | Mapping[str, Any]) -> ServiceAccountCredentials:
    """Load a Google service-account key from its JSON file (a path) or its parsed dict.

    >>> load_service_account({"type": "service_account"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    walletvoucher.errors.ServiceAccountKeyError: service_account.client_email: is missing. Fix: ...

    Raises :class:`~walletvoucher.errors.ServiceAccountKeyError` naming the field that is wrong;
    the private key is never shown.
    """
    info = _read_service_account(source) if isinstance(source, (str, os.PathLike)) else dict(source)
    for name in _SERVICE_ACCOUNT_FIELDS:
        if not isinstance(info.get(name), str) or not info[name]:
            raise ServiceAccountKeyError(
                "is missing",
                field=f"service_account.{name}",
                fix="use the JSON key downloaded from Google Cloud Console > IAM > Service accounts > Keys",
            )
    if info.get("type", "service_account") != "service_account":
        raise ServiceAccountKeyError(
            "is not a service-account key", field="service_account.type", value=info.get("type"),
            fix="create a key for a service account (type 'service_account'), not an OAuth client",
        )
    return ServiceAccountCredentials(
        client_email=info["client_email"],
        private_key_id=info["private_key_id"],
        private_key=_load_rsa_private_key(info["private_key"]),
        client_id=_optional_str(info.get("client_id")),
        project_id=_optional_str(info.get("project_id")),
        token_uri=_optional_str(info.get("token_uri")) or GOOGLE_TOKEN_URI,
        info=info,
    )


def _read_service_account(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ServiceAccountKeyError(
            f"cannot be read ({exc.strerror})", field="service_account_path", value=str(path),
            fix="give the path of the service-account JSON key file",
        ) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ServiceAccountKeyError(
            "is not JSON", field="service_account_path", value=str(path),
            fix="give the JSON key file itself, not a P12 key or a copy with the quoting changed",
        ) from exc
    if not isinstance(data, dict):
        raise ServiceAccountKeyError(
            "is not a JSON object", field="service_account_path", value=str(path),
            fix="give the service-account JSON key file",
        )
    return data


def _load_rsa_private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError) as exc:
        raise ServiceAccountKeyError(
            "is not a PEM private key", field="service_account.private_key", secret=True,
            fix="keep the key file's private_key exactly as downloaded (with its \\n line breaks)",
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ServiceAccountKeyError(
            "is not an RSA key", field="service_account.private_key", secret=True,
            fix="Google signs save links with RS256: use the service account's RSA key",
        )
    return key


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
