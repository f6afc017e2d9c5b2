"""The PassKit web service as an ASGI application (Starlette).

::

    from walletvoucher.service.asgi import create_app
    app = create_app(service)                 # serve with uvicorn, or mount it:
    # Starlette(routes=[Mount("/passkit", app)])  /  fastapi_app.mount("/passkit", app)

The pass's ``webServiceURL`` is the URL the app is reachable at (``https://example.com/passkit``
when mounted under ``/passkit``). Needs the ``server`` extra: ``pip install "walletvoucher[server]"``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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


def create_app(
    service: PassWebService, *, clock: Clock = _utc_now, max_body: int = MAX_LOG_BODY
) -> Starlette:
    """A Starlette app exposing *service* under ``/v1/...``; unknown paths answer 404.

    Bodies are read up to *max_body* bytes and refused with 413 beyond, without reading the rest.
    The core runs in a worker thread (it renders and signs passes and calls the store).
    """
    return Starlette(routes=passkit_routes(service, clock=clock, max_body=max_body))


def passkit_routes(
    service: PassWebService, *, clock: Clock = _utc_now, max_body: int = MAX_LOG_BODY
) -> list[Route]:
    """The route serving *service* under ``/v1/...`` (to mount beside other routes)."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await _read_body(request, max_body)
        except _TooLarge:
            return Response(status_code=413)
        parsed = ServiceRequest(
            method=request.method,
            path=_service_path(request),
            headers=dict(request.headers),
            query=dict(request.query_params),
            body=body,
        )
        answer = await run_in_threadpool(service.handle, parsed, at=clock())
        return _to_starlette(answer)

    return [Route("/v1/{rest:path}", endpoint, methods=["GET", "POST", "DELETE"])]
