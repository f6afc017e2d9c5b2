"""Passes that follow the card: Apple's PassKit web service and APNs pass-update pushes.

Framework-neutral core (no web framework, no HTTP client imported)::

    tokens = PassTokens(secret)                              # per-pass tokens, derived, never stored
    options = updatable_options(base_options, serial, web_service_url=url, tokens=tokens)
    service = PassWebService(pass_type_identifier=..., store=store, tokens=tokens, render=render)
    response = service.handle(ServiceRequest(method=..., path=..., headers=..., body=...), at=now)

Storage is the :class:`PassUpdateStore` Protocol; :class:`StorePassUpdates` implements it over the
wallet store (:class:`~walletvoucher.store.Wallet`, SQLite or PostgreSQL), whose transitions mark
the passes they change and queue ``apple.push`` in the same transaction. :func:`drain_outbox` is the
outbox worker (``walletvoucher worker``). The ASGI app is :func:`walletvoucher.service.asgi.create_app`,
the push client :class:`walletvoucher.service.apns.ApnsClient` and the worker's handler
:class:`~walletvoucher.service.apns.ApplePushHandler` (these need the ``server`` extra).

The customer's side (:mod:`walletvoucher.web` serves it): :class:`JoinDesk` issues one card per
browser for a poster's join page, :class:`RedeemDesk` redeems Self-Redeem vouchers reached through
signed links exactly once, :class:`RateLimiter` bounds both per address and per card.

Google objects follow the card through the store's outbox: :func:`google_sync_effect` queues a
``google.sync`` message with every change, and :class:`GoogleSync` (the handler for that topic)
brings the object to the card's current state with a full replace.
"""

from walletvoucher.service._cache import PassCache, PassRenderer
from walletvoucher.service._google_sync import (
    GOOGLE_SYNC_TOPIC,
    GoogleSync,
    google_sync_effect,
    sync_retry_delay,
)
from walletvoucher.service._join import JoinDesk, JoinOutcome, JoinSettings
from walletvoucher.service._limits import Rate, RateLimiter
from walletvoucher.service._protocol import PassState, PassUpdateStore, UpdatedSerials, next_last_modified
from walletvoucher.service._redeem import RedeemDesk, RedeemView
from walletvoucher.service._stored import StorePassUpdates, WalletPerThread, store_renderer, stored_pass
from walletvoucher.service._tokens import PassTokens, updatable_options
from walletvoucher.service._webservice import (
    LogSink,
    PassWebService,
    ServiceRequest,
    ServiceResponse,
    http_date,
)
from walletvoucher.service._worker import DrainReport, Handler, backoff_delay, drain_outbox

__all__ = [
    "GOOGLE_SYNC_TOPIC",
    "DrainReport",
    "GoogleSync",
    "Handler",
    "JoinDesk",
    "JoinOutcome",
    "JoinSettings",
    "LogSink",
    "PassCache",
    "PassRenderer",
    "PassState",
    "PassTokens",
    "PassUpdateStore",
    "PassWebService",
    "Rate",
    "RateLimiter",
    "RedeemDesk",
    "RedeemView",
    "ServiceRequest",
    "ServiceResponse",
    "StorePassUpdates",
    "UpdatedSerials",
    "WalletPerThread",
    "backoff_delay",
    "drain_outbox",
    "google_sync_effect",
    "http_date",
    "next_last_modified",
    "store_renderer",
    "stored_pass",
    "sync_retry_delay",
    "updatable_options",
]
