"""How long a client may take to send a request to ``walletvoucher serve`` (uvicorn, httptools or h11).

uvicorn bounds how long a kept-alive connection may sit idle between requests
(``timeout_keep_alive``), but not how long a client takes to *send* a head: one that sends half a
request line and waits holds its connection open for as long as it likes, and a few hundred such
clients hold a few hundred sockets. :func:`bounded_httptools` and :func:`bounded_h11` are uvicorn's
two HTTP/1.1 protocols with that bound: a connection whose request head is not complete
*header_timeout* seconds after it opened (or after its previous response) is closed, as nginx's
``client_header_timeout`` does. Both refuse a request head over 16 KiB (h11 by its own limit; httptools
has none, so the subclass counts). :func:`server_limits` picks httptools, a C parser and several times
cheaper per request, when it is installed. The body's time is bounded by the app
(``create_app(body_timeout=...)`` answers 408), the TLS handshake by asyncio (60 seconds).
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from walletvoucher.errors import ServiceConfigError

HEADER_TIMEOUT = 10.0
"""Seconds a client has to send a complete request head (line and headers)."""
MAX_HEAD_BYTES = 16 * 1024
"""The largest request head accepted (h11's own default, set explicitly)."""


def check_seconds(value: object, field: str) -> float:
    """A timeout in seconds: a number above 0 and at most an hour."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 3600:
        raise ServiceConfigError(
            "must be a number of seconds above 0 and at most 3600",
            field=field,
            value=value,
            fix="give e.g. 10",
        )
    return float(value)


class _HeadTimer:
    """The head timer both protocols share: armed when a connection opens and after each response;
    when it fires, the connection is closed if it is still waiting for (the rest of) a request head."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    header_timeout: float = HEADER_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._awaiting_head() and not self.transport.is_closing():
            self.transport.close()

    def _awaiting_head(self) -> bool:
        raise NotImplementedError

    # The protocol hooks, ahead of uvicorn's protocol class in the method order (hence the ignores:
    # ``object`` has none of them).
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._arm_head_timer()  # the next request's head has the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]


def bounded_h11(header_timeout: float = HEADER_TIMEOUT) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection that has not sent a whole request head in time.

    >>> # uvicorn.run(app, http=bounded_h11(10.0), h11_max_incomplete_event_size=MAX_HEAD_BYTES)
    """
    seconds = check_seconds(header_timeout, "--header-timeout")

    class BoundedH11Protocol(_HeadTimer, H11Protocol):
        header_timeout = seconds

        def _awaiting_head(self) -> bool:
            # IDLE: h11 is still waiting for (the rest of) a request head; a request being read
            # or answered is the app's to bound.
            return self.conn.their_state is h11.IDLE

    return BoundedH11Protocol


class _HeadTooLarge(Exception):
    pass


_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 31\r\nconnection: close\r\n\r\nThe request head is too large.\n"
)


def bounded_httptools(header_timeout: float = HEADER_TIMEOUT) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol (a C parser, several times faster than h11) with the bounds of
    :func:`bounded_h11`: a connection that has not sent a whole request head *header_timeout* seconds
    after it opened (or after its previous response) is closed, and a request head over
    :data:`MAX_HEAD_BYTES` is answered 431 and closed (httptools itself has no such limit).

    Needs ``httptools`` (the ``speed`` extra); :func:`server_limits` falls back to h11 without it.
    """
    seconds = check_seconds(header_timeout, "--header-timeout")
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(_HeadTimer, HttpToolsProtocol):
        header_timeout = seconds
        _in_head = True  # the bytes arriving belong to a request head (or to none yet)
        _head_bytes = 0  # received since this head began (a head still incomplete past the cap)
        _head_size = 0  # of the head's target and fields as parsed (a whole head over the cap)
        _too_large = False

        def data_received(self, data: bytes) -> None:
            if self.transport.is_closing():
                return
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            if self._in_head and self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
                self._too_large = True
                self.send_400_response("")

        def on_url(self, url: bytes) -> None:
            self._head_size += len(url)
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._head_size += len(name) + len(value) + 4
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            size, self._in_head, self._head_bytes, self._head_size = self._head_size, False, 0, 0
            if size > MAX_HEAD_BYTES:  # arrived whole, in one piece: refused all the same
                self._too_large = True
                raise _HeadTooLarge  # stops the parser; uvicorn answers through send_400_response
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_head, self._head_bytes = True, 0  # what follows is the next request's head
            super().on_message_complete()

        def send_400_response(self, msg: str) -> None:
            if not self._too_large:
                super().send_400_response(msg)
                return
            self.transport.write(_HEAD_TOO_LARGE)
            self.transport.close()

        def _awaiting_head(self) -> bool:
            # a request being read (its body) or answered is the app's to bound
            return self._in_head and (self.cycle is None or self.cycle.response_complete)

    return BoundedHttpToolsProtocol


def server_limits(header_timeout: float = HEADER_TIMEOUT, *, http: str = "auto") -> dict[str, Any]:
    """The uvicorn settings ``serve`` adds: a bounded protocol and the head size limit.

    *http*: ``"httptools"``, ``"h11"``, or ``"auto"`` (httptools when it is installed, else h11). The event
    loop is uvicorn's ``"auto"``: uvloop when it is installed (``pip install "walletvoucher[speed]"``).
    """
    if http not in ("auto", "httptools", "h11"):
        raise ServiceConfigError("is not an HTTP implementation", field="--http", value=http,
                                 fix="use auto, httptools or h11")
    if http == "auto":
        http = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    protocol = bounded_httptools(header_timeout) if http == "httptools" else bounded_h11(header_timeout)
    return {"http": protocol, "h11_max_incomplete_event_size": MAX_HEAD_BYTES}
