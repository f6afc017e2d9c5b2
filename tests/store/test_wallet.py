"""The wallet's transitions and queries, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from tests.store._programs import coffee, tea
from tests.store.conftest import NOW
from walletvoucher import CodeEntry, EventType, SelfRedeem, VoucherStatus, replay
from walletvoucher.store import Wallet


@pytest.fixture
def wallet(url: str, programs: list[Any]) -> Any:
    with Wallet.open(url, programs=programs, random=secrets.token_bytes) as opened:
        yield opened


def test_issue_stamp_redeem_round_trip_matches_the_model(
    wallet: Wallet, url: str, programs: list[Any]
) -> None:
    card = wallet.issue_card(coffee(), serial="C1", member_id="m-42", at=NOW)
    assert (card.serial, card.goal, card.stamps) == ("C1", 10, 0)
    result = wallet.stamp("C1", 12, at=NOW, source="kiosk")
    assert result.card.progress == "2/10" and [v.serial for v in result.vouchers] == ["C1-1"]
    after = wallet.redeem("C1-1", SelfRedeem(), at=NOW)
    assert after.voucher.status is VoucherStatus.REDEEMED and after.card.vouchers == ()
    with Wallet.open(url, programs=programs) as fresh:  # no cache: rebuilt from the stored events
        assert fresh.card("C1") == after.card
        events = [entry.event for entry in fresh.journal()]
    assert replay(events, programs) == after.card
    assert [e.type for e in events][:3] == [
        EventType.CARD_ISSUED,
        EventType.STAMP_ADDED,
        EventType.GOAL_REACHED,
    ]


def test_redeem_code_voucher_needs_its_code(wallet: Wallet) -> None:
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    voucher = wallet.stamp("T1", 3, at=NOW).vouchers[0]
    assert voucher.code is not None
    with pytest.raises(Exception, match="code") as wrong:
        wallet.redeem(voucher.serial, CodeEntry(code="0000-0000-0000"), at=NOW)
    assert type(wrong.value).__name__ in ("WrongRedeemCode", "CheckCharacterError")
    typed = voucher.code.value.lower().replace("-", " ")
    assert (
        wallet.redeem(voucher.serial, CodeEntry(code=typed, by="till-1"), at=NOW).voucher.redeemed_by
        == "till-1"
    )


def test_random_given_per_call_makes_the_codes(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
        first = wallet.stamp("T1", 3, at=NOW, random=lambda n: bytes(n)).vouchers[0]
        assert first.code is not None and first.code.value.startswith("0000-")


def test_void_and_expire_due_record_final_states(wallet: Wallet) -> None:
    wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    vouchers = wallet.stamp("C1", 30, at=NOW).vouchers
    wallet.void(vouchers[0].serial, "refund", at=NOW)
    later = NOW + timedelta(days=31)
    expired = wallet.expire_due(at=later)
    assert [e.data["voucher"] for e in expired] == ["C1-2", "C1-3"]
    assert wallet.expire_due(at=later) == ()
    assert [v.serial for v in wallet.vouchers(VoucherStatus.VOIDED)] == ["C1-1"]
    assert wallet.vouchers(VoucherStatus.VOIDED)[0].void_reason == "refund"
    assert [v.serial for v in wallet.vouchers(VoucherStatus.EXPIRED)] == ["C1-2", "C1-3"]
    assert wallet.card("C1").vouchers == ()
    assert wallet.counts().vouchers == {"voided": 1, "expired": 2}


def test_voucher_queries_by_status_and_expiry_window(wallet: Wallet) -> None:
    wallet.issue_card(coffee(), serial="A", member_id="m-1", at=NOW)
    wallet.stamp("A", 10, at=NOW)
    wallet.issue_card(coffee(), serial="B", member_id="m-2", at=NOW)
    wallet.stamp("B", 10, at=NOW + timedelta(days=5))
    assert [v.serial for v in wallet.vouchers(VoucherStatus.ACTIVE, at=NOW + timedelta(days=6))] == [
        "A-1",
        "B-1",
    ]
    assert [v.serial for v in wallet.vouchers(VoucherStatus.ACTIVE, at=NOW + timedelta(days=32))] == ["B-1"]
    window = wallet.vouchers(expires_from=NOW + timedelta(days=29), expires_before=NOW + timedelta(days=31))
    assert [v.serial for v in window] == ["A-1"]
    assert [v.serial for v in wallet.vouchers(card_serial="B")] == ["B-1"]
    with pytest.raises(Exception, match="at=") as needs_time:
        wallet.vouchers(VoucherStatus.ACTIVE)
    assert type(needs_time.value).__name__ == "ValidationError"


def test_cards_by_member_and_counts(wallet: Wallet) -> None:
    wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    wallet.issue_card(tea(), serial="T1", member_id="m-1", at=NOW)
    wallet.issue_card(coffee(), serial="C2", member_id="m-2", at=NOW)
    assert [c.serial for c in wallet.cards_of("m-1")] == ["C1", "T1"]
    assert wallet.cards_of("nobody") == ()
    counts = wallet.counts()
    assert (counts.cards, counts.events, counts.outbox_pending) == (3, 3, 0)


def test_journal_positions_are_global_and_monotonic(wallet: Wallet) -> None:
    wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    wallet.issue_card(coffee(), serial="C2", member_id="m-2", at=NOW)
    wallet.stamp("C1", 2, at=NOW)
    wallet.stamp("C2", 10, at=NOW)
    journal = wallet.journal()
    positions = [e.position for e in journal]
    assert positions == sorted(positions) and len(set(positions)) == len(positions) == 7
    assert wallet.card_info("C2").last_position == positions[-1]
    assert wallet.card_info("C1").last_position == positions[2]
    follow = wallet.journal(since=positions[2])
    assert [e.event.card_serial for e in follow] == ["C2"] * 4
    assert [e.version for e in follow] == [2, 3, 4, 5]
    assert len(wallet.journal(since=0, limit=2)) == 2


def test_change_program_applies_from_the_next_cycle(wallet: Wallet, programs: list[Any]) -> None:
    wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    wallet.stamp("C1", 3, at=NOW)
    moved = wallet.change_program("C1", coffee().revise(goal=5), at=NOW)
    assert moved.goal == 10 and moved.next_program is not None
    result = wallet.stamp("C1", 9, at=NOW)
    assert result.card.goal == 5 and result.card.program.version == 2
    assert wallet.card_info("C1").program_version == 2
    assert wallet.card("C1") == result.card


def test_a_card_with_many_events_loads_the_same_from_a_snapshot(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs, snapshot_every=7) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        for n in range(40):
            wallet.stamp("C1", 1 + n % 4, at=NOW + timedelta(minutes=n))
            if n == 20:  # a snapshot taken while the card waits for its next program version
                wallet.change_program("C1", coffee().revise(goal=5), at=NOW + timedelta(minutes=n))
        wallet.redeem("C1-1", SelfRedeem(), at=NOW + timedelta(hours=1))
        live = wallet.card("C1")
        assert live.program.version == 2
    with Wallet.open(url, programs=programs, snapshot_every=7) as fresh:
        assert fresh.card("C1") == live
        assert replay([e.event for e in fresh.journal(limit=10_000)], programs) == live
        assert fresh.snapshot("C1") == fresh.card_info("C1").version


def test_idempotent_stamp_returns_the_first_result_and_changes_nothing(wallet: Wallet) -> None:
    wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    first = wallet.stamp("C1", 11, at=NOW, source="kiosk", idempotency_key="kiosk-1/req-9")
    wallet.stamp("C1", 1, at=NOW)
    again = wallet.stamp("C1", 11, at=NOW, source="kiosk", idempotency_key="kiosk-1/req-9")
    assert again == first
    assert wallet.card("C1").lifetime_stamps == 12


def test_idempotent_redeem_and_issue_replay_their_results(wallet: Wallet) -> None:
    card = wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW, idempotency_key="issue-C1")
    assert (
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW, idempotency_key="issue-C1") == card
    )
    wallet.stamp("C1", 10, at=NOW)
    first = wallet.redeem("C1-1", SelfRedeem(), at=NOW, idempotency_key="redeem-1")
    assert wallet.redeem("C1-1", SelfRedeem(), at=NOW, idempotency_key="redeem-1") == first
    assert wallet.counts().vouchers == {"redeemed": 1}


def test_idempotency_keys_must_be_short_text(wallet: Wallet) -> None:
    wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    for bad in ("", "k" * 201, 42):
        with pytest.raises(Exception, match="idempotency_key") as err:
            wallet.stamp("C1", 1, at=NOW, idempotency_key=bad)  # type: ignore[arg-type]
        assert type(err.value).__name__ == "ValidationError"
    assert wallet.card("C1").lifetime_stamps == 0


def test_snapshots_are_written_and_cover_every_field_of_the_card(url: str, programs: list[Any]) -> None:
    from walletvoucher.store import _snapshot
    from walletvoucher.store._url import connect

    assert _snapshot.supported(), "the model's card gained a field the snapshot does not store"
    with Wallet.open(url, programs=programs, snapshot_every=4) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 10, at=NOW)  # version 1 -> 5: crosses 4
    db = connect(url)
    try:
        with db.read() as tx:
            assert tx.rows("SELECT serial, version FROM snapshots") == [("C1", 5)]
    finally:
        db.close()
