"""Passes that follow the card: Apple's PassKit web service and APNs pass-update pushes.

Framework-neutral core (no web framework, no HTTP client imported)::

    tokens = PassTokens(secret)                              # per-pass tokens, derived, never stored
    options = updatable_options(base_options, serial, web_service_url=url, tokens=tokens)
    service = PassWebService(pass_type_identifier=..., store=store, tokens=tokens, render=render)
    response = service.handle(ServiceRequest(method=..., path=..., headers=..., body=...), at=now)

The store implements :class:`PassUpdateStore`; :class:`MemoryPassStore` is an in-memory one for
the demo server and tests. The ASGI app is :func:`walletvoucher.service.asgi.create_app` and the
push client :class:`walletvoucher.service.apns.ApnsClient` (both need the ``server`` extra).

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
from walletvoucher.service._memory import MemoryPassStore
from walletvoucher.service._protocol import PassState, PassUpdateStore, UpdatedSerials, next_last_modified
from walletvoucher.service._tokens import PassTokens, updatable_options
from walletvoucher.service._webservice import (
    LogSink,
    PassWebService,
    ServiceRequest,
    ServiceResponse,
    http_date,
)

__all__ = [
    "GOOGLE_SYNC_TOPIC",
    "GoogleSync",
    "LogSink",
    "MemoryPassStore",
    "PassCache",
    "PassRenderer",
    "PassState",
    "PassTokens",
    "PassUpdateStore",
    "PassWebService",
    "ServiceRequest",
    "ServiceResponse",
    "UpdatedSerials",
    "google_sync_effect",
    "http_date",
    "next_last_modified",
    "sync_retry_delay",
    "updatable_options",
]
