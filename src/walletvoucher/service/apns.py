"""Pass-update pushes through APNs over HTTP/2 (httpx + h2).

Wallet's push is the empty JSON dictionary ``{}`` sent to ``/3/device/<push token>`` with
``apns-topic`` set to the pass type identifier; the device then asks the web service which
passes changed. Authentication is the **Pass Type ID certificate as TLS client certificate**
(the signing certificate and key of :class:`~walletvoucher.apple.AppleSigner`), or a provider
token (ES256 JWT from a ``.p8`` key, :class:`ApnsTokenKey`) on top of it.

::

    async with ApnsClient(topic=signer.pass_type_identifier, signer=signer) as apns:
        report = await apns.push(store.push_tokens("CARD-1"))
    for token in report.unregistered:          # 410 Unregistered, 400 BadDeviceToken
        store.remove_push_token(token, at=now)

Many pushes share one connection (HTTP/2 streams in parallel, at most *max_concurrency* at once).
429 and 5xx (and a dropped connection) are retried with capped exponential backoff.
Needs the ``server`` extra: ``pip install "walletvoucher[server]"``.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import attrs
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from walletvoucher._files import UnreadableFile, read_regular_file
from walletvoucher.apple import AppleSigner
from walletvoucher.errors import (
    ApnsError,
    KeyLoadError,
    PushNotDelivered,
    ServiceConfigError,
    ValidationError,
)
from walletvoucher.service._protocol import PassUpdateStore
from walletvoucher.store import OutboxMessage

PRODUCTION = "https://api.push.apple.com"
SANDBOX = "https://api.sandbox.push.apple.com"
PASS_UPDATE_PAYLOAD = b"{}"
TOKEN_REFRESH = timedelta(minutes=50)
"""Provider tokens are refreshed after 50 minutes: APNs refuses tokens older than one hour."""
DEAD_TOKEN_REASONS = frozenset({"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"})
_PROVIDER_REASONS = frozenset(
    {
        "BadCertificate",
        "BadCertificateEnvironment",
        "InvalidProviderToken",
        "MissingProviderToken",
        "TopicDisallowed",
        "MissingTopic",
        "BadTopic",
    }
)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@attrs.frozen(kw_only=True)
class ApnsTokenKey:
    """A ``.p8`` provider key for token authentication: key id, team id and the P-256 private key."""

    key_id: str
    team_id: str
    key: ec.EllipticCurvePrivateKey = attrs.field(repr=False)

    @classmethod
    def from_p8(cls, source: Path | bytes, *, key_id: str, team_id: str) -> ApnsTokenKey:
        """Load the ``AuthKey_<key id>.p8`` file Apple's portal gives (PEM, PKCS#8, P-256)."""
        try:
            data = source if isinstance(source, bytes) else read_regular_file(source, 64 << 10)
            key = serialization.load_pem_private_key(data, password=None)
        except (UnreadableFile, ValueError, TypeError) as exc:
            raise KeyLoadError(
                exc.reason if isinstance(exc, UnreadableFile) else "is not a readable .p8 (PEM PKCS#8) key",
                field="apns_key",
                value=str(source) if not isinstance(source, bytes) else "<bytes>",
                fix="give the AuthKey_XXXXXXXXXX.p8 file downloaded from Apple",
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise KeyLoadError(
                "must be a P-256 (ES256) key",
                field="apns_key",
                value=type(key).__name__,
                fix="APNs keys from the portal are P-256; check you picked the .p8 file",
            )
        return cls(key_id=key_id, team_id=team_id, key=key)


class ProviderToken:
    """The APNs provider JWT (ES256, ``kid``, ``iss`` = team, ``iat``), reused until it is
    :data:`TOKEN_REFRESH` old (APNs rejects tokens older than an hour and frequent refreshes)."""

    def __init__(self, key: ApnsTokenKey, *, clock: Clock = _utc_now) -> None:
        self._key = key
        self._clock = clock
        self._issued: datetime | None = None
        self._token = ""

    def current(self) -> str:
        """The token to send now, minted again when it is too old (or :meth:`expire` was called)."""
        now = self._clock()
        if self._issued is None or now - self._issued >= TOKEN_REFRESH or now < self._issued:
            claims = {"iss": self._key.team_id, "iat": int(now.timestamp())}
            headers = {"kid": self._key.key_id}
            self._token = jwt.encode(claims, self._key.key, algorithm="ES256", headers=headers)
            self._issued = now
        return self._token

    def expire(self) -> None:
        """Forget the token (APNs said ``ExpiredProviderToken``)."""
        self._issued = None


@attrs.frozen(kw_only=True)
class PushFailure:
    """A push that did not go through: APNs' status and reason (status 0: no answer at all)."""

    push_token: str = attrs.field(repr=lambda t: t[:8] + "…")
    status: int
    reason: str


@attrs.frozen(kw_only=True)
class PushReport:
    """What happened to each push token.

    ``unregistered``: APNs says the token is dead (410 ``Unregistered``, 400 ``BadDeviceToken``):
    remove its registrations. ``failed``: still failing after the retries; try again later.
    """

    delivered: tuple[str, ...] = ()
    unregistered: tuple[str, ...] = ()
    failed: tuple[PushFailure, ...] = ()


def client_ssl_context(signer: AppleSigner, *, verify: ssl.SSLContext | None = None) -> ssl.SSLContext:
    """A TLS context presenting the Pass Type ID certificate (and WWDR intermediate) as client certificate.

    :mod:`ssl` only loads certificate chains from files, so the PEM goes through a private
    temporary file (mode 0600 in a 0700 directory) that is deleted before this returns.
    """
    context = verify or ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.set_alpn_protocols(["h2"])
    key_pem = signer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (signer.certificate, signer.wwdr))
    with tempfile.TemporaryDirectory(prefix="walletvoucher-apns-") as tmp:
        path = Path(tmp) / "client.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_pem + chain)
        context.load_cert_chain(path)
    return context


class ApnsClient:
    """Send pass-update pushes for one pass type over one HTTP/2 connection.

    *topic* is the pass type identifier. *signer* supplies the TLS client certificate;
    *token_key* adds provider-token auth. *environment* picks ``"production"`` or ``"sandbox"``;
    *base_url* overrides both (tests). *verify* is the TLS context that checks the server (give
    one trusting your test CA in tests; its client certificate is added here). *sleep* and *clock*
    are injected so retries and token age are testable without waiting.
    """

    def __init__(
        self,
        *,
        topic: str,
        signer: AppleSigner | None = None,
        token_key: ApnsTokenKey | None = None,
        environment: str = "production",
        base_url: str | None = None,
        verify: ssl.SSLContext | None = None,
        max_concurrency: int = 100,
        max_attempts: int = 5,
        backoff: float = 0.5,
        backoff_cap: float = 30.0,
        timeout: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = _utc_now,
    ) -> None:
        self.topic = topic
        self.base_url = base_url or _host(environment)
        if signer is None and token_key is None:
            raise ServiceConfigError(
                "needs a client certificate or a provider token key",
                field="signer",
                fix="pass the pass type's AppleSigner, or token_key=ApnsTokenKey(...)",
            )
        context = client_ssl_context(signer, verify=verify) if signer is not None else _plain_context(verify)
        self._token = ProviderToken(token_key, clock=clock) if token_key is not None else None
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._http = httpx.AsyncClient(
            http2=True, verify=context, limits=limits, timeout=timeout, base_url=self.base_url
        )
        self._gate = asyncio.Semaphore(max_concurrency)
        self.max_attempts, self.backoff, self.backoff_cap = max_attempts, backoff, backoff_cap
        self._sleep = sleep

    async def __aenter__(self) -> ApnsClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection."""
        await self._http.aclose()

    async def push(self, push_tokens: Iterable[str]) -> PushReport:
        """Send the pass-update push to every token (each once), in parallel over one connection.

        Raises :class:`~walletvoucher.errors.ApnsError` when APNs refuses the provider itself
        (certificate, topic, provider token): no push could succeed.
        """
        unique = list(dict.fromkeys(push_tokens))
        results = await asyncio.gather(*(self._push_one(token) for token in unique), return_exceptions=True)
        refusal = next((r for r in results if isinstance(r, BaseException)), None)
        if refusal is not None:  # every push finished or stopped before this is raised
            raise refusal
        outcomes = [r for r in results if not isinstance(r, BaseException)]
        delivered, dead, failed = [], [], []
        for token, (status, reason) in zip(unique, outcomes, strict=True):
            if status == 200:
                delivered.append(token)
            elif reason in DEAD_TOKEN_REASONS or status == 410:
                dead.append(token)
            else:
                failed.append(PushFailure(push_token=token, status=status, reason=reason))
        return PushReport(delivered=tuple(delivered), unregistered=tuple(dead), failed=tuple(failed))

    async def _push_one(self, push_token: str) -> tuple[int, str]:
        status, reason = 0, "not sent"
        for attempt in range(self.max_attempts):
            if attempt:
                await self._sleep(min(self.backoff_cap, self.backoff * 2 ** (attempt - 1)))
            async with self._gate:
                status, reason = await self._send(push_token)
            if status == 403 and reason == "ExpiredProviderToken" and self._token is not None:
                self._token.expire()
                continue
            if status in (403, 400) and reason in _PROVIDER_REASONS:
                raise ApnsError(
                    "APNs refused the provider",
                    status=status,
                    reason=reason,
                    field="topic",
                    value=self.topic,
                    fix=_provider_fix(reason),
                )
            if not (status == 0 or status == 429 or status >= 500):
                break
        return status, reason

    async def _send(self, push_token: str) -> tuple[int, str]:
        headers = {"apns-topic": self.topic, "content-type": "application/json"}
        if self._token is not None:
            headers["authorization"] = f"bearer {self._token.current()}"
        try:
            response = await self._http.post(
                f"/3/device/{quote(push_token, safe='')}", headers=headers, content=PASS_UPDATE_PAYLOAD
            )
        except httpx.TransportError as exc:
            return 0, type(exc).__name__
        return response.status_code, _reason(response)


def _reason(response: httpx.Response) -> str:
    if response.status_code == 200:
        return ""
    try:
        doc = json.loads(response.content[:4096])
    except ValueError:
        return response.reason_phrase or str(response.status_code)
    reason = doc.get("reason") if isinstance(doc, dict) else None
    return reason if isinstance(reason, str) else str(response.status_code)


def _host(environment: str) -> str:
    hosts = {"production": PRODUCTION, "sandbox": SANDBOX}
    if environment not in hosts:
        raise ServiceConfigError(
            "must be 'production' or 'sandbox'",
            field="environment",
            value=environment,
            fix="passes installed from Wallet use production",
        )
    return hosts[environment]


def _plain_context(verify: ssl.SSLContext | None) -> ssl.SSLContext:
    context = verify or ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.set_alpn_protocols(["h2"])
    return context


def _provider_fix(reason: str) -> str:
    if "Topic" in reason:
        return "the topic must be the pass type identifier the certificate was issued for"
    if "Certificate" in reason:
        return "use the Pass Type ID certificate of this pass type (production host for installed passes)"
    return "check the .p8 key id, team id and the machine's clock"


async def notify_pass_updated(
    serial: str, *, store: PassUpdateStore, apns: ApnsClient, at: datetime
) -> PushReport:
    """Push to every device registered for *serial*; drop the registrations APNs calls dead.

    >>> # report = await notify_pass_updated("CARD-1", store=store, apns=apns, at=now)
    """
    report = await apns.push(store.push_tokens(serial))
    for token in report.unregistered:
        store.remove_push_token(token, at=at)
    return report


class ApplePushHandler:
    """The outbox worker's handler for ``apple.push``: push to every device of the message's serial.

    Runs the async :class:`ApnsClient` on a private event loop, so the synchronous worker
    (:func:`walletvoucher.service.drain_outbox`) can call it, and every message shares the client's
    one HTTP/2 connection. Registrations APNs reports dead (410 ``Unregistered``,
    ``BadDeviceToken``) are removed (recorded as ``card_removed``). Pushes that still fail after the
    client's own retries raise :class:`~walletvoucher.errors.PushNotDelivered`, so the worker
    keeps the message and tries again later; a provider refusal raises
    :class:`~walletvoucher.errors.ApnsError` the same way. Close it with :meth:`close`.

    >>> # handlers = {"apple.push": ApplePushHandler(StorePassUpdates(wallet), apns)}
    """

    def __init__(self, store: PassUpdateStore, apns: ApnsClient) -> None:
        self.store = store
        self.apns = apns
        self._loop = asyncio.new_event_loop()
        self.reports: list[PushReport] = []
        """The last reports (at most 100), newest last: for monitoring and tests."""

    def __call__(self, message: OutboxMessage, at: datetime) -> None:
        serial = message.payload.get("serial")
        if not isinstance(serial, str) or not serial:
            raise ValidationError(
                "must carry the pass's serial",
                field="payload.serial",
                value=serial,
                fix='queue apple.push messages as {"serial": "CARD-1"}',
            )
        report = self._loop.run_until_complete(
            notify_pass_updated(serial, store=self.store, apns=self.apns, at=at)
        )
        self.reports = [*self.reports[-99:], report]
        if report.failed:
            first = report.failed[0]
            raise PushNotDelivered(
                f"{len(report.failed)} of {len(report.failed) + len(report.delivered)} pushes failed"
                f" (first: {first.status} {first.reason})",
                field="serial",
                value=serial,
                fix="APNs is unreachable or throttling; the outbox worker retries later",
            )

    def close(self) -> None:
        """Close the APNs connection and the private event loop."""
        if not self._loop.is_closed():
            self._loop.run_until_complete(self.apns.aclose())
            self._loop.close()
