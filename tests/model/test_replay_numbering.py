"""Logs that contradict themselves (issue 18 D): a deleted event, a card_issued later than what follows.

Every event a card's transitions return carries its place in the card's log (``Event.version``), so
replay notices a gap: deleting a ``voucher_redeemed`` can no longer bring its voucher back. Logs
written before events were numbered still replay; a log cut at its end is a shorter true history,
which replay cannot tell (the store can: it knows the card's version).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from walletvoucher.errors import ReplayError, ValidationError
from walletvoucher.model import (
    CodeEntry,
    Event,
    EventType,
    RedemptionMethod,
    StampCard,
    Validity,
    events_from_json,
    events_to_json,
    fold,
    replay,
)

from .conftest import T0, counting_random, make_program

PROGRAM = make_program(redemption=RedemptionMethod.REDEEM_CODE, validity=Validity.for_days(30))


def _history() -> tuple[StampCard, list[Event]]:
    """Issued, 12 stamps (a voucher), it is redeemed, 10 more stamps (a second one), it is voided, a stamp."""
    card, log = StampCard.issue(PROGRAM, serial="CARD1", member_id="m-1", at=T0)
    events = list(log)
    result = card.add_stamps(12, at=T0 + timedelta(minutes=1), random=counting_random())
    events += result.events
    first = result.vouchers[0]
    assert first.code is not None
    redeemed = result.card.redeem(first.serial, CodeEntry(code=first.code.value, by="till-1"),
                                  at=T0 + timedelta(minutes=2))
    events += redeemed.events
    more = redeemed.card.add_stamps(10, at=T0 + timedelta(minutes=3), random=counting_random())
    events += more.events
    voided = more.card.void_voucher(more.vouchers[0].serial, "refund", at=T0 + timedelta(minutes=4))
    events += voided.events
    last = voided.card.add_stamps(1, at=T0 + timedelta(minutes=5), random=counting_random())
    return last.card, events + list(last.events)


def _raw(events: list[Event]) -> list[dict[str, Any]]:
    return json.loads(events_to_json(events))  # type: ignore[no-any-return]


def _replay(raw: list[dict[str, Any]]) -> StampCard:
    return replay(events_from_json(json.dumps(raw)), [PROGRAM])


def test_transitions_number_the_log_and_replay_rebuilds_the_same_card() -> None:
    card, events = _history()
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert card.version == len(events) and replay(events, [PROGRAM]) == card


@pytest.mark.parametrize("kind", [EventType.VOUCHER_REDEEMED, EventType.VOUCHER_VOIDED])
def test_a_log_with_a_final_voucher_event_deleted_is_refused(kind: EventType) -> None:
    _, events = _history()
    gone = next(n for n, e in enumerate(events) if e.type is kind)
    raw = _raw(events)
    with pytest.raises(ReplayError, match=f"events {gone + 1} to {gone + 1} are missing") as caught:
        _replay(raw[:gone] + raw[gone + 1 :])
    assert caught.value.fix


def test_a_deleted_redemption_can_no_longer_bring_the_voucher_back() -> None:
    _, events = _history()
    gone = next(n for n, e in enumerate(events) if e.type is EventType.VOUCHER_REDEEMED)
    legacy = [{k: v for k, v in e.items() if k != "version"} for e in _raw(events)]
    revived = _replay(legacy[:gone] + legacy[gone + 1 :])  # without numbers, as before: undetectable
    assert events[gone].data["voucher"] in [v.serial for v in revived.vouchers]
    with pytest.raises(ReplayError, match=r"\(deleted\?\)"):
        _replay(_raw(events[:gone] + events[gone + 1 :]))


def test_reordered_or_repeated_events_are_refused() -> None:
    _, events = _history()
    raw = _raw(events)
    with pytest.raises(ReplayError, match="reordered or repeated"):
        _replay([*raw[:6], raw[5], *raw[6:]])
    with pytest.raises(ReplayError, match=r"reordered or repeated|missing"):
        _replay([raw[0], raw[2], raw[1], *raw[3:]])


def test_a_card_issued_later_than_the_events_after_it_is_refused() -> None:
    _, events = _history()
    raw = _raw(events)
    late = {**raw[0], "at": (T0 + timedelta(days=1)).isoformat()}
    with pytest.raises(ReplayError, match="before card_issued"):
        _replay([late, *raw[1:]])


def test_a_log_written_before_events_were_numbered_still_replays() -> None:
    card, events = _history()
    legacy = [{k: v for k, v in e.items() if k != "version"} for e in _raw(events)]
    assert all("version" not in e for e in legacy)
    assert _replay(legacy) == card


def test_an_event_whose_version_was_stripped_after_numbered_ones_is_refused() -> None:
    _, events = _history()
    raw = _raw(events)
    raw[7] = {k: v for k, v in raw[7].items() if k != "version"}
    with pytest.raises(ReplayError, match="has no version but the events before it do"):
        _replay(raw)


def test_card_issued_must_be_event_1() -> None:
    _, events = _history()
    raw = _raw(events)
    with pytest.raises(ReplayError, match="event 1"):
        _replay([{**raw[0], "version": 2}, *raw[1:]])


@pytest.mark.parametrize("version", [0, -1, "2", 2.0, True])
def test_a_version_that_is_no_positive_whole_number_is_refused(version: object) -> None:
    _, events = _history()
    raw = _raw(events)
    with pytest.raises(ReplayError, match="version"):
        _replay([raw[0], {**raw[1], "version": version}, *raw[2:]])


def test_fold_checks_the_place_of_each_event_as_the_store_applies_them() -> None:
    _, events = _history()
    card = replay(events[:1], [PROGRAM])
    with pytest.raises(ReplayError, match="events 2 to 2 are missing"):
        fold(card, events[2:3])
    for event in events[1:]:
        card = fold(card, [event])
    assert card.version == len(events)


def test_what_replay_cannot_see_a_log_cut_at_its_end_is_a_shorter_true_history() -> None:
    card, events = _history()
    shorter = replay(events[:-1], [PROGRAM])
    assert shorter.version == card.version - 1  # the store compares this with the version it stored


def test_a_transition_before_the_card_was_issued_is_refused() -> None:
    card, _ = StampCard.issue(PROGRAM, serial="CARD1", member_id="m-1", at=T0)
    with pytest.raises(ValidationError, match="before the card was issued"):
        card.add_stamps(1, at=T0 - timedelta(seconds=1), random=counting_random())
    result = card.add_stamps(10, at=T0, random=counting_random())
    with pytest.raises(ValidationError, match="before the card was issued"):
        result.card.void_voucher(result.vouchers[0].serial, "refund", at=T0 - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="before the card was issued"):
        result.card.change_program(PROGRAM.revise(goal=8), at=T0 - timedelta(seconds=1))
