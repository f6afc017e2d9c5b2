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

Google objects follow the card through the store's outbox: :func:`google_sync_effect` queues a
``google.sync`` message with every change, and :class:`GoogleSync` (the handler for that topic)
brings the object to the card's current state with a full replace. :class:`Webhooks` queues signed
webhooks (Standard Webhooks) for the merchant's backend the same way, and its sender delivers them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from walletvoucher._lazy import lazy_attributes

if TYPE_CHECKING:  # imported on first use (see __getattr__): the web service needs no Google client
    from walletvoucher.service._cache import PassCache, PassRenderer
    from walletvoucher.service._google_sync import (
        GOOGLE_SYNC_TOPIC,
        GoogleSync,
        google_sync_effect,
        sync_retry_delay,
    )
    from walletvoucher.service._protocol import PassState, PassUpdateStore, UpdatedSerials, next_last_modified
    from walletvoucher.service._reconcile import ReconcileReport, read_codes, reconcile
    from walletvoucher.service._stored import StorePassUpdates, WalletPerThread, store_renderer, stored_pass
    from walletvoucher.service._till import PROBLEMS, RateLimit, TillApi
    from walletvoucher.service._tokens import PassTokens, updatable_options
    from walletvoucher.service._webhooks import (
        WEBHOOK_EVENTS,
        WEBHOOK_TOPIC,
        WebhookEndpoint,
        Webhooks,
        WebhookSender,
        load_webhooks,
    )
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
    "PROBLEMS",
    "WEBHOOK_EVENTS",
    "WEBHOOK_TOPIC",
    "DrainReport",
    "GoogleSync",
    "Handler",
    "LogSink",
    "PassCache",
    "PassRenderer",
    "PassState",
    "PassTokens",
    "PassUpdateStore",
    "PassWebService",
    "RateLimit",
    "ReconcileReport",
    "ServiceRequest",
    "ServiceResponse",
    "StorePassUpdates",
    "TillApi",
    "UpdatedSerials",
    "WalletPerThread",
    "WebhookEndpoint",
    "WebhookSender",
    "Webhooks",
    "backoff_delay",
    "drain_outbox",
    "google_sync_effect",
    "http_date",
    "load_webhooks",
    "next_last_modified",
    "read_codes",
    "reconcile",
    "store_renderer",
    "stored_pass",
    "sync_retry_delay",
    "updatable_options",
]

_HOMES = {
    "walletvoucher.service._cache": ("PassCache", "PassRenderer"),
    "walletvoucher.service._google_sync": (
        "GOOGLE_SYNC_TOPIC", "GoogleSync", "google_sync_effect", "sync_retry_delay"
    ),
    "walletvoucher.service._protocol": (
        "PassState", "PassUpdateStore", "UpdatedSerials", "next_last_modified"
    ),
    "walletvoucher.service._stored": ("StorePassUpdates", "WalletPerThread", "store_renderer", "stored_pass"),
    "walletvoucher.service._tokens": ("PassTokens", "updatable_options"),
    "walletvoucher.service._reconcile": ("ReconcileReport", "read_codes", "reconcile"),
    "walletvoucher.service._till": ("PROBLEMS", "RateLimit", "TillApi"),
    "walletvoucher.service._webhooks": (
        "WEBHOOK_EVENTS", "WEBHOOK_TOPIC", "WebhookEndpoint", "Webhooks", "WebhookSender", "load_webhooks"
    ),
    "walletvoucher.service._webservice": (
        "LogSink", "PassWebService", "ServiceRequest", "ServiceResponse", "http_date"
    ),
    "walletvoucher.service._worker": ("DrainReport", "Handler", "backoff_delay", "drain_outbox"),
}
__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, globals())
