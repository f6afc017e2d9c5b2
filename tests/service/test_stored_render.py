"""Passes rendered from the store show the state the store holds (issue 18).

A card stamped to its goal at a time with microseconds must show its redeem code at once, and a
voucher that only becomes valid later must bring the pass back (re-marked, pushed) when it does.
The code a customer would scan is read back from the served pass by an independent decoder
(zxing-cpp) on the pass's picture, not only from its pass.json.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from datetime import datetime, timedelta

import zxingcpp
from PIL import Image

from walletvoucher import Brand, Program, RedemptionMethod, Reward, Validity
from walletvoucher.apple import AppleOptions, AppleSigner
from walletvoucher.preview import preview_pkpass
from walletvoucher.service import (
    PassState,
    PassTokens,
    PassWebService,
    ServiceRequest,
    StorePassUpdates,
    WalletPerThread,
    drain_outbox,
    store_renderer,
)
from walletvoucher.store import PASS_REFRESH_TOPIC, Wallet

from .conftest import NOW, PASS_TYPE, TEAM

BRAND = Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E")
STAMPED_AT = NOW + timedelta(minutes=5, microseconds=250_000)


def tea(delay: timedelta = timedelta(0)) -> Program:
    return Program(id="tea", name="Tea card", brand=BRAND, goal=3,
                   reward=Reward(title="Free tea", description="Any pot"),
                   redemption=RedemptionMethod.REDEEM_CODE,
                   validity=Validity.for_days(30, start_delay=delay))


def service_over(wallets: WalletPerThread, signer: AppleSigner, tokens: PassTokens) -> PassWebService:
    options = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM)
    render = store_renderer(wallets, signer=signer, options=options,
                            web_service_url="https://wallet.example.com/passkit", tokens=tokens)
    return PassWebService(pass_type_identifier=PASS_TYPE, store=StorePassUpdates(wallets), tokens=tokens,
                          render=render)


def fetch(service: PassWebService, tokens: PassTokens, serial: str, at: datetime) -> bytes:
    headers = {"authorization": f"ApplePass {tokens.token_for(serial)}"}
    response = service.handle(
        ServiceRequest(method="GET", path=f"/v1/passes/{PASS_TYPE}/{serial}", headers=headers), at=at
    )
    assert response.status == 200
    return response.body


def scanned(pkpass: bytes) -> tuple[str, str]:
    """(what pass.json's barcode carries, what zxing-cpp reads off the pass's picture)."""
    with zipfile.ZipFile(io.BytesIO(pkpass)) as bundle:
        doc = json.loads(bundle.read("pass.json"))
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(preview_pkpass(pkpass))))
    assert len(results) == 1, [r.text for r in results]
    return doc["barcodes"][0]["message"], results[0].text


def test_a_card_stamped_to_its_goal_shows_its_redeem_code_at_once(
    engine: str, db_url: str, signer: AppleSigner, tokens: PassTokens
) -> None:
    wallets = WalletPerThread(db_url, programs=[tea()], random=secrets.token_bytes)
    try:
        wallet = wallets()
        wallet.issue_card("tea", serial="TEA-1", member_id="m-1", at=NOW)
        card = wallet.stamp("TEA-1", 3, at=STAMPED_AT, source="till").card
        (voucher,) = card.vouchers
        assert voucher.code is not None and voucher.valid_from == STAMPED_AT
        service = service_over(wallets, signer, tokens)
        body = fetch(service, tokens, "TEA-1", STAMPED_AT + timedelta(seconds=2))
        assert scanned(body) == (voucher.code.value, voucher.code.value)
    finally:
        wallets.close()


def test_a_voucher_valid_later_is_re_marked_and_shows_its_code_when_it_becomes_valid(
    engine: str, db_url: str, signer: AppleSigner, tokens: PassTokens
) -> None:
    wallets = WalletPerThread(db_url, programs=[tea(timedelta(hours=2))], random=secrets.token_bytes)
    try:
        wallet: Wallet = wallets()
        wallet.issue_card("tea", serial="TEA-1", member_id="m-1", at=NOW)
        wallet.passes.register("device-1", "TEA-1", "push-1", at=NOW)
        card = wallet.stamp("TEA-1", 3, at=STAMPED_AT, source="till").card
        (voucher,) = card.vouchers
        assert voucher.code is not None
        service = service_over(wallets, signer, tokens)
        before = wallet.passes.mark("TEA-1")
        assert before is not None
        assert scanned(fetch(service, tokens, "TEA-1", STAMPED_AT)) == ("TEA-1", "TEA-1")  # not valid yet
        pushed: list[str] = []
        handlers = {PASS_REFRESH_TOPIC: wallet.passes.refresh,
                    "apple.push": lambda message, at: pushed.append(message.payload["serial"])}
        # Before the voucher is valid only the stamp's push is due; once it is, the worker re-marks.
        assert drain_outbox(wallet, handlers, at=voucher.valid_from - timedelta(seconds=1)).completed == 1
        assert wallet.passes.mark("TEA-1") == before and pushed == ["TEA-1"]
        later = voucher.valid_from + timedelta(seconds=3)
        assert drain_outbox(wallet, handlers, at=later).completed == 2  # the refresh and the push it queued
        assert pushed == ["TEA-1", "TEA-1"]
        after = wallet.passes.mark("TEA-1")
        assert after is not None and after.last_modified >= voucher.valid_from
        assert after.position > before.position and after.version == before.version
        serials, _ = wallet.passes.updated_since("device-1", before.position)
        assert serials == ("TEA-1",)
        body = fetch(service, tokens, "TEA-1", voucher.valid_from + timedelta(seconds=3))
        assert scanned(body) == (voucher.code.value, voucher.code.value)
        assert wallet.outbox.pending() == 0
        # the next transition's position is above the refresh's: a device holding that tag sees it
        wallet.stamp("TEA-1", at=later + timedelta(seconds=1), source="till")
        following = wallet.passes.mark("TEA-1")
        assert following is not None and following.position > after.position
        assert wallet.passes.updated_since("device-1", after.position)[0] == ("TEA-1",)
    finally:
        wallets.close()


def test_a_mark_cut_to_whole_seconds_by_an_older_store_still_shows_the_code(
    db_url: str, signer: AppleSigner, tokens: PassTokens
) -> None:
    wallets = WalletPerThread(db_url, programs=[tea()], random=secrets.token_bytes)
    try:
        wallet = wallets()
        wallet.issue_card("tea", serial="TEA-1", member_id="m-1", at=NOW)
        (voucher,) = wallet.stamp("TEA-1", 3, at=STAMPED_AT, source="till").card.vouchers
        mark = wallet.passes.mark("TEA-1")
        assert mark is not None and voucher.code is not None
        # what schema migration 2 wrote for cards changed before it: updated_at cut to the second
        cut = STAMPED_AT.replace(microsecond=0)
        floored = PassState(serial="TEA-1", version=mark.version, last_modified=cut)
        options = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM)
        render = store_renderer(wallets, signer=signer, options=options,
                                web_service_url="https://wallet.example.com/passkit", tokens=tokens)
        assert scanned(render(floored)) == (voucher.code.value, voucher.code.value)
    finally:
        wallets.close()
