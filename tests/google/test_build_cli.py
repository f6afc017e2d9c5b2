"""`walletvoucher build` for what the README's program file could not do from the command line (issue 18,
item 11): a Google link for a translated program (``--insert-class``, against the loopback fake Wallet
API), and Staff-Scan vouchers (the ``[scan]`` table, its secret from the environment). Links are
checked with PyJWT; the scan token with the staff app's verifier and the key the test holds."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.apple.helpers import PASS_TYPE, TEAM
from tests.google.conftest import AT, ISSUER
from tests.google.fake_wallet_api import FakeWalletApi
from walletvoucher.apple import mint_test_chain
from walletvoucher.cli import main
from walletvoucher.codes import ScanKey, verify_scan_token
from walletvoucher.codes._rotating import rotating_value

README = Path(__file__).resolve().parents[2] / "README.md"
SCAN_SECRET = "till-secret-0123456789abcdef0123"


def readme_program() -> str:
    """The README's own coffee.toml (the first TOML block of "The command line")."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## The command line"):]
    return re.search(r"```toml\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


@pytest.fixture
def shop(tmp_path: Path, sa_info: dict[str, Any], fake_api: FakeWalletApi,
         monkeypatch: pytest.MonkeyPatch) -> Path:
    chain = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT)
    chain.write(tmp_path / "certs")  # the README's paths: certs/pass.pem, certs/pass.key, certs/wwdr.pem
    (tmp_path / "sa.json").write_text(json.dumps({**sa_info, "token_uri": fake_api.token_uri}))
    google = (f'\n[google]\nissuer_id = "{ISSUER}"\nservice_account = "sa.json"\n'
              'origins = ["https://shop.example.com"]\nlogo_url = "https://shop.example.com/logo.png"\n')
    (tmp_path / "coffee.toml").write_text(readme_program() + google, encoding="utf-8")
    monkeypatch.delenv("WALLETVOUCHER_KEY_PASSWORD", raising=False)
    monkeypatch.delenv("WALLETVOUCHER_SCAN_KEY_SECRET", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def claims_of(url: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    token = url.rsplit("/", 1)[-1]
    decoded: dict[str, Any] = jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="google")
    return decoded


def test_the_readme_program_needs_the_class_inserted_and_the_error_names_the_flag(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, stdout, stderr = run(capsys, "build", str(shop / "coffee.toml"), "--card", "CARD-1",
                                 "--at", AT.isoformat(), "--google-link")
    assert status == 1 and stdout == ""
    assert "--insert-class" in stderr and "rest=" not in stderr and "WalletRestClient" not in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_insert_class_inserts_it_through_the_api_and_the_link_carries_only_the_object(
    shop: Path, capsys: pytest.CaptureFixture[str], fake_api: FakeWalletApi, rsa_key: rsa.RSAPrivateKey
) -> None:
    argv = ["build", str(shop / "coffee.toml"), "--card", "CARD-1", "--stamps", "3", "--at", AT.isoformat(),
            "--google-link", "--insert-class", "--google-api-url", fake_api.base_url]
    status, stdout, stderr = run(capsys, *argv)
    assert status == 0, stderr
    url = stdout.strip().splitlines()[-1]
    assert len(url) <= 1800
    payload = claims_of(url, rsa_key)["payload"]
    assert "loyaltyClasses" not in payload
    (obj,) = payload["loyaltyObjects"]
    stored = fake_api.store["loyaltyClass"]
    assert list(stored) == [obj["classId"]] and obj["classId"].startswith(ISSUER + ".")
    assert stored[obj["classId"]]["localizedProgramName"]["translatedValues"]  # the translations went by REST
    status, stdout, stderr = run(capsys, *argv)  # a second build patches the class it inserted before
    assert status == 0, stderr
    assert [m for m, p, _ in fake_api.requests if "loyaltyClass" in p].count("PATCH") == 1


def test_insert_class_without_google_link_is_a_usage_mistake(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, stderr = run(capsys, "build", str(shop / "coffee.toml"), "--card", "C", "--pkpass",
                            str(shop / "c.pkpass"), "--insert-class")
    assert status == 2 and "--google-link" in stderr


def _staff_scan(shop: Path, scan: str) -> Path:
    path = shop / "coffee.toml"
    text = path.read_text(encoding="utf-8").replace('redemption = "redeem_code"', 'redemption = "staff_scan"')
    path.write_text(text + scan, encoding="utf-8")
    return path


SCAN_TABLE = '\n[scan]\nkey_id = "till-2026"\nsecret_env = "SHOP_SCAN_SECRET"\n'


def test_a_staff_scan_voucher_is_built_from_the_program_files_scan_table(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    fake_api: FakeWalletApi, rsa_key: rsa.RSAPrivateKey,
) -> None:
    path = _staff_scan(shop, SCAN_TABLE)
    monkeypatch.setenv("SHOP_SCAN_SECRET", SCAN_SECRET)
    out = shop / "voucher.pkpass"
    status, stdout, stderr = run(capsys, "build", str(path), "--voucher", "CARD-9", "--at", AT.isoformat(),
                                 "--pkpass", str(out), "--google-link", "--insert-class",
                                 "--google-api-url", fake_api.base_url)
    assert status == 0, stderr
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        doc = json.loads(archive.read("pass.json"))
    staff_key = ScanKey(key_id="till-2026", secret=SCAN_SECRET.encode())
    (message,) = {b["message"] for b in doc["barcodes"]}
    claims = verify_scan_token(message, keys=[staff_key], at=AT)
    assert claims.key_id == "till-2026" and claims.voucher_serial == doc["serialNumber"]
    (offer,) = claims_of(stdout.strip().splitlines()[-1], rsa_key)["payload"]["offerObjects"]
    assert set(offer) == {"id"}   # a rotating code's key never travels in the link: the object went by REST
    stored = fake_api.store["offerObject"][offer["id"]]
    assert stored["classId"] in fake_api.store["offerClass"]
    shown = rotating_value(doc["serialNumber"], key_id="till-2026", secret=SCAN_SECRET.encode(), at=AT)
    assert stored["rotatingBarcode"]["valuePattern"].startswith("wvr1.till-2026.")
    assert verify_scan_token(shown, keys=[staff_key], at=AT).key_id == "till-2026"
    assert SCAN_SECRET not in stderr


@pytest.mark.parametrize(
    ("scan", "env", "expected"),
    [
        ("", None, "[scan]"),
        (SCAN_TABLE, None, "SHOP_SCAN_SECRET"),
        (SCAN_TABLE, "short", "[scan] secret_env SHOP_SCAN_SECRET"),
        ('\n[scan]\nkey_id = "bad id!"\n', None, "[scan] key_id"),
        ('\n[scan]\nkey_id = "till-2026"\nsecret = "in-the-file"\n', None, "[scan] secret"),
    ],
)
def test_a_staff_scan_program_without_a_usable_scan_key_names_the_table_or_variable(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    scan: str, env: str | None, expected: str,
) -> None:
    path = _staff_scan(shop, scan)
    if env is not None:
        monkeypatch.setenv("SHOP_SCAN_SECRET", env)
    status, _, stderr = run(capsys, "build", str(path), "--voucher", "CARD-9", "--at", AT.isoformat(),
                            "--pkpass", str(shop / "v.pkpass"))
    assert status == 2, stderr
    assert expected in stderr and "Fix:" in stderr and len(stderr.strip().splitlines()) == 1
    assert "in-the-file" not in stderr and "'short'" not in stderr


def test_the_worker_syncs_staff_scan_vouchers_with_the_program_files_scan_key(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_api: FakeWalletApi
) -> None:
    from walletvoucher.programfile import load_program_file
    from walletvoucher.service import google_sync_effect
    from walletvoucher.service._worker_cli import google_handler
    from walletvoucher.store import Wallet

    loaded = load_program_file(_staff_scan(shop, SCAN_TABLE))
    monkeypatch.setenv("SHOP_SCAN_SECRET", SCAN_SECRET)
    url = f"sqlite:///{tmp_path / 'wallet.db'}"
    with Wallet.open(url, programs=[loaded.program], effects=[google_sync_effect()]) as wallet:
        sync = google_handler(wallet, [loaded], api_url=fake_api.base_url)
        assert sync is not None
        wallet.issue_card(loaded.program, serial="CARD-5", member_id="m-1", at=AT)
        wallet.stamp("CARD-5", loaded.program.goal, at=AT)
        for message in wallet.outbox.claim(at=AT, limit=100):
            sync(message, AT)
            wallet.outbox.complete(message.id, at=AT)
    staff_key = ScanKey(key_id="till-2026", secret=SCAN_SECRET.encode())
    patterns = [body["rotatingBarcode"]["valuePattern"] for kind in ("loyaltyObject", "offerObject")
                for body in fake_api.store[kind].values() if "rotatingBarcode" in body]
    serials = {p.split(".")[2] for p in patterns}
    assert patterns and all(p.startswith("wvr1.till-2026.") for p in patterns)
    for serial in serials:   # the code each object's key draws verifies with the program file's scan key
        shown = rotating_value(serial, key_id="till-2026", secret=SCAN_SECRET.encode(), at=AT)
        assert verify_scan_token(shown, keys=[staff_key], at=AT).voucher_serial == serial
