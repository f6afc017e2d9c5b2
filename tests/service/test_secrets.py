"""Secrets stay out of reprs, errors and what ``serve`` and ``worker`` print (issue 18).

A database password can sit in the URL's user part or in a ``password=`` parameter; a pass's
token travels in the ``Authorization`` header. The commands are run for real, against the suite's
PostgreSQL server (which trusts loopback, so a password in the URL is accepted and ignored) and
against a port where nothing listens.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.store._pg import PostgresCluster, _free_port
from walletvoucher.errors import DatabaseUnavailable
from walletvoucher.service import ServiceRequest
from walletvoucher.store import Wallet
from walletvoucher.store._url import redact

from .conftest import PASS_TYPE, SECRET
from .servers import free_port
from .test_serve_cli import _configured_env, _read_until

PASSWORD = "hunter2-Secret"
CODE = "import sys; from walletvoucher.cli import main; sys.exit(main())"
_databases = itertools.count(1)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u@h/db?password=hunter2-Secret", "postgresql://u@h/db?password=***"),
        ("postgresql://u:hunter2-Secret@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgres://u@h/db?sslmode=require&PASSWORD=hunter2-Secret&connect_timeout=2",
         "postgres://u@h/db?sslmode=require&PASSWORD=***&connect_timeout=2"),
        ("postgresql://u@h/db?pass%77ord=hunter2-Secret", "postgresql://u@h/db?pass%77ord=***"),
        ("postgresql://u@h/db?sslpassword=hunter2-Secret", "postgresql://u@h/db?sslpassword=***"),
        ("postgresql://u:p%40ss@h/db?password=a&password=hunter2-Secret",
         "postgresql://u:***@h/db?password=***&password=***"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://u:pw#frag@h/db", "postgresql://u:***@h/db"),  # unencoded '#', '/', '?', '@'
        ("postgresql://u:p/w?x@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@w@h/db#x", "postgresql://u:***@h/db"),
        ("sqlite:////tmp/a:b@c.db", "sqlite:////tmp/a:b@c.db"),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("sqlite:////var/lib/wallet.db?timeout=5", "sqlite:////var/lib/wallet.db?timeout=5"),
        ("/var/lib/wallet.db", "/var/lib/wallet.db"),
    ],
)
def test_redact_hides_every_password_form(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_an_unreachable_database_error_never_shows_the_password() -> None:
    url = f"postgresql://shop@127.0.0.1:{_free_port()}/wallet?password={PASSWORD}&connect_timeout=2"
    with pytest.raises(DatabaseUnavailable) as err:
        Wallet.open(url, programs=[])
    assert PASSWORD not in str(err.value) and PASSWORD not in repr(err.value)
    assert "password=***" in str(err.value)


def test_a_service_request_repr_never_shows_the_pass_token() -> None:
    token = "ApplePass 0123456789abcdef-token-of-the-pass"
    request = ServiceRequest(method="GET", path=f"/v1/passes/{PASS_TYPE}/CARD-1",
                             headers={"authorization": token, "Cookie": "session=abc123", "accept": "*/*"},
                             body=b'{"pushToken":"secret-ish"}')
    for text in (repr(request), str(request)):
        assert "0123456789abcdef" not in text and "abc123" not in text and "secret-ish" not in text
        assert "'accept': '*/*'" in text and "<redacted>" in text
    assert request.headers["authorization"] == token  # the value itself is untouched


def _fresh_url(cluster: PostgresCluster) -> str:
    name = f"secrets_{next(_databases)}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return cluster.url(name)


def _env(chain_files: dict[str, Path]) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), **_configured_env(chain_files)}


@pytest.mark.parametrize("reachable", [True, False], ids=["reachable", "unreachable"])
def test_worker_prints_no_database_password(
    chain_files: dict[str, Path], postgres: PostgresCluster, reachable: bool
) -> None:
    base = _fresh_url(postgres) if reachable else f"postgresql://postgres@127.0.0.1:{_free_port()}/none"
    url = f"{base}?password={PASSWORD}&connect_timeout=2"
    done = subprocess.run([sys.executable, "-c", CODE, "worker", "--db", url, "--once"],
                          env=_env(chain_files), capture_output=True, text=True, timeout=120)
    assert done.returncode == (0 if reachable else 1), done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    if not reachable:
        assert "password=***" in done.stderr


def test_serve_prints_no_database_password(
    chain_files: dict[str, Path], postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = f"{_fresh_url(postgres)}?password={PASSWORD}"
    args = ["serve", "--host", "127.0.0.1", "--port", str(free_port()), "--db", url]
    proc = subprocess.Popen([sys.executable, "-c", CODE, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_env(chain_files))
    try:
        lines = _read_until(proc, "webServiceURL:")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        assert proc.stdout is not None
        rest = proc.stdout.read()
        proc.stdout.close()
    shown = [line for line in lines if line.startswith("wallet store: ")]
    assert shown == [f"wallet store: {url.replace(PASSWORD, '***')}\n"]
    assert PASSWORD not in "".join(lines) + rest


def test_serve_with_an_unreachable_database_prints_no_password(chain_files: dict[str, Path]) -> None:
    url = f"postgresql://postgres@127.0.0.1:{_free_port()}/none?password={PASSWORD}&connect_timeout=2"
    done = subprocess.run([sys.executable, "-c", CODE, "serve", "--port", str(free_port()), "--db", url],
                          env=_env(chain_files), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert PASSWORD not in done.stdout + done.stderr and "password=***" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_token_secret_is_not_printed_by_serve(chain_files: dict[str, Path], tmp_path: Path) -> None:
    args = ["serve", "--port", str(free_port()), "--db", f"sqlite:///{tmp_path / 'w.db'}"]
    proc = subprocess.Popen([sys.executable, "-c", CODE, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_env(chain_files))
    try:
        lines = _read_until(proc, "webServiceURL:")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        assert proc.stdout is not None
        rest = proc.stdout.read()
        proc.stdout.close()
    assert SECRET.decode() not in "".join(lines) + rest and "s" * 40 not in "".join(lines) + rest
