"""What the command line says and which exit status it gives, as the README promises: 2 for a usage
mistake (a missing file among them), 1 for a failure; one line per problem naming the key, never
``=None``; an expired certificate named with its own dates; library warnings as one line."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.apple.helpers import AT
from tests.test_cli_build import project, run, sa_key, write_program
from walletvoucher.apple import mint_test_chain

__all__ = ["project", "sa_key"]


def _build(project: Path, *extra: str) -> list[str]:
    return ["build", str(project / "coffee.toml"), "--card", "C", "--at", AT.isoformat(),
            "--pkpass", str(project / "c.pkpass"), *extra]


@pytest.mark.parametrize("missing", ["chain/pass.key", "chain/pass.pem", "chain/wwdr.pem", "sa.json"])
def test_a_missing_key_or_certificate_file_is_a_usage_mistake(
    project: Path, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    (project / missing).unlink()
    argv = _build(project) if missing != "sa.json" else [*_build(project)[:6], "--google-link"]
    status, _, stderr = run(capsys, *argv)
    assert status == 2, stderr
    assert missing in stderr and "Fix:" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1 and not (project / "c.pkpass").exists()


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda s: s.replace('background = "#1E3A5F"\n', ""), "[brand] background: is missing"),
        (lambda s: s[: s.index("[apple]")], "[apple]: has no such table"),
        (lambda s: s.replace('description = "Any size"\n', ""), "[reward] description: is missing"),
    ],
)
def test_a_missing_key_or_table_is_named_without_none(
    project: Path, capsys: pytest.CaptureFixture[str], edit: object, field: str
) -> None:
    path = project / "coffee.toml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[operator]
    status, _, stderr = run(capsys, *_build(project))
    assert status == 2 and field in stderr, stderr
    assert "=None" not in stderr


def test_an_expired_certificate_is_named_with_its_dates_not_the_clock(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = mint_test_chain(pass_type_identifier="pass.com.example.walletvoucher", team_identifier="TEAMID1234",
                          at=AT - timedelta(days=400), valid_for=timedelta(days=365))
    old.write(project / "chain", password=b"s3cret-pass")
    status, _, stderr = run(capsys, *_build(project))
    end = old.certificate.not_valid_after_utc.isoformat()
    assert status == 1, stderr
    assert f"certificate='{AT.isoformat()}'" not in stderr  # the clock is not the certificate
    assert "CN=Pass Type ID" in stderr and f"expired on {end}" in stderr
    assert f"checked at {AT.isoformat()}" in stderr


def test_a_barcode_fallback_warning_is_one_line_without_python_source(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_program(project, symbology="ean13")
    status, stdout, stderr = run(capsys, "build", str(project / "coffee.toml"), "--voucher", "C",
                                 "--code", "5901234123457", "--at", AT.isoformat(),
                                 "--pkpass", str(project / "v.pkpass"))
    assert status == 0 and "wrote" in stdout
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("walletvoucher build: warning: Apple Wallet cannot show EAN_13")
    assert "BarcodeFallbackWarning" not in stderr and ".py:" not in stderr


def test_the_warning_is_one_line_from_a_real_process_too(project: Path) -> None:
    write_program(project, symbology="ean13")
    done = subprocess.run([sys.executable, "-m", "walletvoucher", "build", str(project / "coffee.toml"),
                           "--voucher", "C", "--code", "5901234123457", "--at", AT.isoformat(),
                           "--pkpass", str(project / "v.pkpass")],
                          capture_output=True, text=True, check=False, cwd=project,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path),
                               "TEST_KEY_PASSWORD": "s3cret-pass"})
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("\n") == 1 and "warning: Apple Wallet cannot show EAN_13" in done.stderr


def test_ask_password_without_a_terminal_says_to_use_the_variable(project: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "walletvoucher", *_build(project), "--ask-password"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, cwd=project,
                          start_new_session=True,  # no controlling terminal, as under cron or CI
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "--ask-password" in done.stderr and "TEST_KEY_PASSWORD" in done.stderr
    assert not (project / "c.pkpass").exists()
