"""The merchants' rules through the store, on SQLite and PostgreSQL: the stored card equals the pure
model's, survives snapshots and replays from the journal."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.store.conftest import NOW
from walletvoucher import (
    Brand,
    CardValidity,
    EarnByAmount,
    Milestone,
    Money,
    PerCard,
    Program,
    ProgramKind,
    RedemptionContext,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StampCard,
    StampExpiry,
    TimeWindow,
    Validity,
    replay,
)
from walletvoucher.errors import CardExpired, NoPunchesLeft, OutsideRedemptionContext, WalletVoucherError
from walletvoucher.store import MIGRATIONS, PASS_REFRESH_TOPIC, Wallet
from walletvoucher.store._schema import migrate
from walletvoucher.store._types import to_us
from walletvoucher.store._url import connect

_BRAND = Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E")
_serials = itertools.count(1)


def milestone_program() -> Program:
    """Goal 9 with a cookie at 3 and a cake at 6, all self-redeemed, vouchers valid 3 days."""
    return Program(
        id="milestones", name="Lunch card", brand=_BRAND, goal=9,
        reward=Reward(title="Free lunch", description="Any set"),
        redemption=RedemptionMethod.SELF_REDEEM, validity=Validity.for_days(3),
        milestones=(
            Milestone(at=3, reward=Reward(title="Free cookie", description="Any"),
                      redemption=RedemptionMethod.SELF_REDEEM),
            Milestone(at=6, reward=Reward(title="Free cake", description="Any"),
                      redemption=RedemptionMethod.SELF_REDEEM),
        ),
    )


def test_milestone_vouchers_are_stored_redeemed_and_replayed(url: str) -> None:
    program = milestone_program()
    with Wallet.open(url, programs=[program], snapshot_every=2) as wallet:
        wallet.issue_card(program, serial="M1", member_id="m-1", at=NOW)
        result = wallet.stamp("M1", 7, at=NOW)
        assert [v.milestone for v in result.vouchers] == [3, 6]
        assert wallet.voucher("M1-1").reward.title.default == "Free cookie"
        wallet.redeem("M1-1", SelfRedeem(), at=NOW)
        stored = wallet.stamp("M1", 5, at=NOW + timedelta(hours=1)).card  # 12: goal, 3 carried -> cookie
        assert (stored.cycle, stored.stamps, stored.milestones_reached) == (2, 3, 1)
        assert wallet.card("M1") == stored
    with Wallet.open(url, programs=[program], snapshot_every=0) as fresh:
        assert fresh.card("M1") == stored
        events = [e.event for e in fresh.journal(limit=10_000) if e.event.card_serial == "M1"]
        assert replay(events, [program]) == stored


Command = tuple[int, str, int, int]
commands = st.lists(
    st.tuples(st.integers(0, 1), st.sampled_from(["stamp", "stamp", "redeem", "expire"]),
              st.integers(1, 14), st.integers(0, 60 * 24 * 2)),
    max_size=20,
)


def _store(wallet: Wallet, serial: str, kind: str, arg: int, at: Any) -> None:
    if kind == "stamp":
        wallet.stamp(serial, arg, at=at, source="kiosk")
    elif kind == "redeem":
        wallet.redeem(f"{serial}-{arg % 6 + 1}", SelfRedeem(), at=at)
    else:
        wallet.expire_due(at=at)


def _model(card: StampCard, kind: str, arg: int, at: Any) -> StampCard:
    if kind == "stamp":
        return card.add_stamps(arg, at=at, source="kiosk").card
    if kind == "redeem":
        return card.redeem(f"{card.serial}-{arg % 6 + 1}", SelfRedeem(), at=at).card
    return card.expire_vouchers(at=at)[0].expire_stamps(at=at)[0]  # what expire_due does


@pytest.mark.parametrize("rolling", [False, True])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=commands)
def test_the_store_agrees_with_the_model_on_milestone_cards(
    url: str, rolling: bool, script: list[Command]
) -> None:
    program = milestone_program()
    if rolling:  # stamps lapse at the end of the day after the last one; the script waits up to 2 days
        program = attrs.evolve(program, id="lapsing", stamp_expiry=StampExpiry.rolling(1))
    serial = f"R{next(_serials)}"
    with (
        Wallet.open(url, programs=[program], snapshot_every=3) as first,
        Wallet.open(url, programs=[program], snapshot_every=4) as second,
    ):
        model, _ = StampCard.issue(program, serial=serial, member_id="m-1", at=NOW)
        first.issue_card(program, serial=serial, member_id="m-1", at=NOW)
        at = NOW
        for connection, kind, arg, minutes in script:
            at += timedelta(minutes=minutes)
            try:
                _store((first, second)[connection], serial, kind, arg, at)
            except WalletVoucherError:
                try:
                    _model(model, kind, arg, at)
                except WalletVoucherError:
                    continue
                raise
            model = _model(model, kind, arg, at)
        assert first.card(serial) == model
        assert second.card(serial) == model
    with Wallet.open(url, programs=[program], snapshot_every=0) as fresh:
        events = [e.event for e in fresh.journal(limit=100_000) if e.event.card_serial == serial]
        assert replay(events, [program]) == model


# --- stamp expiry ---------------------------------------------------------------------------------


def rolling_program() -> Program:
    """Goal 5, stamps lapse 7 days after the last one (Tashkent), warned 2 days ahead."""
    return Program(
        id="rolling", name="Tea card", brand=_BRAND, goal=5, timezone="Asia/Tashkent",
        reward=Reward(title="Free tea", description="Any pot"), redemption=RedemptionMethod.SELF_REDEEM,
        stamp_expiry=StampExpiry.rolling(7, warn_days=2),
    )


def test_expire_due_takes_lapsed_stamps_once(url: str) -> None:
    program = rolling_program()
    with Wallet.open(url, programs=[program]) as wallet:
        wallet.issue_card(program, serial="L1", member_id="m-1", at=NOW)
        wallet.issue_card(program, serial="L2", member_id="m-2", at=NOW)
        wallet.stamp("L1", 3, at=NOW)
        wallet.stamp("L2", 2, at=NOW + timedelta(days=3))
        lapse = wallet.card("L1").stamps_lapse_at
        assert lapse is not None
        assert wallet.expire_due(at=lapse - timedelta(seconds=1)) == ()
        events = wallet.expire_due(at=lapse)
        found = [(e.card_serial, e.type.value, e.data["stamps"]) for e in events]
        assert found == [("L1", "stamps_expired", 3)]
        assert wallet.expire_due(at=lapse) == ()
        assert wallet.card("L1").stamps == 0 and wallet.card("L2").stamps == 2
        late = wallet.stamp("L2", 1, at=NOW + timedelta(days=30))  # lapsed but not yet expired: first
        assert [e.type.value for e in late.events] == ["stamps_expired", "stamp_added"]
        assert late.card.stamps == 1
    with Wallet.open(url, programs=[program], snapshot_every=0) as fresh:
        for serial in ("L1", "L2"):
            events = [e.event for e in fresh.journal(limit=1000) if e.event.card_serial == serial]
            assert replay(events, [program]) == fresh.card(serial)


def test_a_database_written_before_migration_20_moves_forward(url: str) -> None:
    program = rolling_program()
    card, events = StampCard.issue(program, serial="OLD1", member_id="m-1", at=NOW)
    stamped = card.add_stamps(2, at=NOW)
    db = connect(url)
    try:
        migrate(db, at_us=1, migrations=tuple(m for m in MIGRATIONS if m.version < 20))
        with db.write() as tx:  # what the store wrote before it knew of stamp expiry
            tx.run("INSERT INTO cards (serial, member_id, program_id, program_version, version,"
                   " last_position, issued_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                   ("OLD1", "m-1", program.id, program.version, 2, to_us(NOW), to_us(NOW)))
            for version, event in enumerate((*events, *stamped.events), start=1):
                tx.run("INSERT INTO events (serial, version, type, at, data) VALUES (?, ?, ?, ?, ?)",
                       ("OLD1", version, event.type.value, to_us(event.at), json.dumps(event.to_json())))
    finally:
        db.close()
    with Wallet.open(url, programs=[program]) as wallet:
        assert wallet.card("OLD1") == stamped.card
        assert wallet.expire_due(at=NOW + timedelta(days=30)) == ()  # no lapse recorded before 20
        later = wallet.stamp("OLD1", 1, at=NOW + timedelta(days=1))  # the next transition records it
        lapse = later.card.stamps_lapse_at
        assert lapse is not None
        assert [e.type.value for e in wallet.expire_due(at=lapse)] == ["stamps_expired"]


def test_the_card_pass_is_refreshed_when_its_warning_starts(url: str) -> None:
    program = rolling_program()
    with Wallet.open(url, programs=[program]) as wallet:
        wallet.issue_card(program, serial="W1", member_id="m-1", at=NOW)
        card = wallet.stamp("W1", 2, at=NOW).card
        warn = card.stamps_warn_at
        assert warn is not None
        early = wallet.outbox.claim(at=warn - timedelta(seconds=1), topics=[PASS_REFRESH_TOPIC], limit=50)
        assert [m.payload for m in early] == []
        due = wallet.outbox.claim(at=warn, topics=[PASS_REFRESH_TOPIC], limit=50)
        assert [dict(m.payload) for m in due] == [{"card": "W1"}]


# --- card validity --------------------------------------------------------------------------------


def test_expire_due_records_expired_cards_and_the_store_refuses_them(url: str) -> None:
    program = attrs.evolve(rolling_program(), id="yearly", card_validity=CardValidity(days_after_join=10))
    with Wallet.open(url, programs=[program]) as wallet:
        wallet.issue_card(program, serial="Y1", member_id="m-1", at=NOW)
        card = wallet.stamp("Y1", 2, at=NOW).card
        end = card.expires_at
        assert end is not None
        events = wallet.expire_due(at=end + timedelta(hours=1))
        assert [e.type.value for e in events] == ["stamps_expired", "card_expired"]
        assert wallet.expire_due(at=end + timedelta(days=1)) == ()
        with pytest.raises(CardExpired):
            wallet.stamp("Y1", 1, at=end + timedelta(days=1))
        assert wallet.card("Y1").expired
    with Wallet.open(url, programs=[program], snapshot_every=0) as fresh:
        log = [e.event for e in fresh.journal(limit=1000) if e.event.card_serial == "Y1"]
        assert replay(log, [program]) == fresh.card("Y1")


# --- earning by amount ----------------------------------------------------------------------------


def test_purchases_earn_stamps_through_the_store_once_per_key(url: str) -> None:
    program = attrs.evolve(milestone_program(), id="amounts",
                           earn_by_amount=EarnByAmount(step="10000", currency="UZS"))
    with Wallet.open(url, programs=[program], snapshot_every=2) as wallet:
        wallet.issue_card(program, serial="A1", member_id="m-1", at=NOW)
        first = wallet.purchase("A1", Money(amount="35000.50", currency="UZS"), at=NOW, idempotency_key="k1")
        again = wallet.purchase("A1", Money(amount="35000.50", currency="UZS"), at=NOW, idempotency_key="k1")
        assert again == first
        assert (first.card.stamps, first.card.amount_carried) == (3, Decimal("5000.50"))
        assert [v.milestone for v in first.vouchers] == [3]
        second = wallet.purchase("A1", Money(amount="4999.50", currency="UZS"), at=NOW + timedelta(minutes=1))
        assert (second.card.stamps, second.card.amount_carried) == (4, Decimal("0.00"))
        assert wallet.card("A1") == second.card
    with Wallet.open(url, programs=[program], snapshot_every=0) as fresh:
        log = [e.event for e in fresh.journal(limit=1000) if e.event.card_serial == "A1"]
        assert replay(log, [program]) == fresh.card("A1") == second.card


# --- prepaid punch cards --------------------------------------------------------------------------


def test_a_prepaid_card_is_punched_through_the_store_and_replayed(url: str) -> None:
    program = attrs.evolve(rolling_program(), id="prepaid", stamp_expiry=StampExpiry.never(),
                           kind=ProgramKind.PREPAID, punches=2)
    with Wallet.open(url, programs=[program], snapshot_every=1) as wallet:
        wallet.issue_card(program, serial="P1", member_id="m-1", at=NOW)
        assert wallet.punch("P1", at=NOW, idempotency_key="p-1").punches_left == 1
        assert wallet.punch("P1", at=NOW, idempotency_key="p-1").punches_left == 1  # the same punch
        assert wallet.punch("P1", at=NOW + timedelta(minutes=1)).punches_left == 0
        with pytest.raises(NoPunchesLeft):
            wallet.punch("P1", at=NOW + timedelta(minutes=2))
    with Wallet.open(url, programs=[program], snapshot_every=0) as fresh:
        log = [e.event for e in fresh.journal(limit=1000) if e.event.card_serial == "P1"]
        assert replay(log, [program]) == fresh.card("P1")
        assert fresh.card("P1").punches_left == 0


# --- redemption context ---------------------------------------------------------------------------


def test_the_store_redeems_only_in_context_and_records_where(url: str) -> None:
    lunch = Reward(title="Free lunch", description="Any set", context=RedemptionContext(
        locations=("chilonzor",), windows=(TimeWindow(days="mon-sun", start="12:00", end="14:00"),),
        per_card=PerCard.ONE_PER_DAY))
    program = attrs.evolve(rolling_program(), id="lunch", goal=1, reward=lunch,
                           stamp_expiry=StampExpiry.never())
    noon = datetime(2026, 5, 8, 12, 30, tzinfo=ZoneInfo("Asia/Tashkent"))
    with Wallet.open(url, programs=[program], snapshot_every=1) as wallet:
        wallet.issue_card(program, serial="X1", member_id="m-1", at=NOW)
        wallet.stamp("X1", 2, at=NOW)
        with pytest.raises(OutsideRedemptionContext) as caught:
            wallet.redeem("X1-1", SelfRedeem(), at=noon, location="yunusobod")
        assert caught.value.field == "context.locations"
        done = wallet.redeem("X1-1", SelfRedeem(), at=noon, location="chilonzor", channel="in_store")
        assert done.events[0].data["location"] == "chilonzor"
        with pytest.raises(OutsideRedemptionContext) as again:
            wallet.redeem("X1-2", SelfRedeem(), at=noon + timedelta(minutes=30), location="chilonzor")
        assert again.value.fix == "it can be redeemed from 2026-05-09T00:00:00+05:00"
        assert wallet.voucher("X1-2").redeemed_at is None  # nothing changed
    with Wallet.open(url, programs=[program], snapshot_every=0) as fresh:
        log = [e.event for e in fresh.journal(limit=1000) if e.event.card_serial == "X1"]
        assert replay(log, [program]) == fresh.card("X1")
        assert fresh.card("X1").last_redeemed_at == noon


# --- every rule at once: the store on both engines agrees with the pure model ---------------------------


def everything_program() -> Program:
    """Milestones, stamps lapsing a day after the last, a card valid 4 days, earning by amount, and a
    reward redeemed once per visit at Chilonzor."""
    context = RedemptionContext(locations=("chilonzor",), per_card=PerCard.ONE_PER_VISIT)
    return attrs.evolve(
        milestone_program(), id="everything", stamp_expiry=StampExpiry.rolling(1),
        card_validity=CardValidity(days_after_join=4),
        earn_by_amount=EarnByAmount(step="10000", currency="UZS"),
        reward=Reward(title="Free lunch", description="Any set", context=context),
    )


rule_commands = st.lists(
    st.tuples(st.integers(0, 1),
              st.sampled_from(["stamp", "purchase", "redeem", "redeem_elsewhere", "expire"]),
              st.integers(1, 40), st.integers(0, 60 * 30)),
    max_size=20,
)


def _store_rule(wallet: Wallet, serial: str, kind: str, arg: int, at: Any) -> None:
    if kind == "stamp":
        wallet.stamp(serial, arg % 12 + 1, at=at)
    elif kind == "purchase":
        wallet.purchase(serial, Money(amount=f"{arg * 1250}.50", currency="UZS"), at=at)
    elif kind.startswith("redeem"):
        where = "chilonzor" if kind == "redeem" else "yunusobod"
        wallet.redeem(f"{serial}-{arg % 6 + 1}", SelfRedeem(), at=at, location=where)
    else:
        wallet.expire_due(at=at)


def _model_rule(card: StampCard, kind: str, arg: int, at: Any) -> StampCard:
    if kind == "stamp":
        return card.add_stamps(arg % 12 + 1, at=at).card
    if kind == "purchase":
        return card.add_purchase(Money(amount=f"{arg * 1250}.50", currency="UZS"), at=at).card
    if kind.startswith("redeem"):
        where = "chilonzor" if kind == "redeem" else "yunusobod"
        return card.redeem(f"{card.serial}-{arg % 6 + 1}", SelfRedeem(), at=at, location=where).card
    card = card.expire_vouchers(at=at)[0].expire_stamps(at=at)[0]
    return card.expire_card(at=at)[0]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=rule_commands)
def test_the_store_agrees_with_the_model_under_every_rule(url: str, script: list[Command]) -> None:
    program = everything_program()
    serial = f"E{next(_serials)}"
    with (
        Wallet.open(url, programs=[program], snapshot_every=3) as first,
        Wallet.open(url, programs=[program], snapshot_every=4) as second,
    ):
        model, _ = StampCard.issue(program, serial=serial, member_id="m-1", at=NOW)
        first.issue_card(program, serial=serial, member_id="m-1", at=NOW)
        at = NOW
        for connection, kind, arg, minutes in script:
            at += timedelta(minutes=minutes)
            try:
                _store_rule((first, second)[connection], serial, kind, arg, at)
            except WalletVoucherError as refused:
                try:
                    _model_rule(model, kind, arg, at)
                except WalletVoucherError as also:
                    assert type(also) is type(refused) or "Unknown" in type(also).__name__
                    continue
                raise
            model = _model_rule(model, kind, arg, at)
        assert first.card(serial) == model
        assert second.card(serial) == model
    with Wallet.open(url, programs=[program], snapshot_every=0) as fresh:
        events = [e.event for e in fresh.journal(limit=100_000) if e.event.card_serial == serial]
        assert replay(events, [program]) == model == fresh.card(serial)


def test_expire_due_in_batches_takes_lapses_card_ends_and_vouchers_together(url: str) -> None:
    program = attrs.evolve(rolling_program(), id="batched", goal=2, validity=Validity.for_days(2),
                           card_validity=CardValidity(days_after_join=20))
    with Wallet.open(url, programs=[program]) as wallet:
        for n in range(5):
            wallet.issue_card(program, serial=f"B{n}", member_id=f"m-{n}", at=NOW)
            wallet.stamp(f"B{n}", 3 if n % 2 else 1, at=NOW)  # odd cards: a voucher and a stamp carried
        done: list[int] = []
        events = wallet.expire_due(at=NOW + timedelta(days=30), batch=2, progress=done.append)
        kinds = sorted((e.card_serial, e.type.value) for e in events)
        assert kinds == sorted(
            [(f"B{n}", "stamps_expired") for n in range(5)] + [(f"B{n}", "card_expired") for n in range(5)]
            + [(f"B{n}", "voucher_expired") for n in (1, 3)]
        )
        assert done == [2, 4, 5]
        assert wallet.expire_due(at=NOW + timedelta(days=31), batch=2) == ()
