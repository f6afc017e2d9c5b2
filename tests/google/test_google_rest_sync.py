"""Keeping a saved pass in step with the card: patch vs update (PUT) against the loopback API with
Google's semantics, replace() that drops what the new state no longer has, the notify flag, and
addMessage that a retry after a lost reply does not repeat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.google.conftest import AT, ISSUER, make_card, make_options, make_program, make_voucher
from tests.google.discovery import schema_errors
from tests.google.fake_wallet_api import FakeWalletApi
from walletvoucher.errors import GoogleOptionsError
from walletvoucher.google import (
    CLASS_FIELDS,
    Resource,
    WalletRestClient,
    loyalty_class,
    loyalty_object,
    message_id_for,
    offer_class,
    offer_object,
)
from walletvoucher.model import Event, EventType, RedemptionMethod, VoucherStatus

CARD_ID = f"{ISSUER}.coffee.card.card-0001"
OFFER_ID = f"{ISSUER}.coffee.voucher.card-0001-1"


def _offer_bodies(status: VoucherStatus) -> tuple[dict[str, Any], dict[str, Any]]:
    program = make_program(RedemptionMethod.REDEEM_CODE)
    voucher = make_voucher(program, status=status)
    options = make_options()
    return offer_class(voucher, program, options), offer_object(voucher, program, options, at=AT)


def _card_bodies(open_voucher: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Self-Redeem card with an open voucher (reward link, rewards row) or after redemption."""
    program = make_program(RedemptionMethod.SELF_REDEEM)
    status = VoucherStatus.ACTIVE if open_voucher else VoucherStatus.REDEEMED
    card = make_card(program, stamps=2, vouchers=(make_voucher(program, status=status),))
    return loyalty_class(program, make_options()), loyalty_object(card, make_options(), at=AT)


def test_patch_leaves_the_redeemed_vouchers_barcode_and_update_removes_it(
    rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    cls, active = _offer_bodies(VoucherStatus.ACTIVE)
    _, redeemed = _offer_bodies(VoucherStatus.REDEEMED)
    assert "barcode" in active and "barcode" not in redeemed
    rest.insert(Resource.OFFER_CLASS, cls)
    rest.insert(Resource.OFFER_OBJECT, active)

    patched = rest.patch(Resource.OFFER_OBJECT, OFFER_ID, redeemed)
    assert patched["state"] == "COMPLETED"
    assert patched["barcode"] == active["barcode"]  # the stale redeem code is still on the pass

    updated = rest.update(Resource.OFFER_OBJECT, OFFER_ID, redeemed)
    stored = fake_api.store["offerObject"][OFFER_ID]
    assert "barcode" not in updated and "barcode" not in stored
    assert stored == redeemed
    assert [m for m, _, _ in fake_api.requests][-2:] == ["PATCH", "PUT"]


def test_replace_brings_the_card_back_to_collecting_and_keeps_its_messages(
    rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    cls, ready = _card_bodies(open_voucher=True)
    _, collecting = _card_bodies(open_voucher=False)
    assert {"linksModuleData", "secondaryLoyaltyPoints"} <= set(ready)
    rest.insert(Resource.LOYALTY_CLASS, cls)
    inserted = rest.replace(Resource.LOYALTY_OBJECT, ready)  # does not exist yet: inserted
    assert inserted["linksModuleData"] == ready["linksModuleData"]
    rest.add_message(Resource.LOYALTY_OBJECT, CARD_ID, {"header": "Reward ready", "body": "Enjoy"},
                     message_id="m-1")

    rest.replace(Resource.LOYALTY_OBJECT, collecting)

    stored = fake_api.store["loyaltyObject"][CARD_ID]
    assert "linksModuleData" not in stored and "secondaryLoyaltyPoints" not in stored
    assert stored["loyaltyPoints"] == collecting["loyaltyPoints"]
    assert [m["id"] for m in stored["messages"]] == ["m-1"]  # added messages survive the PUT
    assert schema_errors(stored, "LoyaltyObject") == []
    assert [m for m, _, _ in fake_api.requests][-2:] == ["GET", "PUT"]


def test_patch_of_the_same_change_keeps_the_stale_reward_link(
    rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    cls, ready = _card_bodies(open_voucher=True)
    _, collecting = _card_bodies(open_voucher=False)
    rest.insert(Resource.LOYALTY_CLASS, cls)
    rest.insert(Resource.LOYALTY_OBJECT, ready)
    rest.upsert(Resource.LOYALTY_OBJECT, collecting)  # 409, then PATCH
    stored = fake_api.store["loyaltyObject"][CARD_ID]
    assert stored["linksModuleData"] == ready["linksModuleData"]  # what replace() exists to avoid


@pytest.mark.parametrize("notify", [True, False])
def test_update_and_replace_carry_the_notify_flag_when_asked(
    rest: WalletRestClient, fake_api: FakeWalletApi, notify: bool
) -> None:
    cls, ready = _card_bodies(open_voucher=True)
    rest.insert(Resource.LOYALTY_CLASS, cls)
    rest.insert(Resource.LOYALTY_OBJECT, ready)
    rest.update(Resource.LOYALTY_OBJECT, CARD_ID, ready, notify=notify)
    rest.replace(Resource.LOYALTY_OBJECT, ready, notify=notify)
    sent = [body.get("notifyPreference") for method, _, body in fake_api.requests if method == "PUT"]
    assert sent == (["NOTIFY_ON_UPDATE"] * 2 if notify else [None, None])
    assert fake_api.notifications == ([("loyaltyObject", CARD_ID)] * 2 if notify else [])
    assert "notifyPreference" not in fake_api.store["loyaltyObject"][CARD_ID]  # ephemeral


def test_update_refuses_a_body_of_another_id(rest: WalletRestClient, fake_api: FakeWalletApi) -> None:
    _, ready = _card_bodies(open_voucher=True)
    with pytest.raises(GoogleOptionsError, match="resource_id"):
        rest.update(Resource.LOYALTY_OBJECT, CARD_ID + "-other", ready)
    assert fake_api.requests == []


def _event(voucher: str = "C1-1") -> Event:
    return Event(type=EventType.VOUCHER_ISSUED, at=AT, card_serial="card-0001", data={"voucher": voucher})


def test_message_ids_derive_from_the_event() -> None:
    first = message_id_for(_event())
    assert first == message_id_for(_event())
    assert first != message_id_for(_event("C1-2"))
    assert first != message_id_for(_event(), sequence=7)
    later = Event(type=EventType.VOUCHER_ISSUED, at=AT + timedelta(seconds=1), card_serial="card-0001",
                  data={"voucher": "C1-1"})
    assert first != message_id_for(later)


def _class_inserted(rest: WalletRestClient) -> None:
    cls, _ = _card_bodies(open_voucher=True)
    rest.insert(Resource.LOYALTY_CLASS, cls)


def test_google_stores_a_duplicate_message_id_twice(rest: WalletRestClient, fake_api: FakeWalletApi) -> None:
    # The fake follows Google: Message.id is not unique, addMessage always appends.
    _class_inserted(rest)
    message = {"header": "Reward ready", "body": "Enjoy", "id": "same"}
    rest.add_message(Resource.LOYALTY_CLASS, f"{ISSUER}.coffee", message)
    rest.add_message(Resource.LOYALTY_CLASS, f"{ISSUER}.coffee", message)
    assert len(fake_api.store["loyaltyClass"][f"{ISSUER}.coffee"]["messages"]) == 2


def test_add_message_with_an_id_is_added_once(rest: WalletRestClient, fake_api: FakeWalletApi) -> None:
    _class_inserted(rest)
    message_id = message_id_for(_event())
    for _ in range(3):
        rest.add_message(Resource.LOYALTY_CLASS, f"{ISSUER}.coffee", {"header": "Hi", "body": "There"},
                         message_id=message_id)
    messages = fake_api.store["loyaltyClass"][f"{ISSUER}.coffee"]["messages"]
    assert [m["id"] for m in messages] == [message_id]


def test_lost_reply_is_retried_without_adding_the_message_twice(
    rest: WalletRestClient, fake_api: FakeWalletApi, sleeps: list[float]
) -> None:
    _class_inserted(rest)
    message_id = message_id_for(_event())
    original = fake_api.api

    def drop_after_add(method: str, path: str, auth: str | None, body: Any) -> Any:
        result = original(method, path, auth, body)
        if path.endswith("/addMessage"):
            fake_api.drop_replies = 1  # ...the addMessage is done, but its reply is lost
        return result

    fake_api.api = drop_after_add  # type: ignore[method-assign]
    result = rest.add_message(Resource.LOYALTY_CLASS, f"{ISSUER}.coffee", {"header": "Hi", "body": "There"},
                              message_id=message_id)
    messages = fake_api.store["loyaltyClass"][f"{ISSUER}.coffee"]["messages"]
    assert [m["id"] for m in messages] == [message_id]
    assert result["resource"]["messages"][0]["id"] == message_id
    assert sleeps == [0.5]  # one retry, which found the message already there
    methods = [(m, p.rsplit("/", 1)[-1]) for m, p, _ in fake_api.requests]
    # look for the id, add (reply lost), look again after the backoff: found, so no second add
    assert methods[1:] == [("GET", f"{ISSUER}.coffee"), ("POST", "addMessage"), ("GET", f"{ISSUER}.coffee")]


def test_without_a_message_id_a_lost_reply_would_add_the_message_twice(
    rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    _class_inserted(rest)
    original = fake_api.api

    def drop_once(method: str, path: str, auth: str | None, body: Any) -> Any:
        result = original(method, path, auth, body)
        if path.endswith("/addMessage") and not getattr(drop_once, "done", False):
            drop_once.done = True  # type: ignore[attr-defined]
            fake_api.drop_replies = 1
        return result

    fake_api.api = drop_once  # type: ignore[method-assign]
    rest.add_message(Resource.LOYALTY_CLASS, f"{ISSUER}.coffee", {"header": "Hi", "body": "There"})
    assert len(fake_api.store["loyaltyClass"][f"{ISSUER}.coffee"]["messages"]) == 2


@pytest.mark.parametrize("bad", ["", "x" * 201])
def test_message_id_must_be_usable(rest: WalletRestClient, bad: str) -> None:
    with pytest.raises(GoogleOptionsError, match="message_id"):
        rest.add_message(Resource.LOYALTY_CLASS, f"{ISSUER}.coffee", {"header": "h"}, message_id=bad)


# --- classes: replaced, keeping what walletvoucher never writes ------------------------------------


def test_replace_class_drops_a_field_walletvoucher_writes_and_keeps_console_settings(
    rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    cls, _ = _card_bodies(open_voucher=True)
    assert rest.replace_class(Resource.LOYALTY_CLASS, cls, owned=CLASS_FIELDS) == cls  # new: inserted
    class_id = cls["id"]
    fake_api.store["loyaltyClass"][class_id]["redemptionIssuers"] = ["3388000000099999999"]  # console
    rest.add_message(Resource.LOYALTY_CLASS, class_id, {"header": "Hours", "body": "7-19"}, message_id="h")
    plain = {k: v for k, v in cls.items() if k != "localizedProgramName"} | {"programName": "Kahve card"}

    rest.replace_class(Resource.LOYALTY_CLASS, plain, owned=CLASS_FIELDS)

    stored = fake_api.store["loyaltyClass"][class_id]
    assert "localizedProgramName" not in stored and stored["programName"] == "Kahve card"
    assert stored["redemptionIssuers"] == ["3388000000099999999"]
    assert [m["id"] for m in stored["messages"]] == ["h"]
    assert schema_errors(stored, "LoyaltyClass") == []
    assert [m for m, _, _ in fake_api.requests][-3:] == ["POST", "GET", "PUT"]  # 409, read, replace


def test_class_fields_name_every_field_the_class_builders_write() -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE)
    voucher = make_voucher(program)
    options = make_options(homepage_url="https://shop.example.com", issuer_name="Kahve House")
    written = set(loyalty_class(program, options)) | set(offer_class(voucher, program, options))
    assert written <= CLASS_FIELDS
    assert "finePrint" in written and "homepageUri" in written  # the optional ones were exercised
