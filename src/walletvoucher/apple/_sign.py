"""Signing the manifest: a detached, DER-encoded PKCS#7 signature. Pure, given key objects.

:class:`AppleSigner` lives in :mod:`walletvoucher._signers` (below the renderers, so key loading
can build it); it is re-exported here and from :mod:`walletvoucher.apple`.
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from walletvoucher._signers import AppleSigner, SigningKey

__all__ = ["AppleSigner", "SigningKey", "sign_manifest"]


def sign_manifest(manifest: bytes, signer: AppleSigner, *, at: datetime | None = None) -> bytes:
    """Return the detached DER PKCS#7 signature of ``manifest`` (SHA-256, binary, signing time).

    The WWDR intermediate is embedded next to the signer's certificate, as Wallet requires. With
    ``at`` (``render_pass`` passes its clock) the certificate and the WWDR intermediate must be
    valid at that time: :class:`~walletvoucher.errors.CertificateExpiredError` or
    :class:`~walletvoucher.errors.CertificateNotYetValidError` otherwise.

    >>> # signature = sign_manifest(manifest_bytes, signer, at=now)   # bytes for the file "signature"
    """
    if at is not None:
        signer.check_valid_at(at)
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(signer.certificate, signer.key, hashes.SHA256())
        .add_certificate(signer.wwdr)
    )
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return builder.sign(serialization.Encoding.DER, options)
