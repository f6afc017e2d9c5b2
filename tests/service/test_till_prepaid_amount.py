"""The till API for the rules' two other kinds of card: a purchase by amount on a card that earns by
amount (``POST /cards/{serial}/purchases``), a punch of a prepaid card (``POST /cards/{serial}/punches``),
and a card representation that shows punches left, not stamps, for a prepaid card."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.service.test_till_api import call
from walletvoucher import Brand, Program, RedemptionMethod, Reward
from walletvoucher.model import CardValidity, EarnByAmount, ProgramKind, Remainder
from walletvoucher.service import TillApi
from walletvoucher.service._till import PROBLEM_BASE
from walletvoucher.store import Wallet

from .conftest import NOW

_BRAND = Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E")
_REWARD = Reward(title="Free coffee", description="Any size")
PLOV = Program(id="plov", name="Plov card", goal=3, redemption=RedemptionMethod.REDEEM_CODE, reward=_REWARD,
               brand=_BRAND, earn_by_amount=EarnByAmount(step="10000", currency="UZS",
                                                         remainder=Remainder.KEEP))
TEN = Program(id="ten", name="Ten coffees", goal=3, kind=ProgramKind.PREPAID, punches=3,
              redemption=RedemptionMethod.REDEEM_CODE, reward=_REWARD, brand=_BRAND,
              card_validity=CardValidity(days_after_join=30))
VISIT = Program(id="visit", name="Coffee card", goal=10, redemption=RedemptionMethod.REDEEM_CODE,
                reward=_REWARD, brand=_BRAND)


@pytest.fixture
def wallet(db_url: str, engine: str) -> Iterator[Wallet]:
    with Wallet.open(db_url, programs=[PLOV, TEN, VISIT], random=secrets.token_bytes) as opened:
        yield opened


@pytest.fixture
def api(wallet: Wallet) -> TillApi:
    return TillApi(wallet, random=secrets.token_bytes)


@pytest.fixture
def token(wallet: Wallet) -> str:
    return wallet.access.create_api_key("till-1", scopes=("issue", "stamp", "read"), at=NOW,
                                        random=secrets.token_bytes).secret


def _card(api: TillApi, token: str, program: str) -> dict[str, Any]:
    status, card, _ = call(api, "POST", "/api/v1/cards", token, {"program": program, "member_id": "m-1"})
    assert status == 201
    return dict(card)


def _slug(problem: dict[str, Any]) -> str:
    return str(problem["type"]).removeprefix(PROBLEM_BASE)


def test_a_purchase_earns_a_stamp_per_step_and_keeps_the_rest(
    api: TillApi, wallet: Wallet, token: str
) -> None:
    card = _card(api, token, "plov")
    assert (card["kind"], card["amount_carried"], card["currency"], card["punches_left"]) == (
        "stamps", "0", "UZS", None)
    path = f"/api/v1/cards/{card['serial']}/purchases"
    body = {"amount": "25000", "currency": "UZS", "source": "lane-2"}
    status, result, _ = call(api, "POST", path, token, body, headers={"idempotency-key": "sale-1"})
    assert status == 200
    assert (result["card"]["stamps"], result["card"]["amount_carried"]) == (2, "5000")
    again = call(api, "POST", path, token, body, headers={"idempotency-key": "sale-1"})
    assert (again[0], again[1]) == (200, result)  # the retry is the first answer, nothing added twice
    status, result, _ = call(api, "POST", path, token, {"amount": "5000.50", "currency": "UZS"})
    assert status == 200 and result["card"]["progress"] == "0/3" and len(result["vouchers"]) == 1
    assert result["card"]["amount_carried"] == "0.50"
    stored = wallet.card(card["serial"])
    assert stored.lifetime_stamps == 3 and "api:till-1 via lane-2" in {
        e.event.data.get("source") for e in wallet.journal(0) if e.event.type.value == "amount_spent"}


def test_a_purchase_in_another_currency_or_on_the_wrong_card_is_a_problem(
    api: TillApi, wallet: Wallet, token: str
) -> None:
    card = _card(api, token, "plov")
    path = f"/api/v1/cards/{card['serial']}/purchases"
    status, problem, _ = call(api, "POST", path, token, {"amount": "25000", "currency": "USD"})
    assert (status, _slug(problem), problem["expected"]) == (422, "wrong-currency", "UZS")
    for amount in ("0", "-5", "1e5", "25,000", 25000, "1" * 16):
        status, problem, _ = call(api, "POST", path, token, {"amount": amount, "currency": "UZS"})
        assert (status, _slug(problem), problem["field"]) == (422, "invalid-request", "amount"), amount
    assert wallet.card(card["serial"]).stamps == 0
    for program, takes in (("visit", "stamps"), ("ten", "punches")):
        other = _card(api, token, program)
        status, problem, _ = call(api, "POST", f"/api/v1/cards/{other['serial']}/purchases", token,
                                  {"amount": "25000", "currency": "UZS"})
        assert (status, _slug(problem), problem["takes"]) == (422, "wrong-program-kind", takes)
    status, problem, _ = call(api, "POST", "/api/v1/cards/NOPE/purchases", token,
                              {"amount": "1", "currency": "UZS"})
    assert (status, _slug(problem)) == (404, "unknown-card")


def test_a_prepaid_card_shows_punches_left_and_each_punch_takes_one(
    api: TillApi, wallet: Wallet, token: str
) -> None:
    card = _card(api, token, "ten")
    assert (card["kind"], card["punches"], card["punches_left"]) == ("prepaid", 3, 3)
    assert (card["stamps"], card["goal"], card["progress"]) == (None, None, None)  # no stamps to show
    path = f"/api/v1/cards/{card['serial']}/punches"
    status, result, _ = call(api, "POST", path, token, {"count": 2}, headers={"idempotency-key": "k-1"})
    assert (status, result["card"]["punches_left"], result["vouchers"]) == (200, 1, [])
    assert call(api, "POST", path, token, {"count": 2}, headers={"idempotency-key": "k-1"})[1] == result
    status, problem, _ = call(api, "POST", path, token, {"count": 2})  # only one left: none taken
    assert (status, _slug(problem)) == (409, "no-punches-left")
    assert call(api, "GET", f"/api/v1/cards/{card['serial']}", token)[1]["punches_left"] == 1
    assert call(api, "POST", path, token, {})[1]["card"]["punches_left"] == 0
    status, problem, _ = call(api, "POST", path, token, {"source": "lane-2"})
    assert (status, _slug(problem)) == (409, "no-punches-left")
    assert wallet.card(card["serial"]).punches_used == 3


def test_punches_of_an_expired_card_a_stamp_card_or_out_of_scope_are_problems(
    api: TillApi, wallet: Wallet, token: str
) -> None:
    card = _card(api, token, "ten")
    path = f"/api/v1/cards/{card['serial']}/punches"
    status, problem, _ = call(api, "POST", path, token, {}, at=NOW + timedelta(days=40))
    assert (status, _slug(problem)) == (422, "card-expired")
    for count in (0, 1001, True, "1"):
        status, problem, _ = call(api, "POST", path, token, {"count": count})
        assert (status, problem["field"]) == (422, "count"), count
    visit = _card(api, token, "visit")
    status, problem, _ = call(api, "POST", f"/api/v1/cards/{visit['serial']}/punches", token, {})
    assert (status, _slug(problem), problem["takes"]) == (422, "wrong-program-kind", "stamps")
    reader = wallet.access.create_api_key("reader", scopes=("read",), at=NOW, random=secrets.token_bytes)
    for endpoint, body in (("punches", {}), ("purchases", {"amount": "1", "currency": "UZS"})):
        status, problem, _ = call(api, "POST", f"/api/v1/cards/{card['serial']}/{endpoint}", reader.secret,
                                  body)
        assert (status, problem["scope"]) == (403, "stamp")
    assert wallet.card(card["serial"]).punches_left == 3
