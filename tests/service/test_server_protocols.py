"""Both HTTP/1.1 protocols ``serve`` may run (httptools, h11) keep the same bounds (issue 15 x 18).

Each test runs uvicorn in a thread on 127.0.0.1 with one of :mod:`walletvoucher.service._server`'s
protocol classes and an app that answers, or answers slowly; raw sockets send half heads, huge heads
and pipelined requests, and read what the server does.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from walletvoucher.errors import ServiceConfigError
from walletvoucher.service._server import MAX_HEAD_BYTES, bounded_h11, bounded_httptools, server_limits

from .servers import free_port

pytest.importorskip("httptools")

PROTOCOLS = {"httptools": bounded_httptools, "h11": bounded_h11}


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/slow":
        await asyncio.sleep(1.5)  # longer than the header timeout: the request is the app's to bound
    answer = scope["path"].encode() + b" " + body
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(params=sorted(PROTOCOLS))
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    chosen = free_port()
    config = uvicorn.Config(_app, host="127.0.0.1", port=chosen, log_level="critical", lifespan="off",
                            http=PROTOCOLS[request.param](0.5), h11_max_incomplete_event_size=MAX_HEAD_BYTES)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield chosen
    finally:
        server.should_exit = True
        thread.join(10)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _receive(sock: socket.socket, answers: int) -> bytes:
    """Read until *answers* responses of 200 arrived (each body ends the read it came in)."""
    answer = b""
    while answer.count(b"HTTP/1.1 200") < answers or not answer.endswith((b" a", b" b", b" n", b" x")):
        chunk = sock.recv(65536)
        assert chunk, answer[:200]
        answer += chunk
    assert answer.count(b"HTTP/1.1 ") == answers, answer[:200]
    return answer


def _post(path: str, body: bytes) -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


def test_a_half_sent_head_is_closed_after_the_header_timeout_and_so_is_the_next_one(port: int) -> None:
    with _connect(port) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert _read_all(sock) == b""  # closed, nothing answered
        assert 0.3 < time.monotonic() - started < 5
    with _connect(port) as sock:  # a kept-alive connection's next head has the same time
        sock.sendall(_post("/one", b"1"))
        time.sleep(0.2)
        sock.sendall(b"GET /two HTTP/1.1\r\n")
        started = time.monotonic()
        answer = _read_all(sock)
        assert answer.startswith(b"HTTP/1.1 200") and answer.count(b"HTTP/1.1 ") == 1
        assert answer.endswith(b"/one 1") and time.monotonic() - started < 5


def test_a_request_being_answered_or_pipelined_behind_one_is_not_cut_off(port: int) -> None:
    with _connect(port) as sock:  # the app takes 1.5 s, three times the header timeout
        sock.sendall(_post("/slow", b"a") + _post("/after", b"b"))
        answer = _receive(sock, 2)
        assert b"/slow a" in answer and answer.endswith(b"/after b")


def test_a_head_over_16_kib_is_refused_and_a_large_head_under_it_answered(port: int) -> None:
    with _connect(port) as sock:  # one header growing without end, sent in pieces
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nX-Big: ")
        answer = b""
        try:
            for _ in range(64):
                sock.sendall(b"a" * 1024)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection while we were still sending
        answer = _read_all(sock)
        assert answer == b"" or answer.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), answer[:100]
    with _connect(port) as sock:  # a large head under the cap is answered
        sock.sendall(_post("/ok", b"x").replace(b"Host: x", b"Host: x\r\nX-A: " + b"c" * 8000))
        assert _receive(sock, 1).endswith(b"/ok x")


def test_the_httptools_head_cap_answers_431_and_a_body_is_no_head() -> None:
    config = uvicorn.Config(_app, host="127.0.0.1", port=free_port(), log_level="critical", lifespan="off",
                            http=bounded_httptools(5))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        with _connect(config.port) as sock:
            sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 1))
            assert _read_all(sock).startswith(b"HTTP/1.1 431 Request Header Fields Too Large")
        with _connect(config.port) as sock:  # a whole head over the cap, in one piece, is refused too
            fields = b"".join(b"X-%d: %s\r\n" % (n, b"b" * 1000) for n in range(17))
            sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
            assert _read_all(sock).startswith(b"HTTP/1.1 431 Request Header Fields Too Large")
        with _connect(config.port) as sock:  # a body far over 16 KiB is not counted as head
            body = b"z" * (4 * MAX_HEAD_BYTES)
            sock.sendall(_post("/body", body) + _post("/next", b"n"))
            answer = _receive(sock, 2)
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"/next n")
    finally:
        server.should_exit = True
        thread.join(10)


def test_serve_picks_httptools_when_installed_and_checks_the_choice() -> None:
    assert server_limits(10)["http"].__name__ == "BoundedHttpToolsProtocol"
    assert server_limits(10, http="h11")["http"].__name__ == "BoundedH11Protocol"
    with pytest.raises(ServiceConfigError, match="--http"):
        server_limits(10, http="hyper")
    with pytest.raises(ServiceConfigError, match="header-timeout"):
        bounded_httptools(0)
