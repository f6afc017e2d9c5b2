"""How long a client may take to send a request to ``walletvoucher serve`` (uvicorn over h11).

uvicorn bounds the size of a request head (h11 refuses one over 16 KiB) and how long a kept-alive
connection may sit idle between requests (``timeout_keep_alive``), but not how long a client takes
to *send* a head: one that sends half a request line and waits holds its connection open for as
long as it likes, and a few hundred such clients hold a few hundred sockets. :func:`bounded_h11` is
uvicorn's h11 protocol with that bound: a connection whose request head is not complete
*header_timeout* seconds after it opened (or after its previous response) is closed, as nginx's
``client_header_timeout`` does. The body's time is bounded by the app
(``create_app(body_timeout=...)`` answers 408), the TLS handshake by asyncio (60 seconds).
"""

from __future__ import annotations

import asyncio
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


def bounded_h11(header_timeout: float = HEADER_TIMEOUT) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection that has not sent a whole request head in time.

    >>> # uvicorn.run(app, http=bounded_h11(10.0), h11_max_incomplete_event_size=MAX_HEAD_BYTES)
    """
    check_seconds(header_timeout, "--header-timeout")

    class BoundedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_head_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_head_timer()  # the next request's head has the same time

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def _arm_head_timer(self) -> None:
            self._cancel_head_timer()
            if not self.transport.is_closing():
                self._head_timer = self.loop.call_later(header_timeout, self._head_timed_out)

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            # IDLE: h11 is still waiting for (the rest of) a request head; a request being read
            # or answered is the app's to bound.
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return BoundedH11Protocol


def server_limits(header_timeout: float = HEADER_TIMEOUT) -> dict[str, Any]:
    """The uvicorn settings ``serve`` adds: the bounded h11 protocol and the head size limit."""
    return {"http": bounded_h11(header_timeout), "h11_max_incomplete_event_size": MAX_HEAD_BYTES}
