"""The APNs client against a loopback HTTP/2 TLS stand-in requiring the Pass Type ID client certificate."""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime, timedelta

import httpx
import jwt
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from walletvoucher.apple import AppleSigner
from walletvoucher.errors import ApnsError, KeyLoadError, ServiceConfigError
from walletvoucher.service import StorePassUpdates
from walletvoucher.service.apns import (
    PRODUCTION,
    SANDBOX,
    ApnsClient,
    ApnsTokenKey,
    ProviderToken,
    notify_pass_updated,
)
from walletvoucher.store import Wallet

from .conftest import NOW, PASS_TYPE
from .servers import ApnsStandIn


class Sleeps:
    """An injected sleep that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def client(
    server: ApnsStandIn, signer: AppleSigner | None, trust: ssl.SSLContext, **kw: object
) -> ApnsClient:
    return ApnsClient(topic=PASS_TYPE, signer=signer, base_url=server.url, verify=trust, **kw)  # type: ignore[arg-type]


def tokens(count: int) -> list[str]:
    return [f"{index:064x}" for index in range(count)]


def test_push_sends_empty_payload_with_topic_to_each_device(
    apns_server: ApnsStandIn, signer: AppleSigner, trust: ssl.SSLContext
) -> None:
    async def run() -> object:
        async with client(apns_server, signer, trust) as apns:
            return await apns.push(tokens(3))

    report = asyncio.run(run())
    assert report.delivered == tuple(tokens(3))  # type: ignore[attr-defined]
    assert sorted(s.path for s in apns_server.seen) == [f"/3/device/{t}" for t in tokens(3)]
    for seen in apns_server.seen:
        assert seen.method == "POST"
        assert seen.headers["apns-topic"] == PASS_TYPE
        assert seen.body == b"{}"
        assert seen.http_version == "2"


def test_many_pushes_share_one_connection_in_parallel(
    server_cert: tuple, chain_files: dict, signer: AppleSigner, trust: ssl.SSLContext
) -> None:
    certfile, keyfile = server_cert
    with ApnsStandIn(certfile=certfile, keyfile=keyfile, client_ca=chain_files["root"], delay=0.05) as server:

        async def run() -> object:
            async with client(server, signer, trust, max_concurrency=20) as apns:
                return await apns.push(tokens(60))

        report = asyncio.run(run())
    assert len(report.delivered) == 60  # type: ignore[attr-defined]
    assert len({s.client for s in server.seen}) == 1
    assert 1 < server.in_flight_max <= 20


def test_stand_in_refuses_a_client_without_the_pass_certificate(
    apns_server: ApnsStandIn, trust: ssl.SSLContext, tls_ca: trustme.CA
) -> None:
    async def bare() -> None:
        async with httpx.AsyncClient(http2=True, verify=trust) as http:
            await http.post(f"{apns_server.url}/3/device/{'0' * 64}", content=b"{}")

    with pytest.raises(httpx.TransportError):
        asyncio.run(bare())
    foreign = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_ca.configure_trust(foreign)
    tls_ca.issue_cert("someone-else@example.com").configure_cert(foreign)

    async def other_cert() -> None:
        async with httpx.AsyncClient(http2=True, verify=foreign) as http:
            await http.post(f"{apns_server.url}/3/device/{'0' * 64}", content=b"{}")

    with pytest.raises(httpx.TransportError):
        asyncio.run(other_cert())
    assert apns_server.seen == []


def test_410_and_bad_device_token_are_reported_and_removed(
    apns_server: ApnsStandIn,
    signer: AppleSigner,
    trust: ssl.SSLContext,
    store: StorePassUpdates,
    wallet: Wallet,
) -> None:
    wallet.issue_card("coffee", serial="CARD-1", member_id="m-1", at=NOW)
    gone, bad, alive = tokens(3)
    for device, token in (("d1", gone), ("d2", bad), ("d3", alive)):
        store.register_device(device, "CARD-1", token, at=NOW)
    apns_server.script = {gone: [(410, "Unregistered")], bad: [(400, "BadDeviceToken")]}

    async def run() -> object:
        async with client(apns_server, signer, trust) as apns:
            return await notify_pass_updated("CARD-1", store=store, apns=apns, at=NOW)

    report = asyncio.run(run())
    assert set(report.unregistered) == {gone, bad}  # type: ignore[attr-defined]
    assert report.delivered == (alive,)  # type: ignore[attr-defined]
    assert store.push_tokens("CARD-1") == (alive,)


def test_429_and_5xx_are_retried_with_capped_backoff(
    apns_server: ApnsStandIn, signer: AppleSigner, trust: ssl.SSLContext
) -> None:
    busy, broken, hopeless = tokens(3)
    apns_server.script = {
        busy: [(429, "TooManyRequests"), (429, "TooManyRequests")],
        broken: [(500, "InternalServerError"), (503, "ServiceUnavailable")],
        hopeless: [(503, "ServiceUnavailable")] * 10,
    }
    sleeps = Sleeps()

    async def run() -> object:
        async with client(
            apns_server, signer, trust, sleep=sleeps, max_attempts=5, backoff=1.0, backoff_cap=3.0
        ) as apns:
            return await apns.push([busy, broken, hopeless])

    report = asyncio.run(run())
    assert set(report.delivered) == {busy, broken}  # type: ignore[attr-defined]
    failure = report.failed[0]  # type: ignore[attr-defined]
    assert (failure.push_token, failure.status, failure.reason) == (hopeless, 503, "ServiceUnavailable")
    assert max(sleeps.delays) == 3.0
    assert sorted(sleeps.delays).count(3.0) == 2  # hopeless: 1, 2, 3 (capped), 3 (capped)
    assert sum(1 for s in apns_server.seen if s.path.endswith(hopeless)) == 5


def test_apns_down_reports_every_push_failed(signer: AppleSigner, trust: ssl.SSLContext) -> None:
    from .servers import free_port

    async def run() -> object:
        async with ApnsClient(
            topic=PASS_TYPE,
            signer=signer,
            base_url=f"https://127.0.0.1:{free_port()}",
            verify=trust,
            sleep=Sleeps(),
            max_attempts=2,
        ) as apns:
            return await apns.push(tokens(2))

    report = asyncio.run(run())
    assert report.delivered == () and len(report.failed) == 2  # type: ignore[attr-defined]
    assert all(f.status == 0 for f in report.failed)  # type: ignore[attr-defined]


def test_refused_certificate_raises_apns_error(
    apns_server: ApnsStandIn, signer: AppleSigner, trust: ssl.SSLContext
) -> None:
    apns_server.script = {tokens(1)[0]: [(403, "BadCertificate")]}

    async def run() -> None:
        async with client(apns_server, signer, trust) as apns:
            await apns.push(tokens(1))

    with pytest.raises(ApnsError, match="Pass Type ID certificate") as info:
        asyncio.run(run())
    assert info.value.status == 403 and info.value.reason == "BadCertificate"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def p8_key() -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, key


def test_provider_token_is_es256_and_refreshed_before_an_hour() -> None:
    pem, key = p8_key()
    token_key = ApnsTokenKey.from_p8(pem, key_id="KEY1234567", team_id="ABCDE12345")
    clock = Clock(NOW)
    provider = ProviderToken(token_key, clock=clock)
    first = provider.current()
    header = jwt.get_unverified_header(first)
    assert header == {"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}
    claims = jwt.decode(first, key.public_key(), algorithms=["ES256"])
    assert claims == {"iss": "ABCDE12345", "iat": int(NOW.timestamp())}
    clock.now = NOW + timedelta(minutes=49)
    assert provider.current() == first
    clock.now = NOW + timedelta(minutes=50)
    second = provider.current()
    assert second != first
    assert jwt.decode(second, key.public_key(), algorithms=["ES256"])["iat"] == int(clock.now.timestamp())


def test_token_auth_sends_bearer_and_refreshes_on_expired_provider_token(
    apns_server: ApnsStandIn,
    signer: AppleSigner,
    trust: ssl.SSLContext,
) -> None:
    pem, key = p8_key()
    token_key = ApnsTokenKey.from_p8(pem, key_id="KEY1234567", team_id="ABCDE12345")
    clock = Clock(NOW)
    target = tokens(1)[0]
    apns_server.script = {target: [(403, "ExpiredProviderToken")]}

    async def run() -> object:
        async with client(
            apns_server, signer, trust, token_key=token_key, clock=clock, sleep=Sleeps()
        ) as apns:
            clock.now = NOW + timedelta(minutes=5)
            return await apns.push([target])

    report = asyncio.run(run())
    assert report.delivered == (target,)  # type: ignore[attr-defined]
    bearers = [s.headers["authorization"] for s in apns_server.seen]
    assert len(bearers) == 2 and all(b.startswith("bearer ") for b in bearers)
    for bearer in bearers:
        assert (
            jwt.decode(bearer.split(" ", 1)[1], key.public_key(), algorithms=["ES256"])["iss"] == "ABCDE12345"
        )


def test_hosts_and_configuration_errors() -> None:
    assert (PRODUCTION, SANDBOX) == ("https://api.push.apple.com", "https://api.sandbox.push.apple.com")
    with pytest.raises(ServiceConfigError, match="environment"):
        ApnsClient(
            topic=PASS_TYPE,
            token_key=ApnsTokenKey.from_p8(p8_key()[0], key_id="K", team_id="T"),
            environment="staging",
        )
    with pytest.raises(ServiceConfigError, match="signer"):
        ApnsClient(topic=PASS_TYPE)
    with pytest.raises(KeyLoadError, match="p8"):
        ApnsTokenKey.from_p8(b"not a key", key_id="K", team_id="T")
