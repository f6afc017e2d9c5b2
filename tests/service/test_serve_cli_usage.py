"""``walletvoucher serve`` and ``worker`` used wrongly or in a hostile spot: a port out of range or in
use, a database named without a configuration, a missing program file, failures left for a retry.
Each is run as a user would (the real command, in a subprocess where it starts a server) and checked
on its exit status, its stderr and what it left on disk."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from walletvoucher.cli import build_parser, main
from walletvoucher.store import Wallet

from .conftest import PASS_TYPE
from .servers import free_port
from .test_worker import LATER, held_card

CODE = "import sys; from walletvoucher.cli import main; sys.exit(main())"
PROGRAM = """
[program]
id = "coffee"
name = "Coffee card"
goal = 10
redemption = "redeem_code"
[brand]
name = "Kahve"
foreground = "#FFFFFF"
background = "#1E3A5F"
label = "#F2C14E"
[reward]
title = "Free coffee"
description = "Any size"
"""


@pytest.fixture(autouse=True)
def _no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("WALLETVOUCHER_"):
            monkeypatch.delenv(name)


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), **extra}


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_a_port_out_of_range_is_a_usage_mistake_without_a_traceback(tmp_path: Path, port: str) -> None:
    done = subprocess.run([sys.executable, "-c", CODE, "serve", "--port", port, "--state-dir", str(tmp_path)],
                          env=_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "--port" in done.stderr and "8080" in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing minted


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_port_in_use_fails_at_once_before_anything_is_minted(
    tmp_path: Path, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    assert main(["serve", "--port", str(busy_port), "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{busy_port}" in err and "another --port" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no chain, no TLS certificate, no demo store
    assert time.monotonic() - started < 30


def test_a_host_that_is_not_an_address_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "no such host!", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--host='no such host!'" in err and "Traceback" not in err


def test_a_database_named_without_a_configuration_is_refused_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "coffee.toml"
    program.write_text(PROGRAM, encoding="utf-8")
    db = tmp_path / "w.db"
    status = main(["serve", "--db", f"sqlite:///{db}", "--program", str(program), "--port", str(free_port()),
                   "--state-dir", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert status == 2 and "--db=" in err and "--config" in err and "Traceback" not in err
    assert not db.exists() and not (tmp_path / "state").exists()


def test_a_database_the_user_filled_gets_no_demo_cards(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .conftest import NOW, coffee_program

    url = f"sqlite:///{tmp_path / 'w.db'}"
    with Wallet.open(url, programs=[coffee_program()]) as wallet:
        wallet.issue_card("coffee", serial="MINE-1", member_id="m-1", at=NOW)
    assert main(["serve", "--db", url, "--port", str(free_port()), "--state-dir", str(tmp_path / "s")]) == 2
    with Wallet.open(url, programs=[coffee_program()]) as wallet:
        assert wallet.card_info("MINE-1")
        with pytest.raises(Exception, match="DEMO"):
            wallet.card_info("DEMO-CARD-2")


@pytest.mark.parametrize("configured", [False, True])
def test_a_missing_program_file_is_always_an_error(
    tmp_path: Path, configured: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["serve", "--program", str(tmp_path / "nosuch.toml"), "--port", str(free_port()),
            "--state-dir", str(tmp_path / "state")]
    if configured:
        monkeypatch.setenv("WALLETVOUCHER_PUBLIC_URL", "https://wallet.example.com/passkit")
        argv += ["--db", f"sqlite:///{tmp_path / 'w.db'}"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "nosuch.toml" in err and "cannot be read" in err and "Traceback" not in err
    assert not (tmp_path / "w.db").exists() and not (tmp_path / "state").exists()


def test_every_serve_and_worker_option_is_explained() -> None:
    for command in ("serve", "worker"):
        parser = build_parser(command)
        sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        child = sub.choices[command]
        unexplained = [a.option_strings[0] for a in child._actions if a.option_strings and not a.help]
        assert unexplained == [], command


def test_serve_removes_its_temporary_state_when_stopped(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", CODE, "serve", "--port", str(free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=_env(TMPDIR=str(temp)))
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        lines: list[str] = []
        while not any("Uvicorn running" in line for line in lines) and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "serve exited early:\n" + "".join(lines)
            lines.append(line)
        assert [p.name.startswith("walletvoucher-serve-") for p in temp.iterdir()] == [True]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == 128 + signal.SIGTERM  # stopped by the signal, after cleaning up
    assert list(temp.iterdir()) == []


def test_worker_once_reports_each_failure_once_and_exits_1(
    db_url: str, wallet: Wallet, chain_files: dict[str, Path], tls_ca_file: Path
) -> None:
    held_card(wallet)
    wallet.stamp("CARD-1", at=LATER)
    env = _env(WALLETVOUCHER_PASS_TYPE_IDENTIFIER=PASS_TYPE, WALLETVOUCHER_TEAM_IDENTIFIER="ABCDE12345",
               WALLETVOUCHER_CERTIFICATE=str(chain_files["certificate"]),
               WALLETVOUCHER_KEY=str(chain_files["key"]),
               WALLETVOUCHER_WWDR=str(chain_files["wwdr"]))
    down = f"https://127.0.0.1:{free_port()}"  # nothing listens: APNs is down
    done = subprocess.run([sys.executable, "-c", CODE, "worker", "--db", db_url, "--once", "--apns-url", down,
                           "--apns-ca", str(tls_ca_file)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("PushNotDelivered") == 1, done.stderr
    assert "will retry" in done.stderr and "Traceback" not in done.stderr
    assert "sent 0 message(s); 1 pending; 1 failed, kept for a retry" in done.stdout
    assert wallet.outbox.pending() == 1
