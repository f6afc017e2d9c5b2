"""The key-holding types: the Apple pass signer and the Google service-account credentials.

They live below the renderers (``apple/`` and ``google/`` import them, and so does
:mod:`walletvoucher.keys`, which builds them from files) so key loading never reaches up into a
renderer. Both are pure data over key objects; neither reads a file.

An :class:`AppleSigner` checks that its pieces fit together however it is built (directly, or by
:func:`walletvoucher.keys.load_apple_signer`): the key belongs to the certificate, the certificate
names the pass type identifier and team, and the WWDR intermediate given issued it. Whether the
certificates are valid depends on the clock, so :meth:`AppleSigner.check_valid_at` runs at signing
time with the render clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeAlias, Union

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from walletvoucher.errors import (
    CertificateExpiredError,
    CertificateFormatError,
    CertificateNotYetValidError,
    KeyMismatchError,
    PassTypeMismatchError,
    ServiceAccountKeyError,
    ValidationError,
    WrongWWDRError,
)

__all__ = ["GOOGLE_TOKEN_URI", "AppleSigner", "ServiceAccountCredentials", "SigningKey", "check_aware"]

SigningKey: TypeAlias = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]  # noqa: UP007 (3.10 runtime)

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

WWDR_HINT = (
    "download the WWDR intermediate that issued your certificate from "
    "https://www.apple.com/certificateauthority/ (pass certificates issued since 2022 need "
    "'Worldwide Developer Relations - G4'; the old G1 expired in February 2023)"
)


def check_aware(at: object, field: str = "at") -> datetime:
    """Return *at* if it is a timezone-aware datetime, else raise :class:`ValidationError`."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(
            "must be a timezone-aware datetime", field=field, value=at,
            fix="pass datetime(..., tzinfo=timezone.utc)",
        )
    return at


# --- checks shared by the signer and the loader ------------------------------------------------


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def check_key(cert: x509.Certificate, key: SigningKey) -> None:
    """Raise :class:`KeyMismatchError` unless *key* is the private half of *cert*'s public key."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise KeyMismatchError(
            "the private key does not belong to the certificate", field="key",
            fix="use the key generated with the CSR for this certificate (export both from Keychain as .p12)",
        )


def check_identity(cert: x509.Certificate, pass_type_identifier: str, team_identifier: str) -> None:
    """Raise :class:`PassTypeMismatchError` unless the certificate's UID/OU are these identifiers."""
    uid = _attr(cert.subject, NameOID.USER_ID)
    if uid != pass_type_identifier:
        raise PassTypeMismatchError(
            f"the certificate is for pass type {uid!r}", field="pass_type_identifier",
            value=pass_type_identifier,
            fix="render with the certificate's pass type identifier, or load that pass type's certificate",
        )
    ou = _attr(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if ou != team_identifier:
        raise PassTypeMismatchError(
            f"the certificate belongs to team {ou!r}", field="team_identifier",
            value=team_identifier, fix="use the team identifier shown in the certificate's OU",
        )


def check_wwdr(cert: x509.Certificate, wwdr: x509.Certificate) -> None:
    """Raise :class:`WrongWWDRError` unless *wwdr* issued and signed *cert* (names the G1/G4 mix-up)."""
    issuer_gen = _attr(cert.issuer, NameOID.ORGANIZATIONAL_UNIT_NAME)
    given_gen = _attr(wwdr.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if cert.issuer != wwdr.subject:
        mixup = f" (WWDR {given_gen} given, {issuer_gen} needed)" if issuer_gen != given_gen else ""
        raise WrongWWDRError(
            f"the certificate was issued by {cert.issuer.rfc4514_string()!r}, "
            f"not by the WWDR certificate given{mixup}",
            field="wwdr", value=wwdr.subject.rfc4514_string(), fix=WWDR_HINT,
        )
    try:
        cert.verify_directly_issued_by(wwdr)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise WrongWWDRError(
            "the WWDR certificate has the right name but did not sign the certificate",
            field="wwdr", value=wwdr.subject.rfc4514_string(), fix=WWDR_HINT,
        ) from exc


def check_dates(cert: x509.Certificate, field: str, at: datetime) -> None:
    """Raise :class:`CertificateNotYetValidError` or :class:`CertificateExpiredError` outside its window."""
    check_aware(at)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    subject = cert.subject.rfc4514_string()  # the certificate is named, the clock is said apart
    if at < start:
        raise CertificateNotYetValidError(
            f"not valid before {start.isoformat()} (checked at {at.isoformat()})", field=field,
            value=subject, fix="check the clock passed as at=, or wait until the certificate is valid",
        )
    if at >= end:
        raise CertificateExpiredError(
            f"expired on {end.isoformat()} (checked at {at.isoformat()})", field=field, value=subject,
            fix="create a new certificate in Apple's developer portal (see certs.example/README.md)",
        )


def _certificate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, x509.Certificate):
        raise CertificateFormatError(
            "must be an X.509 certificate object", field=attribute.name, value=type(value).__name__,
            fix="load it with walletvoucher.keys.load_certificate(...)",
        )


def _signing_key(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CertificateFormatError(
            "must be an RSA or EC private key object", field=attribute.name, value=type(value).__name__,
            fix="load it with walletvoucher.keys.load_private_key(...)",
        )


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError(
            "must be non-empty text", field=attribute.name, value=value,
            fix="give the identifier shown in Apple's developer portal",
        )


def _texts(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (tuple, list)) or not all(
        isinstance(v, str) for v in value
    ):
        raise ValidationError("must be a tuple of texts", field="warnings", value=value, fix="give a tuple")
    return tuple(value)


@attrs.frozen(kw_only=True)
class AppleSigner:
    """Everything needed to sign passes of one pass type. The key is never shown in the repr.

    Build one with :func:`walletvoucher.keys.load_apple_signer` (from files) or directly from key
    objects you already hold. Either way the pieces are checked when it is built: the key must
    belong to the certificate (:class:`~walletvoucher.errors.KeyMismatchError`), the certificate's
    UID/OU must be the pass type identifier and team (:class:`~walletvoucher.errors.PassTypeMismatchError`)
    and ``wwdr`` must have issued it (:class:`~walletvoucher.errors.WrongWWDRError`, e.g. G1 for a G4
    certificate). Validity in time is checked when signing, with the render clock
    (:meth:`check_valid_at`). ``warnings`` holds the texts of warnings raised while loading.
    """

    pass_type_identifier: str = attrs.field(validator=_text)
    team_identifier: str = attrs.field(validator=_text)
    certificate: x509.Certificate = attrs.field(repr=False, validator=_certificate)
    key: SigningKey = attrs.field(repr=False, validator=_signing_key)
    wwdr: x509.Certificate = attrs.field(repr=False, validator=_certificate)
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_texts)

    def __attrs_post_init__(self) -> None:
        check_key(self.certificate, self.key)
        check_identity(self.certificate, self.pass_type_identifier, self.team_identifier)
        check_wwdr(self.certificate, self.wwdr)

    @property
    def subject(self) -> str:
        """The pass-type certificate's subject, RFC 4514 form (for reports)."""
        return self.certificate.subject.rfc4514_string()

    def check_valid_at(self, at: datetime) -> None:
        """Raise unless the certificate and the WWDR intermediate are both valid at *at*.

        :class:`~walletvoucher.errors.CertificateExpiredError` after a window,
        :class:`~walletvoucher.errors.CertificateNotYetValidError` before it, and
        :class:`~walletvoucher.errors.ValidationError` for a naive *at*.
        """
        check_dates(self.certificate, "certificate", at)
        check_dates(self.wwdr, "wwdr", at)


# --- Google ------------------------------------------------------------------------------------


def _rsa_key(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, rsa.RSAPrivateKey):
        raise ServiceAccountKeyError(
            "must be an RSA private key object", field=attribute.name, value=type(value).__name__,
            fix="load the key file with walletvoucher.keys.load_service_account(...)",
        )


def _sa_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ServiceAccountKeyError(
            "must be non-empty text", field=attribute.name, value=value,
            fix="copy the field from the service-account JSON key",
        )


def _optional_sa_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _sa_text(instance, attribute, value)


def _info(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ServiceAccountKeyError(
            "must be a mapping of the key file's fields", field="info", value=type(value).__name__,
            fix="pass the parsed JSON key file (a dict)",
        )
    return value


@attrs.frozen(kw_only=True)
class ServiceAccountCredentials:
    """A Google service account: email, key id and RSA private key.

    The private key and the original key-file fields never appear in ``repr``:

    >>> from cryptography.hazmat.primitives.asymmetric import rsa
    >>> key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    >>> creds = ServiceAccountCredentials(
    ...     client_email="wallet@demo.iam.gserviceaccount.com", private_key_id="k1", private_key=key)
    >>> "PRIVATE" in repr(creds) or "RSAPrivateKey" in repr(creds)
    False
    """

    client_email: str = attrs.field(validator=_sa_text)
    private_key_id: str = attrs.field(validator=_sa_text)
    private_key: rsa.RSAPrivateKey = attrs.field(repr=False, eq=False, validator=_rsa_key)
    client_id: str | None = attrs.field(default=None, validator=_optional_sa_text)
    project_id: str | None = attrs.field(default=None, validator=_optional_sa_text)
    token_uri: str = attrs.field(default=GOOGLE_TOKEN_URI, validator=_sa_text)
    info: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False, converter=_info)
    """The key file's fields (including the PEM private key), as google-auth wants them."""

    def public_key(self) -> rsa.RSAPublicKey:
        """The public half, which verifies the save links this account signs."""
        return self.private_key.public_key()

    def with_token_uri(self, token_uri: str) -> ServiceAccountCredentials:
        """A copy that asks ``token_uri`` for OAuth2 tokens (a test server, a proxy)."""
        info = {**self.info, "token_uri": token_uri}
        return attrs.evolve(self, token_uri=token_uri, info=info)
