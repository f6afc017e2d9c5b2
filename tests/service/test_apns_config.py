"""The serve/worker configuration's ``[apns]`` table (issue 18, item 11): a ``.p8`` provider-token key for
APNs, its key id and team. The worker's pushes then carry an ES256 bearer token that PyJWT verifies
with the key's public half; a broken table is a one-line error naming the setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from walletvoucher.errors import KeyLoadError, ServiceConfigError
from walletvoucher.service._config import load_config
from walletvoucher.store import Wallet

from .conftest import NOW, PASS_TYPE
from .servers import ApnsStandIn
from .test_worker import LATER, TOKEN, held_card

TEAM = "ABCDE12345"


@pytest.fixture(scope="module")
def p8(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path_factory.mktemp("apns") / "AuthKey_KEY1234567.p8"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path, key


def write_config(folder: Path, apns: str, service: str = "") -> Path:
    path = folder / "walletvoucher.toml"
    head = f'[service]\npass_type_identifier = "{PASS_TYPE}"\nteam_identifier = "{TEAM}"\n'
    path.write_text(f"{head}{service}\n{apns}", encoding="utf-8")
    return path


def test_the_apns_table_loads_a_p8_relative_to_the_config(
    tmp_path: Path, p8: tuple[Path, ec.EllipticCurvePrivateKey]
) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "AuthKey.p8").write_bytes(p8[0].read_bytes())
    apns = '[apns]\nkey_file = "certs/AuthKey.p8"\nkey_id = "KEY1234567"\n'
    config = load_config(write_config(tmp_path, apns), {})
    key = config.apns_token_key()
    assert key is not None and (key.key_id, key.team_id) == ("KEY1234567", TEAM)  # team from [service]
    assert key.key.public_key() == p8[1].public_key()
    env = {"WALLETVOUCHER_APNS_KEY_ID": "OTHERKEY12", "WALLETVOUCHER_APNS_TEAM_ID": "TEAM999999"}
    other = load_config(tmp_path / "walletvoucher.toml", env).apns_token_key()
    assert other is not None and (other.key_id, other.team_id) == ("OTHERKEY12", "TEAM999999")
    assert load_config(write_config(tmp_path, ""), {}).apns_token_key() is None
    assert not load_config(None, {"WALLETVOUCHER_APNS_KEY_ID": "K"}).demo


@pytest.mark.parametrize(
    ("apns", "error", "expected"),
    [
        ('[apns]\nkey_file = "AuthKey.p8"\n', ServiceConfigError, "[apns] key_id"),
        ('[apns]\nkey_id = "KEY1234567"\n', ServiceConfigError, "[apns] key_file"),
        ('[apns]\nkey_file = "AuthKey.p8"\nkey_id = "K"\nsecret = "x"\n', ServiceConfigError,
         "[apns].secret"),
        ('apns = "AuthKey.p8"\n', ServiceConfigError, "[service].apns"),
        ('[apns]\nkey_file = "/dev/zero"\nkey_id = "KEY1234567"\n', KeyLoadError, "not a regular file"),
    ],
)
def test_a_broken_apns_table_names_the_setting(
    tmp_path: Path, apns: str, error: type[Exception], expected: str
) -> None:
    with pytest.raises(error, match=expected.replace("[", r"\[").replace(".", r"\.")):
        load_config(write_config(tmp_path, apns), {}).apns_token_key()


def test_the_worker_pushes_with_the_configured_provider_token(
    tmp_path: Path, db_url: str, wallet: Wallet, apns_server: ApnsStandIn, chain_files: dict[str, Path],
    tls_ca_file: Path, p8: tuple[Path, ec.EllipticCurvePrivateKey],
) -> None:
    held_card(wallet)
    wallet.stamp("CARD-1", at=LATER)
    signing = "".join(f'{name} = "{chain_files[role]}"\n'
                      for name, role in (("certificate", "certificate"), ("key", "key"), ("wwdr", "wwdr")))
    config = write_config(tmp_path, f'[apns]\nkey_file = "{p8[0]}"\nkey_id = "KEY1234567"\n', signing)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
    args = ["worker", "--db", db_url, "--once", "--config", str(config), "--apns-url", apns_server.url,
            "--apns-ca", str(tls_ca_file)]
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    (seen,) = apns_server.seen
    assert seen.path == f"/3/device/{TOKEN}"
    scheme, token = seen.headers["authorization"].split(" ", 1)
    assert scheme == "bearer"
    assert jwt.get_unverified_header(token)["kid"] == "KEY1234567"
    claims = jwt.decode(token, p8[1].public_key(), algorithms=["ES256"])
    assert claims["iss"] == TEAM and claims["iat"] > NOW.timestamp() - 86400 * 3650
