"""Google sync of the merchants' rules: from warn_days before a card's stamps lapse, a queued sync
updates its object with the warning and asks Google to notify the holder (within the budget)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import attrs
import pytest

from tests.google.conftest import make_options
from tests.google.fake_wallet_api import FakeWalletApi
from tests.store.conftest import NOW
from tests.store.test_google_sync import credentials, fake_api, rest, rsa_key  # noqa: F401 (fixtures)
from tests.store.test_rules import rolling_program
from walletvoucher.google import WalletRestClient, card_object_id
from walletvoucher.service import GOOGLE_SYNC_TOPIC, GoogleSync, google_sync_effect
from walletvoucher.store import Wallet

PROGRAM = attrs.evolve(rolling_program(), id="tea")


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
    with Wallet.open(url, programs=[PROGRAM], effects=[google_sync_effect()], random=bytes) as opened:
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
