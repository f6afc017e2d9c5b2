"""Loading certificates and keys: the only module that reads key material from files or bytes.

Apple: pass-type certificates and keys (PEM, PKCS#12) and the WWDR intermediate.
Google: service-account JSON keys.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from walletvoucher.errors import (
    CertificateExpiredError,
    CertificateExpiringWarning,
    CertificateFormatError,
    KeyMismatchError,
    PassTypeMismatchError,
    ServiceAccountKeyError,
    WrongWWDRError,
)
from walletvoucher.google._credentials import GOOGLE_TOKEN_URI, ServiceAccountCredentials

if TYPE_CHECKING:
    from walletvoucher.apple._sign import AppleSigner, SigningKey

# --- Apple signing material (owned by the Apple renderer work) -------------------------------

PathOrBytes = Union[str, "os.PathLike[str]", bytes]
"""A file path (``str`` or ``Path``) or the file's bytes."""

_EXPIRY_WARNING = timedelta(days=30)
_WWDR_HINT = (
    "download the WWDR intermediate that issued your certificate from "
    "https://www.apple.com/certificateauthority/ (pass certificates issued since 2022 need "
    "'Worldwide Developer Relations - G4'; the old G1 expired in February 2023)"
)


def _read(source: PathOrBytes, field: str) -> bytes:
    if isinstance(source, bytes):
        return source
    path = Path(os.fspath(source))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CertificateFormatError(
            f"cannot read file: {exc.strerror}", field=field, value=str(path), fix="check the path"
        ) from exc


def _password_bytes(password: str | bytes | None) -> bytes | None:
    return password.encode("utf-8") if isinstance(password, str) else password


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


def load_private_key(source: PathOrBytes, *, password: str | bytes | None = None) -> SigningKey:
    """Load a PEM (or DER) private key, encrypted or not. The password never appears in errors.

    >>> # load_private_key("pass.key", password=os.environ["PASS_KEY_PASSWORD"])
    """
    data = _read(source, "key")
    pw = _password_bytes(password)
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=pw)
        else:
            key = serialization.load_der_private_key(data, password=pw)
    except (ValueError, TypeError) as exc:
        raise CertificateFormatError(
            "cannot load the private key: not a PEM/DER key, or the password is missing or wrong",
            field="password", value=password, secret=True,
            fix="give the key file and the password it was exported with",
        ) from None if pw else exc
    return _signing_key(key)


def _signing_key(key: object) -> SigningKey:
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return key
    raise CertificateFormatError(
        f"unsupported key type {type(key).__name__}", field="key", fix="use an RSA or EC key"
    )


def load_pkcs12(
    source: PathOrBytes, *, password: str | bytes | None = None
) -> tuple[x509.Certificate, SigningKey, tuple[x509.Certificate, ...]]:
    """Load the ``.p12`` Keychain exports: (certificate, key, any extra certificates in it).

    >>> # cert, key, extra = load_pkcs12("Certificates.p12", password=os.environ["P12_PASSWORD"])
    """
    data = _read(source, "p12")
    try:
        bundle = pkcs12.load_pkcs12(data, _password_bytes(password))
    except (ValueError, TypeError):
        raise CertificateFormatError(
            "cannot open the PKCS#12 file: not a .p12, or the password is wrong",
            field="password", value=password, secret=True,
            fix="export the certificate and key from Keychain Access as .p12 and give its password",
        ) from None
    if bundle.cert is None or bundle.key is None:
        raise CertificateFormatError(
            "the .p12 file lacks the certificate or the private key", field="p12",
            fix="in Keychain Access select both the certificate and its key before exporting",
        )
    extra = tuple(c.certificate for c in bundle.additional_certs)
    return bundle.cert.certificate, _signing_key(bundle.key), extra


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _check_key(cert: x509.Certificate, key: SigningKey) -> None:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise KeyMismatchError(
            "the private key does not belong to the certificate", field="key",
            fix="use the key generated with the CSR for this certificate (export both from Keychain as .p12)",
        )


def _check_identity(cert: x509.Certificate, pass_type_identifier: str, team_identifier: str) -> None:
    uid = _attr(cert.subject, NameOID.USER_ID)
    if uid != pass_type_identifier:
        raise PassTypeMismatchError(
            f"the certificate is for pass type {uid!r}",
            field="pass_type_identifier",
            value=pass_type_identifier,
            fix="render with the certificate's pass type identifier, or load that pass type's certificate",
        )
    ou = _attr(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if ou != team_identifier:
        raise PassTypeMismatchError(
            f"the certificate belongs to team {ou!r}", field="team_identifier",
            value=team_identifier, fix="use the team identifier shown in the certificate's OU",
        )


def _check_dates(cert: x509.Certificate, field: str, at: datetime, warn_within: timedelta) -> list[str]:
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if at < start:
        raise CertificateExpiredError(
            f"not valid before {start.isoformat()}", field=field, value=at.isoformat(),
            fix="check the clock passed as at=, or wait until the certificate is valid",
        )
    if at >= end:
        raise CertificateExpiredError(
            f"expired on {end.isoformat()}", field=field, value=at.isoformat(),
            fix="create a new certificate in Apple's developer portal (see certs.example/README.md)",
        )
    if end - at <= warn_within:
        text = f"{field} expires on {end.isoformat()}; renew it in Apple's developer portal"
        warnings.warn(text, CertificateExpiringWarning, stacklevel=4)
        return [text]
    return []


def _check_wwdr(cert: x509.Certificate, wwdr: x509.Certificate) -> None:
    issuer_gen = _attr(cert.issuer, NameOID.ORGANIZATIONAL_UNIT_NAME)
    given_gen = _attr(wwdr.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if cert.issuer != wwdr.subject:
        mixup = f" (WWDR {given_gen} given, {issuer_gen} needed)" if issuer_gen != given_gen else ""
        raise WrongWWDRError(
            f"the certificate was issued by {cert.issuer.rfc4514_string()!r}, "
            f"not by the WWDR certificate given{mixup}",
            field="wwdr", value=wwdr.subject.rfc4514_string(), fix=_WWDR_HINT,
        )
    try:
        cert.verify_directly_issued_by(wwdr)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise WrongWWDRError(
            "the WWDR certificate has the right name but did not sign the certificate",
            field="wwdr", value=wwdr.subject.rfc4514_string(), fix=_WWDR_HINT,
        ) from exc


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
) -> AppleSigner:
    """Load and check Apple signing material: PEM certificate + key, or a Keychain ``.p12``.

    Checks that the key matches the certificate, that the certificate's UID/OU are the pass
    type identifier/team identifier, that it is valid at ``at`` (warns ``warn_within`` ahead,
    with :class:`CertificateExpiringWarning`, also kept in ``signer.warnings``), and that
    ``wwdr`` issued it. ``wwdr`` may be left out when the ``.p12`` carries the right one.

    >>> # signer = load_apple_signer(p12="Certificates.p12", password=os.environ["P12_PASSWORD"],
    >>> #     wwdr="AppleWWDRCAG4.cer", pass_type_identifier="pass.com.example.loyalty",
    >>> #     team_identifier="ABCDE12345", at=datetime.now(timezone.utc))
    """
    from walletvoucher.apple._sign import AppleSigner  # apple imports keys: import late

    cert, signing_key, extra = _load_pair(certificate, key, p12, password)
    wwdr_cert = _pick_wwdr(cert, wwdr, extra)
    _check_key(cert, signing_key)
    _check_identity(cert, pass_type_identifier, team_identifier)
    _check_wwdr(cert, wwdr_cert)
    notes = _check_dates(cert, "certificate", at, warn_within)
    notes += _check_dates(wwdr_cert, "wwdr", at, warn_within)
    return AppleSigner(
        pass_type_identifier=pass_type_identifier, team_identifier=team_identifier,
        certificate=cert, key=signing_key, wwdr=wwdr_cert, warnings=tuple(notes),
    )


def _load_pair(
    certificate: PathOrBytes | None,
    key: PathOrBytes | None,
    p12: PathOrBytes | None,
    password: str | bytes | None,
) -> tuple[x509.Certificate, SigningKey, tuple[x509.Certificate, ...]]:
    if p12 is not None:
        if certificate is not None or key is not None:
            raise CertificateFormatError(
                "give either p12= or certificate= and key=, not both", field="p12",
                fix="drop certificate= and key= when loading a .p12",
            )
        return load_pkcs12(p12, password=password)
    if certificate is None or key is None:
        raise CertificateFormatError(
            "no signing material given", field="certificate",
            fix="give p12= (Keychain export) or both certificate= and key= (PEM)",
        )
    return load_certificate(certificate), load_private_key(key, password=password), ()


def _pick_wwdr(
    cert: x509.Certificate, wwdr: PathOrBytes | None, extra: tuple[x509.Certificate, ...]
) -> x509.Certificate:
    if wwdr is not None:
        return load_certificate(wwdr, field="wwdr")
    for candidate in extra:
        if candidate.subject == cert.issuer:
            return candidate
    raise CertificateFormatError(
        "no WWDR intermediate certificate given", field="wwdr", fix=_WWDR_HINT,
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
