"""An iPhone's whole update cycle on loopback, with the wallet store (SQLite and PostgreSQL).

The phone registers over real HTTP against the served app (uvicorn, TLS), the card changes through
``wallet.stamp`` / ``wallet.redeem`` (which mark the passes and queue the push in their transaction),
the outbox worker drains, the APNs stand-in (client certificate required) receives the push, the
phone lists what changed since its tag, fetches with If-Modified-Since, and openssl verifies the pass.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from walletvoucher.apple import AppleSigner
from walletvoucher.model import SelfRedeem
from walletvoucher.service import PassTokens, PassWebService, StorePassUpdates, drain_outbox
from walletvoucher.service.apns import ApnsClient, ApplePushHandler
from walletvoucher.service.asgi import create_app
from walletvoucher.store import Wallet

from .conftest import NOW, PASS_TYPE, Cards
from .servers import ApnsStandIn, UvicornThread
from .test_webservice_http import REG, auth, openssl_verify, pass_json

PUSH_TOKEN = "c0ffee" * 10 + "abcd"


@pytest.fixture
def push(
    store: StorePassUpdates, signer: AppleSigner, apns_server: ApnsStandIn, trust: ssl.SSLContext
) -> Iterator[ApplePushHandler]:
    apns = ApnsClient(topic=PASS_TYPE, signer=signer, base_url=apns_server.url, verify=trust)
    handler = ApplePushHandler(store, apns)
    yield handler
    handler.close()


@pytest.fixture
def phone(
    store: StorePassUpdates, tokens: PassTokens, cards: Cards, server_cert: tuple[Path, Path],
    trust: ssl.SSLContext,
) -> Iterator[httpx.Client]:
    service = PassWebService(pass_type_identifier=PASS_TYPE, store=store, tokens=tokens, render=cards.render)
    certfile, keyfile = server_cert
    with (
        UvicornThread(create_app(service), certfile=certfile, keyfile=keyfile) as web,
        httpx.Client(base_url=web.url, verify=trust, timeout=10) as client,
    ):
        yield client


def get_pass(
    phone: httpx.Client, tokens: PassTokens, serial: str, since: str | None = None
) -> httpx.Response:
    headers = auth(tokens, serial) | ({"If-Modified-Since": since} if since else {})
    return phone.get(f"/v1/passes/{PASS_TYPE}/{serial}", headers=headers)


def test_stamp_and_redemption_reach_the_phone(
    engine: str,
    wallet: Wallet,
    cards: Cards,
    tokens: PassTokens,
    phone: httpx.Client,
    push: ApplePushHandler,
    apns_server: ApnsStandIn,
    chain_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    cards.issue("CARD-9")
    installed = get_pass(phone, tokens, "CARD-9")
    modified = installed.headers["last-modified"]
    registered = phone.post(f"{REG}/CARD-9", headers=auth(tokens, "CARD-9"), json={"pushToken": PUSH_TOKEN})
    assert registered.status_code == 201
    assert [a.type for a in wallet.passes.activity()] == ["card_saved"]
    tag = phone.get(REG).json()["lastUpdated"]

    at = NOW + timedelta(minutes=2)
    wallet.stamp("CARD-9", 4, at=at, source="till")
    assert drain_outbox(wallet, {"apple.push": push}, at=at).completed == 1
    (seen,) = apns_server.seen
    assert (seen.method, seen.path, seen.headers["apns-topic"], seen.body, seen.http_version) == (
        "POST", f"/3/device/{PUSH_TOKEN}", PASS_TYPE, b"{}", "2",
    )  # fmt: skip

    changed = phone.get(REG, params={"passesUpdatedSince": tag}).json()
    assert changed["serialNumbers"] == ["CARD-9"]
    fresh = get_pass(phone, tokens, "CARD-9", since=modified)
    assert fresh.status_code == 200
    openssl_verify(fresh.content, chain_files["root"], tmp_path)
    assert "4/10" in json.dumps(pass_json(fresh.content))
    assert "0/10" in json.dumps(pass_json(installed.content))
    assert get_pass(phone, tokens, "CARD-9", since=fresh.headers["last-modified"]).status_code == 304

    # The goal: the voucher is shown as its own pass too, and the phone saves it.
    ready_at = at + timedelta(minutes=1)
    (voucher,) = wallet.stamp("CARD-9", 6, at=ready_at, source="till").vouchers
    coupon = phone.post(f"{REG}/{voucher.serial}", headers=auth(tokens, voucher.serial),
                        json={"pushToken": PUSH_TOKEN})
    assert coupon.status_code == 201
    assert drain_outbox(wallet, {"apple.push": push}, at=ready_at).completed == 1
    tag = changed["lastUpdated"]
    ready = phone.get(REG, params={"passesUpdatedSince": tag}).json()
    assert set(ready["serialNumbers"]) == {"CARD-9", voucher.serial}
    assert "voided" not in pass_json(get_pass(phone, tokens, voucher.serial).content)

    # Redemption: the card goes back to collecting, the voucher's own pass comes back voided.
    done_at = ready_at + timedelta(hours=1)
    wallet.redeem(voucher.serial, SelfRedeem(by="customer"), at=done_at)
    assert drain_outbox(wallet, {"apple.push": push}, at=done_at).completed == 2
    assert [s.path for s in apns_server.seen[-2:]] == [f"/3/device/{PUSH_TOKEN}"] * 2
    after = phone.get(REG, params={"passesUpdatedSince": ready["lastUpdated"]}).json()
    assert set(after["serialNumbers"]) == {"CARD-9", voucher.serial}
    card_doc = pass_json(get_pass(phone, tokens, "CARD-9").content)
    coupon_pass = get_pass(phone, tokens, voucher.serial)
    openssl_verify(coupon_pass.content, chain_files["root"], tmp_path)
    assert pass_json(coupon_pass.content)["voided"] is True
    assert "0/10" in json.dumps(card_doc) and voucher.serial not in json.dumps(card_doc)
    assert wallet.outbox.pending() == 0


def test_device_that_missed_three_updates_gets_all_three(
    engine: str, wallet: Wallet, cards: Cards, tokens: PassTokens, phone: httpx.Client
) -> None:
    for serial in ("A-1", "A-2", "A-3", "A-4"):
        cards.issue(serial)
        phone.post(f"{REG}/{serial}", headers=auth(tokens, serial), json={"pushToken": PUSH_TOKEN})
    tag = phone.get(REG).json()["lastUpdated"]
    for serial in ("A-3", "A-1", "A-2"):
        wallet.stamp(serial, at=NOW + timedelta(minutes=1))
    answer = phone.get(REG, params={"passesUpdatedSince": tag}).json()
    assert answer["serialNumbers"] == ["A-3", "A-1", "A-2"]
    assert wallet.outbox.pending() == 3
