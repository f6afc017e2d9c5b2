"""Webhooks out: the merchant's backend hears of cards, stamps, vouchers and saved passes.

Each subscribed event becomes an outbox message (topic ``webhook.deliver``) **in the transaction that
commits it**: card events through the wallet's effect hook, ``card_saved`` / ``card_removed`` through
its activity hook. The outbox worker then POSTs each one to its endpoint, signed as the `Standard
Webhooks <https://www.standardwebhooks.com>`_ specification says::

    webhook-id: wv_evt_1234                 stable: the same on every retry of this event
    webhook-timestamp: 1778149800           the attempt's time, in seconds
    webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">

and the body ``{"type": "stamp_added", "timestamp": "...", "data": {...}}``. A receiver that answers
anything but 2xx (or cannot be reached) gets the message again later, with backoff (its
``Retry-After`` honoured): delivery is **at least once**, so receivers de-duplicate by ``webhook-id``.

Events: ``card_issued``, ``stamp_added``, ``voucher_issued``, ``voucher_redeemed``,
``voucher_expired``, ``voucher_voided``, the rules' ``milestone_reached``, ``stamps_expired``,
``card_expired``, ``amount_spent``, ``punch_used``, and ``card_saved``, ``card_removed``.

>>> hooks = Webhooks([WebhookEndpoint(url="https://backend.example/hooks", events=["stamp_added"],
...                                   secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")])
>>> hooks.endpoints[0]   # the secret is never shown  # doctest: +NORMALIZE_WHITESPACE
WebhookEndpoint(name='https://backend.example/hooks', url='https://backend.example/hooks',
                events=('stamp_added',))
>>> # Wallet.open(url, programs=[...], effects=[hooks.effect], activity_effects=[hooks.activity_effect])
>>> # drain_outbox(wallet, {WEBHOOK_TOPIC: hooks.sender()}, at=now)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import ssl
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from walletvoucher.errors import ServiceConfigError, WebhookNotDelivered
from walletvoucher.model import Event
from walletvoucher.store import Change, Message, OutboxMessage, PassActivity
from walletvoucher.store._callbacks import GOOGLE_DEVICE_PREFIX

WEBHOOK_TOPIC = "webhook.deliver"
"""The outbox topic of webhook deliveries."""

_CARD_EVENT_NAMES = (
    "card_issued", "stamp_added", "voucher_issued", "voucher_redeemed", "voucher_expired", "voucher_voided",
    "milestone_reached", "stamps_expired", "card_expired", "amount_spent", "punch_used",
)  # fmt: skip
WEBHOOK_EVENTS = (*_CARD_EVENT_NAMES, "card_saved", "card_removed")
"""Every event a webhook can subscribe to."""

_CARD_EVENTS = frozenset(_CARD_EVENT_NAMES)
_logger = logging.getLogger("walletvoucher.webhooks")
MAX_RESPONSE_BYTES = 4096


def _check_url(url: object) -> str:
    fix = "give the receiver's https:// address (http:// only on loopback, for tests)"
    if not isinstance(url, str) or len(url) > 2000:
        raise ServiceConfigError("must be a URL", field="webhooks.url", value=url, fix=fix)
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if any(c.isspace() or ord(c) < 32 for c in url) or not host or parts.username or parts.password:
        raise ServiceConfigError(
            "is not an address a webhook can be sent to", field="webhooks.url", value=url, fix=fix
        )
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(host)):
        return url
    raise ServiceConfigError("must be https://", field="webhooks.url", value=url, fix=fix)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _decode_secret(secret: object) -> bytes:
    fix = "use a Standard Webhooks secret: 'whsec_' and base64 of 24 to 64 random bytes"
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise ServiceConfigError("is not a whsec_ secret", field="webhooks.secret", secret=True, fix=fix)
    try:
        key = base64.b64decode(secret[len("whsec_") :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ServiceConfigError(
            "is not base64 after whsec_", field="webhooks.secret", secret=True, fix=fix
        ) from exc
    if not 24 <= len(key) <= 64:
        raise ServiceConfigError(f"holds {len(key)} bytes", field="webhooks.secret", secret=True, fix=fix)
    return key


def _events(events: Iterable[str] | None) -> tuple[str, ...]:
    if events is None:
        return WEBHOOK_EVENTS
    if isinstance(events, str) or not all(isinstance(e, str) for e in events):
        raise ServiceConfigError(
            "must be a list of event names",
            field="webhooks.events",
            value=events,
            fix=f'e.g. events = ["stamp_added"]; known: {", ".join(WEBHOOK_EVENTS)}',
        )
    chosen = tuple(dict.fromkeys(events))
    unknown = [e for e in chosen if e not in WEBHOOK_EVENTS]
    if unknown or not chosen:
        raise ServiceConfigError(
            "names no known event" if not chosen else "names an unknown event",
            field="webhooks.events",
            value=unknown or list(chosen),
            fix=f"use some of: {', '.join(WEBHOOK_EVENTS)} (leave it out for all)",
        )
    return chosen


@attrs.frozen(kw_only=True, init=False)
class WebhookEndpoint:
    """Where webhooks go: *url*, the Standard Webhooks *secret* (``whsec_...``; never shown), the
    *events* it wants (all when None) and a *name* the outbox routes by (the URL by default; keep it
    when the URL moves, and messages waiting in the outbox follow)."""

    name: str
    url: str
    events: tuple[str, ...]
    _key: bytes = attrs.field(repr=False, alias="_key")

    def __init__(
        self, *, url: str, secret: str, events: Iterable[str] | None = None, name: str | None = None
    ) -> None:
        checked = _check_url(url)
        if name is not None and (not isinstance(name, str) or not 0 < len(name) <= 200):
            raise ServiceConfigError(
                "must be 1 to 200 characters",
                field="webhooks.name",
                value=name,
                fix='name the endpoint, e.g. name = "backend"',
            )
        key = _decode_secret(secret)
        self.__attrs_init__(name=name or checked, url=checked, events=_events(events), _key=key)

    def wants(self, event: str) -> bool:
        """Whether this endpoint subscribed to *event*."""
        return event in self.events

    def sign(self, message_id: str, timestamp: int, body: bytes) -> str:
        """The ``webhook-signature`` header value for one delivery attempt."""
        signed = f"{message_id}.{timestamp}.".encode() + body
        digest = hmac.new(self._key, signed, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode("ascii")


def _voucher_summary(raw: Mapping[str, Any]) -> dict[str, Any]:
    code = raw.get("code") or {}
    return {
        "serial": raw.get("serial"), "method": raw.get("method"),
        "reward": (raw.get("reward") or {}).get("title"), "code": code.get("value"),
        "valid_from": raw.get("valid_from"), "expires_at": raw.get("expires_at"),
    }  # fmt: skip


def event_data(event: Event, change: Change) -> dict[str, Any]:
    """What a webhook says of one card event: the card, its program and member, and the event's facts."""
    card = change.card
    data: dict[str, Any] = {
        "card": card.serial, "program": card.program.id, "program_version": card.program.version,
        "member_id": card.member_id, "stamps": card.stamps, "goal": card.goal,
    }  # fmt: skip
    facts = dict(event.data)
    voucher = facts.pop("voucher", None)
    if isinstance(voucher, Mapping):
        data["voucher"] = _voucher_summary(voucher)
    elif voucher is not None:
        data["voucher"] = {"serial": voucher}
    for key, value in facts.items():  # the event's own facts: count, source, by, amount, punches left...
        if value is None or isinstance(value, (str, int, float, bool)):
            data.setdefault(key, value)
    return data


def _message(
    endpoint: WebhookEndpoint, message_id: str, kind: str, at: datetime, data: dict[str, Any]
) -> Message:
    payload = {
        "endpoint": endpoint.name, "id": message_id, "type": kind, "timestamp": at.isoformat(), "data": data,
    }  # fmt: skip
    return Message(topic=WEBHOOK_TOPIC, payload=payload)


class Webhooks:
    """The webhook endpoints of one service: the store hooks that queue deliveries, and the sender."""

    def __init__(self, endpoints: Sequence[WebhookEndpoint]) -> None:
        self.endpoints = tuple(endpoints)
        names = [e.name for e in self.endpoints]
        if len(set(names)) != len(names):
            raise ServiceConfigError(
                "names two endpoints alike",
                field="webhooks.name",
                value=sorted({n for n in names if names.count(n) > 1}),
                fix="give each [[webhooks]] entry its own name (or URL)",
            )

    def effect(self, change: Change) -> Iterator[Message]:
        """The wallet effect hook: one message per (subscribed endpoint, card event) of *change*."""
        for event, position in zip(change.events, change.positions, strict=True):
            kind = event.type.value
            if kind not in _CARD_EVENTS:
                continue
            wanting = [e for e in self.endpoints if e.wants(kind)]
            if wanting:
                data = event_data(event, change)
                for endpoint in wanting:
                    yield _message(endpoint, f"wv_evt_{position}", kind, event.at, data)

    def activity_effect(self, activity: PassActivity) -> Iterator[Message]:
        """The wallet activity hook: ``card_saved`` / ``card_removed`` for subscribed endpoints (an Apple
        device's registration, or a Google save/delete callback: ``"wallet": "apple"`` or ``"google"``)."""
        data = {
            "card": activity.serial,
            "device": hashlib.sha256(activity.device.encode()).hexdigest()[:16],
            "wallet": "google" if activity.device.startswith(GOOGLE_DEVICE_PREFIX) else "apple",
            "reason": activity.reason,
        }
        for endpoint in self.endpoints:
            if endpoint.wants(activity.type):
                yield _message(endpoint, f"wv_act_{activity.position}", activity.type, activity.at, data)

    def sender(
        self, *, ca_file: str | os.PathLike[str] | None = None, timeout: float = 10.0, transport: Any = None
    ) -> WebhookSender:
        """The outbox handler for :data:`WEBHOOK_TOPIC`; *ca_file* trusts that CA instead of the system's
        (a receiver with a private certificate), *transport* swaps httpx's transport (tests)."""
        return WebhookSender(self.endpoints, ca_file=ca_file, timeout=timeout, transport=transport)


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 9:
        return None
    return float(value.strip())


class WebhookSender:
    """Delivers ``webhook.deliver`` messages: ``sender(message, at)``; raises
    :class:`~walletvoucher.errors.WebhookNotDelivered` (so the worker retries) unless the receiver
    answered 2xx. Redirects are not followed; the response body is never read past 4 KiB."""

    def __init__(
        self,
        endpoints: Sequence[WebhookEndpoint],
        *,
        ca_file: str | os.PathLike[str] | None = None,
        timeout: float = 10.0,
        transport: Any = None,
    ) -> None:
        import httpx

        self._endpoints = {e.name: e for e in endpoints}
        verify = ssl.create_default_context(cafile=str(ca_file)) if ca_file is not None else True
        self._client = httpx.Client(
            verify=verify, timeout=timeout, transport=transport, follow_redirects=False
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __call__(self, message: OutboxMessage, at: datetime) -> None:
        import httpx

        payload = message.payload
        endpoint = self._endpoints.get(str(payload.get("endpoint")))
        if endpoint is None:
            raise WebhookNotDelivered(
                f"no endpoint named {payload.get('endpoint')!r} is configured now",
                fix="restore it in [[webhooks]] (the message waits in the outbox)",
            )
        document = {"type": payload["type"], "timestamp": payload["timestamp"], "data": payload["data"]}
        body = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        timestamp = int(at.timestamp())
        headers = {
            "content-type": "application/json", "user-agent": "walletvoucher-webhooks",
            "webhook-id": str(payload["id"]), "webhook-timestamp": str(timestamp),
            "webhook-signature": endpoint.sign(str(payload["id"]), timestamp, body),
        }  # fmt: skip
        try:
            with self._client.stream("POST", endpoint.url, content=body, headers=headers) as response:
                status = response.status_code
                retry_after = _retry_after(response.headers.get("retry-after"))
        except httpx.HTTPError as exc:
            raise WebhookNotDelivered(
                f"{endpoint.name}: {type(exc).__name__}",
                fix="check the receiver is up; the worker tries again",
            ) from exc
        if not 200 <= status < 300:
            _logger.warning("webhook %s to %s answered %d", payload["id"], endpoint.name, status)
            raise WebhookNotDelivered(
                f"{endpoint.name} answered {status}",
                retry_after=retry_after,
                fix="the receiver must answer 2xx; the worker tries again",
            )


def load_webhooks(tables: object, environ: Mapping[str, str]) -> Webhooks:
    """The ``[[webhooks]]`` tables of a config file (``url``, ``secret_env``, optional ``events`` and
    ``name``); each secret is read from the environment variable ``secret_env`` names, never the file.

    >>> env = {"HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    >>> hooks = load_webhooks([{"url": "https://backend.example/hooks", "secret_env": "HOOK_SECRET"}], env)
    >>> hooks.endpoints[0].events[:2]
    ('card_issued', 'stamp_added')
    """
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ServiceConfigError(
            "must be an array of tables",
            field="[[webhooks]]",
            value=type(tables).__name__,
            fix='write each as [[webhooks]] with url = "..." and secret_env = "..."',
        )
    endpoints = []
    for table in tables:
        unknown = sorted(set(table) - {"url", "secret_env", "events", "name"})
        if unknown or "secret" in table:
            raise ServiceConfigError(
                "has unknown keys",
                field="[[webhooks]]",
                value=unknown,
                fix="use url, secret_env, events, name (the secret: environment only)",
            )
        variable = table.get("secret_env")
        if not isinstance(variable, str) or not environ.get(variable):
            raise ServiceConfigError(
                "names no environment variable that is set",
                field="webhooks.secret_env",
                value=variable,
                fix="export the whsec_ secret in that variable",
            )
        endpoints.append(
            WebhookEndpoint(
                url=table.get("url"),
                secret=environ[variable],
                events=table.get("events"),
                name=table.get("name"),
            )
        )
    return Webhooks(endpoints)


__all__ = [
    "WEBHOOK_EVENTS", "WEBHOOK_TOPIC", "WebhookEndpoint", "WebhookSender", "Webhooks", "event_data",
    "load_webhooks",
]  # fmt: skip
