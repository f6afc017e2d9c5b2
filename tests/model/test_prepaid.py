"""Prepaid punch cards: sold for N items, each use takes one punch, no reward cycle; replayed."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from walletvoucher import CardValidity, ProgramKind, StampCard, events_from_json, events_to_json, replay
from walletvoucher.errors import CardExpired, NoPunchesLeft, ReplayError, ValidationError

from .conftest import T0, make_program


def _card(**changes: object) -> tuple[StampCard, list]:  # type: ignore[type-arg]
    program = make_program(kind=ProgramKind.PREPAID, punches=3, **changes)
    card, events = StampCard.issue(program, serial="P1", member_id="m", at=T0)
    return card, list(events)


def test_each_use_takes_one_punch_until_none_is_left() -> None:
    card, log = _card()
    assert card.punches_left == 3
    for left in (2, 1, 0):
        card, events = card.use_punch(at=T0, source="till")
        assert card.punches_left == left
        assert [dict(e.data) for e in events] == [{"source": "till", "left": left}]
        log += events
    with pytest.raises(NoPunchesLeft, match="all 3 punches"):
        card.use_punch(at=T0)
    assert card.vouchers == () and card.cycle == 1  # no reward cycle
    assert replay(events_from_json(events_to_json(log)), [card.program]) == card


def test_a_prepaid_card_takes_no_stamps_and_a_stamp_card_no_punches() -> None:
    card, _ = _card()
    with pytest.raises(ValidationError, match="takes punches, not stamps"):
        card.add_stamps(1, at=T0)
    stamp_card, _ = StampCard.issue(make_program(), serial="S1", member_id="m", at=T0)
    with pytest.raises(ValidationError, match="not a prepaid punch card"):
        stamp_card.use_punch(at=T0)


def test_an_expired_prepaid_card_takes_no_punch() -> None:
    card, _ = _card(card_validity=CardValidity(days_after_join=30))
    with pytest.raises(CardExpired):
        card.use_punch(at=T0 + timedelta(days=40))


def test_replay_refuses_a_forged_punch() -> None:
    card, log = _card()
    _, events = card.use_punch(at=T0)
    with pytest.raises(ReplayError):
        replay([*log, attrs.evolve(events[0], data={"source": "staff", "left": 3})], [card.program])
    with pytest.raises(ReplayError):
        replay([*log, *events, *events, *events, *events], [card.program])  # a fourth punch of three


def test_punches_go_with_kind_prepaid_only() -> None:
    with pytest.raises(ValidationError, match="kind='prepaid'"):
        make_program(punches=10)
    with pytest.raises(ValidationError, match="kind='prepaid'"):
        make_program(kind=ProgramKind.PREPAID)
