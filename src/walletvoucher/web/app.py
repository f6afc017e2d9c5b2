"""The ASGI app of ``walletvoucher serve``: PassKit ``/v1/...``, the customer pages and their static files.

::

    from walletvoucher.web import create_site
    app = create_site(pages, passkit=service)      # serve with uvicorn, or mount it

Needs the ``server`` extra (Starlette, Jinja2).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from walletvoucher._fonts import Script, font_file
from walletvoucher.service._google_callbacks import CALLBACK_PATH, GoogleCallbackDesk
from walletvoucher.service._google_callbacks import MAX_BODY as CALLBACK_MAX_BODY
from walletvoucher.service._till import TillApi
from walletvoucher.service._webservice import PassWebService
from walletvoucher.service.asgi import _endpoint, app_routes
from walletvoucher.web._pages import MAX_FORM_BODY, CustomerPages
from walletvoucher.web._staff_pages import StaffPages
from walletvoucher.web._staff_routes import staff_routes

Clock = Callable[[], datetime]
STATIC = Path(__file__).parent / "static"
FONTS = {
    "latin.ttf": Script.LATIN,
    "devanagari.ttf": Script.DEVANAGARI,
    "thai.ttf": Script.THAI,
    "arabic.ttf": Script.ARABIC,
    "cjk.otf": Script.CJK,
}


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def page_routes(
    pages: CustomerPages, *, clock: Clock = _utc_now, body_timeout: float = 30.0
) -> list[Route | Mount]:
    """The customer pages' routes (join, redeem, brand CSS) and the static files and fonts.

    Form bodies over :data:`MAX_FORM_BODY` are refused with 413, one not received within
    *body_timeout* seconds with 408, as the web service's are.
    """

    endpoint = _endpoint(pages.handle, clock, MAX_FORM_BODY, body_timeout, with_client=True)

    async def font(request: Request) -> Response:
        script = FONTS.get(request.path_params["name"])
        if script is None:
            return Response(status_code=404)
        kind = "font/otf" if request.path_params["name"].endswith(".otf") else "font/ttf"
        return FileResponse(
            font_file(script), media_type=kind, headers={"cache-control": "public, max-age=86400"}
        )

    methods = ["GET", "POST"]
    return [
        Route("/join/{rest:path}", endpoint, methods=methods),
        Route("/redeem/{rest:path}", endpoint, methods=methods),
        Route("/brand/{rest:path}", endpoint, methods=["GET"]),
        Route("/static/fonts/{name}", font, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_site(
    pages: CustomerPages,
    *,
    passkit: PassWebService,
    clock: Clock = _utc_now,
    body_timeout: float = 30.0,
    till: TillApi | None = None,
    staff: StaffPages | None = None,
    google_callbacks: GoogleCallbackDesk | None = None,
) -> Starlette:
    """One app: Apple's web service under ``/v1/...`` (the till's API under ``/api/v1/...`` when given)
    and the customer pages beside it (and the counter's ``/staff`` and ``/kiosk`` pages, and Google's
    save/delete callbacks at ``/google/callbacks``, when given)."""
    service = app_routes(passkit, clock=clock, body_timeout=body_timeout, till=till)
    counter = staff_routes(staff, clock=clock, body_timeout=body_timeout) if staff is not None else []
    if google_callbacks is not None:
        endpoint = _endpoint(google_callbacks.handle, clock, CALLBACK_MAX_BODY, body_timeout)
        counter.append(Route(CALLBACK_PATH, endpoint, methods=["GET", "POST", "PUT", "DELETE"]))
    return Starlette(routes=[*service, *counter, *page_routes(pages, clock=clock, body_timeout=body_timeout)])
