"""The *apply* half of every card transition, and :func:`replay`, which rebuilds a card from its log.

Applying an event checks that it may happen to the card as it stands, so a log that was changed
after it was written cannot rebuild a card the transitions would not have made:

- ``stamp_added`` is the command: its count and time are checked as ``add_stamps`` checks them
  (a whole number within the per-call limit, in time order, within the earn policy).
  ``amount_spent`` (earning by amount) is a command too: the stamps it says must be what the amount
  and the amount kept from before earn under the program's rule, checked like ``stamp_added``'s.
- ``milestone_reached``, ``goal_reached``, ``voucher_issued`` and ``cycle_started`` are *derived*:
  each must be exactly what ``add_stamps`` derives from the stamps before it, at the command's time.
  Only the voucher's code is taken from the log (it came from a random source or a POS pool), and
  it must have the program's symbology. A forged voucher (a milestone voucher with another reward
  or method, one issued twice in a cycle or before its stamps), a goal without the stamps, a wrong
  carry-over, or a stamp_added whose derived events are missing, all raise
  :class:`~walletvoucher.errors.ReplayError`.
- ``stamps_expired`` must come at or after the moment the card's stamps lapse under the program's
  stamp expiry, and take exactly the stamps the card holds; a ``stamp_added`` after that moment with
  no ``stamps_expired`` before it is refused too (the old stamps would have been kept).
- ``card_expired`` must come once, at or after the end of the card's validity; no stamp_added or
  voucher_redeemed may come after that end.
- ``voucher_redeemed``, ``voucher_expired`` and ``voucher_voided`` must name a voucher the card
  holds, in a state that allows the change at that time.
- Every event is numbered (:attr:`Event.version`): the next event of the log must carry the card's
  version plus one. A deleted event leaves a gap (a ``voucher_redeemed`` taken out of the middle
  cannot bring its voucher back), and a reordered or repeated one is out of place.
- No event is earlier than ``card_issued``.

What replay **cannot** detect, from the log alone: events cut off at the *end* (the log is then a
shorter true history; compare the last version with the one you stored, as
:class:`~walletvoucher.store.Wallet` does with its ``cards.version``), and a log rewritten
consistently by someone who can write it (renumbered, or with every version stripped: a log without
versions is read as one written before walletvoucher numbered events, and is checked in every other
way). Keep the log where only the application writes, or sign it, if that matters.

Every failure is a :class:`~walletvoucher.errors.ReplayError` (never ``KeyError``/``TypeError``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from walletvoucher.codes import RedeemCode
from walletvoucher.errors import ReplayError, WalletVoucherError
from walletvoucher.model._card import StampCard, Vouchers, evolve_card
from walletvoucher.model._events import Event, EventType
from walletvoucher.model._program import Money, Program
from walletvoucher.model._slots import changer
from walletvoucher.model._voucher import Voucher

ProgramLookup = Callable[[str, int], Program]

_FIX = "replay the card's events exactly as the transitions returned them; a changed log cannot be replayed"


def _programs(card: StampCard, *extra: Program) -> ProgramLookup:
    known = {(p.id, p.version): p for p in (card.program, card.next_program, *extra) if p is not None}

    def lookup(program_id: str, version: int) -> Program:
        key = (program_id, version)
        if not isinstance(program_id, str) or not isinstance(version, int) or key not in known:
            raise ReplayError(
                "program version is not known",
                field="program",
                value=key if isinstance(program_id, str) and isinstance(version, int) else None,
                fix="pass every program version the card has used to replay()",
            )
        return known[key]

    return lookup


def fold(card: StampCard, events: Iterable[Event], programs: ProgramLookup | None = None) -> StampCard:
    """Apply *events* to *card* in order (the *apply* half of every transition).

    Each event is checked against the card as it stands; one that could not have happened raises
    :class:`~walletvoucher.errors.ReplayError`. Each event's version, when it has one, must be the
    card's version plus one; once one event of *events* has a version, every later one must.
    """
    return _fold(card, events, programs, numbered=False)


def _fold(
    card: StampCard, events: Iterable[Event], programs: ProgramLookup | None, *, numbered: bool
) -> StampCard:
    for event in events:
        if not isinstance(event, Event):
            raise ReplayError("is not an Event", field="event", value=type(event).__name__,
                              fix="pass Event objects (events_from_json() makes them from JSON)")
        if event.card_serial != card.serial:
            raise ReplayError(
                "belongs to another card",
                field="event.card_serial",
                value=event.card_serial,
                fix=f"replay only the events of card {card.serial!r}",
            )
        numbered = _check_place(card, event, numbered)
        card = _apply(card, event, programs)  # each apply counts the event in version
    return card


def _check_place(card: StampCard, event: Event, numbered: bool) -> bool:
    """The event comes next in the log and not before the card was issued; returns whether it is numbered."""
    if event.type is EventType.CARD_ISSUED:
        return numbered  # never after the first event, as applying it says
    expected = card.version + 1
    if event.version is None and numbered:
        raise ReplayError(
            f"has no version but the events before it do (expected {expected})",
            field="event.version", value=event.type.value, fix=_FIX,
        )  # fmt: skip
    if event.version is not None and event.version != expected:
        missing = event.version > expected
        raise ReplayError(
            f"{event.type.value} is event {event.version} of the log but event {expected} comes next"
            + (f": events {expected} to {event.version - 1} are missing (deleted?)" if missing else
               " (reordered or repeated)"),
            field="event.version", value=event.version, fix=_FIX,
        )  # fmt: skip
    if event.at < card.issued_at:
        raise ReplayError(
            f"{event.type.value} at {event.at.isoformat()} is before card_issued "
            f"({card.issued_at.isoformat()})",
            field="event.at", value=event.at.isoformat(), fix=_FIX,
        )  # fmt: skip
    return event.version is not None


def _apply(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    """Apply one event; *programs* None: the versions the card knows (its program and next one)."""
    try:
        return _APPLY[event.type](card, event, programs)
    except ReplayError:
        raise
    except (WalletVoucherError, KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)[:300]
        raise ReplayError(
            f"{event.type.value} at {event.at.isoformat()} does not follow from the card's state ({reason})",
            field="event",
            value=event.type.value,
            fix=_FIX,
        ) from exc


def _expect(card: StampCard, event: Event, awaiting: EventType | None) -> None:
    if card._awaiting is not awaiting:
        wanted = card._awaiting.value if card._awaiting else "a command (stamp_added, voucher_redeemed...)"
        raise ReplayError(
            f"cannot come here: {wanted} must come next",
            field="event.type",
            value=event.type.value,
            fix=_FIX,
        )


def _expect_derived(card: StampCard, event: Event, awaiting: EventType, facts: Mapping[str, Any]) -> None:
    _expect(card, event, awaiting)
    if event.at != card.last_stamp_at:
        raise ReplayError(
            "is not at the time of the stamps it follows from",
            field=f"{event.type.value}.at",
            value=event.at.isoformat(),
            fix=_FIX,
        )
    if dict(event.data) != dict(facts):
        raise ReplayError(
            f"says {_preview(event.data)} but the stamps give {_preview(facts)}",
            field=f"{event.type.value}.data",
            value=event.type.value,
            fix=_FIX,
        )


def _preview(data: Mapping[str, Any]) -> str:
    text = str(dict(data))
    return text if len(text) <= 200 else text[:197] + "..."


def _apply_stamp(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect_earning(card, event)
    return _stamped(card, event, event.data["count"], event.data["source"])


def _expect_earning(card: StampCard, event: Event) -> None:
    _expect(card, event, None)
    card._check_stamp_card()
    card._check_valid(event.at)
    lapse = card.stamps_lapse_at
    if lapse is not None and lapse <= event.at:
        raise ReplayError(
            f"comes after the card's stamps lapsed ({lapse.isoformat()}) without a stamps_expired before it",
            field=f"{event.type.value}.at", value=event.at.isoformat(), fix=_FIX,
        )


def _apply_amount(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect_earning(card, event)
    if set(event.data) != {"amount", "currency", "source", "stamps"}:
        raise ReplayError("must carry amount, currency, source and stamps", field="amount_spent.data",
                          value=sorted(event.data), fix=_FIX)
    amount = Money(amount=event.data["amount"], currency=event.data["currency"])
    if not isinstance(event.data["amount"], str) or str(amount.amount) != event.data["amount"]:
        raise ReplayError("must give the amount as its decimal text", field="amount_spent.amount",
                          value=str(event.data["amount"])[:40], fix=_FIX)
    count = card._check_purchase(amount)
    rest = card._purchase_stamps(amount.amount)[1]
    if event.data["stamps"] != count:
        raise ReplayError(
            f"says {event.data['stamps']!r} stamps; {amount.amount} {amount.currency} earns {count}",
            field="amount_spent.stamps", value="amount_spent", fix=_FIX,
        )
    source = event.data["source"]
    if count == 0:
        card._check_source_text(source)
        return evolve_card(card, amount_carried=rest, version=card.version + 1)
    return _stamped(evolve_card(card, amount_carried=rest), event, count, source)


def _stamped(card: StampCard, event: Event, count: int, source: str) -> StampCard:
    card._check_count(count, source)  # a whole number of 1 or more
    day = card._check_policy(count, event.at)
    return stamp_applied(card, event.at, count, day)


def stamp_applied(card: StampCard, at: datetime, count: int, day: date) -> StampCard:
    """The card once *count* stamps at *at* are applied, for a count and time already checked against
    this very card (its ``_check_count`` and ``_check_policy``, and what ``_expect_earning`` checks):
    what applying the ``stamp_added`` event gives, without checking it again. *day*: the date of *at*
    in the program's time zone (as ``_check_policy`` returns it).

    ``add_stamps`` calls it for the stamp it has just decided; a stored event goes through every
    check (:func:`fold`)."""
    stamps_on_day = (card.stamps_on_day if card.stamp_day == day else 0) + count  # stamps today
    stamped = _stamp_copy(  # checked counters plus a checked count, the checked time, its date
        card, card.stamps + count, card.lifetime_stamps + count, at, day, stamps_on_day, card.version + 1,
    )
    return _settle(stamped)


_stamp_copy = changer(StampCard, "stamps", "lifetime_stamps", "last_stamp_at", "stamp_day", "stamps_on_day",
                      "version")


def _settle(card: StampCard) -> StampCard:
    """A card whose stamps reach a milestone not yet issued in the cycle awaits milestone_reached (the
    milestones in order, before the goal); one whose stamps reach the goal awaits goal_reached;
    otherwise it is at rest."""
    if card._pending_milestone() is not None:
        awaiting: EventType | None = EventType.MILESTONE_REACHED
    else:
        awaiting = EventType.GOAL_REACHED if card.stamps >= card.goal else None
    return card if card._awaiting is awaiting else evolve_card(card, _awaiting=awaiting)


def _apply_goal(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    # The stamps stay until cycle_started says how many carry over.
    _expect_derived(card, event, EventType.GOAL_REACHED, card._goal_facts())
    return evolve_card(card, _awaiting=EventType.VOUCHER_ISSUED, version=card.version + 1)


def _apply_milestone(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect(card, event, EventType.MILESTONE_REACHED)  # so the card has a milestone pending
    _expect_derived(card, event, EventType.MILESTONE_REACHED, card._milestone_facts())
    return evolve_card(card, milestones_reached=card.milestones_reached + 1,
                        _awaiting=EventType.VOUCHER_ISSUED, _for_milestone=True, version=card.version + 1)


def _apply_voucher_issued(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect(card, event, EventType.VOUCHER_ISSUED)
    if set(event.data) != {"voucher"}:
        raise ReplayError("must carry exactly the voucher", field="voucher_issued.data",
                          value=sorted(event.data), fix=_FIX)
    voucher = _as_earned(card, event, event.data["voucher"])
    if voucher is None:
        voucher = Voucher.from_json(event.data["voucher"])
        _check_issued(card, event, voucher)
    issued = evolve_card(
        card,
        vouchers=_held(card).plus(voucher),
        vouchers_issued=card.vouchers_issued + 1,
        _awaiting=EventType.CYCLE_STARTED,
        _for_milestone=False,
        version=card.version + 1,
    )
    return _settle(issued) if card._for_milestone else issued


def _as_earned(card: StampCard, event: Event, raw: object) -> Voucher | None:
    """The voucher the stamps earn, when *raw* is exactly its JSON (a log as the transitions wrote
    it), else None. It is then what ``Voucher.from_json(raw)`` gives and :func:`_check_issued`
    accepts -- at the stamps' time, with the program's symbology, equal to the voucher the stamps
    earn -- found without building the voucher twice; anything else takes that longer way."""
    if not isinstance(raw, Mapping) or event.at != card.last_stamp_at:
        return None
    try:
        code = RedeemCode.from_dict(raw["code"]) if raw.get("code") else None
        if code is not None and code.symbology is not card.program.code_symbology:
            return None
        earned = card._new_voucher(event.at, code)
    except (WalletVoucherError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return earned if earned.to_json() == raw else None


def _check_issued(card: StampCard, event: Event, voucher: Voucher) -> None:
    if event.at != card.last_stamp_at:
        raise ReplayError("is not at the time of the stamps it follows from", field="voucher_issued.at",
                          value=event.at.isoformat(), fix=_FIX)
    symbology = card.program.code_symbology
    if voucher.code is not None and voucher.code.symbology is not symbology:
        raise ReplayError(f"has a {voucher.code.symbology.value} code; the program shows {symbology.value}",
                          field="voucher.code", value=voucher.serial, fix=_FIX)
    expected = card._new_voucher(event.at, voucher.code)
    if voucher != expected:
        names = [f.name for f in attrs.fields(Voucher)]
        wrong = [n for n in names if getattr(voucher, n) != getattr(expected, n)]
        raise ReplayError(
            f"is not the voucher the stamps earn (differs in {', '.join(wrong)})",
            field="voucher",
            value=voucher.serial,
            fix=_FIX,
        )


def _apply_cycle(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect_derived(card, event, EventType.CYCLE_STARTED, card._next_cycle_facts())
    version: int = event.data["program_version"]
    program = card.program if version == card.program.version else (programs or _programs(card))(
        card.program.id, version)
    started = evolve_card(
        card, program=program, next_program=None, cycle=event.data["cycle"], stamps=event.data["stamps"],
        milestones_reached=0,
        version=card.version + 1,
    )
    return _settle(started)


def _apply_voucher_final(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect(card, event, None)
    serial = event.data["voucher"]
    voucher = card.voucher(serial)  # UnknownVoucher for a voucher the card does not hold
    _check_final(card, voucher, event)
    redeemed = event.at if event.type is EventType.VOUCHER_REDEEMED else card.last_redeemed_at
    return evolve_card(card, vouchers=_held(card).without(serial), version=card.version + 1,
                        last_redeemed_at=redeemed)


def redemption_applied(card: StampCard, serial: str, at: datetime) -> StampCard:
    """What applying the ``voucher_redeemed`` of the card's voucher *serial* at *at* gives, for a
    redemption ``StampCard.redeem`` has just checked against this very card (the voucher held and
    redeemable, the card at rest, valid and issued by *at*, the place within the reward's context, the
    redeemer named): applied without checking it again. A stored event goes through :func:`fold`."""
    return _redeemed_copy(card, _held(card).without(serial), at, card.version + 1)


_redeemed_copy = changer(StampCard, "vouchers", "last_redeemed_at", "version")


def _held(card: StampCard) -> Vouchers:
    held = card.vouchers
    return held if isinstance(held, Vouchers) else Vouchers(held)


def _check_final(card: StampCard, voucher: Voucher, event: Event) -> None:
    """The voucher's own transition must allow the change at the event's time."""
    if event.type is EventType.VOUCHER_EXPIRED:
        voucher.expire(at=event.at)
    elif event.type is EventType.VOUCHER_VOIDED:
        voucher.void(event.data["reason"], at=event.at)
    else:
        voucher._check_redeemable(event.at)
        card._check_valid(event.at)
        extra = set(event.data) - {"voucher", "by", "location", "channel"}
        if extra:
            raise ReplayError("carries facts a redemption does not have", field="voucher_redeemed.data",
                              value=sorted(extra)[:5], fix=_FIX)
        card._check_context(voucher, event.at, {k: event.data[k] for k in ("location", "channel")
                                                if k in event.data})
        by = event.data["by"]
        if not isinstance(by, str) or not by.strip() or len(by) > 120:
            raise ReplayError("must name who redeemed", field="voucher_redeemed.by", value=None, fix=_FIX)


def _apply_stamps_expired(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect(card, event, None)
    lapse = card.stamps_lapse_at
    if lapse is None or lapse > event.at:
        raise ReplayError(
            "says stamps lapsed that had not: "
            + ("the card's stamps do not lapse" if lapse is None else f"they lapse at {lapse.isoformat()}"),
            field="stamps_expired.at", value=event.at.isoformat(), fix=_FIX,
        )
    facts = card._lapse_facts()
    if dict(event.data) != facts:
        raise ReplayError(f"says {_preview(event.data)} but the card gives {_preview(facts)}",
                          field="stamps_expired.data", value="stamps_expired", fix=_FIX)
    return evolve_card(card, stamps=0, version=card.version + 1)


def _apply_card_expired(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect(card, event, None)
    expires = card.expires_at
    if card.expired or expires is None or expires > event.at:
        raise ReplayError("says the card expired when it had not (or again)", field="card_expired.at",
                          value=event.at.isoformat(), fix=_FIX)
    if dict(event.data) != {"expires_at": expires.isoformat()}:
        raise ReplayError(f"says {_preview(event.data)}; the card expires at {expires.isoformat()}",
                          field="card_expired.data", value="card_expired", fix=_FIX)
    return evolve_card(card, expired=True, version=card.version + 1)


def _apply_punch(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect(card, event, None)
    facts = card._punch_facts(event.data["source"], event.at)
    if dict(event.data) != facts:
        raise ReplayError(f"says {_preview(event.data)} but the card gives {_preview(facts)}",
                          field="punch_used.data", value="punch_used", fix=_FIX)
    return evolve_card(card, punches_used=card.punches_used + 1, version=card.version + 1)


def _apply_program_changed(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    _expect(card, event, None)
    program_id, version = event.data["program_id"], event.data["program_version"]
    if program_id != card.program.id or not isinstance(version, int) or version <= card.program.version:
        raise ReplayError(
            "must name a newer version of the card's program",
            field="program_changed.data",
            value=(str(program_id)[:56], version if isinstance(version, int) else None),
            fix=_FIX,
        )
    return evolve_card(card, next_program=(programs or _programs(card))(program_id, version),
                       version=card.version + 1)


def _apply_issued(card: StampCard, event: Event, programs: ProgramLookup | None) -> StampCard:
    raise ReplayError(
        "card_issued can only be the first event",
        field="event.type",
        value=event.type.value,
        fix="replay each card's events in the order they were stored",
    )


_APPLY: Mapping[EventType, Callable[[StampCard, Event, ProgramLookup | None], StampCard]] = {
    EventType.CARD_ISSUED: _apply_issued,
    EventType.STAMP_ADDED: _apply_stamp,
    EventType.GOAL_REACHED: _apply_goal,
    EventType.VOUCHER_ISSUED: _apply_voucher_issued,
    EventType.CYCLE_STARTED: _apply_cycle,
    EventType.VOUCHER_REDEEMED: _apply_voucher_final,
    EventType.VOUCHER_EXPIRED: _apply_voucher_final,
    EventType.VOUCHER_VOIDED: _apply_voucher_final,
    EventType.PROGRAM_CHANGED: _apply_program_changed,
    EventType.MILESTONE_REACHED: _apply_milestone,
    EventType.STAMPS_EXPIRED: _apply_stamps_expired,
    EventType.CARD_EXPIRED: _apply_card_expired,
    EventType.AMOUNT_SPENT: _apply_amount,
    EventType.PUNCH_USED: _apply_punch,
}


def replay(events: Iterable[Event], programs: Iterable[Program]) -> StampCard:
    """Rebuild a card from its stored events; the result equals the card the transitions returned.

    *programs* holds every program version the card has used. A log that does not rebuild a card
    the transitions could have made (malformed, reordered, forged, with an event deleted, an event
    earlier than ``card_issued``, cut short in the middle of a goal) raises
    :class:`~walletvoucher.errors.ReplayError`. What it cannot see: events cut off after the last
    complete transition (the result's ``version`` is then lower than the one you stored: compare
    them), and a log rewritten consistently by whoever can write it (renumbered, or with every
    version stripped, which reads as a log from before events were numbered).
    """
    events = _event_list(events)
    known = _known_programs(programs)
    first = events[0] if events and isinstance(events[0], Event) else None
    if first is None or first.type is not EventType.CARD_ISSUED:
        raise ReplayError(
            "must start with card_issued",
            field="events",
            value=first.type.value if first else None,
            fix="replay the card's whole event history from its first event",
        )
    if first.version not in (None, 1):
        raise ReplayError("card_issued must be event 1 of the log", field="event.version",
                          value=first.version, fix="replay the card's whole history from its first event")
    card = _issued_card(first, known)

    def lookup(program_id: str, version: int) -> Program:
        return _programs(card, *known.values())(program_id, version)

    card = _fold(card, events[1:], lookup, numbered=first.version is not None)
    if card._awaiting is not None:
        raise ReplayError(
            f"ends in the middle of reaching a goal: {card._awaiting.value} is missing",
            field="events",
            value=events[-1].type.value,
            fix="replay the card's complete log (a transition's events are stored together)",
        )
    return card


def _event_list(events: Iterable[Event]) -> list[Event]:
    if isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
        raise ReplayError("must be a sequence of Events", field="events", value=type(events).__name__,
                          fix="pass events_from_json(text), or the Event objects the transitions returned")
    return list(events)


def _known_programs(programs: Iterable[Program]) -> dict[tuple[str, int], Program]:
    listed = list(programs) if isinstance(programs, Iterable) else [programs]
    if not all(isinstance(p, Program) for p in listed):
        raise ReplayError("must be Program objects", field="programs", value=None,
                          fix="pass every program version the card has used")
    return {(p.id, p.version): p for p in listed}


def _issued_card(first: Event, known: Mapping[tuple[str, int], Program]) -> StampCard:
    data = first.data
    key = (data.get("program_id"), data.get("program_version"))
    if not isinstance(key[0], str) or not isinstance(key[1], int) or key not in known:
        raise ReplayError(
            "program version is not known",
            field="program",
            value=key if isinstance(key[0], str) and isinstance(key[1], int) else None,
            fix="pass every program version the card has used to replay()",
        )
    try:
        return StampCard(serial=first.card_serial, member_id=data.get("member_id", ""),
                         program=known[key], issued_at=first.at, version=1)  # type: ignore[index]
    except WalletVoucherError as exc:
        raise ReplayError(f"card_issued is not a card ({exc})", field="card_issued", value=None,
                          fix=_FIX) from exc
