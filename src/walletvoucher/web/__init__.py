"""The customer's side, served: join from a poster, save the card, self-redeem the reward.

:class:`CustomerPages` answers the pages framework-neutrally (a :class:`~walletvoucher.service.ServiceRequest`
in, a :class:`~walletvoucher.service.ServiceResponse` out; Jinja2 templates with autoescape);
:func:`create_site` is the Starlette app ``walletvoucher serve`` runs (PassKit ``/v1/...``, the pages,
static files and the Noto fonts they are set in). Needs the ``server`` extra.
"""

from walletvoucher.web._csrf import BrowserIds
from walletvoucher.web._pages import CSP, CustomerPages, PageLimits

__all__ = ["CSP", "BrowserIds", "CustomerPages", "PageLimits", "create_site", "page_routes"]


def __getattr__(name: str) -> object:
    if name in ("create_site", "page_routes"):
        from walletvoucher.web import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
