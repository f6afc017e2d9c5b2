"""An iPhone's whole update cycle on loopback: register over HTTP, a stamp, the APNs push, list, fetch.

The card changes through ``cards.stamp`` (which marks the pass updated in the store, as the wallet
store's ``stamp`` will do in its transaction); everything else is the real service and client.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from datetime import timedelta
from pathlib import Path

import httpx

from walletvoucher.apple import AppleSigner
from walletvoucher.service import PassTokens, PassWebService, StorePassUpdates
from walletvoucher.service.apns import ApnsClient, PushReport, notify_pass_updated
from walletvoucher.service.asgi import create_app

from .conftest import NOW, PASS_TYPE, Cards
from .servers import ApnsStandIn, UvicornThread
from .test_webservice_http import REG, auth, openssl_verify, pass_json

PUSH_TOKEN = "c0ffee" * 10 + "abcd"


def test_stamp_reaches_the_phone(
    store: StorePassUpdates,
    cards: Cards,
    tokens: PassTokens,
    signer: AppleSigner,
    apns_server: ApnsStandIn,
    server_cert: tuple[Path, Path],
    trust: ssl.SSLContext,
    chain_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    service = PassWebService(pass_type_identifier=PASS_TYPE, store=store, tokens=tokens, render=cards.render)
    cards.issue("CARD-9")
    certfile, keyfile = server_cert
    with (
        UvicornThread(create_app(service), certfile=certfile, keyfile=keyfile) as web,
        httpx.Client(base_url=web.url, verify=trust) as phone,
    ):
        installed = phone.get(f"/v1/passes/{PASS_TYPE}/CARD-9", headers=auth(tokens, "CARD-9"))
        modified = installed.headers["last-modified"]
        registered = phone.post(
            f"{REG}/CARD-9", headers=auth(tokens, "CARD-9"), json={"pushToken": PUSH_TOKEN}
        )
        assert registered.status_code == 201
        tag = phone.get(REG).json()["lastUpdated"]

        cards.stamp("CARD-9", 4, at=NOW + timedelta(minutes=2))

        async def push() -> PushReport:
            async with ApnsClient(
                topic=PASS_TYPE, signer=signer, base_url=apns_server.url, verify=trust
            ) as apns:
                return await notify_pass_updated("CARD-9", store=store, apns=apns, at=NOW)

        assert asyncio.run(push()).delivered == (PUSH_TOKEN,)
        (seen,) = apns_server.seen
        assert (seen.method, seen.path, seen.headers["apns-topic"], seen.body) == (
            "POST",
            f"/3/device/{PUSH_TOKEN}",
            PASS_TYPE,
            b"{}",
        )

        changed = phone.get(REG, params={"passesUpdatedSince": tag})
        assert changed.json()["serialNumbers"] == ["CARD-9"]
        fresh = phone.get(
            f"/v1/passes/{PASS_TYPE}/CARD-9",
            headers={**auth(tokens, "CARD-9"), "If-Modified-Since": modified},
        )
        assert fresh.status_code == 200
    openssl_verify(fresh.content, chain_files["root"], tmp_path)
    assert "4/10" in json.dumps(pass_json(fresh.content))
    assert "0/10" in json.dumps(pass_json(installed.content))
