"""The counter's Starlette routes (``/staff/enrol/...``, ``/staff``, ``/staff/...``, ``/kiosk``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from walletvoucher.service._webservice import ServiceRequest
from walletvoucher.service.asgi import _read_body, _service_path, _to_starlette, _TooLarge
from walletvoucher.web._pages import MAX_FORM_BODY
from walletvoucher.web._staff_pages import StaffPages


def staff_routes(
    staff: StaffPages, *, clock: Callable[[], datetime], body_timeout: float = 30.0
) -> list[Route]:
    """Routes answering through :meth:`StaffPages.handle`; bodies over :data:`MAX_FORM_BODY` get 413,
    one not received within *body_timeout* seconds 408."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await asyncio.wait_for(_read_body(request, MAX_FORM_BODY), body_timeout)
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
        client = request.client.host if request.client else "unknown"
        answer = await run_in_threadpool(staff.handle, parsed, client=client, at=clock())
        return _to_starlette(answer)

    methods = ["GET", "POST"]
    return [
        Route("/staff", endpoint, methods=methods),
        Route("/staff/{rest:path}", endpoint, methods=methods),
        Route("/kiosk", endpoint, methods=methods),
    ]


__all__ = ["staff_routes"]
