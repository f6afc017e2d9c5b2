"""The PassKit web service as an ASGI application (Starlette).

::

    from walletvoucher.service.asgi import create_app
    app = create_app(service)                 # serve with uvicorn, or mount it:
    # Starlette(routes=[Mount("/passkit", app)])  /  fastapi_app.mount("/passkit", app)

The pass's ``webServiceURL`` is the URL the app is reachable at (``https://example.com/passkit``
when mounted under ``/passkit``). Needs the ``server`` extra: ``pip install "walletvoucher[server]"``.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from walletvoucher.service._calls import CallThreads
from walletvoucher.service._till import MAX_BODY as TILL_MAX_BODY
from walletvoucher.service._till import TillApi
from walletvoucher.service._webservice import MAX_LOG_BODY, PassWebService, ServiceRequest, ServiceResponse

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _service_path(request: Request) -> str:
    """The percent-encoded path below the app's mount point (serials may hold an encoded '/')."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    root = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _to_starlette(response: ServiceResponse) -> Response:
    out = Response(content=response.body, status_code=response.status)
    for name, value in response.headers:
        out.headers[name] = value
    return out


Handle = Callable[..., ServiceResponse]


def _endpoint(
    handle: Handle, clock: Clock, max_body: int, body_timeout: float, *, with_client: bool = False
) -> Callable[[Request], Any]:
    """An endpoint handing each request to a framework-neutral ``handle(request, at=)`` in a thread
    (``handle(request, client=<address>, at=)`` *with_client*, for pages that rate-limit by address).

    A body over *max_body* bytes is answered 413, one not received within *body_timeout* seconds 408.
    """

    async def endpoint(request: Request) -> Response:
        try:
            body = await asyncio.wait_for(_read_body(request, max_body), body_timeout)
        except _TooLarge:
            return Response(status_code=413)
        except asyncio.TimeoutError:
            return Response(status_code=408, headers={"connection": "close"})
        except ClientDisconnect:
            return Response(status_code=400)  # never sent: the client is gone
        parsed = ServiceRequest(
            method=request.method,
            path=_service_path(request),
            headers=dict(request.headers),
            query=dict(request.query_params),
            body=body,
        )
        if with_client:
            client = request.client.host if request.client else "unknown"
            answer = await run_in_threadpool(handle, parsed, client=client, at=clock())
        else:
            answer = await run_in_threadpool(handle, parsed, at=clock())
        return _to_starlette(answer)

    return endpoint


class _Disconnected(Exception):
    pass


async def _receive_body(receive: Callable[[], Any], limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _within(seconds: float, work: Any) -> Any:
    if sys.version_info >= (3, 11):  # a timer on this task, not a task of its own as wait_for makes
        async with asyncio.timeout(seconds):
            return await work
    return await asyncio.wait_for(work, seconds)  # pragma: no cover - Python 3.10


class _CallsEndpoint:
    """The :func:`_endpoint` of a busy API as a plain ASGI app: the request read straight off the ASGI
    messages and *handle* run on *calls*' threads, without Starlette's Request and Response objects
    (the till answers hundreds of calls a second; see ``benchmarks/api.py``). Same answers: 413 over
    *max_body*, 408 (and close) for a body not received within *body_timeout* seconds, nothing for a
    client that left."""

    def __init__(
        self, handle: Handle, clock: Clock, max_body: int, body_timeout: float, calls: CallThreads
    ) -> None:
        self._handle, self._clock, self._calls = handle, clock, calls
        self._max_body, self._body_timeout = max_body, body_timeout

    async def __call__(self, scope: Any, receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))  # the first of a repeat
        declared = headers.get("content-length")
        try:
            if declared is not None and (not declared.isdigit() or int(declared) > self._max_body):
                raise _TooLarge
            body = await _within(self._body_timeout, _receive_body(receive, self._max_body))
        except _TooLarge:
            return await _send(send, 413)
        except asyncio.TimeoutError:
            return await _send(send, 408, (("connection", "close"),))
        except _Disconnected:
            return None  # nobody to answer
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if isinstance(raw, bytes) else scope["path"]
        root = scope.get("root_path", "")
        parsed = ServiceRequest(
            method=scope["method"],
            path=path[len(root):] if root and path.startswith(root) else path,
            headers=headers,
            query=dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)),
            body=body,
        )
        answer = await self._calls.run(functools.partial(self._handle, parsed, at=self._clock()))
        await _send(send, answer.status, answer.headers, answer.body)


async def _send(
    send: Callable[[Any], Any], status: int, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> None:
    raw = [(b"content-length", str(len(body)).encode("ascii"))]
    raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def create_app(
    service: PassWebService,
    *,
    clock: Clock = _utc_now,
    max_body: int = MAX_LOG_BODY,
    body_timeout: float = 30.0,
    till: TillApi | None = None,
) -> Starlette:
    """A Starlette app exposing *service* under ``/v1/...`` (and *till* under ``/api/v1/...``);
    unknown paths answer 404.

    Bodies are read up to *max_body* bytes and refused with 413 beyond, without reading the rest;
    one not received within *body_timeout* seconds is answered 408, and a client that goes away
    mid-body is simply dropped (nothing to answer, nothing to log).
    The core runs in a worker thread (it renders and signs passes and calls the store).
    """
    return Starlette(routes=app_routes(service, clock=clock, max_body=max_body, body_timeout=body_timeout,
                                       till=till))


def app_routes(
    service: PassWebService,
    *,
    clock: Clock = _utc_now,
    max_body: int = MAX_LOG_BODY,
    body_timeout: float = 30.0,
    till: TillApi | None = None,
) -> list[Route]:
    """The routes of :func:`create_app` (``/v1/...``, the till's ``/api/v1/...``), to mount beside others."""
    routes = [
        Route(
            "/v1/{rest:path}",
            _endpoint(service.handle, clock, max_body, body_timeout),
            methods=["GET", "POST", "DELETE"],
        )
    ]
    if till is not None:
        # the till's store calls on threads of their own: one on SQLite, committing what is waiting
        # together (see service._calls and store._group)
        calls = CallThreads(till.store_threads, name="walletvoucher-till", group=till.grouped,
                            failed=till.group_failed)
        routes.append(
            Route(
                "/api/v1/{rest:path}",
                _CallsEndpoint(till.handle, clock, TILL_MAX_BODY, body_timeout, calls),
                methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            )
        )
    return routes
