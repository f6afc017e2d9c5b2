"""Google objects that follow the card, through the store's outbox, against the loopback Google API.

Every test runs on SQLite and on the real PostgreSQL server. The generic outbox worker lives on
another branch, so :func:`drain` is the minimal loop it implements: claim, handle, complete, or
retry after :func:`sync_retry_delay`. Stored objects are checked against the walletobjects
discovery document (an oracle that did not build them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.google.conftest import ISSUER, make_options
from tests.google.discovery import schema_errors
from tests.google.fake_wallet_api import FakeWalletApi
from tests.store._programs import coffee, tea
from tests.store.conftest import NOW
from walletvoucher import CodeEntry, SelfRedeem
from walletvoucher.google import (
    Resource,
    ServiceAccountCredentials,
    VoucherDisplay,
    WalletRestClient,
    message_id_for,
)
from walletvoucher.model import EventType, LocalizedText, Program, Reward
from walletvoucher.service import GOOGLE_SYNC_TOPIC, GoogleSync, google_sync_effect, sync_retry_delay
from walletvoucher.store import Wallet

CARD = f"{ISSUER}.tea.card.T1"
COFFEE_CARD = f"{ISSUER}.coffee.card.C1"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def credentials(rsa_key: rsa.RSAPrivateKey) -> ServiceAccountCredentials:
    return ServiceAccountCredentials(
        client_email="wallet@wallet-demo.iam.gserviceaccount.com", private_key_id="k1", private_key=rsa_key
    )


@pytest.fixture
def fake_api(rsa_key: rsa.RSAPrivateKey) -> Iterator[FakeWalletApi]:
    api = FakeWalletApi(issuer_id=ISSUER, public_key=rsa_key.public_key()).start()
    yield api
    api.stop()


@pytest.fixture
def rest(fake_api: FakeWalletApi, credentials: ServiceAccountCredentials) -> WalletRestClient:
    # max_attempts=1: a failing request goes back to the outbox instead of sleeping in the client
    return WalletRestClient.from_service_account(
        credentials.with_token_uri(fake_api.token_uri), base_url=fake_api.base_url, max_attempts=1,
        clock=lambda: NOW,
    )  # fmt: skip


@pytest.fixture
def wallet(url: str, programs: list[Any]) -> Iterator[Wallet]:
    with Wallet.open(url, programs=programs, effects=[google_sync_effect()], random=bytes) as opened:
        yield opened


def drain(wallet: Wallet, sync: GoogleSync, at: datetime) -> list[str]:
    """One pass of the outbox worker over google.sync messages; the errors of the ones retried."""
    errors = []
    for message in wallet.outbox.claim(at=at, limit=100):
        assert message.topic == GOOGLE_SYNC_TOPIC
        try:
            sync(message, at)
        except Exception as exc:  # the worker's contract: any exception means "retry later"
            errors.append(str(exc))
            delay = sync_retry_delay(exc, message.attempts)
            wallet.outbox.retry(message.id, error=str(exc), at=at, delay=delay)
        else:
            wallet.outbox.complete(message.id, at=at)
    return errors


def stored(fake_api: FakeWalletApi, object_id: str = CARD, kind: str = "loyaltyObject") -> dict[str, Any]:
    body = fake_api.store[kind][object_id]
    assert schema_errors(body, "LoyaltyObject" if kind == "loyaltyObject" else "OfferObject") == []
    return body


def _sync(wallet: Wallet, rest: WalletRestClient, **changes: Any) -> GoogleSync:
    return GoogleSync(wallet, rest, make_options(**changes))


def issue_saved(wallet: Wallet, sync: GoogleSync, program: Any, serial: str) -> None:
    """Issue a card whose holder saved it (its object exists at Google: updates can notify)."""
    wallet.issue_card(program, serial=serial, member_id="m-1", at=NOW)
    sync.sync_card(serial, at=NOW)


# --- the object follows the card ---------------------------------------------------------------


def test_stamp_updates_the_object_and_notifies(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    issue_saved(wallet, sync, tea(), "T1")
    assert wallet.outbox.pending() == 0  # a new card reaches Google through its save link
    wallet.stamp("T1", at=NOW)
    assert drain(wallet, sync, NOW) == []
    body = stored(fake_api)
    assert body["loyaltyPoints"]["balance"] == {"string": "1/3"}
    assert body["barcode"]["value"] == "T1"
    assert fake_api.notifications == [("loyaltyObject", CARD)]
    assert wallet.outbox.pending() == 0


def test_redemption_removes_the_barcode_and_the_card_goes_back_to_collecting(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    issue_saved(wallet, sync, tea(), "T1")
    voucher = wallet.stamp("T1", 3, at=NOW).vouchers[0]
    drain(wallet, sync, NOW)
    ready = stored(fake_api)
    assert ready["barcode"]["value"] == voucher.code.value  # type: ignore[union-attr]
    assert ready["secondaryLoyaltyPoints"]["balance"] == {"int": 1}
    assert [m["header"] for m in ready["messages"]] == ["Free tea"]
    rest.add_message(
        Resource.LOYALTY_OBJECT, CARD, {"header": "Open late", "body": "Till 22h"}, message_id="ours"
    )

    wallet.redeem(voucher.serial, CodeEntry(code=voucher.code.value), at=NOW + timedelta(hours=1))  # type: ignore[union-attr]
    drain(wallet, sync, NOW + timedelta(hours=1))
    after = stored(fake_api)
    assert after["barcode"]["value"] == "T1"  # the redeem code is gone, not merely patched over
    assert "secondaryLoyaltyPoints" not in after
    assert after["loyaltyPoints"]["balance"] == {"string": "0/3"}
    assert [m["header"] for m in after["messages"]] == ["Open late"]  # "reward ready" went with the reward
    assert fake_api.notifications == [("loyaltyObject", CARD)]  # the redemption does not notify


def test_self_redeem_card_loses_its_reward_link_after_redemption(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    wallet.stamp("C1", 10, at=NOW)
    drain(wallet, sync, NOW)
    assert "linksModuleData" in stored(fake_api, COFFEE_CARD)
    wallet.redeem("C1-1", SelfRedeem(), at=NOW)
    drain(wallet, sync, NOW)
    after = stored(fake_api, COFFEE_CARD)
    assert "linksModuleData" not in after and "secondaryLoyaltyPoints" not in after


def test_separate_voucher_passes_follow_redemption(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest, voucher_display=VoucherDisplay.SEPARATE)
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    voucher = wallet.stamp("T1", 3, at=NOW).vouchers[0]
    drain(wallet, sync, NOW)
    offer_id = f"{ISSUER}.tea.voucher.{voucher.serial}"
    offer = stored(fake_api, offer_id, "offerObject")
    assert offer["state"] == "ACTIVE" and offer["barcode"]["value"] == voucher.code.value  # type: ignore[union-attr]
    card = stored(fake_api)
    assert card["linkedOfferIds"] == [offer_id] and card["barcode"]["value"] == "T1"

    wallet.redeem(voucher.serial, CodeEntry(code=voucher.code.value), at=NOW)  # type: ignore[union-attr]
    drain(wallet, sync, NOW)
    offer = stored(fake_api, offer_id, "offerObject")
    assert offer["state"] == "COMPLETED" and "barcode" not in offer
    assert "linkedOfferIds" not in stored(fake_api)


@pytest.mark.parametrize("display", [VoucherDisplay.ON_CARD, VoucherDisplay.SEPARATE])
def test_expiry_and_void_reach_the_objects(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi, display: VoucherDisplay
) -> None:
    sync = _sync(wallet, rest, voucher_display=display)
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    first = wallet.stamp("T1", 3, at=NOW).vouchers[0]
    second = wallet.stamp("T1", 3, at=NOW + timedelta(days=20)).vouchers[0]
    drain(wallet, sync, NOW + timedelta(days=20))

    later = NOW + timedelta(days=31)  # the first voucher's 30 days are over
    assert [e.type for e in wallet.expire_due(at=later)] == [EventType.VOUCHER_EXPIRED]
    drain(wallet, sync, later)
    card = stored(fake_api)
    assert card["secondaryLoyaltyPoints"]["balance"] == {"int": 1}  # only the second is left
    wallet.void(second.serial, "refund", at=later)
    drain(wallet, sync, later)
    card = stored(fake_api)
    assert card["barcode"]["value"] == "T1" and "secondaryLoyaltyPoints" not in card
    if display is VoucherDisplay.SEPARATE:
        states = {v.serial: stored(fake_api, f"{ISSUER}.tea.voucher.{v.serial}", "offerObject")["state"]
                  for v in (first, second)}  # fmt: skip
        assert states == {first.serial: "EXPIRED", second.serial: "INACTIVE"}


def test_messages_handled_out_of_order_converge_on_the_current_card(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    wallet.stamp("T1", at=NOW)
    wallet.stamp("T1", at=NOW + timedelta(minutes=1))
    messages = wallet.outbox.claim(at=NOW + timedelta(minutes=1))
    for message in reversed(messages):  # the newer change first, then the older one
        sync(message, NOW + timedelta(minutes=1))
    assert stored(fake_api)["loyaltyPoints"]["balance"] == {"string": "2/3"}


def test_a_change_committed_while_the_object_is_sent_is_sent_too(
    url: str, programs: list[Any], wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    issue_saved(wallet, sync, tea(), "T1")
    wallet.stamp("T1", at=NOW)
    original = fake_api.api

    def stamp_while_putting(method: str, path: str, auth: str | None, body: Any) -> Any:
        if method == "PUT" and not getattr(stamp_while_putting, "done", False):
            stamp_while_putting.done = True  # type: ignore[attr-defined]
            with Wallet.open(url, programs=programs, effects=[google_sync_effect()]) as other:  # another till
                other.stamp("T1", at=NOW)
        return original(method, path, auth, body)

    fake_api.api = stamp_while_putting  # type: ignore[method-assign]
    [first] = wallet.outbox.claim(at=NOW, limit=1)
    sync(first, NOW)  # sent 1/3, saw version move, sent 2/3
    assert stored(fake_api)["loyaltyPoints"]["balance"] == {"string": "2/3"}
    puts = [body.get("notifyPreference") for method, _, body in fake_api.requests if method == "PUT"]
    assert puts == ["NOTIFY_ON_UPDATE", None]  # the second pass does not notify again


# --- the notification budget --------------------------------------------------------------------


def test_the_fourth_stamp_within_24_hours_updates_without_notifying(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest, hero_image_url_template=None)
    issue_saved(wallet, sync, coffee(), "C1")
    for hour in range(4):
        at = NOW + timedelta(hours=hour)
        wallet.stamp("C1", at=at)
        assert drain(wallet, sync, at) == []
    assert stored(fake_api, COFFEE_CARD)["loyaltyPoints"]["balance"] == {"string": "4/10"}  # updated
    assert fake_api.notifications == [("loyaltyObject", COFFEE_CARD)] * 3  # ...but notified 3 times
    puts = [body for method, path, body in fake_api.requests if method == "PUT"]
    assert [b.get("notifyPreference") for b in puts] == ["NOTIFY_ON_UPDATE"] * 3 + [None]
    assert wallet.google.notifications_left(COFFEE_CARD, at=NOW + timedelta(hours=3)) == 0

    after_a_day = NOW + timedelta(hours=24, minutes=1)  # the first notification left the window
    wallet.stamp("C1", at=after_a_day)
    drain(wallet, sync, after_a_day)
    assert len(fake_api.notifications) == 4


def test_an_object_inserted_by_the_sync_takes_no_notification(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)  # never saved: no object yet
    wallet.stamp("T1", at=NOW)
    drain(wallet, sync, NOW)
    assert stored(fake_api)["loyaltyPoints"]["balance"] == {"string": "1/3"}  # inserted
    assert fake_api.notifications == [] and wallet.google.notifications_left(CARD, at=NOW) == 3


def test_a_retried_sync_keeps_its_notification_slot(wallet: Wallet) -> None:
    records = wallet.google
    assert records.take_notification("obj", key="C1@1", at=NOW)
    assert records.take_notification("obj", key="C1@1", at=NOW)  # the same sync, retried
    assert records.notifications_left("obj", at=NOW) == 2
    assert records.take_notification("obj", key="C1@2", at=NOW)
    assert records.take_notification("obj", key="C1@3", at=NOW)
    assert not records.take_notification("obj", key="C1@4", at=NOW)
    assert records.notifications_total("obj") == 3


# --- failures: the message stays in the outbox --------------------------------------------------


def test_google_5xx_keeps_the_message_and_it_is_sent_later(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    wallet.stamp("T1", at=NOW)
    fake_api.fail_next(503)
    [error] = drain(wallet, sync, NOW)
    assert "HTTP 503" in error and wallet.outbox.pending() == 1
    assert wallet.outbox.claim(at=NOW + timedelta(seconds=29)) == ()  # the default first delay: 30 s
    assert drain(wallet, sync, NOW + timedelta(seconds=30)) == []
    assert stored(fake_api)["loyaltyPoints"]["balance"] == {"string": "1/3"}
    assert wallet.outbox.pending() == 0


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("120", timedelta(seconds=120)),
        (format_datetime(NOW + timedelta(minutes=10), usegmt=True), timedelta(minutes=10)),
        ("86400", timedelta(hours=1)),  # capped
    ],
)
def test_429_retry_after_is_honoured_and_capped(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi, header: str, wait: timedelta
) -> None:
    sync = _sync(wallet, rest)
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    wallet.stamp("T1", at=NOW)
    fake_api.fail_next(429, retry_after=header)
    assert len(drain(wallet, sync, NOW)) == 1
    assert wallet.outbox.claim(at=NOW + wait - timedelta(seconds=1)) == ()
    assert drain(wallet, sync, NOW + wait) == []
    assert CARD in fake_api.store["loyaltyObject"]


def test_an_expired_token_is_refreshed_once_on_401(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    wallet.stamp("T1", at=NOW)
    drain(wallet, sync, NOW)
    fake_api.expire_tokens()
    wallet.stamp("T1", at=NOW)
    before = fake_api.token_requests
    assert drain(wallet, sync, NOW) == []
    assert fake_api.token_requests == before + 1
    assert stored(fake_api)["loyaltyPoints"]["balance"] == {"string": "2/3"}


def test_a_lost_reply_on_add_message_adds_it_once(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    original = fake_api.api

    def drop_add_message_reply(method: str, path: str, auth: str | None, body: Any) -> Any:
        result = original(method, path, auth, body)
        if path.endswith("/addMessage") and not fake_api.notifications[1:]:
            fake_api.drop_replies = 1  # done at Google; the reply never arrives
        return result

    fake_api.api = drop_add_message_reply  # type: ignore[method-assign]
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    wallet.stamp("T1", 3, at=NOW)
    [error] = drain(wallet, sync, NOW)
    assert "could not reach" in error
    fake_api.api = original  # type: ignore[method-assign]
    assert drain(wallet, sync, NOW + timedelta(minutes=1)) == []
    [event] = [e.event for e in wallet.journal() if e.event.type is EventType.VOUCHER_ISSUED]
    [position] = [e.position for e in wallet.journal() if e.event.type is EventType.VOUCHER_ISSUED]
    ids = [m["id"] for m in stored(fake_api)["messages"]]
    assert ids == [message_id_for(event, sequence=position)]


def test_a_crash_between_commit_and_sync_sends_on_the_next_drain(
    url: str, programs: list[Any], rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    with Wallet.open(url, programs=programs, effects=[google_sync_effect()]) as first:
        first.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
        first.stamp("T1", at=NOW)
        first.outbox.claim(at=NOW)  # the worker took it... and the process died before sending
    assert CARD not in fake_api.store["loyaltyObject"]
    with Wallet.open(url, programs=programs, effects=[google_sync_effect()]) as second:
        sync = _sync(second, rest)
        assert drain(second, sync, NOW + timedelta(seconds=30)) == []  # still leased
        assert CARD not in fake_api.store["loyaltyObject"]
        assert drain(second, sync, NOW + timedelta(seconds=61)) == []  # the lease ran out
        assert stored(fake_api)["loyaltyPoints"]["balance"] == {"string": "1/3"}
        assert second.outbox.pending() == 0


# --- classes, once per program version; save links that carry only the object ---------------------


def test_the_class_is_inserted_once_per_program_version(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    sync = _sync(wallet, rest)
    wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    for minute in range(3):
        wallet.stamp("C1", at=NOW + timedelta(minutes=minute))
    drain(wallet, sync, NOW + timedelta(minutes=5))
    class_writes = [m for m, p, _ in fake_api.requests if p.split("/")[3] == "loyaltyClass"]
    assert class_writes == ["POST"]
    recorded = wallet.google.recorded_class(f"{ISSUER}.coffee")
    assert recorded is not None and recorded.program_version == 1

    revised = coffee().revise(goal=5)
    wallet.change_program("C1", revised, at=NOW + timedelta(minutes=6))
    wallet.stamp("C1", 7, at=NOW + timedelta(minutes=7))  # finishes the cycle: on version 2 now
    drain(wallet, sync, NOW + timedelta(minutes=8))
    class_writes = [m for m, p, _ in fake_api.requests if p.split("/")[3] == "loyaltyClass"]
    assert class_writes == ["POST", "POST", "GET", "PUT"]  # inserted for v2: 409, replaced
    assert wallet.google.recorded_class(f"{ISSUER}.coffee").program_version == 2  # type: ignore[union-attr]


def _latte() -> Program:
    title = LocalizedText(default="Free latte", translations={"zh-Hans": "免费拿铁"})
    return attrs.evolve(coffee(), id="latte", reward=Reward(title=title, description="Any size"),
                        name=LocalizedText(default="Latte card", translations={"zh-Hans": "拿铁卡"}))


@pytest.mark.parametrize("programs", [[_latte(), _latte().revise(name="Latte card")]])
def test_a_revision_that_drops_a_text_removes_it_from_the_class(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    # issue 18: the class was patched, so the zh-Hans name a revision removed was still shown
    sync = _sync(wallet, rest)
    class_id = f"{ISSUER}.latte"
    wallet.issue_card(_latte(), serial="L1", member_id="m-1", at=NOW)
    wallet.stamp("L1", at=NOW)
    drain(wallet, sync, NOW)
    assert fake_api.store["loyaltyClass"][class_id]["localizedProgramName"]["translatedValues"] == [
        {"language": "zh-Hans", "value": "拿铁卡"}]
    console = {"url": "https://shop.example.com/wallet-callback"}  # set in the Wallet console
    fake_api.store["loyaltyClass"][class_id]["callbackOptions"] = console
    rest.add_message(Resource.LOYALTY_CLASS, class_id, {"header": "Hours", "body": "7-19"}, message_id="h")

    wallet.change_program("L1", _latte().revise(name="Latte card"), at=NOW + timedelta(minutes=1))
    wallet.stamp("L1", 10, at=NOW + timedelta(minutes=2))  # finishes the cycle: on version 2 now
    assert drain(wallet, sync, NOW + timedelta(minutes=3)) == []
    revised = fake_api.store["loyaltyClass"][class_id]
    assert schema_errors(revised, "LoyaltyClass") == []
    assert "localizedProgramName" not in revised and revised["programName"] == "Latte card"
    assert revised["textModulesData"][0]["localizedHeader"]["translatedValues"] == [
        {"language": "zh-Hans", "value": "免费拿铁"}]  # what v2 still translates stays
    assert revised["callbackOptions"] == console  # fields walletvoucher never writes are kept
    assert [m["id"] for m in revised["messages"]] == ["h"]


def test_an_older_program_version_never_rolls_the_class_back(wallet: Wallet) -> None:
    records = wallet.google
    records.record_class("c", program_version=2, digest="v2", at=NOW)
    records.record_class("c", program_version=1, digest="v1", at=NOW)
    assert records.recorded_class("c").digest == "v2"  # type: ignore[union-attr]
    assert records.class_is_current("c", program_version=1, digest="v1")
    assert not records.class_is_current("c", program_version=2, digest="other")


def test_save_link_after_the_class_is_recorded_carries_only_the_object(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi, credentials: ServiceAccountCredentials
) -> None:
    import jwt

    sync = _sync(wallet, rest)
    card = wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    link = sync.save_link(card, credentials=credentials, at=NOW)
    public = credentials.private_key.public_key()
    claims = jwt.decode(link.jwt, public, algorithms=["RS256"], audience="google")
    assert link.mode.value == "object" and set(claims["payload"]) == {"loyaltyObjects"}
    [obj] = claims["payload"]["loyaltyObjects"]
    assert obj["classId"] in fake_api.store["loyaltyClass"]  # inserted through REST, recorded
    assert schema_errors(obj, "LoyaltyObject") == []
    sync.save_link(card, credentials=credentials, at=NOW)
    assert [m for m, p, _ in fake_api.requests if "loyaltyClass" in p] == ["POST"]  # once


# --- the effect ------------------------------------------------------------------------------------


def test_the_effect_queues_what_each_change_asks_for(wallet: Wallet) -> None:
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    voucher = wallet.stamp("T1", 3, at=NOW).vouchers[0]
    wallet.void(voucher.serial, "refund", at=NOW)
    stamp, void = wallet.outbox.claim(at=NOW)
    [issued] = [e for e in wallet.journal() if e.event.type is EventType.VOUCHER_ISSUED]
    assert dict(stamp.payload) == {
        "serial": "T1",
        "action": "stamp",
        "key": f"T1@{wallet.journal()[-2].position}",  # the stamp's last event (the void's is last)
        "notify": True,
        "vouchers": [voucher.serial],
        "messages": [{"id": message_id_for(issued.event, sequence=issued.position), "voucher": "T1-1"}],
    }
    assert void.payload["action"] == "void" and void.payload["notify"] is False
    assert void.payload["vouchers"] == [voucher.serial] and void.payload["messages"] == []


def test_the_handler_refuses_a_message_of_another_topic(wallet: Wallet, rest: WalletRestClient) -> None:
    from walletvoucher.errors import ValidationError
    from walletvoucher.store import OutboxMessage

    other = OutboxMessage(id=1, topic="apple.push", payload={"serial": "T1"}, created_at=NOW, attempts=1,
                          last_error=None)  # fmt: skip
    with pytest.raises(ValidationError, match=r"not a google\.sync message"):
        _sync(wallet, rest)(other, NOW)


# --- the worker command -------------------------------------------------------------------------

WORKER_PROGRAM = """
[program]
id = "tea"
name = "Tea card"
goal = 3
redemption = "redeem_code"
validity = {{ days = 30 }}

[brand]
name = "Kahve"
foreground = "#FFFFFF"
background = "#1E3A5F"
label = "#F2C14E"

[reward]
title = "Free tea"
description = "Any pot"

[google]
issuer_id = "{issuer}"
service_account = "sa.json"
origins = ["https://shop.example.com"]
logo_url = "https://cdn.example.com/logo.png"
"""


def test_the_worker_command_keeps_google_objects_in_step(
    url: str, wallet: Wallet, fake_api: FakeWalletApi, rsa_key: rsa.RSAPrivateKey, tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from cryptography.hazmat.primitives import serialization

    from walletvoucher.apple import mint_test_chain
    from walletvoucher.cli import main

    chain = mint_test_chain(pass_type_identifier="pass.com.example.tea", team_identifier="ABCDE12345",
                            at=datetime.now(NOW.tzinfo), backdate=timedelta(days=1))
    files = chain.write(tmp_path / "chain")
    settings = {"PASS_TYPE_IDENTIFIER": "pass.com.example.tea", "TEAM_IDENTIFIER": "ABCDE12345",
                "CERTIFICATE": files["certificate"], "KEY": files["key"], "WWDR": files["wwdr"]}
    for name, value in settings.items():
        monkeypatch.setenv(f"WALLETVOUCHER_{name}", str(value))
    pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    (tmp_path / "sa.json").write_text(json.dumps({
        "type": "service_account", "project_id": "p", "private_key_id": "k1", "private_key": pem,
        "client_email": "wallet@wallet-demo.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": fake_api.token_uri,
    }))
    (tmp_path / "tea.toml").write_text(WORKER_PROGRAM.format(issuer=ISSUER), encoding="utf-8")
    wallet.issue_card("tea", serial="T1", member_id="m-1", at=NOW)
    wallet.stamp("T1", 2, at=NOW)
    assert wallet.outbox.pending() == 1
    status = main(["worker", "--db", url, "--once", "--program", str(tmp_path / "tea.toml"),
                   "--google-api-url", fake_api.base_url])
    assert status == 0, capsys.readouterr().err
    assert "sent 1 message(s); 0 pending" in capsys.readouterr().out
    assert stored(fake_api)["loyaltyPoints"]["balance"] == {"string": "2/3"}
