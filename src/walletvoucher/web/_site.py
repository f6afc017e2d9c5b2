"""The customer pages of a :class:`~walletvoucher.service._serve.Served` service (what ``serve`` runs)."""

from __future__ import annotations

import secrets

from walletvoucher.service._join import JoinDesk
from walletvoucher.service._redeem import RedeemDesk
from walletvoucher.service._serve import Served, derive_secret
from walletvoucher.web._csrf import BrowserIds
from walletvoucher.web._pages import CustomerPages, PageLimits


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
