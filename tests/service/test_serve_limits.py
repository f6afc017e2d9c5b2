"""``walletvoucher serve`` against clients that stall or leave (issue 18), over real loopback sockets.

The server is the real command in demo mode (TLS on 127.0.0.1); the clients are raw TLS sockets that
send half a request head, half a body, or a body cut off by closing the connection.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from walletvoucher.errors import ServiceConfigError
from walletvoucher.service._server import bounded_h11

from .servers import free_port
from .test_serve_cli import _read_until

HEAD = "POST /v1/log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@attrs.define
class Serving:
    proc: subprocess.Popen[str]
    port: int
    context: ssl.SSLContext

    def connect(self) -> ssl.SSLSocket:
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return self.context.wrap_socket(raw, server_hostname="127.0.0.1")

    def output(self) -> str:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        assert self.proc.stdout is not None
        return self.proc.stdout.read()


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Serving]:
    port = free_port()
    code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--state-dir", str(tmp_path),
            "--header-timeout", "1", "--body-timeout", "1"]  # demo mode, its own store
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        _read_until(proc, "try: curl")
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "server.pem"))
        serving = Serving(proc=proc, port=port, context=context)
        _wait_answering(serving)
        yield serving
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)
        assert proc.stdout is not None
        proc.stdout.close()


def _wait_answering(serving: Serving) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            assert _ask(serving, b'{"logs":[]}').startswith(b"HTTP/1.1 200")
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _ask(serving: Serving, body: bytes) -> bytes:
    with serving.connect() as sock:
        sock.sendall(f"{HEAD}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        return _read_all(sock)


def _read_all(sock: ssl.SSLSocket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ssl.SSLError, ConnectionResetError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_half_sent_request_heads_are_closed_after_the_header_timeout(serving: Serving) -> None:
    sockets = [serving.connect() for _ in range(150)]
    try:
        started = time.monotonic()
        for sock in sockets:
            sock.sendall(b"GET /v1/passes/pass.x/CARD-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        for sock in sockets:
            sock.settimeout(15)
            assert _read_all(sock) == b""  # closed by the server, nothing answered
        elapsed = time.monotonic() - started
    finally:
        for sock in sockets:
            sock.close()
    assert 0.5 < elapsed < 10, elapsed
    # a kept-alive connection's *next* head has the same bound
    with serving.connect() as sock:
        sock.sendall(f"{HEAD}Content-Length: 11\r\n\r\n".encode() + b'{"logs":[]}')
        time.sleep(0.2)
        sock.sendall(b"GET /v1/passes/pass.x/CARD-1 HTTP/1.1\r\n")
        sock.settimeout(15)
        started = time.monotonic()
        answer = _read_all(sock)
        assert answer.startswith(b"HTTP/1.1 200") and answer.count(b"HTTP/1.1") == 1
        assert time.monotonic() - started < 10
    assert _ask(serving, b'{"logs":[]}').startswith(b"HTTP/1.1 200")  # and the server still answers


def test_a_body_that_stops_arriving_is_408_and_a_client_that_leaves_logs_no_traceback(
    serving: Serving,
) -> None:
    with serving.connect() as sock:
        sock.sendall(f"{HEAD}Content-Length: 100\r\n\r\n".encode() + b'{"logs":')
        sock.settimeout(15)
        assert _read_all(sock).startswith(b"HTTP/1.1 408")
    for _ in range(3):
        with serving.connect() as sock:  # leaves mid-body
            sock.sendall(f"{HEAD}Content-Length: 1000\r\n\r\n".encode() + b'{"logs":["half')
            time.sleep(0.2)
    assert _ask(serving, b'{"logs":[]}').startswith(b"HTTP/1.1 200")
    time.sleep(0.5)
    output = serving.output()
    assert "Traceback" not in output and "ClientDisconnect" not in output, output
    assert "Exception in ASGI application" not in output, output


@pytest.mark.parametrize("bad", [0, -1, 3601, float("nan"), True])
def test_header_timeout_must_be_a_sensible_number(bad: float) -> None:
    with pytest.raises(ServiceConfigError, match="header-timeout"):
        bounded_h11(bad)
