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
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

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
        routes.append(
            Route(
                "/api/v1/{rest:path}",
                _endpoint(till.handle, clock, TILL_MAX_BODY, body_timeout),
                methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            )
        )
    return routes
