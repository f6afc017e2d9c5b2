"""Every error a caller of walletvoucher can cause, in one tree.

::

    WalletVoucherError                       the one base class: catch this to catch them all
    ├── ValidationError (also ValueError)    a model field got a value it cannot hold
    ├── TransitionError                      a state change that the rules forbid
    │   ├── EarnPolicyViolation              too soon / too many stamps
    │   ├── VoucherNotRedeemable
    │   │   ├── VoucherAlreadyRedeemed
    │   │   ├── VoucherExpired
    │   │   ├── VoucherVoided
    │   │   └── VoucherNotYetValid
    │   ├── ProofMismatch                    proof of the wrong kind for the voucher's method
    │   ├── WrongRedeemCode                  a code that is not this voucher's
    │   └── UnknownVoucher                   no such voucher on the card
    ├── ReplayError                          events that do not rebuild a card
    ├── CodeError                            redeem codes
    │   ├── CheckCharacterError              a generated code whose check character is wrong
    │   ├── SymbologyError                   a value the chosen symbology cannot carry
    │   └── CodePoolEmpty
    ├── ScanTokenError                       Staff-Scan tokens
    │   ├── ScanTokenMalformed
    │   ├── ScanTokenTampered
    │   ├── ScanTokenExpired
    │   └── ScanTokenUnknownKey              signed with a key the verifier does not hold
    ├── KeyLoadError                         certificates and keys that cannot be loaded or do not fit
    │   ├── ServiceAccountKeyError           a Google service-account JSON key that cannot be used
    │   ├── CertificateFormatError           not a PEM/DER certificate, key or PKCS#12 (or wrong password)
    │   ├── KeyMismatchError                 the private key does not belong to the certificate
    │   ├── PassTypeMismatchError            certificate UID / OU differ from pass type id / team id
    │   ├── CertificateExpiredError          past its validity window at the time given
    │   ├── CertificateNotYetValidError      before its validity window at the time given
    │   └── WrongWWDRError                   the WWDR certificate did not issue it (G1/G4 mix-up)
    ├── AppleError                           Apple Wallet rendering, signing and verifying
    │   ├── PassJsonError                    pass.json breaks a rule (``.problems`` names each rule)
    │   ├── AppleImageError                  artwork that is not a PNG or cannot fit the slot
    │   ├── InvalidPkpassError               ``verify_pkpass(...).raise_for_problems()``
    │   └── PkpassReadError                  ``verify_pkpass(path)``: the file cannot be read
    ├── ProgramFileError (also ValidationError)  a program file that cannot be built: file, key, fix
    ├── ServiceError                         the pass-update web service and APNs pushes
    │   ├── ServiceConfigError (also ValidationError)  token secret, base URL, config file, environment
    │   ├── ApnsError                        APNs refused the provider itself (certificate, token, topic)
    │   ├── PushNotDelivered                 pushes still failing after the retries (APNs down, 429, 5xx)
    │   └── WebhookNotDelivered              a webhook receiver did not answer 2xx (the worker retries)
    ├── PreviewError                         a pass that cannot be pictured (no pass.json, not a zip)
    ├── PosterError (also ValidationError)   a join poster that cannot be made (URL, size, format)
    ├── StoreError                           the wallet store (walletvoucher.store); nothing was written
    │   ├── UnknownCard                      no card with that serial
    │   ├── DuplicateSerial                  a card or voucher serial that is already stored
    │   ├── StaleVersion                     the card kept changing under us through every retry
    │   ├── IdempotencyKeyReused             the same idempotency key with a different request
    │   ├── UnknownProgram                   a program id/version the wallet was not opened with
    │   ├── UnknownCodePool                  no code pool with that name
    │   ├── StoreUrlError (also ValidationError)  a database URL the store cannot use
    │   ├── SchemaTooNew                     the database was migrated by a newer walletvoucher
    │   ├── AccessError                      an API key, staff device or enrolment code that cannot be used
    │   └── DatabaseUnavailable              the database cannot be reached or opened
    │       └── DatabaseReadOnly             the database refuses writes
    ├── BatchError                           render_many / ``walletvoucher batch``: output, names, input
    └── GoogleError                          Google Wallet objects, save links and the REST API
        ├── GoogleOptionsError (also ValidationError)  issuer id, URL templates, origins, missing scan key
        ├── SaveLinkTooLong                  the save JWT is over Google's 1800-character limit
        ├── SaveLinkInvalid                  a save link that fails offline verification
        ├── GoogleCallbackInvalid            a save/delete callback whose signature or content fails
        └── GoogleApiError                   the Wallet REST API said no (status, reason, fix)
            ├── GoogleAuthError              token refused, service account not authorised
            ├── GoogleNotFound               no such class or object (or wrong issuer id)
            ├── GoogleConflict               insert of an id that exists
            ├── GoogleBadRequest             unknown field, missing class, class not approved
            └── GoogleUnavailable            429 / 5xx still failing after the retries

Warnings (Python :mod:`warnings`; the pass is still valid, and the texts are also returned)::

    AppleWalletWarning (UserWarning)
    ├── BarcodeFallbackWarning               EAN-13 / UPC-A shown as Code 128 (Wallet has no EAN format)
    ├── PassContentWarning                   content that will read badly: low contrast, a front text
    │   │                                    longer than the front shows, a voucher not yet valid,
    │   │                                    labels without a translation in a language
    │   └── MissingGlyphWarning              a generated icon/logo or a preview draws a character no
    │                                        shipped font has (it shows as an empty box)
    └── CertificateExpiringWarning           pass-type or WWDR certificate expires within 30 days
    GoogleWalletWarning (UserWarning)
    └── RecommendedLengthWarning             a text over Google's recommended length (may be cut off)

Every message names the field, the value received and what to do. Secrets (keys,
passwords, tokens) are never put into a message: pass ``secret=True`` and the value is
replaced by ``'<redacted>'``.
"""

from __future__ import annotations

from typing import Any

_MISSING: Any = object()


class WalletVoucherError(Exception):
    """Base class of every error walletvoucher raises on purpose.

    >>> err = WalletVoucherError("must be at least 1", field="goal", value=0, fix="give a goal of 1 or more")
    >>> str(err)
    'goal=0: must be at least 1. Fix: give a goal of 1 or more'
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = _MISSING,
        fix: str | None = None,
        secret: bool = False,
    ) -> None:
        self.message = message
        self.field = field
        self.value = None if (value is _MISSING or secret) else value
        self.fix = fix
        shown = "'<redacted>'" if secret else ("" if value is _MISSING else _safe_repr(value))
        head = ""
        if field is not None:
            head = f"{field}={shown}: " if shown else f"{field}: "
        text = f"{head}{message}"
        if fix:
            text += f". Fix: {fix}"
        super().__init__(text)


def _safe_repr(value: Any) -> str:
    # repr() itself can fail on hostile values: an int of more than 4300 digits, a deep structure.
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__}>"
    if len(text) > _MAX_SHOWN:  # a megabyte value makes a megabyte message: show its start
        return f"{text[:_MAX_SHOWN - 40]}... ({len(text)} characters)"
    return text


_MAX_SHOWN = 240


class ValidationError(WalletVoucherError, ValueError):
    """A model field received a value it cannot hold."""


class TransitionError(WalletVoucherError):
    """A state change that the program's rules forbid; the object is left unchanged."""


class EarnPolicyViolation(TransitionError):
    """Stamps that break the program's earn policy (interval, daily cap, per-call cap)."""


class VoucherNotRedeemable(TransitionError):
    """The voucher cannot be redeemed in its current state."""


class VoucherAlreadyRedeemed(VoucherNotRedeemable):
    """The voucher was redeemed before: a reward is redeemed once."""


class VoucherExpired(VoucherNotRedeemable):
    """The voucher's validity window has ended."""


class VoucherVoided(VoucherNotRedeemable):
    """The voucher was voided by the business."""


class VoucherNotYetValid(VoucherNotRedeemable):
    """The voucher's validity window has not started."""


class ProofMismatch(TransitionError):
    """The redemption proof is of the wrong kind for the voucher's redemption method."""


class WrongRedeemCode(TransitionError):
    """The code presented is not this voucher's code."""


class UnknownVoucher(TransitionError):
    """The card holds no open voucher with that serial."""


class ReplayError(WalletVoucherError):
    """A list of events that does not rebuild a card."""


class CodeError(WalletVoucherError):
    """A redeem code problem."""


class CheckCharacterError(CodeError):
    """A generated code whose check character does not match: most likely a typo."""


class SymbologyError(CodeError, ValidationError):
    """A value that the chosen symbology cannot carry."""


class CodePoolEmpty(CodeError):
    """Every code in the pool has been handed out."""


class ScanTokenError(WalletVoucherError):
    """A Staff-Scan token that must not be accepted."""


class ScanTokenMalformed(ScanTokenError):
    """Not a walletvoucher scan token at all (truncated, wrong prefix, bad encoding)."""


class ScanTokenTampered(ScanTokenError):
    """The token's signature does not match its payload."""


class ScanTokenExpired(ScanTokenError):
    """The token's expiry has passed."""


class ScanTokenUnknownKey(ScanTokenError):
    """The token names a key the verifier does not hold (signed by another business)."""


class KeyLoadError(WalletVoucherError):
    """A certificate, key or service-account file that cannot be loaded or does not fit."""


# --- Apple Wallet (walletvoucher.apple) ------------------------------------------------------


class AppleError(WalletVoucherError):
    """Apple Wallet rendering, signing or verifying failed."""


class CertificateFormatError(KeyLoadError):
    """Bytes that are not a PEM/DER certificate, a PEM key or a PKCS#12 file, or a wrong password."""


class KeyMismatchError(KeyLoadError):
    """The private key is not the key of the pass-type certificate."""


class PassTypeMismatchError(KeyLoadError):
    """The certificate's UID or OU does not match the pass type identifier or team identifier."""


class CertificateExpiredError(KeyLoadError):
    """The certificate has expired at the time given."""


class CertificateNotYetValidError(KeyLoadError):
    """The certificate is not valid yet at the time given (check the clock passed as ``at=``)."""


class WrongWWDRError(KeyLoadError):
    """The WWDR certificate given did not issue the pass-type certificate (often G1 vs G4)."""


class PassJsonError(AppleError):
    """pass.json breaks one or more of Wallet's rules; ``problems`` lists each ``(rule, where, why)``."""

    def __init__(self, message: str, *, problems: tuple[tuple[str, str, str], ...] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.problems = problems


class AppleImageError(AppleError):
    """Artwork that is not a PNG image or cannot be fitted to the slot Wallet gives it."""


class InvalidPkpassError(AppleError):
    """A .pkpass bundle that failed verification; ``problems`` lists each ``(rule, where, why)``."""

    def __init__(self, message: str, *, problems: tuple[tuple[str, str, str], ...] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.problems = problems


class PkpassReadError(AppleError):
    """A .pkpass given to ``verify_pkpass`` that cannot be read at all (missing file, not bytes or a path)."""


class AppleWalletWarning(UserWarning):
    """Something the caller should know about a rendered pass; the pass is still valid."""


class BarcodeFallbackWarning(AppleWalletWarning):
    """The redeem code's symbology has no Apple format; a documented fallback was used."""


class CertificateExpiringWarning(AppleWalletWarning):
    """The pass-type or WWDR certificate expires within the warning window (30 days by default)."""


class PassContentWarning(AppleWalletWarning):
    """The pass is valid but will read badly: near-equal colours, a cut-off front text, a voucher
    that is not valid yet, or walletvoucher's own labels shown in English in a language."""


class MissingGlyphWarning(PassContentWarning):
    """Text drawn into a generated icon or logo, or into a preview, has characters that none of the
    fonts walletvoucher ships draws (Tibetan, Thaana, private-use characters): they show as empty
    boxes. The message names the text and each character."""


# --- Google Wallet (walletvoucher.google) ----------------------------------------------------


class BatchError(WalletVoucherError):
    """A batch that cannot start, or one item of it that cannot be read or written."""


class GoogleError(WalletVoucherError):
    """Google Wallet rendering, save links or REST API failed."""


class GoogleOptionsError(GoogleError, ValidationError):
    """A Google rendering option (issuer id, origins, URL template, scan key) that cannot be used."""


class SaveLinkTooLong(GoogleError):
    """The save-link JWT is longer than Google's safe 1800-character limit and no REST client was given."""


class SaveLinkInvalid(GoogleError):
    """A save link that fails offline verification (signature, claims, payload or length)."""


class GoogleCallbackInvalid(GoogleError):
    """A save/delete callback that is not Google's, not for this issuer, expired or malformed."""


class GoogleApiError(GoogleError):
    """The Google Wallet REST API refused a request; ``status`` and ``reason`` are Google's."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        field: str | None = None,
        value: Any = _MISSING,
        fix: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        """Seconds a 429/5xx asked to wait (``Retry-After``, either form, uncapped), or None."""
        super().__init__(message, field=field, value=value, fix=fix)


class GoogleAuthError(GoogleApiError):
    """The access token was refused, or the service account may not act for this issuer."""


class GoogleNotFound(GoogleApiError):
    """No class or object with that id (or an issuer id that is not yours)."""


class GoogleConflict(GoogleApiError):
    """An insert of a class or object whose id already exists."""


class GoogleBadRequest(GoogleApiError):
    """A request body the API rejects: unknown field, missing class, class not approved."""


class GoogleUnavailable(GoogleApiError):
    """Rate limiting (429) or server errors (5xx) that persisted through every retry."""


class GoogleWalletWarning(UserWarning):
    """Something the caller should know about a Google pass; the class and object are still valid."""


class RecommendedLengthWarning(GoogleWalletWarning):
    """A text longer than Google's recommended maximum for its field: the app may cut it off."""


class ServiceAccountKeyError(KeyLoadError):
    """A Google service-account JSON key that is missing, malformed or not an RSA key."""


class ProgramFileError(ValidationError):
    """A program file (TOML or JSON) that cannot be read or built; ``field`` names the file and the key."""
# --- Pass updates: web service and APNs (walletvoucher.service) ------------------------------


class ServiceError(WalletVoucherError):
    """The pass-update web service or the APNs push client failed."""


class ServiceConfigError(ServiceError, ValidationError):
    """A service setting that cannot be used: token secret, base URL, config file, environment variable."""


class ApnsError(ServiceError):
    """APNs refused the provider itself (certificate, provider token, topic): every push would fail.

    ``status`` and ``reason`` are APNs' own (e.g. 403 ``BadCertificate``). Per-device refusals such
    as 410 ``Unregistered`` are not raised: they come back in the push report.
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None,
                 field: str | None = None, value: Any = _MISSING, fix: str | None = None) -> None:
        self.status = status
        self.reason = reason
        super().__init__(message, field=field, value=value, fix=fix)
class PushNotDelivered(ServiceError):
    """Some pass-update pushes still failed after the client's retries (APNs unreachable, 429, 5xx).

    The outbox worker gives the message back and sends it again later.
    """


class WebhookNotDelivered(ServiceError):
    """A webhook receiver did not take a delivery (unreachable, or an answer other than 2xx).

    ``retry_after`` is the receiver's ``Retry-After`` in seconds when it sent one; the outbox worker
    gives the message back and sends it again later.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, fix: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, fix=fix)


class PreviewError(WalletVoucherError):
    """A pass that cannot be pictured: not a zip, no readable pass.json, or a wallet we do not draw."""
# --- The wallet store (walletvoucher.store) --------------------------------------------------


class PosterError(ValidationError):
    """A join poster that cannot be made: a URL that is no web address, a size or format we lack."""


class StoreError(WalletVoucherError):
    """The wallet store could not do what was asked; nothing was written."""


class UnknownCard(StoreError):
    """No card with that serial is stored."""


class DuplicateSerial(StoreError):
    """A card (or voucher) serial that is already stored: serials are unique."""


class StaleVersion(StoreError):
    """The card changed under every attempt (optimistic concurrency) until the retries ran out."""


class IdempotencyKeyReused(StoreError):
    """An idempotency key already used for a different request."""


class UnknownProgram(StoreError):
    """A program id or version the wallet was not opened with."""


class UnknownCodePool(StoreError):
    """No code pool with that name has been imported."""


class StoreUrlError(StoreError, ValidationError):
    """A database URL the store does not understand."""


class SchemaTooNew(StoreError):
    """The database's schema was written by a newer walletvoucher than this one."""


class AccessError(StoreError):
    """A credential that cannot be created or used: a name in use, a spent or unknown enrolment code."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or opened (server down, wrong host, missing directory)."""


class DatabaseReadOnly(DatabaseUnavailable):
    """The database accepts reads but refuses writes (read-only file, replica, read-only role)."""
