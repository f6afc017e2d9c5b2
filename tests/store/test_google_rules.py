"""Google sync of the merchants' rules: from warn_days before a card's stamps lapse, a queued sync
updates its object with the warning and asks Google to notify the holder (within the budget)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest

from tests.google.conftest import make_options
from tests.google.discovery import schema_errors
from tests.google.fake_wallet_api import FakeWalletApi
from tests.store.conftest import NOW
from tests.store.test_google_sync import credentials, fake_api, rest, rsa_key  # noqa: F401 (fixtures)
from tests.store.test_rules import rolling_program
from walletvoucher.google import WalletRestClient, card_object_id
from walletvoucher.model import LocalizedText, Program
from walletvoucher.service import GOOGLE_SYNC_TOPIC, GoogleSync, google_sync_effect
from walletvoucher.store import Wallet

PROGRAM = attrs.evolve(rolling_program(), id="tea")
CHAI = attrs.evolve(rolling_program(), id="chai", name=LocalizedText(
    default="Tea card", translations={"uz": "Choy kartasi", "ar": "بطاقة الشاي", "hi": "चाय कार्ड"}))


def drain(wallet: Wallet, sync: GoogleSync, at: datetime) -> int:
    """One pass over the due google.sync messages (the pass.refresh ones are the Apple side's)."""
    done = 0
    for message in wallet.outbox.claim(at=at, limit=100, topics=[GOOGLE_SYNC_TOPIC]):
        sync(message, at)
        wallet.outbox.complete(message.id, at=at)
        done += 1
    return done


@pytest.fixture
def wallet(url: str) -> Iterator[Wallet]:
    with Wallet.open(url, programs=[PROGRAM, CHAI], effects=[google_sync_effect()], random=bytes) as opened:
        yield opened


def test_the_object_warns_when_the_stamps_are_about_to_lapse(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi  # noqa: F811
) -> None:
    options = make_options()
    sync = GoogleSync(wallet, rest, options)
    wallet.issue_card(PROGRAM, serial="W1", member_id="m-1", at=NOW)
    sync.sync_card("W1", at=NOW)
    card = wallet.stamp("W1", 2, at=NOW).card
    assert drain(wallet, sync, NOW) == 1
    object_id = card_object_id("W1", PROGRAM.id, options)
    modules = {m["id"]: m for m in fake_api.store["loyaltyObject"][object_id]["textModulesData"]}
    assert modules["stamps_lapse"]["header"] == "Stamps expire"
    notified = len(fake_api.notifications)
    warn = card.stamps_warn_at
    assert warn is not None
    assert drain(wallet, sync, warn - timedelta(seconds=1)) == 0 and len(fake_api.notifications) == notified
    assert drain(wallet, sync, warn) == 1
    modules = {m["id"]: m for m in fake_api.store["loyaltyObject"][object_id]["textModulesData"]}
    assert modules["stamps_lapse"]["header"] == "Your stamps expire on"
    assert len(fake_api.notifications) == notified + 1


def _added(fake_api: FakeWalletApi, object_id: str) -> list[dict[str, Any]]:  # noqa: F811
    """The addMessage request bodies sent for the object, each checked against the discovery document."""
    bodies = [body for method, path, body in fake_api.requests
              if method == "POST" and path.endswith(f"/loyaltyObject/{object_id}/addMessage")]
    for body in bodies:
        assert schema_errors(body, "AddMessageRequest") == [], body
    return bodies


def _saved_with_stamps(wallet: Wallet, sync: GoogleSync, program: Program, serial: str) -> datetime:
    """A saved card (its object exists) stamped at NOW, the google.sync of the stamp sent; its warn time."""
    wallet.issue_card(program, serial=serial, member_id="m-1", at=NOW)
    sync.sync_card(serial, at=NOW)
    warn = wallet.stamp(serial, 2, at=NOW).card.stamps_warn_at
    assert warn is not None and drain(wallet, sync, NOW) == 1
    return warn


def test_the_lapse_warning_is_a_notifying_message_shown_until_the_stamps_lapse(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi  # noqa: F811
) -> None:
    options = make_options()
    sync = GoogleSync(wallet, rest, options)
    warn = _saved_with_stamps(wallet, sync, CHAI, "W2")
    object_id = card_object_id("W2", CHAI.id, options)
    before, counted = list(fake_api.notifications), wallet.google.notifications_total(object_id)
    assert drain(wallet, sync, warn) == 1
    [request] = _added(fake_api, object_id)
    message = request["message"]
    lapse = wallet.card("W2").stamps_lapse_at
    assert lapse is not None
    assert message["messageType"] == "TEXT_AND_NOTIFY"
    # 7 days after the last stamp, to the end of that day in Tashkent; warned 2 days ahead
    assert message["displayInterval"] == {"start": {"date": "2026-05-13T00:00:00+05:00"},
                                          "end": {"date": "2026-05-15T00:00:00+05:00"}}
    assert (warn, lapse) == (datetime.fromisoformat("2026-05-12T19:00:00+00:00"),
                             datetime.fromisoformat("2026-05-14T19:00:00+00:00"))
    assert (message["header"], message["body"]) == ("Stamps expire", "Your stamps expire on 2026-05-15 00:00")
    translated = {t["language"]: t["value"] for t in message["localizedBody"]["translatedValues"]}
    assert translated == {"uz": "Muhrlaringiz muddati tugaydi: 2026-05-15 00:00",
                          "ar": "تنتهي طوابعك في 2026-05-15 00:00",
                          "hi": "आपके स्टैम्प समाप्त होंगे: 2026-05-15 00:00"}
    # the message notified; the object update sent with it did not (one notification, not two)
    assert fake_api.notifications[len(before):] == [("addMessage", object_id)]
    assert wallet.google.notifications_total(object_id) == counted + 1
    stored = fake_api.store["loyaltyObject"][object_id]
    assert [m["id"] for m in stored["messages"]] == [message["id"]]
    assert schema_errors(stored, "LoyaltyObject") == []
    wallet.expire_due(at=lapse)  # the stamps lapse: the next sync takes the warning away
    drain(wallet, sync, lapse)
    assert "messages" not in fake_api.store["loyaltyObject"][object_id]


def test_a_retried_lapse_warning_is_added_once_with_one_notification(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi  # noqa: F811
) -> None:
    options = make_options()
    sync = GoogleSync(wallet, rest, options)
    warn = _saved_with_stamps(wallet, sync, PROGRAM, "W3")
    object_id = card_object_id("W3", PROGRAM.id, options)
    counted, original = wallet.google.notifications_total(object_id), fake_api.api

    def lose_the_reply(method: str, path: str, auth: str | None, body: Any) -> Any:
        result = original(method, path, auth, body)
        if path.endswith("/addMessage"):
            fake_api.drop_replies = 1  # added at Google; the reply never arrives
        return result

    fake_api.api = lose_the_reply  # type: ignore[method-assign]
    with pytest.raises(Exception, match="could not reach"):
        drain(wallet, sync, warn)
    fake_api.api = original  # type: ignore[method-assign]
    [message] = wallet.outbox.claim(at=warn + timedelta(minutes=5), limit=10, topics=[GOOGLE_SYNC_TOPIC])
    sync(message, warn + timedelta(minutes=5))  # the worker's retry of the same message
    sync(message, warn + timedelta(minutes=6))  # and a duplicate delivery
    stored = fake_api.store["loyaltyObject"][object_id]
    assert len(stored["messages"]) == 1 and stored["messages"][0]["messageType"] == "TEXT_AND_NOTIFY"
    assert fake_api.notifications.count(("addMessage", object_id)) == 1
    assert wallet.google.notifications_total(object_id) == counted + 1


def test_past_the_notification_budget_the_warning_is_a_plain_message(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi  # noqa: F811
) -> None:
    options = make_options()
    sync = GoogleSync(wallet, rest, options)
    warn = _saved_with_stamps(wallet, sync, PROGRAM, "W4")
    object_id = card_object_id("W4", PROGRAM.id, options)
    for n in range(3):  # Google's budget: 3 notifications per pass per 24 hours, spent just before
        assert wallet.google.take_notification(object_id, key=f"other-{n}", at=warn - timedelta(hours=n + 1))
    assert wallet.google.notifications_left(object_id, at=warn) == 0
    before, counted = len(fake_api.notifications), wallet.google.notifications_total(object_id)
    assert drain(wallet, sync, warn) == 1
    [request] = _added(fake_api, object_id)
    assert request["message"]["messageType"] == "TEXT"
    assert len(fake_api.notifications) == before and wallet.google.notifications_total(object_id) == counted


def test_a_stamp_after_the_warning_was_queued_moves_it(
    wallet: Wallet, rest: WalletRestClient, fake_api: FakeWalletApi  # noqa: F811
) -> None:
    options = make_options()
    sync = GoogleSync(wallet, rest, options)
    warn = _saved_with_stamps(wallet, sync, PROGRAM, "W5")
    object_id = card_object_id("W5", PROGRAM.id, options)
    later = wallet.stamp("W5", 1, at=warn - timedelta(days=1)).card.stamps_warn_at
    assert later is not None and later > warn
    assert drain(wallet, sync, warn - timedelta(days=1)) == 1
    assert drain(wallet, sync, warn) == 1  # the first warning is due, but a stamp restarted the clock
    assert _added(fake_api, object_id) == []
    assert drain(wallet, sync, later) == 1
    [request] = _added(fake_api, object_id)
    assert request["message"]["displayInterval"]["start"]["date"].startswith(
        later.astimezone(PROGRAM.zone).isoformat()[:16])
