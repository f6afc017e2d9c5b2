"""`walletvoucher build`, `certs mint-test-chain`, `--version`, `python -m walletvoucher`: driven as a user
would, checked with openssl (signatures), PyJWT (save links) and the files on disk."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image

from tests.apple.helpers import AT, PASS_TYPE, TEAM, openssl_verify
from walletvoucher.apple import mint_test_chain
from walletvoucher.cli import build_parser, main

PROGRAM = """
[program]
id = "coffee"
name = {{ default = "Coffee card", zh-Hans = "咖啡卡" }}
goal = 10
redemption = "{redemption}"
code_symbology = "{symbology}"
validity = {{ days = 30 }}

[brand]
name = "Kahve"
foreground = "#FFFFFF"
background = "#1E3A5F"
label = "#F2C14E"
logo = "art/logo.png"

[reward]
title = {{ default = "Free coffee", zh-Hans = "免费咖啡" }}
description = "Any size"

[apple]
pass_type_identifier = "{pass_type}"
team_identifier = "{team}"
certificate = "chain/pass.pem"
key = "chain/pass.key"
wwdr = "chain/wwdr.pem"
password_env = "TEST_KEY_PASSWORD"

[google]
issuer_id = "3388000000022222222"
service_account = "sa.json"
origins = ["https://shop.example.com"]
logo_url = "https://shop.example.com/logo.png"
"""


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (160, 50), "#F2C14E").save(path, format="PNG")


@pytest.fixture(scope="module")
def sa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def project(tmp_path: Path, sa_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch) -> Path:
    chain = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT,
                            backdate=timedelta(days=3650), valid_for=timedelta(days=3650))
    chain.write(tmp_path / "chain", password=b"s3cret-pass")
    monkeypatch.setenv("TEST_KEY_PASSWORD", "s3cret-pass")
    _png(tmp_path / "art" / "logo.png")
    pem = sa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption()).decode()
    (tmp_path / "sa.json").write_text(json.dumps({
        "type": "service_account", "project_id": "p", "private_key_id": "0" * 40, "private_key": pem,
        "client_email": "w@p.iam.gserviceaccount.com", "client_id": "1", "token_uri": "https://oauth2.example/t",
    }))
    write_program(tmp_path)
    return tmp_path


def write_program(
    root: Path, redemption: str = "redeem_code", symbology: str = "qr", extra: str = ""
) -> Path:
    text = PROGRAM.format(redemption=redemption, symbology=symbology, pass_type=PASS_TYPE, team=TEAM) + extra
    path = root / "coffee.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_build_a_card_writes_a_signed_pass_that_openssl_verifies(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = project / "built" / "card.pkpass"
    status, stdout, stderr = run(capsys, "build", str(project / "coffee.toml"), "--card", "CARD-1",
                                 "--stamps", "7", "--at", AT.isoformat(), "--pkpass", str(out))
    assert (status, stderr) == (0, "")
    assert str(out) in stdout
    files = unzip(out.read_bytes())
    (project / "oracle").mkdir()
    result = openssl_verify(files, project / "chain" / "root-ca.pem", project / "oracle")
    assert result.returncode == 0, result.stderr
    doc = json.loads(files["pass.json"])
    assert doc["serialNumber"] == "CARD-1" and doc["passTypeIdentifier"] == PASS_TYPE
    assert "7/10" in json.dumps(doc, ensure_ascii=False)
    assert "logo.png" in files and any(name.startswith("zh-Hans.lproj/") for name in files)


def test_build_issues_an_updatable_pass_with_the_token_serve_expects(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import hashlib
    import hmac

    out = project / "updatable.pkpass"
    argv = ("build", str(project / "coffee.toml"), "--card", "CARD-U", "--at", AT.isoformat(), "--pkpass",
            str(out), "--web-service-url", "https://wallet.example.com")
    monkeypatch.delenv("WALLETVOUCHER_TOKEN_SECRET", raising=False)
    status, _, stderr = run(capsys, *argv)
    assert status == 2 and "WALLETVOUCHER_TOKEN_SECRET" in stderr
    monkeypatch.setenv("WALLETVOUCHER_TOKEN_SECRET", "t" * 40)
    assert run(capsys, *argv)[0] == 0
    doc = json.loads(unzip(out.read_bytes())["pass.json"])
    digest = hmac.new(b"t" * 40, b"walletvoucher/pass-auth/1\x00CARD-U", hashlib.sha256).digest()
    assert doc["webServiceURL"] == "https://wallet.example.com"
    assert doc["authenticationToken"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_build_a_voucher_with_a_pos_code_shows_that_code(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_program(project, symbology="ean13")
    out = project / "voucher.pkpass"
    status, _, stderr = run(capsys, "build", str(project / "coffee.toml"), "--voucher", "CARD-2",
                            "--code", "5901234123457", "--at", AT.isoformat(), "--pkpass", str(out))
    assert status == 0 and stderr.startswith("walletvoucher build: warning: Apple Wallet cannot show EAN_13")
    doc = json.loads(unzip(out.read_bytes())["pass.json"])
    assert "coupon" in doc
    assert {b["message"] for b in doc["barcodes"]} == {"5901234123457"}


def test_build_a_google_link_that_pyjwt_verifies(
    project: Path, sa_key: rsa.RSAPrivateKey, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "coffee.toml"  # English only: a translated class does not fit in a link (see below)
    text = path.read_text(encoding="utf-8")
    text = text.replace('{ default = "Coffee card", zh-Hans = "咖啡卡" }', '"Coffee card"')
    path.write_text(text.replace('{ default = "Free coffee", zh-Hans = "免费咖啡" }', '"Free coffee"'))
    status, stdout, stderr = run(capsys, "build", str(project / "coffee.toml"), "--card", "CARD-3",
                                 "--stamps", "3", "--at", AT.isoformat(), "--google-link")
    assert (status, stderr) == (0, ""), stderr
    url = stdout.strip().splitlines()[-1]
    token = url.rsplit("/", 1)[-1]
    claims: dict[str, Any] = jwt.decode(token, sa_key.public_key(), algorithms=["RS256"], audience="google")
    objects = claims["payload"]["loyaltyObjects"]
    assert objects[0]["loyaltyPoints"]["balance"]["string"] == "3/10"


def test_a_wrong_key_password_is_one_line_exit_1(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_KEY_PASSWORD", "not-the-password")
    status, _, stderr = run(capsys, "build", str(project / "coffee.toml"), "--card", "C", "--at",
                            AT.isoformat(), "--pkpass", str(project / "c.pkpass"))
    assert status == 1
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert "not-the-password" not in stderr


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s.replace("goal = 10\n", ""), "[program] goal"),
        (lambda s: s.replace('background = "#1E3A5F"', 'background = "navy-ish"'), "[brand]"),
        (lambda s: s.replace("goal = 10", 'goal = "ten"'), "[program] goal"),
        (lambda s: s.replace('redemption = "redeem_code"', 'redemption = "magic"'), "[program] redemption"),
        (lambda s: s.replace("[reward]", "[reward]\ncolour = 1"), "[reward] colour"),
        (lambda s: s.replace('logo = "art/logo.png"', 'logo = "art/missing.png"'), "[brand] logo"),
        (lambda s: s.replace("goal = 10", "goal = = 10"), "coffee.toml"),
        (lambda s: s.replace("{ days = 30 }", "{ days = 0 }"), "[program.validity] days"),
    ],
)
def test_a_broken_program_file_names_the_file_the_key_and_the_fix(
    project: Path, capsys: pytest.CaptureFixture[str], edit: Any, expected: str
) -> None:
    path = project / "coffee.toml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    status, _, stderr = run(capsys, "build", str(path), "--card", "C", "--at", AT.isoformat(),
                            "--pkpass", str(project / "c.pkpass"))
    assert status == 2, stderr
    assert expected in stderr and str(path) in stderr and "Fix:" in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1


def test_build_refuses_to_overwrite_without_force(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = project / "card.pkpass"
    out.write_bytes(b"keep me")
    argv = ["build", str(project / "coffee.toml"), "--card", "C", "--at", AT.isoformat(),
            "--pkpass", str(out)]
    status, _, stderr = run(capsys, *argv)
    assert status == 2 and "--force" in stderr and out.read_bytes() == b"keep me"
    assert run(capsys, *argv, "--force")[0] == 0 and out.read_bytes() != b"keep me"


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "missing.toml", "--card", "C", "--pkpass", "x.pkpass"],
        ["build", "PROGRAM", "--card", "C"],
        ["build", "PROGRAM", "--card", "C", "--pkpass", "x.pkpass", "--at", "2026-05-07T10:30:00"],
    ],
)
def test_usage_mistakes_exit_2_with_one_line(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    argv = [str(project / "coffee.toml") if a == "PROGRAM" else a for a in argv]
    status, _, stderr = run(capsys, *argv)
    assert status == 2 and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_mint_test_chain_writes_the_key_for_the_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "certs"
    status, stdout, _ = run(capsys, "certs", "mint-test-chain", "--out", str(out))
    assert status == 0 and "root-ca.pem" in stdout
    assert stat.S_IMODE((out / "pass.key").stat().st_mode) == 0o600
    assert serialization.load_pem_private_key((out / "pass.key").read_bytes(), password=None)
    status, _, stderr = run(capsys, "certs", "mint-test-chain", "--out", str(out))
    assert status == 2 and "--force" in stderr


def test_version_in_process_and_with_python_dash_m(capsys: pytest.CaptureFixture[str]) -> None:
    from walletvoucher import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and __version__ in capsys.readouterr().out
    done = subprocess.run([sys.executable, "-m", "walletvoucher", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"walletvoucher {__version__}"


def _subcommands(parser: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = []
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, child in action.choices.items():
                found.append(((*prefix, name), child))
                found += _subcommands(child, (*prefix, name))
    return found


@pytest.mark.parametrize("path", [p for p, _ in _subcommands(build_parser())], ids=" ".join)
def test_every_subcommand_help_has_a_plain_description(path: tuple[str, ...]) -> None:
    child = dict(_subcommands(build_parser()))[path]
    help_text = child.format_help()
    assert child.description, path
    for rst in ("``", ":func:", ":class:", ":mod:", ":meth:"):
        assert rst not in help_text, (path, rst)


def test_a_link_too_long_for_google_says_why_and_the_remedy(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, stdout, stderr = run(capsys, "build", str(project / "coffee.toml"), "--card", "CARD-4",
                                 "--at", AT.isoformat(), "--google-link")
    assert status == 1 and stdout == ""
    assert "1800" in stderr and "REST" in stderr and len(stderr.strip().splitlines()) == 1


def test_demo_writes_its_key_files_for_the_owner_only_and_refuses_a_file_as_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "demo", "--out", str(tmp_path / "d"))[0] == 0
    for key in ("google/service-account.json", "apple/pass.key"):
        assert stat.S_IMODE((tmp_path / "d" / key).stat().st_mode) == 0o600, key
    status, _, stderr = run(capsys, "demo", "--out", str(tmp_path / "d" / "index.json"))
    assert status == 2 and "directory" in stderr and "Traceback" not in stderr


BRANCHES = """
[reward.context]
locations = ["chilonzor", "yunusobod"]

[[apple.branches]]
id = "chilonzor"
latitude = 41.2756
longitude = 69.2034
relevant_text = { default = "Lunch at Chilonzor", zh-Hans = "奇兰扎尔店的午餐" }

[[apple.branches]]
id = "yunusobod"
latitude = 41.3640
longitude = 69.2880
"""


def test_branches_in_the_program_file_are_the_voucher_pass_locations(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_program(project, extra=BRANCHES)
    out = project / "bound.pkpass"
    status, _, stderr = run(capsys, "build", str(project / "coffee.toml"), "--voucher", "CARD-B",
                            "--at", AT.isoformat(), "--pkpass", str(out))
    assert (status, stderr) == (0, "")
    files = unzip(out.read_bytes())
    doc = json.loads(files["pass.json"])
    assert [(p["latitude"], p["longitude"]) for p in doc["locations"]] == [(41.2756, 69.2034),
                                                                          (41.364, 69.288)]
    key = doc["locations"][0]["relevantText"]
    assert "relevantText" not in doc["locations"][1]
    strings = files["zh-Hans.lproj/pass.strings"].decode("utf-16")
    assert f'"{key}" = "奇兰扎尔店的午餐";' in strings
    card = project / "card.pkpass"
    assert run(capsys, "build", str(project / "coffee.toml"), "--card", "CARD-C", "--at", AT.isoformat(),
               "--pkpass", str(card))[0] == 0
    assert "locations" not in json.loads(unzip(card.read_bytes())["pass.json"])  # a card is not bound
