"""Stamp cards: collect stamps towards the goal; each goal reached issues a Smart Voucher.

Every transition is written in two steps, as event sourcing does: *decide* checks the rules and
returns the events, *apply* (:mod:`walletvoucher.model._fold`) folds events into a new card.
:func:`replay` uses the same *apply*, so a card rebuilt from stored events is equal to the card the
transitions returned, and *apply* checks that every derived event (``goal_reached``,
``voucher_issued``, ``cycle_started``) is exactly what *decide* derives from the command before it.

``add_stamps`` decides in two passes: a dry run that checks every rule and every voucher (with
placeholder codes), then the real run with codes taken all at once, so a call that fails never uses
up a code from a :class:`~walletvoucher.codes.CodePool`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from walletvoucher.codes import (
    CodeBatchSource,
    CodeOrigin,
    CodeSource,
    RandomSource,
    RedeemCode,
    Symbology,
    generate_code,
)
from walletvoucher.errors import (
    CardExpired,
    EarnPolicyViolation,
    NoPunchesLeft,
    TransitionError,
    UnknownVoucher,
    ValidationError,
)
from walletvoucher.model._context import Channel
from walletvoucher.model._events import _INT_LIMIT, Event, EventType, freeze, renumbered, trusted_event
from walletvoucher.model._program import Milestone, Money, Overflow, Program, RedemptionMethod, Reward
from walletvoucher.model._slots import copier, maker, setters
from walletvoucher.model._validate import (
    _IDENT,
    aware,
    check_at,
    identifier,
    instance_of,
    is_aware,
    local_date,
    non_negative,
)
from walletvoucher.model._voucher import Proof, Voucher, VoucherStatus, voucher_from_values

_GENERATED_SYMBOLOGIES = frozenset(
    {Symbology.QR, Symbology.CODE_128, Symbology.PDF417, Symbology.AZTEC, Symbology.TEXT}
)

CodeFor = Callable[["StampCard"], "RedeemCode | None"]
"""Gives the code for the voucher the card is about to issue (None for methods without codes)."""


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


class Vouchers(tuple[Voucher, ...]):
    """A tuple of vouchers that has been checked: evolving a card does not check them all again.

    Equal to, and printed like, a plain tuple.
    """

    __slots__ = ()

    def plus(self, voucher: Voucher) -> Vouchers:
        """These vouchers and one more (checked)."""
        _check_voucher(voucher)
        return Vouchers((*self, voucher))

    def without(self, serial: str) -> Vouchers:
        """These vouchers but the one with *serial*."""
        return Vouchers(v for v in self if v.serial != serial)


def _check_voucher(value: object) -> None:
    if not isinstance(value, Voucher):
        raise ValidationError("must hold Voucher objects only", field="vouchers",
                              value=type(value).__name__, fix="pass Voucher objects")


def _voucher_tuple(value: Iterable[Voucher]) -> Vouchers:
    if isinstance(value, Vouchers):
        return value
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes)):
        raise ValidationError("must be a sequence of Vouchers", field="vouchers", value=type(value).__name__,
                              fix="pass a tuple of the card's open vouchers")
    items = tuple(value)
    for item in items:
        _check_voucher(item)
    return Vouchers(items)


def _flag(instance: object, attribute: Any, value: bool) -> None:
    if value is not True and value is not False:
        raise ValidationError("must be True or False", field=attribute.name, value=repr(value)[:40],
                              fix="pass a bool")


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
    stamp_day: date | None = attrs.field(default=None, validator=instance_of(date, optional=True))
    stamps_on_day: int = attrs.field(default=0, validator=non_negative)
    next_program: Program | None = attrs.field(default=None, validator=instance_of(Program, optional=True))
    expired: bool = attrs.field(default=False, validator=_flag)
    """Whether a ``card_expired`` event recorded the end of the card's validity."""
    amount_carried: Decimal = attrs.field(default=Decimal(0), validator=instance_of(Decimal))
    """What was spent towards the next stamp, kept under ``Remainder.KEEP`` (earning by amount)."""
    last_redeemed_at: datetime | None = attrs.field(default=None, validator=aware)
    """When the card last redeemed a voucher (for a reward's ``per_card`` rule)."""
    punches_used: int = attrs.field(default=0, validator=non_negative)
    """Punches used on a prepaid card."""
    milestones_reached: int = attrs.field(default=0, validator=non_negative)
    """How many of the cycle's milestones have issued their voucher (they are reached in order)."""
    version: int = attrs.field(default=0, validator=non_negative)
    """How many events the card's log holds (``card_issued`` is the first); each transition numbers
    its events from ``version + 1``. 0 for a card made directly rather than issued."""
    _awaiting: EventType | None = attrs.field(
        default=None, repr=False, alias="_awaiting", validator=instance_of(EventType, optional=True)
    )
    """The derived event that must come next while a goal is being settled (None: at rest)."""
    _for_milestone: bool = attrs.field(default=False, repr=False, alias="_for_milestone",
                                       validator=_flag)
    """While a voucher_issued is awaited: whether it is a milestone's voucher (else the goal's)."""

    # --- reading -------------------------------------------------------------------------

    @property
    def goal(self) -> int:
        """Stamps needed in the current cycle."""
        return self.program.goal

    @property
    def progress(self) -> str:
        """``"7/10"``: stamps in the current cycle over the goal."""
        return f"{self.stamps}/{self.goal}"

    @property
    def milestones(self) -> tuple[tuple[Milestone, bool], ...]:
        """The cycle's milestones, each with whether its voucher was issued in this cycle."""
        return tuple((m, i < self.milestones_reached) for i, m in enumerate(self.program.milestones))

    @property
    def punches_left(self) -> int | None:
        """Punches left on a prepaid card (None for a stamp card)."""
        punches = self.program.punches
        return None if punches is None else punches - self.punches_used

    def use_punch(self, *, at: datetime, source: str = "staff") -> tuple[StampCard, tuple[Event, ...]]:
        """Take one punch of a prepaid card (one ``punch_used`` event); none left raises
        :class:`NoPunchesLeft`, an expired card :class:`CardExpired`. No reward cycle follows."""
        check_at(at)
        self._check_at_rest()
        self._check_after_issue(at)
        events = (self._event(EventType.PUNCH_USED, at, 1, **self._punch_facts(source, at)),)
        return fold(self, events), events

    def _punch_facts(self, source: str, at: datetime) -> dict[str, Any]:
        left = self.punches_left
        if left is None:
            raise ValidationError("is a stamp card, not a prepaid punch card", field="card",
                                  value=self.serial,
                                  fix="add stamps with add_stamps(); punches are for kind='prepaid' programs")
        self._check_valid(at)
        self._check_count(1, source)
        if left == 0:
            raise NoPunchesLeft(f"has used all {self.program.punches} punches", field="card",
                                value=self.serial, fix="sell the customer a new prepaid card")
        return {"source": source, "left": left - 1}

    @property
    def expires_at(self) -> datetime | None:
        """When the card stops earning and redeeming (the program's ``card_validity``; None: never)."""
        return self.program.card_validity.expires_at(self.issued_at, self.program.zone)

    def _check_valid(self, at: datetime) -> None:
        expires = self.expires_at
        if expires is not None and at >= expires:
            raise CardExpired(
                f"expired at {expires.isoformat()}: it neither earns nor redeems",
                field="card", value=self.serial,
                fix="issue the customer a new card (the program's card validity ended this one)",
            )

    def expire_card(self, *, at: datetime) -> tuple[StampCard, tuple[Event, ...]]:
        """Record that the card's validity has ended by *at* (one ``card_expired`` event, once)."""
        check_at(at)
        self._check_at_rest()
        self._check_after_issue(at)
        expires = self.expires_at
        if self.expired or expires is None or expires > at:
            return self, ()
        events = (self._event(EventType.CARD_EXPIRED, at, 1, expires_at=expires.isoformat()),)
        return fold(self, events), events

    @property
    def stamps_lapse_at(self) -> datetime | None:
        """When the card's stamps lapse under the program's :class:`StampExpiry` (None: they do not)."""
        if self.stamps == 0 or self.last_stamp_at is None:
            return None
        return self.program.stamp_expiry.lapse_at(self.last_stamp_at, self.program.zone)

    @property
    def stamps_warn_at(self) -> datetime | None:
        """From when the pass warns that the stamps lapse (``warn_days`` ahead; None: no warning)."""
        lapse = self.stamps_lapse_at
        return None if lapse is None else self.program.stamp_expiry.warn_at(lapse, self.program.zone)

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
        card = new_card(serial, member_id, program, at) if cls is StampCard else cls(
            serial=serial, member_id=member_id, program=program, issued_at=at, version=1
        )
        # The card checked the serial (as the event would), the member id, and the program (whose id
        # and version its own validators checked); only the facts' JSON types are left to check.
        facts: dict[str, Any] = {"member_id": member_id, "program_id": program.id,
                                 "program_version": program.version}
        if not (type(member_id) is str and type(program.id) is str and type(program.version) is int
                and program.version < _INT_LIMIT):
            return card, (trusted_event(EventType.CARD_ISSUED, at, serial, freeze(facts), 1),)
        return card, (trusted_event(EventType.CARD_ISSUED, at, serial, MappingProxyType(facts), 1),)

    def add_stamps(
        self,
        count: int,
        *,
        at: datetime,
        source: str = "staff",
        codes: CodeSource | None = None,
        random: RandomSource | None = None,
    ) -> StampResult:
        """Add *count* stamps; each milestone and goal reached issues a voucher; a goal starts a new cycle.

        Milestones (``program.milestones``) are counted in the stamps of the current cycle: a
        milestone issues its voucher (``milestone_reached`` then ``voucher_issued``) once per cycle,
        when the cycle's stamps first reach it, in rising order; one call that crosses several issues
        each once, and a call that reaches the goal first issues every milestone of the cycle not yet
        issued. When the goal starts the next cycle, the milestones start again from none: stamps
        that carry over (``Overflow.CARRY_OVER``) count towards the new cycle's milestones at once
        (carrying 4 past a goal with a milestone at 3 issues that milestone in the new cycle, in the
        same call), dropped stamps (``Overflow.DROP``) do not. A new program version, which applies
        from the next cycle, brings its own milestones with it.

        *source* says who gave the stamps (``"staff"``, ``"kiosk"``, ``"scanner"``...). Redeem Code
        programs need codes: a *codes* source (POS codes) or a *random* source (generated codes).
        The earn policy is checked first: a stamp that breaks it raises and changes nothing. One call
        adds at most ``program.max_stamps_per_call`` stamps (10,000 unless the earn policy says
        otherwise). Codes are taken only once the call is known to succeed, all at once from a
        :class:`~walletvoucher.codes.CodePool`, so a failed call leaves the pool as it was.
        """
        check_at(at)
        self._check_at_rest()
        self._check_valid(at)
        self._check_stamp_card()
        lapsed = self._lapse_events(at)
        base = fold(self, lapsed) if lapsed else self
        events, card = base._decide_stamps(count, at=at, source=source, codes=codes, random=random)
        if lapsed:
            events = (*lapsed, *events)
        issued = () if len(events) == 1 else tuple(
            Voucher.from_json(e.data["voucher"]) for e in events if e.type is EventType.VOUCHER_ISSUED
        )
        return StampResult(card=card, vouchers=issued, events=events)

    def add_purchase(
        self,
        amount: Money,
        *,
        at: datetime,
        source: str = "till",
        codes: CodeSource | None = None,
        random: RandomSource | None = None,
    ) -> StampResult:
        """Earn by amount: one stamp per ``program.earn_by_amount.step`` of *amount* (a :class:`Money`
        in the rule's currency), with what was kept from before; the rest is kept or dropped as the
        rule says. One ``amount_spent`` event records it (with the stamps it earned, maybe none), then
        milestones and goals reached follow as in :meth:`add_stamps`, whose rules (earn policy, stamp
        expiry, card validity) apply to the stamps earned.
        """
        check_at(at)
        self._check_at_rest()
        self._check_after_issue(at)
        self._check_valid(at)
        self._check_stamp_card()
        count = self._check_purchase(amount)  # the lapse below keeps the amount carried
        lapsed = self._lapse_events(at)
        base = fold(self, lapsed) if lapsed else self
        spent = base._event(EventType.AMOUNT_SPENT, at, 1, amount=str(amount.amount),
                            currency=amount.currency, source=source, stamps=count)
        if count == 0:
            base._check_source_text(source)
            events: tuple[Event, ...] = (spent,)
            card = fold(base, events)
        else:
            events, card = base._decide_stamps(count, at=at, source=source, codes=codes, random=random,
                                               command=spent)
        events = (*lapsed, *events)
        issued = tuple(
            Voucher.from_json(e.data["voucher"]) for e in events if e.type is EventType.VOUCHER_ISSUED
        )
        return StampResult(card=card, vouchers=issued, events=events)

    def _check_stamp_card(self) -> None:
        if self.program.punches is not None:
            raise ValidationError("is a prepaid punch card: it takes punches, not stamps", field="card",
                                  value=self.serial, fix="use card.use_punch(at=...)")

    def _check_purchase(self, amount: Money) -> int:
        rule = self.program.earn_by_amount
        if rule is None:
            raise ValidationError("cannot be recorded: the program earns per visit", field="amount",
                                  value=self.program.id, fix="add stamps with add_stamps(), or give the "
                                  "program earn_by_amount=EarnByAmount(step=..., currency=...)")
        if not isinstance(amount, Money):
            raise ValidationError("must be Money", field="amount", value=type(amount).__name__,
                                  fix=f"pass Money(amount='25000', currency={rule.currency!r})")
        if amount.currency != rule.currency or amount.amount <= 0 or amount.amount > Decimal(10) ** 15:
            raise ValidationError(
                f"must be above 0 and in {rule.currency} (at most 10^15)", field="amount",
                value=f"{amount.amount} {amount.currency}",
                fix=f"record it in {rule.currency}, e.g. Money(amount='25000', currency={rule.currency!r})",
            )
        return self._purchase_stamps(amount.amount)[0]

    def _purchase_stamps(self, amount: Decimal) -> tuple[int, Decimal]:
        rule = self.program.earn_by_amount
        assert rule is not None
        return rule.stamps_for(amount, self.amount_carried)

    def _check_source_text(self, source: str) -> None:
        self._check_count(1, source)

    def redeem(
        self, voucher_serial: str, proof: Proof, *, at: datetime, location: str | None = None,
        channel: Channel | str | None = None,
    ) -> VoucherResult:
        """Redeem one of the card's vouchers; the card stays the same card and keeps collecting.

        An expired card (``program.card_validity``) redeems nothing: :class:`CardExpired`. A reward
        with a :class:`RedemptionContext` is redeemed only at its *location*, through its *channel*,
        within its windows and as often as it says: else :class:`OutsideRedemptionContext` (nothing
        changes). The location and channel given are recorded in the ``voucher_redeemed`` event.
        """
        self._check_at_rest()
        check_at(at)
        self._check_after_issue(at)
        voucher = self.voucher(voucher_serial)  # no such voucher says so first, as the store does
        self._check_valid(at)
        where = _where(location, channel)
        self._check_context(voucher, at, where)
        done = voucher._redeemed(proof, at)
        # voucher.redeem's event with the place added and numbered after the card's last: its time and
        # serials checked, its facts frozen as the event's data always were.
        by = proof.by
        event = trusted_event(EventType.VOUCHER_REDEEMED, at, voucher.card_serial,
                              freeze({"voucher": voucher.serial, "by": by, **where}), self.version + 1)
        events = (event,)
        if voucher.card_serial == self.serial and isinstance(by, str) and by.strip() and len(by) <= 120:
            # Everything else applying the event checks, this method has just checked on this card.
            card = redemption_applied(self, voucher.serial, at)
        else:
            card = fold(self, events)  # refuses it as it always did
        return VoucherResult(card=card, voucher=done, events=events)

    def _check_context(self, voucher: Voucher, at: datetime, where: Mapping[str, str]) -> None:
        context = voucher.reward.context
        if context is None:
            return
        channel = Channel(where["channel"]) if "channel" in where else None
        context.check(at=at, zone=self.program.zone, location=where.get("location"), channel=channel,
                      last_redeemed_at=self.last_redeemed_at)

    def void_voucher(self, voucher_serial: str, reason: str, *, at: datetime) -> VoucherResult:
        """Void one of the card's vouchers."""
        self._check_at_rest()
        self._check_after_issue(at)
        done, events = self.voucher(voucher_serial).void(reason, at=at)
        events = self._numbered(events)
        return VoucherResult(card=fold(self, events), voucher=done, events=events)

    def expire_stamps(self, *, at: datetime) -> tuple[StampCard, tuple[Event, ...]]:
        """Take away the stamps if they have lapsed by *at* (one ``stamps_expired`` event; none if not).

        The cycle goes on from zero stamps: vouchers already issued stay, and so do the cycle's
        milestones already issued (collecting the stamps again does not issue them twice).
        """
        check_at(at)
        self._check_at_rest()
        self._check_after_issue(at)
        events = self._lapse_events(at)
        return fold(self, events), events

    def _lapse_events(self, at: datetime) -> tuple[Event, ...]:
        lapse = self.stamps_lapse_at
        if lapse is None or lapse > at:
            return ()
        return (self._event(EventType.STAMPS_EXPIRED, at, 1, **self._lapse_facts()),)

    def _lapse_facts(self) -> dict[str, Any]:
        lapse = self.stamps_lapse_at
        return {"stamps": self.stamps, "cycle": self.cycle, "lapse_at": lapse.isoformat() if lapse else None}

    def expire_vouchers(self, *, at: datetime) -> tuple[StampCard, tuple[Event, ...]]:
        """Expire every voucher whose validity has ended."""
        self._check_at_rest()
        self._check_after_issue(at)
        events = self._numbered(tuple(
            e for v in self.vouchers if v.status_at(at) is VoucherStatus.EXPIRED for e in v.expire(at=at)[1]
        ))
        return fold(self, events), events

    def change_program(self, program: Program, *, at: datetime) -> tuple[StampCard, tuple[Event, ...]]:
        """Move the card to a new version of its program, from its next cycle on."""
        check_at(at)
        self._check_at_rest()
        self._check_after_issue(at)
        if not isinstance(program, Program):
            raise ValidationError("must be a Program", field="program", value=type(program).__name__,
                                  fix="pass the new version, e.g. program.revise(goal=8)")
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
            version=self.version + 1,
        )
        return fold(self, (event,), programs=_programs(self, program)), (event,)

    # --- decide ------------------------------------------------------------------------------

    def _decide_stamps(
        self, count: int, *, at: datetime, source: str, codes: CodeSource | None, random: RandomSource | None,
        command: Event | None = None,
    ) -> tuple[tuple[Event, ...], StampCard]:
        # The callers checked *at* (check_at), that the card is at rest, valid at *at*, a stamp card,
        # and that its stamps have not lapsed by *at* (they fold a stamps_expired first).
        self._check_count(count, source)
        day = self._check_policy(count, at)
        self._check_after_issue(at)
        stamp = command or self._stamp_event(at, count, source)
        needed: list[Program] = []

        def dry(card: StampCard) -> RedeemCode | None:
            code = card._placeholder_code(codes, random)
            if code is not None:
                needed.append(card.program)
            return code

        if codes is None:  # generated codes: nothing to give back if a later step fails
            return self._derive(stamp, lambda card: _generated(card, dry, random), day)
        self._derive(stamp, dry, day)  # every rule and every voucher checked; no code taken yet
        supplied: Iterator[RedeemCode] = iter(_take_codes(needed, codes))
        return self._derive(stamp, lambda card: next(supplied) if card._needs_code() else None, day)

    def _derive(self, stamp: Event, code_for: CodeFor, day: date) -> tuple[tuple[Event, ...], StampCard]:
        """The stamp event, then one goal_reached/voucher_issued/cycle_started step per goal reached.

        A ``stamp_added`` was checked against this very card by :meth:`_decide_stamps` (and its
        callers) as applying it would check it again, so it is applied unchecked; the events derived
        from it are applied, and so checked, by :func:`fold`."""
        events = [stamp]
        if stamp.type is EventType.STAMP_ADDED:
            card = stamp_applied(self, stamp.at, stamp.data["count"], day)
        else:
            card = fold(self, events)
        while card._awaiting in (EventType.GOAL_REACHED, EventType.MILESTONE_REACHED):
            if card._awaiting is EventType.MILESTONE_REACHED:
                step = card._milestone_step(stamp.at, code_for(card))
            else:
                step = card._goal_step(stamp.at, code_for(card))
            events += step
            card = fold(card, step)
        return tuple(events), card

    def _goal_step(self, at: datetime, code: RedeemCode | None) -> list[Event]:
        voucher = self._new_voucher(at, code)
        return [
            self._event(EventType.GOAL_REACHED, at, 1, **self._goal_facts()),
            self._event(EventType.VOUCHER_ISSUED, at, 2, voucher=voucher.to_json()),
            self._event(EventType.CYCLE_STARTED, at, 3, **self._next_cycle_facts()),
        ]

    def _milestone_step(self, at: datetime, code: RedeemCode | None) -> list[Event]:
        voucher = self._new_voucher(at, code)
        return [
            self._event(EventType.MILESTONE_REACHED, at, 1, **self._milestone_facts()),
            self._event(EventType.VOUCHER_ISSUED, at, 2, voucher=voucher.to_json()),
        ]

    def _pending_milestone(self) -> Milestone | None:
        """The cycle's next milestone, if the stamps reach it (its voucher not issued yet)."""
        milestones = self.program.milestones
        index = self.milestones_reached
        if index < len(milestones) and self.stamps >= milestones[index].at:
            return milestones[index]
        return None

    def _milestone_facts(self) -> dict[str, Any]:
        milestone = self._pending_milestone()
        assert milestone is not None
        return {"cycle": self.cycle, "milestone": milestone.at}

    def _next_award(self) -> tuple[Reward, RedemptionMethod, int | None]:
        """The reward, method and milestone of the voucher the card issues next."""
        milestone: Milestone | None = None
        if self._awaiting is EventType.MILESTONE_REACHED:
            milestone = self._pending_milestone()
        elif self._for_milestone:
            milestone = self.program.milestones[self.milestones_reached - 1]
        if milestone is None:
            return self.program.reward, self.program.redemption, None
        return milestone.reward, milestone.redemption, milestone.at

    def _goal_facts(self) -> dict[str, Any]:
        return {"cycle": self.cycle, "goal": self.goal}

    def _next_cycle_facts(self) -> dict[str, Any]:
        carried = self.stamps - self.goal if self.program.overflow is Overflow.CARRY_OVER else 0
        version = (self.next_program or self.program).version
        return {"cycle": self.cycle + 1, "stamps": carried, "program_version": version}

    def _check_after_issue(self, at: datetime) -> None:
        if at < self.issued_at:
            raise ValidationError(
                "is before the card was issued",
                field="at",
                value=at.isoformat(),
                fix=f"a card's events come after its card_issued at {self.issued_at.isoformat()}",
            )

    def _numbered(self, events: Iterable[Event]) -> tuple[Event, ...]:
        """A voucher's events (it does not know its card's log) numbered after the card's last."""
        version = self.version
        return tuple(renumbered(e, version + n) for n, e in enumerate(events, start=1))

    def _check_at_rest(self) -> None:
        if self._awaiting is not None:
            raise TransitionError(
                f"is in the middle of reaching its goal ({self._awaiting.value} must come next)",
                field="card",
                value=self.serial,
                fix="fold the card's complete events (a transition's events belong together)",
            )

    def _check_count(self, count: int, source: str) -> None:
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValidationError(
                "must be a whole number of 1 or more",
                field="count",
                value=count if isinstance(count, int) and count > -10**9 else type(count).__name__,
                fix="add at least one stamp",
            )
        if not isinstance(source, str) or not source.strip() or len(source) > 120:
            raise ValidationError(
                "must name who gave the stamps (1-120 characters)",
                field="source",
                value=source if isinstance(source, str) and len(source) <= 120 else type(source).__name__,
                fix="e.g. 'staff', 'kiosk', 'scanner'",
            )

    def _check_policy(self, count: int, at: datetime) -> date:
        """Check the earn policy for *count* stamps at *at*; returns the stamps' day in the program's zone."""
        day = local_date(at, self.program.zone)  # the stamp's day must exist in the program's time zone
        if self.last_stamp_at is not None and at < self.last_stamp_at:
            raise ValidationError(
                "is before the card's last stamp",
                field="at",
                value=at.isoformat(),
                fix=f"stamps must come in time order; the last was {self.last_stamp_at.isoformat()}",
            )
        limit = self.program.max_stamps_per_call
        if count > limit:
            raise EarnPolicyViolation(
                f"is more than the {limit:,} stamps allowed at once",
                field="count",
                value=count if count < 10**12 else f"about 2**{count.bit_length()}",
                fix=f"add at most {limit}"
                + ("" if self.program.earn_policy and self.program.earn_policy.max_per_call else
                   " per call, or raise EarnPolicy(max_per_call=...)"),
            )
        policy = self.program.earn_policy
        if policy is None:
            return day
        if policy.min_interval is not None and self.last_stamp_at is not None:
            self._check_interval(policy.min_interval, at)
        if policy.max_per_day is not None:
            today = (self.stamps_on_day if self.stamp_day == day else 0) + count  # stamps today
            if today > policy.max_per_day:
                raise EarnPolicyViolation(
                    f"would make {today} stamps today, over the daily limit of {policy.max_per_day}",
                    field="count",
                    value=count,
                    fix=f"in {self.program.timezone}, try again tomorrow",
                )
        return day

    def _check_interval(self, interval: timedelta, at: datetime) -> None:
        assert self.last_stamp_at is not None
        try:
            wait: datetime | None = self.last_stamp_at + interval
        except OverflowError:
            wait = None  # after year 9999: never
        if wait is None or at < wait:
            raise EarnPolicyViolation(
                "is too soon after the last stamp",
                field="at",
                value=at.isoformat(),
                fix=f"the next stamp can be added from {wait.isoformat()}"
                if wait
                else "the earn policy's min_interval reaches past year 9999: no stamp can follow",
            )

    def _new_voucher(self, at: datetime, code: RedeemCode | None) -> Voucher:
        program = self.program
        valid_from, expires_at = program.validity.window(at, program.zone)
        reward, method, milestone = self._next_award()
        return voucher_from_values(  # Voucher(...) with these values, in the fields' order
            Voucher,
            f"{self.serial}-{self.vouchers_issued + 1}",
            self.serial,
            program.id,
            program.version,
            reward,
            method,
            code,
            VoucherStatus.ISSUED if valid_from > at else VoucherStatus.ACTIVE,
            at,
            valid_from,
            expires_at,
            None,
            None,
            None,
            milestone,
        )

    def _needs_code(self) -> bool:
        return self._next_award()[1] is RedemptionMethod.REDEEM_CODE

    def _placeholder_code(self, codes: CodeSource | None, random: RandomSource | None) -> RedeemCode | None:
        """Check that a code can be had for the next voucher; stand in for it during the dry run."""
        if not self._needs_code():
            return None
        symbology = self.program.code_symbology
        if codes is not None:
            self._check_source(codes)
        elif random is None or symbology not in _GENERATED_SYMBOLOGIES:
            raise ValidationError(
                "a Redeem Code program needs codes to issue its voucher",
                field="codes",
                value=None,
                fix="pass codes=CodePool(...) of POS codes"
                + ("" if symbology not in _GENERATED_SYMBOLOGIES else ", or random=secrets.token_bytes"),
            )
        elif not callable(random):
            raise ValidationError("must be a function returning random bytes", field="random",
                                  value=type(random).__name__, fix="pass random=secrets.token_bytes")
        return RedeemCode(value="?", symbology=symbology, origin=CodeOrigin.POS)

    def _check_source(self, codes: CodeSource) -> None:
        if not callable(getattr(codes, "next_code", None)):
            raise ValidationError("must hand out codes (a CodePool or any object with next_code())",
                                  field="codes", value=type(codes).__name__, fix="pass codes=CodePool(...)")
        wanted = self.program.code_symbology
        pool_symbology = getattr(codes, "symbology", wanted)
        if pool_symbology is not wanted:
            raise ValidationError(
                f"hands out {pool_symbology} codes but the program shows {wanted}",
                field="codes",
                value=pool_symbology,
                fix=f"use a code pool of {wanted.value} codes for program {self.program.id!r}",
            )

    def _event(self, kind: EventType, at: datetime, after: int, /, **data: Any) -> Event:
        """The event *after* places past the card's last (1: the next event of the log).

        Every caller has checked *at* (``check_at``); the card's serial and version were checked when
        it was made, so only the facts are checked (frozen) again."""
        return trusted_event(kind, at, self.serial, freeze(data), self.version + after)

    def _stamp_event(self, at: datetime, count: int, source: str) -> Event:
        """``self._event(EventType.STAMP_ADDED, at, 1, count=count, source=source)`` for a checked
        count and source: a plain int and str are the facts as freezing them gives (keys in order)."""
        if type(count) is int and type(source) is str and count < _INT_LIMIT:
            return trusted_event(EventType.STAMP_ADDED, at, self.serial,
                                 MappingProxyType({"count": count, "source": source}), self.version + 1)
        return self._event(EventType.STAMP_ADDED, at, 1, count=count, source=source)

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
            **({"milestones_reached": self.milestones_reached} if self.program.milestones else {}),
            "issued_at": self.issued_at.isoformat(),
            "vouchers": [v.to_json() for v in self.vouchers],
        }




_CARD_FIELDS = {field.name: field for field in attrs.fields(StampCard)}
# The slots' own setters, bound once: a frozen class refuses setattr, its slot descriptors do not (the
# same route object.__setattr__ takes, without looking each name up on every copy).
_CARD_SETTERS = setters(StampCard)
_CARD_CHECKS = {
    name: (_CARD_SETTERS[name], field.converter, field.validator, field)
    for name, field in _CARD_FIELDS.items()
}
_copy_card = copier(StampCard)


_NO_VOUCHERS = Vouchers()
_FRESH = {  # the defaults of a new card (the vouchers as the converter turns the default into; every
    # default is a value, none made by a factory: tests/model/test_trusted_paths.py compares)
    name: _NO_VOUCHERS if name == "vouchers" else field.default
    for name, field in _CARD_FIELDS.items()
    if name not in {"serial", "member_id", "program", "issued_at", "version"}
}
_FRESH["version"] = 1
_fresh_card = maker(StampCard, _FRESH, "serial", "member_id", "program", "issued_at")


def new_card(serial: str, member_id: str, program: Program, issued_at: datetime) -> StampCard:
    """``StampCard(serial=serial, member_id=member_id, program=program, issued_at=issued_at, version=1)``:
    the four values checked as that constructor checks them, in its order, with the same errors;
    every other field set to its default, which needs no check. The caller checks *issued_at*
    first (``check_at``: the validator's own check)."""
    identifier(None, _CARD_FIELDS["serial"], serial)
    identifier(None, _CARD_FIELDS["member_id"], member_id)
    _program(None, _CARD_FIELDS["program"], program)
    return _fresh_card(serial, member_id, program, issued_at)


_AT_REST = {"_awaiting": None, "_for_milestone": False}
_STORED_FIELDS = (
    "serial", "member_id", "program", "issued_at", "stamps", "cycle", "lifetime_stamps", "vouchers_issued",
    "vouchers", "last_stamp_at", "stamp_day", "stamps_on_day", "next_program", "expired", "amount_carried",
    "last_redeemed_at", "punches_used", "milestones_reached", "version",
)  # card_from_values's parameters, in the order it passes them; a field added later keeps its default
_stored_card = maker(StampCard, {**{name: field.default for name, field in _CARD_FIELDS.items()
                                    if name not in _STORED_FIELDS}, **_AT_REST}, *_STORED_FIELDS)
_NO_AMOUNT: Decimal = _CARD_FIELDS["amount_carried"].default  # type: ignore[assignment]  # Decimal(0)


def card_from_values(
    *,
    serial: str,
    member_id: str,
    program: Program,
    issued_at: datetime,
    stamps: int = 0,
    cycle: int = 1,
    lifetime_stamps: int = 0,
    vouchers_issued: int = 0,
    vouchers: Iterable[Voucher] = (),
    last_stamp_at: datetime | None = None,
    stamp_day: date | None = None,
    stamps_on_day: int = 0,
    next_program: Program | None = None,
    expired: bool = False,
    amount_carried: Decimal = _NO_AMOUNT,
    last_redeemed_at: datetime | None = None,
    punches_used: int = 0,
    milestones_reached: int = 0,
    version: int = 0,
) -> StampCard:
    """``StampCard(...)`` with these values, for a card at rest (as a store's snapshot holds it: the
    private ``_awaiting`` and ``_for_milestone`` keep their defaults), made without a call per field
    when every value is one its field accepts.

    The values are checked here by the rules of the fields' validators -- the serial and member id
    as ids, the program and next program as :class:`Program` (or None), the times timezone-aware
    (or None), the counters whole numbers of 0 or more, ``expired`` a bool, ``stamp_day`` a date or
    None, ``amount_carried`` a Decimal, ``vouchers`` a tuple of :class:`Voucher` -- in one
    expression. Any value that fails them sends the call to the constructor itself, which makes the
    same card or raises its usual error: this way never accepts what the constructor refuses, and
    never refuses what it accepts. The caller needs to guarantee nothing; a snapshot reader gains
    most when its values are already of these types (ints as ints, a tuple of vouchers).
    """
    if (
        isinstance(serial, str) and _IDENT.fullmatch(serial) is not None
        and isinstance(member_id, str) and _IDENT.fullmatch(member_id) is not None
        and isinstance(program, Program)
        and is_aware(issued_at)
        and type(stamps) is type(cycle) is type(lifetime_stamps) is type(vouchers_issued) is int
        and type(stamps_on_day) is type(punches_used) is type(milestones_reached) is type(version) is int
        and min(stamps, cycle, lifetime_stamps, vouchers_issued, stamps_on_day, punches_used,
                milestones_reached, version) >= 0
        and (last_stamp_at is None or is_aware(last_stamp_at))
        and (stamp_day is None or isinstance(stamp_day, date))
        and (next_program is None or isinstance(next_program, Program))
        and (expired is True or expired is False)
        and isinstance(amount_carried, Decimal)
        and (last_redeemed_at is None or is_aware(last_redeemed_at))
        and (type(vouchers) is Vouchers or (type(vouchers) is tuple and _all_vouchers(vouchers)))
    ):
        return _stored_card(
            serial, member_id, program, issued_at, stamps, cycle, lifetime_stamps, vouchers_issued,
            vouchers if type(vouchers) is Vouchers else Vouchers(vouchers), last_stamp_at, stamp_day,
            stamps_on_day, next_program, expired, amount_carried, last_redeemed_at, punches_used,
            milestones_reached, version,
        )
    return StampCard(
        serial=serial, member_id=member_id, program=program, issued_at=issued_at, stamps=stamps, cycle=cycle,
        lifetime_stamps=lifetime_stamps, vouchers_issued=vouchers_issued, vouchers=vouchers,
        last_stamp_at=last_stamp_at, stamp_day=stamp_day, stamps_on_day=stamps_on_day,
        next_program=next_program, expired=expired, amount_carried=amount_carried,
        last_redeemed_at=last_redeemed_at, punches_used=punches_used, milestones_reached=milestones_reached,
        version=version,
    )


def _all_vouchers(items: tuple[object, ...]) -> bool:
    return all(isinstance(item, Voucher) for item in items)


def evolve_card(card: StampCard, **changes: Any) -> StampCard:
    """``attrs.evolve(card, **changes)``, checking (and converting) only the fields that change.

    The other fields hold values that were checked when *card* was made, so checking them again on
    every applied event (a replay makes a card per event) would only repeat the same answer.
    """
    new = _copy_card(card)
    for name, value in changes.items():
        checks = _CARD_CHECKS.get(name)
        if checks is None:
            raise TypeError(f"StampCard has no field {name!r}")
        setter, converter, validator, field = checks
        if converter is not None:
            value = converter(value)  # type: ignore[operator]  # our converters are plain functions
        if validator is not None:
            validator(new, field, value)
        setter(new, value)
    return new


def _where(location: str | None, channel: Channel | str | None) -> dict[str, str]:
    """The redemption's place as event facts: ``location`` and ``channel`` when given."""
    where: dict[str, str] = {}
    if location is not None:
        if not isinstance(location, str) or not location or len(location) > 64:
            raise ValidationError("must be a location id (1-64 characters)", field="location",
                                  value=repr(location)[:70], fix="pass e.g. location='chilonzor'")
        where["location"] = location
    if channel is not None:
        try:
            where["channel"] = Channel(channel).value
        except ValueError:
            raise ValidationError("is not a channel", field="channel", value=repr(channel)[:40],
                                  fix="pass 'in_store' or 'online'") from None
    return where


def _generated(card: StampCard, check: CodeFor, random: RandomSource | None) -> RedeemCode | None:
    """A generated code for the card's next voucher, once *check* says one can be made."""
    if check(card) is None:
        return None
    assert random is not None  # the check raised otherwise
    return generate_code(random, symbology=card.program.code_symbology)


def _take_codes(programs: list[Program], codes: CodeSource) -> list[RedeemCode]:
    """The codes for vouchers of *programs*, all at once from a pool (all or none)."""
    if not programs:
        return []
    if isinstance(codes, CodeBatchSource):
        taken = list(codes.take(len(programs)))
    else:  # a plain CodeSource cannot give codes back: asked only once the call is known to succeed
        taken = [codes.next_code() for _ in programs]
    if len(taken) != len(programs):
        raise ValidationError(f"handed out {len(taken)} codes, {len(programs)} were asked for",
                              field="codes", value=len(taken), fix="hand out exactly the codes asked for")
    for program, code in zip(programs, taken, strict=True):
        if not isinstance(code, RedeemCode) or code.symbology is not program.code_symbology:
            raise ValidationError(
                f"handed out {code!r}, not a {program.code_symbology.value} RedeemCode",
                field="codes", value=type(code).__name__, fix="hand out codes made with pos_code(...)",
            )
    return taken


from walletvoucher.model._fold import (  # noqa: E402  (the apply half imports StampCard)
    _programs,
    fold,
    redemption_applied,
    replay,
    stamp_applied,
)

__all__ = ["StampCard", "StampResult", "VoucherResult", "fold", "replay"]
