"""Mint a throwaway certificate chain shaped like Apple's, for tests and the demo.

The chain is ``root -> WWDR-like intermediate -> pass-type certificate``. The pass-type
certificate carries the pass type identifier as ``UID`` and the team identifier as ``OU``,
as Apple's do, so :func:`walletvoucher.keys.load_apple_signer` checks it the same way.
Wallet on an iPhone will **not** accept passes signed with this chain: it exists so the
signature, the manifest and the chain can be checked with ``openssl`` without real keys.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_PUBLIC_EXPONENT = 65537


@attrs.frozen(kw_only=True)
class TestChain:
    """A minted chain: every certificate plus the pass-type key (never shown in the repr)."""

    __test__ = False  # not a pytest test class

    root: x509.Certificate
    wwdr: x509.Certificate
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey = attrs.field(repr=False)
    pass_type_identifier: str
    team_identifier: str

    def write(self, directory: Path, *, password: bytes | None = None) -> dict[str, Path]:
        """Write ``root-ca.pem``, ``wwdr.pem``, ``pass.pem`` and ``pass.key`` (PEM) to a directory.

        >>> # chain.write(Path("out/apple"))["root"]  -> Path("out/apple/root-ca.pem")
        """
        directory.mkdir(parents=True, exist_ok=True)
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        files = {
            "root": ("root-ca.pem", _pem(self.root)),
            "wwdr": ("wwdr.pem", _pem(self.wwdr)),
            "certificate": ("pass.pem", _pem(self.certificate)),
            "key": (
                "pass.key",
                self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc),
            ),
        }
        out: dict[str, Path] = {}
        for role, (name, data) in files.items():
            path = directory / name
            _write_file(path, data, private=role == "key")
            out[role] = path
        return out


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(*parts: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def new_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key (the size Apple's portal issues)."""
    return rsa.generate_private_key(public_exponent=_PUBLIC_EXPONENT, key_size=2048)


def _build(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    signing_key: rsa.RSAPrivateKey,
    *,
    not_before: datetime,
    not_after: datetime,
    ca: bool,
    serial: int,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    else:
        usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    builder = builder.add_extension(usage, critical=True)
    return builder.sign(signing_key, hashes.SHA256())


def wwdr_name(generation: str = "G4") -> x509.Name:
    """The subject of a WWDR-like intermediate of the given generation (``OU`` = ``G1``/``G4``...)."""
    return _name(
        (NameOID.COUNTRY_NAME, "US"),
        (NameOID.ORGANIZATION_NAME, "walletvoucher TEST (not Apple)"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, generation),
        (NameOID.COMMON_NAME, "TEST Worldwide Developer Relations Certification Authority"),
    )


def mint_test_chain(
    *,
    pass_type_identifier: str = "pass.com.example.walletvoucher",
    team_identifier: str = "TEAMID1234",
    organization_name: str = "walletvoucher test",
    at: datetime,
    valid_for: timedelta = timedelta(days=365),
    backdate: timedelta = timedelta(days=1),
    wwdr_generation: str = "G4",
) -> TestChain:
    """Mint root, WWDR-like intermediate and pass-type certificate + key, valid around ``at``.

    Valid from ``at - backdate`` to ``at + valid_for`` (the root and WWDR a little longer).

    >>> from datetime import datetime, timezone
    >>> chain = mint_test_chain(at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> chain.certificate.issuer == chain.wwdr.subject
    True
    """
    start = at - backdate
    end = at + valid_for
    root_key, wwdr_key, pass_key = new_key(), new_key(), new_key()
    root_name = _name(
        (NameOID.COUNTRY_NAME, "US"),
        (NameOID.ORGANIZATION_NAME, "walletvoucher TEST (not Apple)"),
        (NameOID.COMMON_NAME, "walletvoucher TEST Root CA"),
    )
    root = _build(root_name, root_name, root_key.public_key(), root_key,
                  not_before=start, not_after=end + timedelta(days=2), ca=True, serial=1)
    inter_name = wwdr_name(wwdr_generation)
    wwdr = _build(inter_name, root_name, wwdr_key.public_key(), root_key,
                  not_before=start, not_after=end + timedelta(days=1), ca=True, serial=2)
    subject = _name(
        (NameOID.USER_ID, pass_type_identifier),
        (NameOID.COMMON_NAME, f"Pass Type ID: {pass_type_identifier}"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, team_identifier),
        (NameOID.ORGANIZATION_NAME, organization_name),
        (NameOID.COUNTRY_NAME, "US"),
    )
    cert = _build(subject, inter_name, pass_key.public_key(), wwdr_key,
                  not_before=start, not_after=end, ca=False, serial=3)
    return TestChain(root=root, wwdr=wwdr, certificate=cert, key=pass_key,
                     pass_type_identifier=pass_type_identifier, team_identifier=team_identifier)


def _write_file(path: Path, data: bytes, *, private: bool) -> None:
    """Write *data*; a private key is created readable by its owner only (0600), never world-readable."""
    mode = 0o600 if private else 0o644
    if private and path.exists():
        path.chmod(0o600)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
