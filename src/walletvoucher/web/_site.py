"""The customer pages of a :class:`~walletvoucher.service._serve.Served` service (what ``serve`` runs)."""

from __future__ import annotations

import secrets

from walletvoucher.service._join import JoinDesk
from walletvoucher.service._redeem import RedeemDesk
from walletvoucher.service._serve import Served, derive_secret
from walletvoucher.service._staff import StaffDesk
from walletvoucher.web._csrf import BrowserIds
from walletvoucher.web._pages import CustomerPages, PageLimits
from walletvoucher.web._staff_pages import StaffPages


def pages_for(served: Served, *, limits: PageLimits | None = None) -> CustomerPages:
    """Join and redeem pages over the served store, keyed by its page secret and link key."""
    if served.link_key is None or len(served.page_secret) < 32:
        raise ValueError("the served service has no page secret or link key")
    join = JoinDesk(
        served.wallets,
        programs=served.programs,
        secret=derive_secret(served.page_secret, "join"),
        settings=served.join_settings,
    )
    redeem = RedeemDesk(served.wallets, link_key=served.link_key, programs=served.programs)
    browsers = BrowserIds(derive_secret(served.page_secret, "cookies"), random=secrets.token_bytes)
    return CustomerPages(
        join=join,
        redeem=redeem,
        passes=served.service,
        browsers=browsers,
        google=served.google,
        limits=limits,
    )


def staff_pages_for(served: Served, pages: CustomerPages) -> StaffPages:
    """The counter's pages (enrolment, ``/staff``, ``/kiosk``) over the served store, beside *pages*."""
    desk = StaffDesk(served.wallets, scan_keys=served.scan_keys, programs=served.programs)
    return StaffPages(desk=desk, pages=pages, random=secrets.token_bytes)
