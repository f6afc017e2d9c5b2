"""Loading Apple signing material: PEM (plain/encrypted), DER, .p12 from two producers, and every misfit."""

from __future__ import annotations

import os
import subprocess
import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.apple.helpers import AT, PASS_TYPE, TEAM
from walletvoucher.apple import TestChain, mint_test_chain
from walletvoucher.errors import (
    CertificateExpiredError,
    CertificateExpiringWarning,
    CertificateFormatError,
    CertificateNotYetValidError,
    KeyLoadError,
    KeyMismatchError,
    PassTypeMismatchError,
    WrongWWDRError,
)
from walletvoucher.keys import load_apple_signer, load_certificate

PASSWORD = "s3cret-pässword"


def _load(**kw: object) -> object:
    base: dict[str, object] = {"pass_type_identifier": PASS_TYPE, "team_identifier": TEAM, "at": AT}
    base.update(kw)
    return load_apple_signer(**base)  # type: ignore[arg-type]


def test_unencrypted_pem_from_paths(chain: TestChain, chain_files: dict[str, Path]) -> None:
    signer = _load(certificate=chain_files["certificate"], key=chain_files["key"], wwdr=chain_files["wwdr"])
    assert signer.certificate == chain.certificate  # type: ignore[attr-defined]


def test_encrypted_pem_from_bytes(chain: TestChain, tmp_path: Path) -> None:
    files = chain.write(tmp_path, password=PASSWORD.encode())
    signer = _load(certificate=files["certificate"].read_bytes(), key=files["key"].read_bytes(),
                   wwdr=files["wwdr"].read_bytes(), password=PASSWORD)
    assert signer.key.public_key() == chain.key.public_key()  # type: ignore[attr-defined]


def test_wrong_or_missing_password_never_appears_in_the_error(chain: TestChain, tmp_path: Path) -> None:
    files = chain.write(tmp_path, password=PASSWORD.encode())
    for password in ("wrong-password-123", None):
        with pytest.raises(CertificateFormatError) as info:
            _load(certificate=files["certificate"], key=files["key"], wwdr=files["wwdr"], password=password)
        assert "wrong-password-123" not in str(info.value)
        assert info.value.value is None


def test_der_certificates_load_like_apple_cer_downloads(chain: TestChain) -> None:
    der = chain.wwdr.public_bytes(serialization.Encoding.DER)
    assert load_certificate(der) == chain.wwdr


def test_p12_made_with_cryptography(chain: TestChain) -> None:
    p12 = pkcs12.serialize_key_and_certificates(
        b"pass", chain.key, chain.certificate, [chain.wwdr],
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    signer = _load(p12=p12, password=PASSWORD)  # WWDR taken from the .p12
    assert signer.wwdr == chain.wwdr  # type: ignore[attr-defined]


def test_p12_made_with_openssl_an_independent_producer(
    chain: TestChain, chain_files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "Certificates.p12"
    env = {**os.environ, "P12PASS": PASSWORD}
    subprocess.run(
        ["openssl", "pkcs12", "-export", "-inkey", str(chain_files["key"]),
         "-in", str(chain_files["certificate"]), "-out", str(out), "-passout", "env:P12PASS"],
        check=True, env=env, capture_output=True,
    )
    signer = _load(p12=out, password=PASSWORD, wwdr=chain_files["wwdr"])
    assert signer.certificate == chain.certificate  # type: ignore[attr-defined]


def test_p12_with_a_wrong_password(chain: TestChain) -> None:
    p12 = pkcs12.serialize_key_and_certificates(
        b"pass", chain.key, chain.certificate, None, serialization.BestAvailableEncryption(b"right-one")
    )
    with pytest.raises(CertificateFormatError, match="password") as info:
        _load(p12=p12, password="not-the-right-one")
    assert "not-the-right-one" not in str(info.value)


def test_key_of_another_certificate_is_refused(chain: TestChain, chain_files: dict[str, Path]) -> None:
    other = mint_test_chain(at=AT)
    key = other.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    with pytest.raises(KeyMismatchError, match="does not belong"):
        _load(certificate=chain_files["certificate"], key=key, wwdr=chain_files["wwdr"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("pass_type_identifier", "pass.com.example.other"), ("team_identifier", "OTHERTEAM1")],
)
def test_certificate_for_another_pass_type_or_team(
    chain_files: dict[str, Path], field: str, value: str
) -> None:
    with pytest.raises(PassTypeMismatchError, match=field):
        _load(certificate=chain_files["certificate"], key=chain_files["key"], wwdr=chain_files["wwdr"],
              **{field: value})


def test_expired_and_not_yet_valid(chain: TestChain, chain_files: dict[str, Path]) -> None:
    files = {k: chain_files[k] for k in ("certificate", "key", "wwdr")}
    with pytest.raises(CertificateExpiredError, match="expired"):
        _load(**files, at=chain.certificate.not_valid_after_utc + timedelta(seconds=1))
    with pytest.raises(CertificateNotYetValidError, match="not valid before"):
        _load(**files, at=chain.certificate.not_valid_before_utc - timedelta(seconds=1))


def test_expiring_within_30_days_warns_and_keeps_the_warning(tmp_path: Path) -> None:
    short = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT,
                            valid_for=timedelta(days=20))
    files = short.write(tmp_path)
    with pytest.warns(CertificateExpiringWarning, match="expires on"):
        signer = _load(certificate=files["certificate"], key=files["key"], wwdr=files["wwdr"])
    assert any("certificate expires" in w for w in signer.warnings)  # type: ignore[attr-defined]


def test_no_warning_for_a_long_lived_certificate(chain_files: dict[str, Path]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _load(certificate=chain_files["certificate"], key=chain_files["key"], wwdr=chain_files["wwdr"])


def test_wrong_wwdr_generation_names_the_g1_g4_mixup(chain_files: dict[str, Path]) -> None:
    g1 = mint_test_chain(at=AT, wwdr_generation="G1")
    with pytest.raises(WrongWWDRError) as info:
        _load(certificate=chain_files["certificate"], key=chain_files["key"],
              wwdr=g1.wwdr.public_bytes(serialization.Encoding.PEM))
    text = str(info.value)
    assert "WWDR G1 given, G4 needed" in text
    assert "G4" in text and "apple.com/certificateauthority" in text


def test_same_name_wwdr_that_did_not_sign_is_refused(chain_files: dict[str, Path]) -> None:
    impostor = mint_test_chain(at=AT)  # same G4 subject, different key
    with pytest.raises(WrongWWDRError, match="did not sign"):
        _load(certificate=chain_files["certificate"], key=chain_files["key"],
              wwdr=impostor.wwdr.public_bytes(serialization.Encoding.PEM))


def test_missing_material_and_unreadable_files(chain_files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(CertificateFormatError, match="no signing material"):
        _load(wwdr=chain_files["wwdr"])
    with pytest.raises(CertificateFormatError, match="cannot be read"):
        _load(certificate=tmp_path / "nope.pem", key=chain_files["key"], wwdr=chain_files["wwdr"])
    with pytest.raises(CertificateFormatError, match="not a PEM or DER"):
        _load(certificate=b"garbage", key=chain_files["key"], wwdr=chain_files["wwdr"])
    with pytest.raises(CertificateFormatError, match="no WWDR"):
        _load(certificate=chain_files["certificate"], key=chain_files["key"])


def test_every_load_error_is_a_key_load_error() -> None:
    for cls in (CertificateFormatError, KeyMismatchError, PassTypeMismatchError, CertificateExpiredError,
                WrongWWDRError):
        assert issubclass(cls, KeyLoadError)
