"""Loopback servers for the service tests: the web service under uvicorn, and an APNs stand-in.

Both listen on 127.0.0.1 with TLS certificates minted by the tests (``trustme``); nothing
reaches the internet. Each runs in its own thread with its own event loop and is stopped by
the fixture that started it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import uvicorn
from hypercorn.asyncio import serve
from hypercorn.config import Config


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class UvicornThread:
    """Serve an ASGI app with uvicorn over TLS on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any, *, certfile: Path, keyfile: Path) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ssl_certfile=str(certfile),
            ssl_keyfile=str(keyfile),
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@attrs.define
class Seen:
    """One request the APNs stand-in received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    http_version: str
    client: tuple[str, int]


class ApnsStandIn:
    """An HTTP/2-only TLS server that plays APNs and **requires** a client certificate from *client_ca*.

    It checks nothing itself; it records every request in ``seen`` so tests check method, path,
    ``apns-topic`` and payload. ``script[token]`` is a list of ``(status, reason)`` answers given
    to that token's attempts in order (then 200). ``in_flight_max`` is the highest number of
    requests handled at once.
    """

    def __init__(self, *, certfile: Path, keyfile: Path, client_ca: Path, delay: float = 0.0) -> None:
        self.port = free_port()
        self.config = Config()
        self.config.bind = [f"127.0.0.1:{self.port}"]
        self.config.certfile, self.config.keyfile = str(certfile), str(keyfile)
        self.config.ca_certs = str(client_ca)
        self.config.verify_mode = ssl.CERT_REQUIRED
        self.config.alpn_protocols = ["h2"]
        self.config.loglevel = "ERROR"
        self.config.errorlog = None
        self.config.accesslog = None
        self.config.keep_alive_max_requests = 10**9  # APNs keeps a connection for as long as we like
        self.seen: list[Seen] = []
        self.script: dict[str, list[tuple[int, str]]] = {}
        self.delay = delay
        self.in_flight = 0
        self.in_flight_max = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def app(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        self.in_flight += 1
        self.in_flight_max = max(self.in_flight_max, self.in_flight)
        try:
            await self._answer(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _answer(self, scope: dict[str, Any], receive: Callable[..., Any],
                      send: Callable[..., Any]) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.seen.append(
            Seen(
                method=scope["method"],
                path=scope["path"],
                headers=headers,
                body=body,
                http_version=scope["http_version"],
                client=tuple(scope["client"]),
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        token = scope["path"].rsplit("/", 1)[-1]
        answers = self.script.get(token)
        status, reason = answers.pop(0) if answers else (200, "")
        payload = b"" if status == 200 else json.dumps({"reason": reason}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"apns-id", b"00000000-0000-0000-0000-000000000000")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await serve(self.app, self.config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]

        asyncio.run(main())

    def __enter__(self) -> ApnsStandIn:
        self.thread.start()
        self._ready.wait(10)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout=10)
