"""Milestone rewards: interim vouchers on the way to the goal, decided by the model and replayed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletvoucher import (
    CodeEntry,
    Event,
    EventType,
    LocalizedText,
    Milestone,
    Overflow,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StampCard,
    Validity,
    VoucherStatus,
    events_from_json,
    events_to_json,
    replay,
)
from walletvoucher.codes import CodePool
from walletvoucher.codes import Symbology as Sym
from walletvoucher.errors import ProofMismatch, ReplayError, ValidationError

from .conftest import T0, counting_random, make_program

COOKIE = Reward(title="Free cookie", description="Any cookie")
CAKE = Reward(title="Free cake", description="Any slice")


def milestone_program(**changes: Any) -> Any:
    fields: dict[str, Any] = {
        "goal": 9,
        "redemption": RedemptionMethod.REDEEM_CODE,
        "milestones": (
            Milestone(at=3, reward=COOKIE, redemption=RedemptionMethod.SELF_REDEEM),
            Milestone(at=6, reward=CAKE, redemption=RedemptionMethod.REDEEM_CODE),
        ),
    }
    fields.update(changes)
    return make_program(**fields)


def _issue(program: Any) -> tuple[StampCard, list[Event]]:
    card, events = StampCard.issue(program, serial="C1", member_id="m", at=T0)
    return card, list(events)


def _kinds(events: Any) -> list[str]:
    return [e.type.value for e in events]


def test_reaching_a_milestone_issues_its_own_voucher_once() -> None:
    card, _ = _issue(milestone_program())
    first = card.add_stamps(2, at=T0, random=counting_random())
    assert first.vouchers == ()
    second = first.card.add_stamps(1, at=T0, random=counting_random())
    [voucher] = second.vouchers
    assert (voucher.reward, voucher.method, voucher.milestone, voucher.code) == (
        COOKIE, RedemptionMethod.SELF_REDEEM, 3, None)
    assert _kinds(second.events) == ["stamp_added", "milestone_reached", "voucher_issued"]
    assert second.card.milestones_reached == 1
    assert [earned for _, earned in second.card.milestones] == [True, False]
    third = second.card.add_stamps(1, at=T0, random=counting_random())
    assert third.vouchers == ()  # 4 stamps: the milestone at 3 is not issued again


def test_one_call_crossing_several_milestones_and_goals_issues_each_once_in_order() -> None:
    card, _ = _issue(milestone_program())
    result = card.add_stamps(22, at=T0, random=counting_random())
    assert [(v.milestone, v.reward.title.default) for v in result.vouchers] == [
        (3, "Free cookie"), (6, "Free cake"), (None, "Free coffee"),
        (3, "Free cookie"), (6, "Free cake"), (None, "Free coffee"),
        (3, "Free cookie"),  # 22 - 18 = 4 stamps carried into cycle 3
    ]
    assert [v.serial for v in result.vouchers] == [f"C1-{n}" for n in range(1, 8)]
    assert (result.card.cycle, result.card.stamps, result.card.milestones_reached) == (3, 4, 1)
    assert _kinds(result.events)[:8] == [
        "stamp_added", "milestone_reached", "voucher_issued", "milestone_reached", "voucher_issued",
        "goal_reached", "voucher_issued", "cycle_started",
    ]
    reached = [e.data["milestone"] for e in result.events if e.type is EventType.MILESTONE_REACHED]
    assert reached == [3, 6, 3, 6, 3]


def test_reaching_the_goal_first_issues_the_cycles_milestones_not_yet_issued() -> None:
    card, _ = _issue(milestone_program())
    card = card.add_stamps(4, at=T0, random=counting_random()).card  # milestone 3 issued
    result = card.add_stamps(5, at=T0, random=counting_random())  # 9: milestone 6, then the goal
    assert [v.milestone for v in result.vouchers] == [6, None]
    assert (result.card.cycle, result.card.stamps, result.card.milestones_reached) == (2, 0, 0)


def test_dropped_stamps_do_not_reach_the_next_cycles_milestones() -> None:
    card, _ = _issue(milestone_program(overflow=Overflow.DROP))
    result = card.add_stamps(17, at=T0, random=counting_random())
    assert [v.milestone for v in result.vouchers] == [3, 6, None]
    assert (result.card.cycle, result.card.stamps, result.card.milestones_reached) == (2, 0, 0)


def test_a_new_program_version_brings_its_milestones_from_the_next_cycle() -> None:
    program = milestone_program()
    five = Milestone(at=5, reward=CAKE, redemption=RedemptionMethod.SELF_REDEEM)
    revised = program.revise(milestones=(five,))
    card, _ = _issue(program)
    card, _ = card.change_program(revised, at=T0)
    result = card.add_stamps(8, at=T0, random=counting_random())  # still version 1 in this cycle
    assert [v.milestone for v in result.vouchers] == [3, 6]
    result = result.card.add_stamps(7, at=T0, random=counting_random())  # 15: goal, 6 carried into v2
    assert [(v.milestone, v.program_version) for v in result.vouchers] == [(None, 1), (5, 2)]


def test_milestone_vouchers_redeem_with_their_own_method() -> None:
    card, _ = _issue(milestone_program())
    result = card.add_stamps(6, at=T0, random=counting_random())
    cookie, cake = result.vouchers
    card = result.card.redeem(cookie.serial, SelfRedeem(), at=T0).card
    assert cake.code is not None
    with pytest.raises(ProofMismatch):
        card.redeem(cake.serial, SelfRedeem(), at=T0)
    card = card.redeem(cake.serial, CodeEntry(code=cake.code.value), at=T0).card
    assert card.vouchers == ()


def test_a_pos_code_pool_gives_codes_only_to_the_vouchers_that_show_one() -> None:
    program = milestone_program(code_symbology=Sym.CODE_128)
    pool = CodePool([f"99000{n}" for n in range(3)], Sym.CODE_128)
    card, _ = _issue(program)
    result = card.add_stamps(9, at=T0, codes=pool)  # cookie (self-redeem), cake (code), coffee (code)
    assert [v.code.value if v.code else None for v in result.vouchers] == [None, "990000", "990001"]
    assert pool.remaining == 1


def test_validity_applies_to_milestone_vouchers() -> None:
    card, _ = _issue(milestone_program(validity=Validity.for_days(7)))
    [cookie] = card.add_stamps(3, at=T0, random=counting_random()).vouchers
    assert cookie.expires_at == T0 + timedelta(days=7)


@pytest.mark.parametrize(
    ("milestones", "field"),
    [
        ((Milestone(at=9, reward=COOKIE, redemption=RedemptionMethod.SELF_REDEEM),), "milestones[0].at"),
        ((Milestone(at=6, reward=COOKIE, redemption=RedemptionMethod.SELF_REDEEM),
          Milestone(at=3, reward=CAKE, redemption=RedemptionMethod.SELF_REDEEM)), "milestones[1].at"),
        ((Milestone(at=3, reward=COOKIE, redemption=RedemptionMethod.SELF_REDEEM),
          Milestone(at=3, reward=CAKE, redemption=RedemptionMethod.SELF_REDEEM)), "milestones[1].at"),
        (("3",), "milestones[0]"),
    ],
)
def test_milestones_must_rise_below_the_goal(milestones: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        milestone_program(milestones=milestones)
    assert caught.value.field == field


def test_a_revision_that_lowers_the_goal_below_a_milestone_is_refused() -> None:
    with pytest.raises(ValidationError, match="below the goal of 5"):
        milestone_program().revise(goal=5)


def test_milestone_texts_count_towards_the_programs_languages() -> None:
    cookie = Reward(title=LocalizedText(default="Free cookie", translations={"uz": "Bepul pechenye"}),
                    description="Any")
    stop = Milestone(at=3, reward=cookie, redemption=RedemptionMethod.SELF_REDEEM)
    program = milestone_program(milestones=(stop,))
    assert program.languages == ("en", "uz")


# --- replay refuses forged milestone logs ------------------------------------------------------


def _log() -> tuple[Any, list[Event]]:
    program = milestone_program()
    card, log = _issue(program)
    log += card.add_stamps(7, at=T0, random=counting_random()).events
    return program, log


def _forge_voucher(log: list[Event], index: int, **changes: Any) -> list[Event]:
    event = log[index]
    voucher = {**event.data["voucher"], **changes}
    return [*log[:index], attrs.evolve(event, data={"voucher": voucher}), *log[index + 1:]]


def test_replay_of_a_milestone_log_equals_the_live_card() -> None:
    program, log = _log()
    live = replay(log, [program])
    assert live.milestones_reached == 2
    assert replay(events_from_json(events_to_json(log)), [program]) == live


@pytest.mark.parametrize(
    "changes",
    [
        {"reward": CAKE.to_json()},  # the milestone at 3 gives a cookie
        {"method": "redeem_code"},
        {"milestone": 6},
        {"milestone": None},
    ],
)
def test_replay_refuses_a_forged_milestone_voucher(changes: dict[str, Any]) -> None:
    program, log = _log()
    index = _kinds(log).index("voucher_issued")
    forged = _forge_voucher(log, index, **changes)
    if changes.get("milestone", 3) is None:
        forged[index] = attrs.evolve(forged[index], data={"voucher": {
            k: v for k, v in forged[index].data["voucher"].items() if k != "milestone"}})
    with pytest.raises(ReplayError):
        replay(forged, [program])


def test_replay_refuses_a_milestone_issued_twice_or_skipped() -> None:
    program, log = _log()
    first = _kinds(log).index("milestone_reached")
    twice = [*log[:first + 2], *log[first:first + 2], *log[first + 2:]]
    with pytest.raises(ReplayError):
        replay(twice, [program])
    skipped = [e for i, e in enumerate(log) if i not in (first, first + 1)]
    with pytest.raises(ReplayError):
        replay(skipped, [program])
    wrong = attrs.evolve(log[first], data={"cycle": 1, "milestone": 6})
    with pytest.raises(ReplayError):
        replay([*log[:first], wrong, *log[first + 1:]], [program])


def test_replay_refuses_a_milestone_voucher_without_the_stamps() -> None:
    program = milestone_program()
    card, log = _issue(program)
    live = card.add_stamps(3, at=T0, random=counting_random())
    short = attrs.evolve(live.events[0], data={"count": 2, "source": "staff"})
    with pytest.raises(ReplayError):
        replay([*log, short, *live.events[1:]], [program])


def test_a_log_cut_between_milestone_and_voucher_is_refused() -> None:
    program, log = _log()
    first = _kinds(log).index("milestone_reached")
    with pytest.raises(ReplayError, match="voucher_issued is missing"):
        replay(log[:first + 1], [program])


# --- Hypothesis: any log replays to the live card ----------------------------------------------

_steps = st.lists(
    st.one_of(
        st.tuples(st.just("stamp"), st.integers(1, 30)),
        st.tuples(st.just("redeem"), st.integers(0, 5)),
        st.tuples(st.just("void"), st.integers(0, 5)),
        st.tuples(st.just("expire"), st.just(0)),
        st.tuples(st.just("wait"), st.integers(1, 96)),
        st.tuples(st.just("revise"), st.integers(0, 3)),
    ),
    max_size=25,
)


@st.composite
def _milestone_sets(draw: st.DrawFn, goal: int) -> tuple[Milestone, ...]:
    stops = sorted(draw(st.sets(st.integers(1, goal - 1), max_size=4))) if goal > 1 else []
    methods = st.sampled_from([RedemptionMethod.SELF_REDEEM, RedemptionMethod.REDEEM_CODE])
    return tuple(Milestone(at=at, reward=Reward(title=f"Stop {at}", description="x"),
                           redemption=draw(methods)) for at in stops)


@settings(max_examples=120, deadline=None)
@given(data=st.data(), goal=st.integers(1, 10), overflow=st.sampled_from(Overflow),
       days=st.none() | st.integers(1, 4), steps=_steps)
def test_replay_of_any_milestone_log_equals_the_live_card(
    data: st.DataObject, goal: int, overflow: Overflow, days: int | None, steps: list[tuple[str, int]]
) -> None:
    program = make_program(goal=goal, overflow=overflow, redemption=RedemptionMethod.REDEEM_CODE,
                           validity=Validity.for_days(days) if days else Validity.unlimited(),
                           milestones=data.draw(_milestone_sets(goal)))
    programs = [program]
    card, history = StampCard.issue(program, serial="CARD1", member_id="m", at=T0)
    log, at, rng = list(history), T0, counting_random()
    for action, n in steps:
        if action == "wait":
            at += timedelta(hours=n)
            continue
        if action == "stamp":
            result = card.add_stamps(n, at=at, random=rng)
            before = card
            card, log = result.card, log + list(result.events)
            issued = [v.milestone for v in result.vouchers]
            if before.cycle == card.cycle:  # within one cycle each milestone is issued at most once
                assert len(issued) == len(set(issued))
        elif action == "revise":
            goal_now = programs[-1].goal + n
            revised = programs[-1].revise(goal=goal_now, milestones=data.draw(_milestone_sets(goal_now)))
            programs.append(revised)
            card, events = card.change_program(revised, at=at)
            log += events
        elif action == "expire":
            card, events = card.expire_vouchers(at=at)
            log += events
        elif card.vouchers:
            voucher = card.vouchers[n % len(card.vouchers)]
            if voucher.status_at(at) is not VoucherStatus.ACTIVE:
                continue
            if action == "redeem":
                proof: Any = CodeEntry(code=voucher.code.value) if voucher.code else SelfRedeem()
                outcome = card.redeem(voucher.serial, proof, at=at)
            else:
                outcome = card.void_voucher(voucher.serial, "test", at=at)
            card, log = outcome.card, log + list(outcome.events)
        assert card.milestones_reached == sum(1 for m in card.program.milestones if m.at <= card.stamps)
        assert replay(log, programs) == card
    assert replay(events_from_json(events_to_json(log)), programs) == card
