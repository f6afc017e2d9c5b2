"""``walletvoucher serve``: configuration from TOML and the environment, and demo mode started for real."""

from __future__ import annotations

import io
import json
import re
import ssl
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import attrs
import httpx
import pytest

from walletvoucher.errors import ServiceConfigError
from walletvoucher.model import RedemptionMethod
from walletvoucher.service import PassTokens, ServiceRequest
from walletvoucher.service._config import load_config
from walletvoucher.service._serve import DEMO_PASS_TYPE, build_configured, build_demo
from walletvoucher.store import Wallet

from .conftest import NOW, PASS_TYPE, TEAM, coffee_program
from .servers import ApnsStandIn, free_port


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "walletvoucher.toml"
    path.write_text('[service]\npass_type_identifier = "pass.com.example.file"\npublic_url = "https://a.example"\n')
    env = {"WALLETVOUCHER_PUBLIC_URL": "https://b.example/passkit", "WALLETVOUCHER_TOKEN_SECRET": "x" * 40}
    config = load_config(path, env)
    assert config.pass_type_identifier == "pass.com.example.file"
    assert config.public_url == "https://b.example/passkit"
    assert not config.demo
    assert "x" * 40 not in repr(config)


def test_nothing_configured_is_demo_mode() -> None:
    assert load_config(None, {"HOME": "/root"}).demo


def test_secret_in_the_file_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = tmp_path / "walletvoucher.toml"
    path.write_text('[service]\ntoken_secret = "hunter2-hunter2-hunter2-hunter2-hunter2"\n')
    with pytest.raises(ServiceConfigError, match="WALLETVOUCHER_TOKEN_SECRET") as info:
        load_config(path, {})
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "match"),
    [("[service\n", "TOML"), ('[service]\ncolour = "red"\n', "colour"), ("service = 3\n", "table")],
)
def test_bad_config_files_name_the_problem(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "walletvoucher.toml"
    path.write_text(text)
    with pytest.raises(ServiceConfigError, match=match):
        load_config(path, {})


def test_missing_setting_is_named(tmp_path: Path) -> None:
    config = load_config(None, {"WALLETVOUCHER_PASS_TYPE_IDENTIFIER": PASS_TYPE})
    with pytest.raises(ServiceConfigError, match="team_identifier"):
        build_configured(config, at=NOW, db="sqlite:///unused.db")


def test_configured_service_needs_a_store(chain_files: dict[str, Path]) -> None:
    with pytest.raises(ServiceConfigError, match="--db"):
        build_configured(load_config(None, _configured_env(chain_files)), at=NOW, db=None)


def _configured_env(chain_files: dict[str, Path]) -> dict[str, str]:
    return {
        "WALLETVOUCHER_PASS_TYPE_IDENTIFIER": PASS_TYPE,
        "WALLETVOUCHER_TEAM_IDENTIFIER": TEAM,
        "WALLETVOUCHER_PUBLIC_URL": "https://wallet.example.com/passkit",
        "WALLETVOUCHER_TOKEN_SECRET": "s" * 40,
        "WALLETVOUCHER_CERTIFICATE": str(chain_files["certificate"]),
        "WALLETVOUCHER_KEY": str(chain_files["key"]),
        "WALLETVOUCHER_WWDR": str(chain_files["wwdr"]),
    }


def test_configured_service_loads_the_signing_material(chain_files: dict[str, Path], tmp_path: Path) -> None:
    env = _configured_env(chain_files)
    served = build_configured(load_config(None, env), at=NOW, db=f"sqlite:///{tmp_path / 'w.db'}")
    try:
        assert served.service.pass_type_identifier == PASS_TYPE and not served.demo
        assert served.service.store.pass_state("NONE") is None
    finally:
        served.wallets.close()


def test_serve_starts_in_demo_mode_on_a_fresh_machine(tmp_path: Path) -> None:
    port = free_port()
    code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--state-dir", str(tmp_path)]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        lines = _read_until(proc, "try: curl")
        assert any(line.startswith(f"wallet store: sqlite:///{tmp_path}") for line in lines)  # its own
        curl = lines[-1]
        token = re.search(r"ApplePass ([\w-]+)", curl).group(1)  # type: ignore[union-attr]
        url = re.search(r"(https://\S+/v1/passes/\S+)", curl).group(1)  # type: ignore[union-attr]
        assert f"/v1/passes/{DEMO_PASS_TYPE}/" in url
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "server.pem"))
        answer = _get(url, token, context)
        assert answer.status_code == 200
        with zipfile.ZipFile(io.BytesIO(answer.content)) as bundle:
            doc = json.loads(bundle.read("pass.json"))
        assert doc["webServiceURL"] == f"https://127.0.0.1:{port}"
        assert doc["authenticationToken"] == token
        # the till API is mounted over the same store: a key made by `api-key create` works at once
        serial = url.rsplit("/", 1)[1]
        db = f"sqlite:///{tmp_path / 'demo-wallet.db'}"
        made = subprocess.run([sys.executable, "-c", code, "api-key", "create", "--name", "till-1", "--scope",
                               "read", "--db", db], env=env, capture_output=True, text=True, timeout=60)
        key = made.stdout.strip().splitlines()[-1]
        api = f"https://127.0.0.1:{port}/api/v1"
        assert httpx.get(f"{api}/openapi.json", verify=context).json()["openapi"] == "3.1.0"
        card = httpx.get(f"{api}/cards/{serial}", headers={"authorization": f"Bearer {key}"}, verify=context)
        assert card.status_code == 200 and card.json()["serial"] == serial
        assert httpx.get(f"{api}/cards/{serial}", verify=context).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()


def _read_until(proc: subprocess.Popen[str], marker: str) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("serve exited early:\n" + "".join(lines))
        lines.append(line)
        if line.startswith(marker):
            return lines
    raise AssertionError("serve printed no " + marker)


def _get(url: str, token: str, context: ssl.SSLContext) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, headers={"Authorization": f"ApplePass {token}"}, verify=context, timeout=10)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_with_worker_pushes_what_the_store_queued(
    tmp_path: Path,
    chain_files: dict[str, Path],
    server_cert: tuple[Path, Path],
    tls_ca_file: Path,
    apns_server: ApnsStandIn,
) -> None:
    url = f"sqlite:///{tmp_path / 'wallet.db'}"
    wallet = Wallet.open(url, programs=[coffee_program()])
    wallet.issue_card("coffee", serial="CARD-1", member_id="m-1", at=NOW)
    port = free_port()
    certfile, keyfile = server_cert
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), **_configured_env(chain_files)}
    code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--db", url, "--worker",
            "--apns-url", apns_server.url, "--apns-ca", str(tls_ca_file),
            "--tls-cert", str(certfile), "--tls-key", str(keyfile)]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        lines = _read_until(proc, "worker:")
        assert any(line.startswith(f"wallet store: {url}") for line in lines)
        context = ssl.create_default_context(cafile=str(tls_ca_file))
        token = PassTokens(b"s" * 40).token_for("CARD-1")
        register = f"https://127.0.0.1:{port}/v1/devices/phone/registrations/{PASS_TYPE}/CARD-1"
        answer = _post(register, token, context, {"pushToken": "ef" * 32})
        assert answer.status_code == 201
        wallet.stamp("CARD-1", 2, at=NOW + timedelta(minutes=1))
        deadline = time.monotonic() + 30
        while not apns_server.seen and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [s.path for s in apns_server.seen] == [f"/3/device/{'ef' * 32}"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()
    deadline = time.monotonic() + 10
    while wallet.outbox.pending() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert wallet.outbox.pending() == 0
    wallet.close()


def _post(url: str, token: str, context: ssl.SSLContext, body: dict[str, str]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.post(url, headers={"Authorization": f"ApplePass {token}"}, json=body, verify=context,
                              timeout=10)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_demo_vouchers_of_every_method_render_as_their_own_passes(tmp_path: Path) -> None:
    served = build_demo(host="127.0.0.1", port=8443, state_dir=tmp_path, at=NOW)
    try:
        wallet = served.wallets()
        for serial in ("DEMO-EN-1", "DEMO-CARD-2", "DEMO-CARD-3"):  # Self-Redeem, Self-Redeem, Staff-Scan
            card = wallet.card(serial)
            (voucher, *_) = wallet.stamp(serial, card.program.goal - card.stamps, at=NOW + timedelta(days=1),
                                         source="till").vouchers
            token = served.service.tokens.token_for(voucher.serial)
            answer = served.service.handle(
                ServiceRequest(method="GET", path=f"/v1/passes/{DEMO_PASS_TYPE}/{voucher.serial}",
                               headers={"authorization": f"ApplePass {token}"}),
                at=NOW + timedelta(days=1),
            )
            assert answer.status == 200, serial
            with zipfile.ZipFile(io.BytesIO(answer.body)) as bundle:
                assert "coupon" in json.loads(bundle.read("pass.json"))
    finally:
        served.wallets.close()


def test_demo_worker_without_an_apns_stand_in_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from walletvoucher.cli import main

    assert main(["serve", "--worker", "--state-dir", str(tmp_path), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "--worker" in err and "--apns-url" in err and "Traceback" not in err


@pytest.mark.parametrize("method", [RedemptionMethod.SELF_REDEEM, RedemptionMethod.STAFF_SCAN])
def test_configured_service_renders_every_voucher_kind_as_its_own_pass(
    chain_files: dict[str, Path], tmp_path: Path, method: RedemptionMethod
) -> None:
    env = {**_configured_env(chain_files), "WALLETVOUCHER_REDEEM_LINK": "https://wallet.example.com/r/{serial}",
           "WALLETVOUCHER_SCAN_KEY_ID": "till-1", "WALLETVOUCHER_SCAN_KEY_SECRET": "k" * 32}  # fmt: skip
    program = attrs.evolve(coffee_program(), redemption=method, goal=1)
    served = build_configured(load_config(None, env), at=NOW, db=f"sqlite:///{tmp_path / 'w.db'}",
                              programs=[program])
    try:
        wallet = served.wallets()
        wallet.issue_card(program, serial="CARD-9", member_id="m-9", at=NOW)
        voucher = wallet.stamp("CARD-9", 1, at=NOW).vouchers[0]
        token = PassTokens(("s" * 40).encode()).token_for(voucher.serial)
        response = served.service.handle(ServiceRequest(
            method="GET", path=f"/v1/passes/{PASS_TYPE}/{voucher.serial}",
            headers={"authorization": f"ApplePass {token}"}), at=NOW)
        assert response.status == 200
        with zipfile.ZipFile(io.BytesIO(response.body)) as bundle:
            doc = json.loads(bundle.read("pass.json"))
        assert doc["serialNumber"] == voucher.serial and "coupon" in doc
        if method is RedemptionMethod.SELF_REDEEM:
            assert "wallet.example.com/r/" in json.dumps(doc)
        else:  # the signed Staff-Scan token is the barcode
            assert doc["barcodes"][0]["message"].startswith(f"wv1.till-1.{voucher.serial}.")
    finally:
        served.wallets.close()


def test_a_scan_key_secret_without_its_id_is_a_config_error(
    chain_files: dict[str, Path], tmp_path: Path
) -> None:
    env = {**_configured_env(chain_files), "WALLETVOUCHER_SCAN_KEY_SECRET": "k" * 32}
    with pytest.raises(ServiceConfigError, match="scan_key_id"):
        build_configured(load_config(None, env), at=NOW, db=f"sqlite:///{tmp_path / 'w.db'}")


def test_a_configured_service_with_webhooks_queues_them_with_every_transition(
    chain_files: dict[str, Path], tmp_path: Path
) -> None:
    from .conftest import coffee_program

    config_file = tmp_path / "walletvoucher.toml"
    config_file.write_text(
        '[[webhooks]]\nurl = "https://backend.example/hooks"\nsecret_env = "HOOKS"\n'
        'events = ["stamp_added"]\n',
        encoding="utf-8",
    )
    env = {**_configured_env(chain_files), "HOOKS": "whsec_" + "A" * 32}
    config = load_config(config_file, env)
    served = build_configured(
        config,
        at=NOW,
        db=f"sqlite:///{tmp_path / 'w.db'}",
        programs=[coffee_program()],
        webhooks=config.webhooks(env),
    )
    try:
        wallet = served.wallets()
        wallet.issue_card("coffee", serial="H-1", member_id="m", at=NOW)
        wallet.stamp("H-1", 2, at=NOW)
        queued = [m.payload for m in wallet.outbox.claim(at=NOW, topics=["webhook.deliver"])]
        assert [(p["type"], p["data"]["count"]) for p in queued] == [("stamp_added", 2)]
    finally:
        served.wallets.close()
