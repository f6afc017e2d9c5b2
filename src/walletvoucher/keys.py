"""Loading certificates and keys: the only module that reads key material from files or bytes.

Apple: pass-type certificates and keys (PEM, PKCS#12) and the WWDR intermediate.
Google: service-account JSON keys.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Union

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from walletvoucher._files import UnreadableFile, read_regular_file
from walletvoucher._signers import (
    GOOGLE_TOKEN_URI,
    WWDR_HINT,
    AppleSigner,
    ServiceAccountCredentials,
    SigningKey,
    check_aware,
    check_dates,
)
from walletvoucher.errors import (
    CertificateExpiringWarning,
    CertificateFormatError,
    ServiceAccountKeyError,
    ValidationError,
)

# --- Apple signing material (owned by the Apple renderer work) -------------------------------

PathOrBytes = Union[str, "os.PathLike[str]", bytes]
"""A file path (``str`` or ``Path``) or the file's bytes."""

MAX_KEY_FILE_BYTES = 1 << 20
"""Key, certificate and service-account files larger than this are refused (they are a few kilobytes)."""
_PASSWORD_FROM = "password= (e.g. from os.environ)"

_EXPIRY_WARNING = timedelta(days=30)


def _read(source: PathOrBytes, field: str) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if not isinstance(source, (str, os.PathLike)):
        raise CertificateFormatError(
            "must be a path or the file's bytes", field=field, value=type(source).__name__,
            fix="give a str or Path naming the file, or its bytes",
        )
    path = Path(os.fspath(source))
    try:
        return read_regular_file(path, MAX_KEY_FILE_BYTES)
    except UnreadableFile as exc:
        raise CertificateFormatError(
            exc.reason, field=field, value=str(path),
            fix="give the path of the key or certificate file itself",
        ) from exc


def _password_bytes(password: str | bytes | None) -> bytes | None:
    if password is None or isinstance(password, bytes):
        return password
    if isinstance(password, str):
        return password.encode("utf-8", "surrogatepass")
    raise CertificateFormatError(
        "must be text or bytes", field="password", secret=True,
        fix="pass the password as a str (e.g. from os.environ) or bytes",
    )


def load_certificate(source: PathOrBytes, *, field: str = "certificate") -> x509.Certificate:
    """Load an X.509 certificate from PEM or DER (Apple's ``.cer`` downloads are DER).

    >>> # load_certificate("AppleWWDRCAG4.cer")
    """
    data = _read(source, field)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise CertificateFormatError(
            "not a PEM or DER X.509 certificate", field=field,
            fix="give the .cer/.pem file of the certificate (convert with `openssl x509`)",
        ) from exc


def load_private_key(
    source: PathOrBytes, *, password: str | bytes | None = None, password_from: str = _PASSWORD_FROM
) -> SigningKey:
    """Load a PEM (or DER) private key, encrypted or not. The password never appears in errors.

    A failure names its cause: not a key at all, an encrypted key without a password, a wrong
    password, or a password given for a key that has none. *password_from* says where the password
    comes from (``"the environment variable WALLETVOUCHER_KEY_PASSWORD"``), so the fix can name it.

    >>> # load_private_key("pass.key", password=os.environ["PASS_KEY_PASSWORD"])
    """
    data = _read(source, "key")
    pw = _password_bytes(password)
    load = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    try:
        key = load(data, password=None)
    except TypeError:  # encrypted: "Password was not given but private key is encrypted"
        key = _decrypt_key(load, data, pw, password_from)
    except ValueError as exc:
        raise CertificateFormatError(
            "is not a private key (PEM or DER)", field="key", value=_describe(source),
            fix="give the key file (-----BEGIN PRIVATE KEY----- or ENCRYPTED PRIVATE KEY), "
            "not the certificate or a .p12 (use p12= for that)",
        ) from exc
    else:
        if pw:
            raise CertificateFormatError(
                "was given, but the key is not encrypted", field="password", secret=True,
                fix=f"this key needs no password: unset {password_from} (or give the encrypted key)",
            )
    return _signing_key(key)


def _decrypt_key(
    load: Callable[..., PrivateKeyTypes], data: bytes, pw: bytes | None, password_from: str
) -> PrivateKeyTypes:
    if not pw:
        raise CertificateFormatError(
            "is missing: the key is encrypted", field="password",
            fix=f"give the key's password in {password_from}",
        )
    try:
        return load(data, password=pw)
    except (ValueError, TypeError):
        raise CertificateFormatError(
            "is wrong for this key", field="password", secret=True,
            fix=f"check {password_from}: it must be the password the key was exported with",
        ) from None


def _describe(source: PathOrBytes) -> str:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    return os.fspath(source)


def _signing_key(key: object) -> SigningKey:
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return key
    raise CertificateFormatError(
        f"unsupported key type {type(key).__name__}", field="key", fix="use an RSA or EC key"
    )


def load_pkcs12(
    source: PathOrBytes, *, password: str | bytes | None = None, password_from: str = _PASSWORD_FROM
) -> tuple[x509.Certificate, SigningKey, tuple[x509.Certificate, ...]]:
    """Load the ``.p12`` Keychain exports: (certificate, key, any extra certificates in it).

    Failures name their cause (not a .p12, password missing, wrong, or given for a .p12 without one);
    *password_from* is where the password comes from, named in the fix.

    >>> # cert, key, extra = load_pkcs12("Certificates.p12", password=os.environ["P12_PASSWORD"])
    """
    data = _read(source, "p12")
    if not _looks_like_pkcs12(data):
        raise CertificateFormatError(
            "is not a PKCS#12 (.p12) file", field="p12", value=_describe(source),
            fix="export the certificate and key from Keychain Access as .p12 (for PEM files use "
            "certificate= and key=)",
        )
    pw = _password_bytes(password)
    try:
        bundle = pkcs12.load_pkcs12(data, pw)
    except (ValueError, TypeError):
        raise _pkcs12_password_error(data, pw, password_from) from None
    if bundle.cert is None or bundle.key is None:
        raise CertificateFormatError(
            "the .p12 file lacks the certificate or the private key", field="p12",
            fix="in Keychain Access select both the certificate and its key before exporting",
        )
    extra = tuple(c.certificate for c in bundle.additional_certs)
    return bundle.cert.certificate, _signing_key(bundle.key), extra


def _looks_like_pkcs12(data: bytes) -> bool:
    """A DER PFX: SEQUENCE, then INTEGER 3 (the version), as RFC 7292 defines it."""
    if len(data) < 8 or data[0] != 0x30:
        return False
    length = data[1]
    start = 2 + (length & 0x7F if length & 0x80 else 0)
    return data[start:start + 3] == b"\x02\x01\x03"


def _pkcs12_password_error(data: bytes, pw: bytes | None, password_from: str) -> CertificateFormatError:
    if not pw:
        return CertificateFormatError(
            "is missing: the .p12 is protected by one", field="password",
            fix=f"give the .p12's password in {password_from}",
        )
    try:
        pkcs12.load_pkcs12(data, None)
    except (ValueError, TypeError):
        return CertificateFormatError(
            "is wrong for this .p12", field="password", secret=True,
            fix=f"check {password_from}: it must be the password the .p12 was exported with",
        )
    return CertificateFormatError(
        "was given, but the .p12 has no password", field="password", secret=True,
        fix=f"this .p12 needs no password: unset {password_from}",
    )


def _expiry_notes(cert: x509.Certificate, field: str, at: datetime, warn_within: timedelta) -> list[str]:
    check_dates(cert, field, at)
    end = cert.not_valid_after_utc
    if end - at <= warn_within:
        text = f"{field} expires on {end.isoformat()}; renew it in Apple's developer portal"
        warnings.warn(text, CertificateExpiringWarning, stacklevel=4)
        return [text]
    return []


def load_apple_signer(
    *,
    pass_type_identifier: str,
    team_identifier: str,
    at: datetime,
    wwdr: PathOrBytes | None = None,
    certificate: PathOrBytes | None = None,
    key: PathOrBytes | None = None,
    p12: PathOrBytes | None = None,
    password: str | bytes | None = None,
    warn_within: timedelta = _EXPIRY_WARNING,
    password_from: str = _PASSWORD_FROM,
) -> AppleSigner:
    """Load and check Apple signing material: PEM certificate + key, or a Keychain ``.p12``.

    Checks that the key matches the certificate, that the certificate's UID/OU are the pass
    type identifier/team identifier, that it is valid at ``at`` (warns ``warn_within`` ahead,
    with :class:`CertificateExpiringWarning`, also kept in ``signer.warnings``), and that
    ``wwdr`` issued it. ``wwdr`` may be left out when the ``.p12`` carries the right one.
    *password_from* names where the password comes from in a password error's fix.

    >>> # signer = load_apple_signer(p12="Certificates.p12", password=os.environ["P12_PASSWORD"],
    >>> #     wwdr="AppleWWDRCAG4.cer", pass_type_identifier="pass.com.example.loyalty",
    >>> #     team_identifier="ABCDE12345", at=datetime.now(timezone.utc))
    """
    check_aware(at)
    if not isinstance(warn_within, timedelta):
        raise ValidationError(
            "must be a timedelta", field="warn_within", value=warn_within, fix="e.g. timedelta(days=30)"
        )
    cert, signing_key, extra = _load_pair(certificate, key, p12, password, password_from)
    signer = AppleSigner(  # checks key, identity and WWDR
        pass_type_identifier=pass_type_identifier, team_identifier=team_identifier,
        certificate=cert, key=signing_key, wwdr=_pick_wwdr(cert, wwdr, extra),
    )
    notes = _expiry_notes(signer.certificate, "certificate", at, warn_within)
    notes += _expiry_notes(signer.wwdr, "wwdr", at, warn_within)
    return attrs.evolve(signer, warnings=tuple(notes)) if notes else signer


def _load_pair(
    certificate: PathOrBytes | None,
    key: PathOrBytes | None,
    p12: PathOrBytes | None,
    password: str | bytes | None,
    password_from: str,
) -> tuple[x509.Certificate, SigningKey, tuple[x509.Certificate, ...]]:
    if p12 is not None:
        if certificate is not None or key is not None:
            raise CertificateFormatError(
                "give either p12= or certificate= and key=, not both", field="p12",
                fix="drop certificate= and key= when loading a .p12",
            )
        return load_pkcs12(p12, password=password, password_from=password_from)
    if certificate is None or key is None:
        raise CertificateFormatError(
            "no signing material given", field="certificate",
            fix="give p12= (Keychain export) or both certificate= and key= (PEM)",
        )
    cert = load_certificate(certificate)
    return cert, load_private_key(key, password=password, password_from=password_from), ()


def _pick_wwdr(
    cert: x509.Certificate, wwdr: PathOrBytes | None, extra: tuple[x509.Certificate, ...]
) -> x509.Certificate:
    if wwdr is not None:
        return load_certificate(wwdr, field="wwdr")
    for candidate in extra:
        if candidate.subject == cert.issuer:
            return candidate
    raise CertificateFormatError(
        "no WWDR intermediate certificate given", field="wwdr", fix=WWDR_HINT,
    )


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
    if isinstance(source, (str, os.PathLike)):
        info = _read_service_account(source)
    elif isinstance(source, Mapping):
        info = dict(source)
    else:
        raise ServiceAccountKeyError(
            "must be a path to the JSON key file or its parsed dict", field="service_account",
            value=type(source).__name__, fix="give the path of the JSON key, or json.load() of it",
        )
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
        text = read_regular_file(path, MAX_KEY_FILE_BYTES).decode("utf-8")
    except (UnreadableFile, ValueError) as exc:  # ValueError: not UTF-8
        reason = exc.reason if isinstance(exc, UnreadableFile) else "cannot be read (not UTF-8 text)"
        raise ServiceAccountKeyError(
            reason, field="service_account_path", value=os.fspath(path),
            fix="give the path of the service-account JSON key file",
        ) from exc
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
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
        key = serialization.load_pem_private_key(pem.encode("utf-8", "surrogatepass"), password=None)
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
