"""The till API passes its credential's location and the request's channel into a redemption, and a
redemption outside the reward's context is a problem naming the rule and the next allowed moment."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.service.test_till_api import call
from walletvoucher import (
    Brand,
    Channel,
    Program,
    RedemptionContext,
    RedemptionMethod,
    Reward,
    TimeWindow,
)
from walletvoucher.service import TillApi
from walletvoucher.service._till import PROBLEM_BASE
from walletvoucher.store import Wallet

from .conftest import NOW

LUNCH = Program(
    id="lunch", name="Lunch card", goal=2, redemption=RedemptionMethod.REDEEM_CODE, timezone="UTC",
    reward=Reward(title="Free lunch", description="Any set", context=RedemptionContext(
        locations=("chilonzor",), channels=(Channel.IN_STORE,),
        windows=(TimeWindow(days="mon-sun", start=f"{NOW.hour:02}:00",
                            end=f"{(NOW.hour + 2) % 24:02}:00"),))),
    brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
)


@pytest.fixture
def wallet(db_url: str) -> Iterator[Wallet]:
    with Wallet.open(db_url, programs=[LUNCH], random=secrets.token_bytes) as opened:
        yield opened


def _device(wallet: Wallet, name: str, location: str) -> str:
    code = wallet.access.create_device(name, location=location, at=NOW, random=secrets.token_bytes).secret
    return wallet.access.enrol(code, at=NOW, random=secrets.token_bytes).secret


def test_the_devices_location_and_the_channel_decide_the_redemption(wallet: Wallet) -> None:
    api = TillApi(wallet, random=secrets.token_bytes)
    issuer = wallet.access.create_api_key("till", scopes=("issue", "stamp"), at=NOW,
                                          random=secrets.token_bytes).secret
    status, card, _ = call(api, "POST", "/api/v1/cards", issuer, {"program": "lunch", "member_id": "m-1"})
    assert status == 201
    status, result, _ = call(api, "POST", f"/api/v1/cards/{card['serial']}/stamps", issuer, {"count": 2})
    voucher = wallet.voucher(result["vouchers"][0]["serial"])
    assert voucher.code is not None
    body = {"voucher": voucher.serial, "code": voucher.code.value}
    elsewhere = _device(wallet, "staff-yunusobod", "yunusobod")
    status, problem, _ = call(api, "POST", "/api/v1/redemptions", elsewhere, body)
    assert status == 422 and problem["type"] == PROBLEM_BASE + "outside-context"
    assert "context.locations" in problem["detail"] and "chilonzor" in problem["detail"]
    here = _device(wallet, "staff-chilonzor", "chilonzor")
    status, problem, _ = call(api, "POST", "/api/v1/redemptions", here, {**body, "channel": "online"})
    assert status == 422 and "context.channels" in problem["detail"]
    later = NOW.replace(hour=(NOW.hour + 3) % 24)
    status, problem, _ = call(api, "POST", "/api/v1/redemptions", here, body, at=later)
    assert status == 422 and "context.windows" in problem["detail"]
    assert "can be redeemed from" in problem["detail"]
    status, done, _ = call(api, "POST", "/api/v1/redemptions", here, body)
    assert status == 200 and done["voucher"]["status"] == "redeemed"
    redeemed = [e for e in wallet.journal(limit=100) if e.event.type.value == "voucher_redeemed"]
    assert dict(redeemed[0].event.data)["location"] == "chilonzor"
