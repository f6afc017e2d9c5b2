"""The counter's Starlette routes (``/staff/enrol/...``, ``/staff``, ``/staff/...``, ``/kiosk``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.routing import Route

from walletvoucher.service.asgi import _endpoint
from walletvoucher.web._pages import MAX_FORM_BODY
from walletvoucher.web._staff_pages import StaffPages


def staff_routes(
    staff: StaffPages, *, clock: Callable[[], datetime], body_timeout: float = 30.0
) -> list[Route]:
    """Routes answering through :meth:`StaffPages.handle`; bodies over :data:`MAX_FORM_BODY` get 413,
    one not received within *body_timeout* seconds 408."""
    endpoint = _endpoint(staff.handle, clock, MAX_FORM_BODY, body_timeout, with_client=True)
    methods = ["GET", "POST"]
    return [
        Route("/staff", endpoint, methods=methods),
        Route("/staff/{rest:path}", endpoint, methods=methods),
        Route("/kiosk", endpoint, methods=methods),
    ]


__all__ = ["staff_routes"]
