"""Stamp cards: collect stamps towards the goal; each goal reached issues a Smart Voucher.

Every transition is written in two steps, as event sourcing does: *decide* checks the rules and
returns the events, *apply* folds events into a new card. :func:`replay` uses the same *apply*, so a
card rebuilt from stored events is equal to the card the transitions returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from walletvoucher.codes import CodeSource, RandomSource, RedeemCode, Symbology, generate_code
from walletvoucher.errors import (
    EarnPolicyViolation,
    ReplayError,
    UnknownVoucher,
    ValidationError,
)
from walletvoucher.model._events import Event, EventType
from walletvoucher.model._program import Overflow, Program, RedemptionMethod
from walletvoucher.model._validate import aware, check_at, identifier, non_negative
from walletvoucher.model._voucher import Proof, Voucher, VoucherStatus

_GENERATED_SYMBOLOGIES = frozenset(
    {Symbology.QR, Symbology.CODE_128, Symbology.PDF417, Symbology.AZTEC, Symbology.TEXT}
)


@attrs.frozen(kw_only=True)
class StampResult:
    """What :meth:`StampCard.add_stamps` returns."""

    card: StampCard
    vouchers: tuple[Voucher, ...]
    events: tuple[Event, ...]


@attrs.frozen(kw_only=True)
class VoucherResult:
    """What the card's voucher transitions return: the new card, the voucher as it is now, the events."""

    card: StampCard
    voucher: Voucher
    events: tuple[Event, ...]


def _voucher_tuple(value: Iterable[Voucher]) -> tuple[Voucher, ...]:
    return tuple(value)


def _program(instance: object, attribute: Any, value: Program) -> None:
    if not isinstance(value, Program):
        raise ValidationError(
            "must be a Program",
            field=attribute.name,
            value=type(value).__name__,
            fix="pass the Program the card belongs to",
        )


@attrs.frozen(kw_only=True)
class StampCard:
    """One customer's card in one program. Its serial stays the same for the card's whole life.

    >>> from datetime import datetime, timezone
    >>> from walletvoucher.model import Brand, Program, Reward, RedemptionMethod
    >>> program = Program(id="coffee", name="Coffee card", goal=3,
    ...     brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
    ...     reward=Reward(title="Free coffee", description="Any size"),
    ...     redemption=RedemptionMethod.SELF_REDEEM)
    >>> t = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
    >>> card, _ = StampCard.issue(program, serial="C1", member_id="m-42", at=t)
    >>> result = card.add_stamps(4, at=t, source="kiosk")
    >>> result.card.stamps, result.card.cycle, [v.serial for v in result.vouchers]
    (1, 2, ['C1-1'])
    """

    serial: str = attrs.field(validator=identifier)
    member_id: str = attrs.field(validator=identifier)
    program: Program = attrs.field(validator=_program)
    issued_at: datetime = attrs.field(validator=aware)
    stamps: int = attrs.field(default=0, validator=non_negative)
    cycle: int = attrs.field(default=1, validator=non_negative)
    lifetime_stamps: int = attrs.field(default=0, validator=non_negative)
    vouchers_issued: int = attrs.field(default=0, validator=non_negative)
    vouchers: tuple[Voucher, ...] = attrs.field(default=(), converter=_voucher_tuple)
    last_stamp_at: datetime | None = attrs.field(default=None, validator=aware)
    stamp_day: date | None = None
    stamps_on_day: int = attrs.field(default=0, validator=non_negative)
    next_program: Program | None = None

    # --- reading -------------------------------------------------------------------------

    @property
    def goal(self) -> int:
        """Stamps needed in the current cycle."""
        return self.program.goal

    @property
    def progress(self) -> str:
        """``"7/10"``: stamps in the current cycle over the goal."""
        return f"{self.stamps}/{self.goal}"

    def open_voucher(self, at: datetime) -> Voucher | None:
        """The first voucher that can be redeemed now: the card's "reward ready" state."""
        return next((v for v in self.vouchers if v.status_at(at) is VoucherStatus.ACTIVE), None)

    def voucher(self, serial: str) -> Voucher:
        """The open voucher with this serial."""
        for v in self.vouchers:
            if v.serial == serial:
                return v
        raise UnknownVoucher(
            "is not an open voucher on this card",
            field="voucher",
            value=serial,
            fix=f"use one of {[v.serial for v in self.vouchers]}",
        )

    # --- transitions ---------------------------------------------------------------------

    @classmethod
    def issue(
        cls, program: Program, *, serial: str, member_id: str, at: datetime
    ) -> tuple[StampCard, tuple[Event, ...]]:
        """A new card with no stamps, and its ``card_issued`` event."""
        check_at(at)
        card = cls(serial=serial, member_id=member_id, program=program, issued_at=at)
        event = Event(
            type=EventType.CARD_ISSUED,
            at=at,
            card_serial=serial,
            data={"member_id": member_id, "program_id": program.id, "program_version": program.version},
        )
        return card, (event,)

    def add_stamps(
        self,
        count: int,
        *,
        at: datetime,
        source: str = "staff",
        codes: CodeSource | None = None,
        random: RandomSource | None = None,
    ) -> StampResult:
        """Add *count* stamps; every goal reached issues a voucher and starts the next cycle.

        *source* says who gave the stamps (``"staff"``, ``"kiosk"``, ``"scanner"``...). Redeem Code
        programs need codes: a *codes* source (POS codes) or a *random* source (generated codes).
        The earn policy is checked first: a stamp that breaks it raises and changes nothing.
        """
        events = self._decide_stamps(count, at=at, source=source, codes=codes, random=random)
        card = fold(self, events)
        issued = tuple(
            Voucher.from_json(e.data["voucher"]) for e in events if e.type is EventType.VOUCHER_ISSUED
        )
        return StampResult(card=card, vouchers=issued, events=events)

    def redeem(self, voucher_serial: str, proof: Proof, *, at: datetime) -> VoucherResult:
        """Redeem one of the card's vouchers; the card stays the same card and keeps collecting."""
        done, events = self.voucher(voucher_serial).redeem(proof, at=at)
        return VoucherResult(card=fold(self, events), voucher=done, events=events)

    def void_voucher(self, voucher_serial: str, reason: str, *, at: datetime) -> VoucherResult:
        """Void one of the card's vouchers."""
        done, events = self.voucher(voucher_serial).void(reason, at=at)
        return VoucherResult(card=fold(self, events), voucher=done, events=events)

    def expire_vouchers(self, *, at: datetime) -> tuple[StampCard, tuple[Event, ...]]:
        """Expire every voucher whose validity has ended."""
        events = tuple(
            e for v in self.vouchers if v.status_at(at) is VoucherStatus.EXPIRED for e in v.expire(at=at)[1]
        )
        return fold(self, events), events

    def change_program(self, program: Program, *, at: datetime) -> tuple[StampCard, tuple[Event, ...]]:
        """Move the card to a new version of its program, from its next cycle on."""
        check_at(at)
        if program.id != self.program.id or program.version <= self.program.version:
            raise ValidationError(
                "must be a newer version of the card's program",
                field="program",
                value=(program.id, program.version),
                fix=f"pass {self.program.id!r} with a version above {self.program.version}",
            )
        event = Event(
            type=EventType.PROGRAM_CHANGED,
            at=at,
            card_serial=self.serial,
            data={"program_id": program.id, "program_version": program.version},
        )
        return fold(self, (event,), programs=_programs(self, program)), (event,)

    # --- decide ------------------------------------------------------------------------------

    def _decide_stamps(
        self, count: int, *, at: datetime, source: str, codes: CodeSource | None, random: RandomSource | None
    ) -> tuple[Event, ...]:
        check_at(at)
        self._check_count(count, source)
        self._check_policy(count, at)
        events = [self._event(EventType.STAMP_ADDED, at, count=count, source=source)]
        card = fold(self, events)
        total = self.stamps + count
        while total >= card.goal:
            goal = card.goal
            voucher = card._new_voucher(at, codes, random)
            carried = total - goal if card.program.overflow is Overflow.CARRY_OVER else 0
            step = [
                card._event(EventType.GOAL_REACHED, at, cycle=card.cycle, goal=goal),
                card._event(EventType.VOUCHER_ISSUED, at, voucher=voucher.to_json()),
                card._event(
                    EventType.CYCLE_STARTED,
                    at,
                    cycle=card.cycle + 1,
                    stamps=carried,
                    program_version=(card.next_program or card.program).version,
                ),
            ]
            events += step
            card, total = fold(card, step), carried
        return tuple(events)

    def _check_count(self, count: int, source: str) -> None:
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValidationError(
                "must be a whole number of 1 or more",
                field="count",
                value=count,
                fix="add at least one stamp",
            )
        if not isinstance(source, str) or not source.strip():
            raise ValidationError(
                "must name who gave the stamps",
                field="source",
                value=source,
                fix="e.g. 'staff', 'kiosk', 'scanner'",
            )

    def _check_policy(self, count: int, at: datetime) -> None:
        if self.last_stamp_at is not None and at < self.last_stamp_at:
            raise ValidationError(
                "is before the card's last stamp",
                field="at",
                value=at.isoformat(),
                fix=f"stamps must come in time order; the last was {self.last_stamp_at.isoformat()}",
            )
        policy = self.program.earn_policy
        if policy is None:
            return
        if policy.max_per_call is not None and count > policy.max_per_call:
            raise EarnPolicyViolation(
                f"is more than the {policy.max_per_call} stamps allowed at once",
                field="count",
                value=count,
                fix=f"add at most {policy.max_per_call}",
            )
        if policy.min_interval is not None and self.last_stamp_at is not None:
            wait = self.last_stamp_at + policy.min_interval
            if at < wait:
                raise EarnPolicyViolation(
                    "is too soon after the last stamp",
                    field="at",
                    value=at.isoformat(),
                    fix=f"the next stamp can be added from {wait.isoformat()}",
                )
        if policy.max_per_day is not None:
            today = self._stamps_today(at) + count
            if today > policy.max_per_day:
                raise EarnPolicyViolation(
                    f"would make {today} stamps today, over the daily limit of {policy.max_per_day}",
                    field="count",
                    value=count,
                    fix=f"in {self.program.timezone}, try again tomorrow",
                )

    def _stamps_today(self, at: datetime) -> int:
        return self.stamps_on_day if self.stamp_day == at.astimezone(self.program.zone).date() else 0

    def _new_voucher(self, at: datetime, codes: CodeSource | None, random: RandomSource | None) -> Voucher:
        program = self.program
        valid_from, expires_at = program.validity.window(at)
        return Voucher(
            serial=f"{self.serial}-{self.vouchers_issued + 1}",
            card_serial=self.serial,
            program_id=program.id,
            program_version=program.version,
            reward=program.reward,
            method=program.redemption,
            code=self._new_code(codes, random),
            status=VoucherStatus.ISSUED if valid_from > at else VoucherStatus.ACTIVE,
            issued_at=at,
            valid_from=valid_from,
            expires_at=expires_at,
        )

    def _new_code(self, codes: CodeSource | None, random: RandomSource | None) -> RedeemCode | None:
        if self.program.redemption is not RedemptionMethod.REDEEM_CODE:
            return None
        if codes is not None:
            return self._checked_code(codes)
        symbology = self.program.code_symbology
        if random is None or symbology not in _GENERATED_SYMBOLOGIES:
            raise ValidationError(
                "a Redeem Code program needs codes to issue its voucher",
                field="codes",
                value=None,
                fix="pass codes=CodePool(...) of POS codes"
                + ("" if symbology not in _GENERATED_SYMBOLOGIES else ", or random=secrets.token_bytes"),
            )
        return generate_code(random, symbology=symbology)

    def _checked_code(self, codes: CodeSource) -> RedeemCode:
        wanted = self.program.code_symbology
        pool_symbology = getattr(codes, "symbology", wanted)
        if pool_symbology is not wanted:
            raise ValidationError(
                f"hands out {pool_symbology} codes but the program shows {wanted}",
                field="codes",
                value=pool_symbology,
                fix=f"use a code pool of {wanted.value} codes for program {self.program.id!r}",
            )
        return codes.next_code()

    def _event(self, kind: EventType, at: datetime, **data: Any) -> Event:
        return Event(type=kind, at=at, card_serial=self.serial, data=data)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready snapshot of the card (program by id and version)."""
        return {
            "serial": self.serial,
            "member_id": self.member_id,
            "program_id": self.program.id,
            "program_version": self.program.version,
            "goal": self.goal,
            "stamps": self.stamps,
            "cycle": self.cycle,
            "lifetime_stamps": self.lifetime_stamps,
            "progress": self.progress,
            "issued_at": self.issued_at.isoformat(),
            "vouchers": [v.to_json() for v in self.vouchers],
        }


# --- apply ---------------------------------------------------------------------------------

ProgramLookup = Callable[[str, int], Program]


def _programs(card: StampCard, *extra: Program) -> ProgramLookup:
    known = {(p.id, p.version): p for p in (card.program, card.next_program, *extra) if p is not None}

    def lookup(program_id: str, version: int) -> Program:
        try:
            return known[(program_id, version)]
        except KeyError:
            raise ReplayError(
                "program version is not known",
                field="program",
                value=(program_id, version),
                fix="pass every program version the card has used to replay()",
            ) from None

    return lookup


def fold(card: StampCard, events: Iterable[Event], programs: ProgramLookup | None = None) -> StampCard:
    """Apply *events* to *card* in order (the *apply* half of every transition)."""
    for event in events:
        if event.card_serial != card.serial:
            raise ReplayError(
                "belongs to another card",
                field="event.card_serial",
                value=event.card_serial,
                fix=f"replay only the events of card {card.serial!r}",
            )
        card = _APPLY[event.type](card, event, programs or _programs(card))
    return card


def _apply_stamp(card: StampCard, event: Event, programs: ProgramLookup) -> StampCard:
    count: int = event.data["count"]
    day = event.at.astimezone(card.program.zone).date()
    on_day = card._stamps_today(event.at) + count
    return attrs.evolve(
        card,
        stamps=card.stamps + count,
        lifetime_stamps=card.lifetime_stamps + count,
        last_stamp_at=event.at,
        stamp_day=day,
        stamps_on_day=on_day,
    )


def _apply_goal(card: StampCard, event: Event, programs: ProgramLookup) -> StampCard:
    # The stamps stay until cycle_started says how many carry over.
    return card


def _apply_voucher_issued(card: StampCard, event: Event, programs: ProgramLookup) -> StampCard:
    voucher = Voucher.from_json(dict(event.data["voucher"]))
    return attrs.evolve(card, vouchers=(*card.vouchers, voucher), vouchers_issued=card.vouchers_issued + 1)


def _apply_cycle(card: StampCard, event: Event, programs: ProgramLookup) -> StampCard:
    version: int = event.data["program_version"]
    program = card.program if version == card.program.version else programs(card.program.id, version)
    return attrs.evolve(
        card, program=program, next_program=None, cycle=event.data["cycle"], stamps=event.data["stamps"]
    )


def _apply_voucher_final(card: StampCard, event: Event, programs: ProgramLookup) -> StampCard:
    serial = event.data["voucher"]
    card.voucher(serial)  # raises UnknownVoucher for an event about a voucher the card does not hold
    return attrs.evolve(card, vouchers=tuple(v for v in card.vouchers if v.serial != serial))


def _apply_program_changed(card: StampCard, event: Event, programs: ProgramLookup) -> StampCard:
    return attrs.evolve(card, next_program=programs(event.data["program_id"], event.data["program_version"]))


def _apply_issued(card: StampCard, event: Event, programs: ProgramLookup) -> StampCard:
    raise ReplayError(
        "card_issued can only be the first event",
        field="event.type",
        value=event.type.value,
        fix="replay each card's events in the order they were stored",
    )


_APPLY: Mapping[EventType, Callable[[StampCard, Event, ProgramLookup], StampCard]] = {
    EventType.CARD_ISSUED: _apply_issued,
    EventType.STAMP_ADDED: _apply_stamp,
    EventType.GOAL_REACHED: _apply_goal,
    EventType.VOUCHER_ISSUED: _apply_voucher_issued,
    EventType.CYCLE_STARTED: _apply_cycle,
    EventType.VOUCHER_REDEEMED: _apply_voucher_final,
    EventType.VOUCHER_EXPIRED: _apply_voucher_final,
    EventType.VOUCHER_VOIDED: _apply_voucher_final,
    EventType.PROGRAM_CHANGED: _apply_program_changed,
}


def replay(events: Iterable[Event], programs: Iterable[Program]) -> StampCard:
    """Rebuild a card from its stored events; the result equals the card the transitions returned.

    *programs* holds every program version the card has used.
    """
    events = list(events)
    if not events or events[0].type is not EventType.CARD_ISSUED:
        raise ReplayError(
            "must start with card_issued",
            field="events",
            value=events[0].type.value if events else None,
            fix="replay the card's whole event history from its first event",
        )
    first = events[0]
    known = {(p.id, p.version): p for p in programs}
    key = (first.data["program_id"], first.data["program_version"])
    if key not in known:
        raise ReplayError(
            "program version is not known",
            field="program",
            value=key,
            fix="pass every program version the card has used to replay()",
        )
    card = StampCard(
        serial=first.card_serial, member_id=first.data["member_id"], program=known[key], issued_at=first.at
    )

    def lookup(program_id: str, version: int) -> Program:
        return _programs(card, *known.values())(program_id, version)

    return fold(card, events[1:], programs=lookup)
