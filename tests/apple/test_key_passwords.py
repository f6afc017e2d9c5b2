"""Key password errors name their cause (issue 18, item 12): a password missing for an encrypted key, a
wrong one, a stale one for a key that has none, and a file that is not a key at all. The keys and
.p12 files are made by openssl, an independent producer; the password never appears in a message."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.apple.helpers import AT, PASS_TYPE, TEAM
from walletvoucher.apple import mint_test_chain
from walletvoucher.cli import main
from walletvoucher.errors import CertificateFormatError
from walletvoucher.keys import load_pkcs12, load_private_key

PASSWORD = "s3cret-pässword"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keys")
    chain = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT)
    plain = chain.write(root)
    env = {**os.environ, "PW": PASSWORD}
    encrypted, p12, open_p12 = root / "encrypted.key", root / "Certificates.p12", root / "open.p12"
    subprocess.run(["openssl", "pkey", "-in", str(plain["key"]), "-aes256", "-passout", "env:PW",
                    "-out", str(encrypted)], check=True, env=env, capture_output=True)
    for out, passout in ((p12, "env:PW"), (open_p12, "pass:")):
        subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(plain["key"]), "-in",
                        str(plain["certificate"]), "-out", str(out), "-passout", passout],
                       check=True, env=env, capture_output=True)
    return {**plain, "encrypted": encrypted, "p12": p12, "open_p12": open_p12}


@pytest.mark.parametrize(
    ("key", "password", "message", "fix"),
    [
        ("encrypted", None, "is missing: the key is encrypted", "give the key's password in MY_PW"),
        ("encrypted", "not-the-one", "is wrong for this key", "check MY_PW"),
        ("key", PASSWORD, "was given, but the key is not encrypted", "unset MY_PW"),
        ("certificate", None, "is not a private key", "not the certificate"),
        ("certificate", PASSWORD, "is not a private key", "not the certificate"),
    ],
)
def test_each_pem_key_failure_names_its_cause_and_the_variable(
    files: dict[str, Path], key: str, password: str | None, message: str, fix: str
) -> None:
    with pytest.raises(CertificateFormatError) as info:
        load_private_key(files[key], password=password, password_from="MY_PW")
    assert message in info.value.message and fix in (info.value.fix or "")
    assert PASSWORD not in str(info.value) and "not-the-one" not in str(info.value)


@pytest.mark.parametrize(
    ("p12", "password", "message", "fix"),
    [
        ("p12", None, "is missing: the .p12 is protected by one", "give the .p12's password in MY_PW"),
        ("p12", "not-the-one", "is wrong for this .p12", "check MY_PW"),
        ("open_p12", PASSWORD, "was given, but the .p12 has no password", "unset MY_PW"),
        ("key", None, "is not a PKCS#12 (.p12) file", "certificate= and key="),
    ],
)
def test_each_p12_failure_names_its_cause(
    files: dict[str, Path], p12: str, password: str | None, message: str, fix: str
) -> None:
    with pytest.raises(CertificateFormatError) as info:
        load_pkcs12(files[p12], password=password, password_from="MY_PW")
    assert message in info.value.message and fix in (info.value.fix or "")
    assert PASSWORD not in str(info.value) and "not-the-one" not in str(info.value)


def test_the_right_passwords_still_load(files: dict[str, Path]) -> None:
    assert load_private_key(files["encrypted"], password=PASSWORD).key_size == 2048  # type: ignore[union-attr]
    assert load_pkcs12(files["p12"], password=PASSWORD)[0].subject
    assert load_pkcs12(files["open_p12"])[0].subject


@pytest.mark.parametrize(
    ("key", "env", "expected"),
    [
        ("encrypted", None, "give the key's password in the environment variable TEST_PW"),
        ("encrypted", "not-the-one", "check the environment variable TEST_PW"),
        ("key", PASSWORD, "unset the environment variable TEST_PW"),
        ("certificate", None, "is not a private key"),
    ],
)
def test_build_names_the_cause_and_the_program_files_variable(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, key: str, env: str | None, expected: str,
) -> None:
    doc = {
        "program": {"id": "coffee", "name": "Coffee", "goal": 10, "redemption": "redeem_code"},
        "brand": {"name": "Kahve", "foreground": "#FFFFFF", "background": "#1E3A5F", "label": "#F2C14E"},
        "reward": {"title": "Free coffee", "description": "Any size"},
        "apple": {"pass_type_identifier": PASS_TYPE, "team_identifier": TEAM, "password_env": "TEST_PW",
                  "certificate": str(files["certificate"]), "key": str(files[key]),
                  "wwdr": str(files["wwdr"])},
    }
    (tmp_path / "p.json").write_text(json.dumps(doc))
    monkeypatch.delenv("TEST_PW", raising=False)
    if env is not None:
        monkeypatch.setenv("TEST_PW", env)
    status = main(["build", str(tmp_path / "p.json"), "--card", "C", "--at", AT.isoformat(),
                   "--pkpass", str(tmp_path / "c.pkpass")])
    stderr = capsys.readouterr().err
    assert status == 1 and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert expected in stderr and PASSWORD not in stderr and "not-the-one" not in stderr
