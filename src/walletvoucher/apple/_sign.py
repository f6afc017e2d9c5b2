"""Signing the manifest: a detached, DER-encoded PKCS#7 signature. Pure, given key objects."""

from __future__ import annotations

from typing import TypeAlias, Union

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

SigningKey: TypeAlias = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]  # noqa: UP007 (3.10 runtime)


@attrs.frozen(kw_only=True)
class AppleSigner:
    """Everything needed to sign passes of one pass type. The key is never shown in the repr.

    Build one with :func:`walletvoucher.keys.load_apple_signer` (which checks that the pieces
    fit together) or directly from key objects you already hold (no checks).
    ``warnings`` holds the texts of any warnings raised while loading (e.g. expiring soon).
    """

    pass_type_identifier: str
    team_identifier: str
    certificate: x509.Certificate = attrs.field(repr=False)
    key: SigningKey = attrs.field(repr=False)
    wwdr: x509.Certificate = attrs.field(repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        """The pass-type certificate's subject, RFC 4514 form (for reports)."""
        return self.certificate.subject.rfc4514_string()


def sign_manifest(manifest: bytes, signer: AppleSigner) -> bytes:
    """Return the detached DER PKCS#7 signature of ``manifest`` (SHA-256, binary, signing time).

    The WWDR intermediate is embedded next to the signer's certificate, as Wallet requires.

    >>> # signature = sign_manifest(manifest_bytes, signer)   # bytes for the file "signature"
    """
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(signer.certificate, signer.key, hashes.SHA256())
        .add_certificate(signer.wwdr)
    )
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return builder.sign(serialization.Encoding.DER, options)
