"""Stamp programs: the goal, the reward, how vouchers are redeemed and how long they are valid."""

from __future__ import annotations

import calendar
import enum
import functools
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from walletvoucher.codes import Symbology
from walletvoucher.errors import ValidationError
from walletvoucher.model._brand import Brand
from walletvoucher.model._context import RedemptionContext
from walletvoucher.model._i18n import (
    LocalizedText,
    check_language,
    is_optional_text,
    is_text,
    to_optional_text,
    to_text,
)
from walletvoucher.model._validate import at_most, aware, identifier, instance_of, positive, shift

DEFAULT_MAX_STAMPS_PER_CALL = 10_000
"""Stamps one ``add_stamps`` call may add when the earn policy sets no ``max_per_call``."""
MAX_STAMPS_PER_CALL_LIMIT = 1_000_000
"""The highest ``EarnPolicy.max_per_call`` accepted: every goal reached issues a voucher."""
_MAX_DAYS = (datetime.max - datetime.min).days
MAX_GOAL = 1_000_000
"""The largest goal accepted (a card shows ``n/goal``; past this the numbers stop meaning anything)."""

# ISO 4217 active codes (2025 list), excluding funds and precious-metal codes.
_CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP
    LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
    ZMW ZWG""".split()
)


def _to_decimal(value: Decimal | int | str) -> Decimal:
    if not isinstance(value, (Decimal, int, float, str)) or isinstance(value, bool):
        raise ValidationError(
            f"must be a Decimal or a str, not {type(value).__name__}", field="amount",
            value=repr(value)[:80], fix="give the amount as a Decimal or a string such as '4.50'",
        )
    try:
        return Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValidationError(
            "is not a number",
            field="amount",
            value=value,
            fix="give the amount as a Decimal or a string such as '4.50'",
        ) from None


@attrs.frozen(kw_only=True)
class Money:
    """A monetary value in an ISO 4217 currency.

    >>> Money(amount="4.50", currency="EUR")
    Money(amount=Decimal('4.50'), currency='EUR')
    """

    amount: Decimal = attrs.field(converter=_to_decimal)
    currency: str = attrs.field()

    @amount.validator
    def _check_amount(self, attribute: Any, value: Decimal) -> None:
        if not value.is_finite() or value < 0:
            raise ValidationError(
                "must be a finite amount of 0 or more",
                field="amount",
                value=str(value),
                fix="give a positive amount such as '4.50'",
            )

    @currency.validator
    def _check_currency(self, attribute: Any, value: str) -> None:
        if not isinstance(value, str) or value not in _CURRENCIES:
            raise ValidationError(
                "is not an ISO 4217 currency code",
                field="currency",
                value=value,
                fix="use an upper-case code such as 'EUR', 'USD', 'CNY', 'INR', 'THB', 'UZS'",
            )


@attrs.frozen(kw_only=True)
class Reward:
    """What the customer gets when the goal is reached."""

    title: LocalizedText = attrs.field(converter=to_text, validator=is_text)
    description: LocalizedText = attrs.field(converter=to_text, validator=is_text)
    value: Money | None = attrs.field(default=None, validator=instance_of(Money, optional=True))
    terms: LocalizedText | None = attrs.field(
        default=None, converter=to_optional_text, validator=is_optional_text
    )
    context: RedemptionContext | None = attrs.field(
        default=None, validator=instance_of(RedemptionContext, optional=True)
    )
    """Where, when and how often the reward may be redeemed (None: anywhere, any time)."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (rebuild with :meth:`from_json`)."""
        return {
            "title": self.title.to_json(),
            "description": self.description.to_json(),
            "terms": self.terms.to_json() if self.terms else None,
            "value": {"amount": str(self.value.amount), "currency": self.value.currency}
            if self.value
            else None,
            **({"context": self.context.to_json()} if self.context is not None else {}),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Reward:
        """Rebuild from :meth:`to_json` output."""
        if not isinstance(raw, Mapping):
            raise ValidationError("must be an object", field="reward", value=type(raw).__name__,
                                  fix="pass what Reward.to_json() produced")
        value = raw.get("value")
        if value is not None and not isinstance(value, Mapping):
            raise ValidationError("must be an object", field="reward.value", value=type(value).__name__,
                                  fix="pass what Reward.to_json() produced")
        return cls(
            title=LocalizedText.from_json(raw.get("title")),  # type: ignore[arg-type]
            description=LocalizedText.from_json(raw.get("description")),  # type: ignore[arg-type]
            terms=LocalizedText.from_json(raw["terms"]) if raw.get("terms") else None,
            value=Money(amount=value.get("amount", ""), currency=value.get("currency", ""))
            if value
            else None,
            context=RedemptionContext.from_json(raw["context"]) if raw.get("context") else None,
        )

    def texts(self) -> Iterator[LocalizedText]:
        """Every localisable text of the reward."""
        yield self.title
        yield self.description
        if self.terms is not None:
            yield self.terms


class RedemptionMethod(enum.Enum):
    """How a voucher is redeemed."""

    SELF_REDEEM = "self_redeem"
    """The customer opens the voucher and uses it; no staff step. For low-risk perks."""
    STAFF_SCAN = "staff_scan"
    """A team member scans the voucher's signed token before it is accepted."""
    REDEEM_CODE = "redeem_code"
    """The voucher shows a code (text, QR or barcode) that staff type or scan into the POS."""


@attrs.frozen(kw_only=True)
class Validity:
    """How long a voucher may be redeemed, counted from its issue.

    >>> from datetime import datetime, timedelta, timezone
    >>> issued = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
    >>> Validity.for_days(30, start_delay=timedelta(hours=1)).window(issued)[1].isoformat()
    '2026-06-06T11:30:00+00:00'
    """

    days: int | None = attrs.field(default=None, validator=positive)
    until: datetime | None = attrs.field(default=None, validator=aware)
    start_delay: timedelta = attrs.field(default=timedelta(0), validator=instance_of(timedelta))
    months: int | None = attrs.field(default=None, validator=[positive, at_most(12 * 9999)])
    """Calendar months from when the voucher becomes valid, on the program's local calendar."""

    def __attrs_post_init__(self) -> None:
        if sum(v is not None for v in (self.days, self.until, self.months)) > 1:
            raise ValidationError(
                "give one of days, months or until, not both",
                field="validity",
                value=(self.days, self.months, self.until),
                fix="use Validity.for_days(...), Validity.for_months(...) or Validity.fixed(...)",
            )
        if self.days is not None and self.days > _MAX_DAYS:
            raise ValidationError(
                f"must be at most {_MAX_DAYS} (the calendar's span)",
                field="days",
                value=self.days,
                fix="use Validity.unlimited() for vouchers that never expire",
            )
        if self.start_delay < timedelta(0):
            raise ValidationError(
                "must not be negative",
                field="start_delay",
                value=self.start_delay,
                fix="give a delay of zero or more",
            )

    @classmethod
    def unlimited(cls, *, start_delay: timedelta = timedelta(0)) -> Validity:
        """Vouchers never expire."""
        return cls(start_delay=start_delay)

    @classmethod
    def for_days(cls, days: int, *, start_delay: timedelta = timedelta(0)) -> Validity:
        """Vouchers expire *days* after they become valid."""
        return cls(days=days, start_delay=start_delay)

    @classmethod
    def for_months(cls, months: int, *, start_delay: timedelta = timedelta(0)) -> Validity:
        """Vouchers expire *months* calendar months after they become valid, at the same local time in
        the program's time zone; a day the month lacks (the 31st, 29 February) is its last day."""
        return cls(months=months, start_delay=start_delay)

    @classmethod
    def fixed(cls, until: datetime, *, start_delay: timedelta = timedelta(0)) -> Validity:
        """Vouchers expire at a fixed moment (e.g. the end of a campaign)."""
        return cls(until=until, start_delay=start_delay)

    def window(self, issued_at: datetime, zone: tzinfo | None = None) -> tuple[datetime, datetime | None]:
        """``(valid_from, expires_at)`` for a voucher issued at *issued_at*; months count on the calendar
        of *zone* (the program's time zone; UTC when None).

        A window that would end past year 9999 raises :class:`~walletvoucher.errors.ValidationError`.

        >>> from zoneinfo import ZoneInfo
        >>> issued = datetime(2026, 1, 31, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
        >>> Validity.for_months(1).window(issued, ZoneInfo("Europe/Berlin"))[1].isoformat()
        '2026-02-28T10:00:00+01:00'
        >>> Validity.for_months(2).window(issued, ZoneInfo("Europe/Berlin"))[1].isoformat()  # summer time
        '2026-03-31T10:00:00+02:00'
        """
        valid_from = shift(issued_at, self.start_delay, "validity.start_delay")
        if self.days is not None:
            return valid_from, shift(valid_from, timedelta(days=self.days), "validity.days")
        if self.months is not None:
            return valid_from, add_months(valid_from, self.months, zone or timezone.utc)
        return valid_from, self.until


MAX_MILESTONES = 20
"""The most milestones a program may have (each marks a stamp on the strip)."""


@attrs.frozen(kw_only=True)
class Milestone:
    """An interim reward on the way to the goal: reaching *at* stamps in a cycle issues its own voucher.

    The voucher has the milestone's *reward* and *redemption* method; the program's validity and code
    symbology apply to it as to the main reward's voucher.

    >>> Milestone(at=3, reward=Reward(title="Free cookie", description="Any cookie"),
    ...           redemption=RedemptionMethod.SELF_REDEEM).at
    3
    """

    at: int = attrs.field(validator=positive)
    reward: Reward = attrs.field(validator=instance_of(Reward))
    redemption: RedemptionMethod = attrs.field(validator=instance_of(RedemptionMethod))


def _milestone_tuple(value: Any) -> tuple[Milestone, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError("must be a sequence of Milestones", field="milestones",
                              value=type(value).__name__, fix="pass e.g. (Milestone(at=3, ...),)")
    return tuple(value)


def add_months(moment: datetime, months: int, zone: tzinfo) -> datetime:
    """*moment* plus *months* calendar months on *zone*'s calendar, at the same local wall-clock time
    (the month's last day when it lacks the day; a time a clock change skips, moved on by the gap).

    >>> add_months(datetime(2026, 3, 31, 12, tzinfo=timezone.utc), 11, timezone.utc).isoformat()
    '2027-02-28T12:00:00+00:00'
    """
    local = moment.astimezone(zone)
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValidationError(
            f"{moment.isoformat()} + {months} months is outside the calendar (years 1-9999)",
            field="validity.months", value=months, fix="give fewer months",
        )
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    # fold=0: a local time that repeats (clocks going back) means the first of the two
    naive = local.replace(tzinfo=None, year=year, month=month + 1, day=day, fold=0)
    return naive.replace(tzinfo=zone).astimezone(timezone.utc).astimezone(zone)


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first moment of the local calendar *day* in *zone* (where midnight is skipped by a clock
    change, the moment the clocks jump; where it repeats, the first of the two).

    >>> day_start(date(2026, 9, 6), ZoneInfo("America/Santiago")).isoformat()  # 00:00 is skipped
    '2026-09-06T01:00:00-03:00'
    """
    naive = datetime.combine(day, time())
    return naive.replace(tzinfo=zone).astimezone(timezone.utc).astimezone(zone)


class StampExpiryKind(enum.Enum):
    """When a card's stamps lapse."""

    NEVER = "never"
    """Stamps never lapse."""
    FIXED = "fixed"
    """Stamps collected before a fixed moment (``until``) lapse at it."""
    ROLLING = "rolling"
    """Stamps lapse ``days`` after the *last* stamp: each new stamp restarts the clock."""


_MAX_EXPIRY_DAYS = 36_600


@attrs.frozen(kw_only=True)
class StampExpiry:
    """When uncollected stamps lapse, and how many days ahead the pass warns.

    Rolling: the stamps lapse at the end of the ``days``-th calendar day after the last stamp, in the
    program's time zone (the start of the next local day, so a clock change in between moves the
    moment with the zone's midnight, not by 24 hours). Fixed: stamps held at ``until`` lapse then;
    stamps added after it do not lapse. Lapsed stamps leave the card through a ``stamps_expired``
    event (``StampCard.expire_stamps``, the store's ``expire_due``, or first thing in the next
    ``add_stamps``); vouchers already issued, and milestones already issued in the cycle, stay.

    >>> from zoneinfo import ZoneInfo
    >>> rule = StampExpiry.rolling(30, warn_days=7)
    >>> last = datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    >>> rule.lapse_at(last, ZoneInfo("Europe/Berlin")).isoformat()   # after the change to summer time
    '2026-04-01T00:00:00+02:00'
    >>> rule.warn_at(rule.lapse_at(last, ZoneInfo("Europe/Berlin")), ZoneInfo("Europe/Berlin")).isoformat()
    '2026-03-25T00:00:00+01:00'
    """

    expire: StampExpiryKind = attrs.field(default=StampExpiryKind.NEVER,
                                          validator=instance_of(StampExpiryKind))
    days: int | None = attrs.field(default=None, validator=[positive, at_most(_MAX_EXPIRY_DAYS)])
    until: datetime | None = attrs.field(default=None, validator=aware)
    warn_days: int | None = attrs.field(default=None, validator=[positive, at_most(_MAX_EXPIRY_DAYS)])

    def __attrs_post_init__(self) -> None:
        wanted = {StampExpiryKind.NEVER: (False, False), StampExpiryKind.FIXED: (False, True),
                  StampExpiryKind.ROLLING: (True, False)}[self.expire]
        if (self.days is not None, self.until is not None) != wanted:
            fixes = {StampExpiryKind.NEVER: "give neither days nor until",
                     StampExpiryKind.FIXED: 'give until = "2027-03-31T23:59:59+05:00" (and no days)',
                     StampExpiryKind.ROLLING: "give days = 90 (and no until)"}
            raise ValidationError(
                f"{self.expire.value} expiry takes "
                + ("days" if wanted[0] else "until" if wanted[1] else "no dates"),
                field="stamps.days" if wanted[0] or self.days is not None else "stamps.until",
                value=self.days if self.days is not None else self.until,
                fix=fixes[self.expire],
            )
        if self.warn_days is not None and self.expire is StampExpiryKind.NEVER:
            raise ValidationError("has nothing to warn about: stamps never expire", field="stamps.warn_days",
                                  value=self.warn_days, fix="leave warn_days out, or set expire")

    @classmethod
    def never(cls) -> StampExpiry:
        """Stamps never lapse (the default)."""
        return cls()

    @classmethod
    def rolling(cls, days: int, *, warn_days: int | None = None) -> StampExpiry:
        """Stamps lapse *days* after the last stamp."""
        return cls(expire=StampExpiryKind.ROLLING, days=days, warn_days=warn_days)

    @classmethod
    def fixed(cls, until: datetime, *, warn_days: int | None = None) -> StampExpiry:
        """Stamps held at *until* lapse then."""
        return cls(expire=StampExpiryKind.FIXED, until=until, warn_days=warn_days)

    def lapse_at(self, last_stamp_at: datetime, zone: tzinfo) -> datetime | None:
        """When stamps whose last one came at *last_stamp_at* lapse (None: never, or past year 9999)."""
        if self.expire is StampExpiryKind.FIXED:
            assert self.until is not None
            return self.until if last_stamp_at < self.until else None
        if self.expire is StampExpiryKind.ROLLING:
            assert self.days is not None
            try:
                return day_start(last_stamp_at.astimezone(zone).date() + timedelta(days=self.days + 1), zone)
            except (OverflowError, ValueError):
                return None
        return None

    def warn_at(self, lapse: datetime, zone: tzinfo) -> datetime | None:
        """From when the pass warns of a lapse at *lapse*: the start of the local day ``warn_days``
        before the lapse's own local day (None without ``warn_days``)."""
        if self.warn_days is None:
            return None
        try:
            return day_start(lapse.astimezone(zone).date() - timedelta(days=self.warn_days), zone)
        except (OverflowError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"expire": self.expire.value, "days": self.days,
                "until": self.until.isoformat() if self.until else None, "warn_days": self.warn_days}


@attrs.frozen(kw_only=True)
class CardValidity:
    """How long a card is valid: always (the default), a fixed end, or N days after joining.

    ``days_after_join``: the card expires at the end of the N-th day after it was issued, counted in
    the program's time zone (the start of the next local day). ``until``: at a fixed moment. An
    expired card neither earns nor redeems (:class:`~walletvoucher.errors.CardExpired`).

    >>> from zoneinfo import ZoneInfo
    >>> joined = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
    >>> CardValidity(days_after_join=365).expires_at(joined, ZoneInfo("Asia/Tashkent")).isoformat()
    '2027-05-08T00:00:00+05:00'
    """

    days_after_join: int | None = attrs.field(default=None, validator=[positive, at_most(_MAX_EXPIRY_DAYS)])
    until: datetime | None = attrs.field(default=None, validator=aware)

    def __attrs_post_init__(self) -> None:
        if self.days_after_join is not None and self.until is not None:
            raise ValidationError("give days_after_join or until, not both", field="card.valid",
                                  value=(self.days_after_join, self.until.isoformat()),
                                  fix="write valid = { days_after_join = 365 } or valid = { until = ... }")

    def expires_at(self, issued_at: datetime, zone: tzinfo) -> datetime | None:
        """When a card issued at *issued_at* expires (None: never, or past year 9999)."""
        if self.until is not None:
            return self.until
        if self.days_after_join is None:
            return None
        try:
            last_day = issued_at.astimezone(zone).date() + timedelta(days=self.days_after_join)
            return day_start(last_day + timedelta(days=1), zone)
        except (OverflowError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        until = self.until.isoformat() if self.until else None
        return {"days_after_join": self.days_after_join, "until": until}


class Remainder(enum.Enum):
    """What happens to the part of an amount below one step."""

    KEEP = "keep"
    """Kept on the card towards the next stamp."""
    DROP = "drop"
    """Dropped."""


def _step(value: Decimal | int | str) -> Decimal:
    amount = _to_decimal(value)
    if not amount.is_finite() or amount <= 0 or amount > Decimal(10) ** 15:
        raise ValidationError("must be a finite amount above 0 (at most 10^15)", field="step",
                              value=str(amount), fix='give e.g. step = "10000"')
    return amount


@attrs.frozen(kw_only=True)
class EarnByAmount:
    """One stamp per *step* spent in *currency* (``Decimal`` amounts); the rest kept or dropped.

    >>> rule = EarnByAmount(step="10000", currency="UZS")
    >>> rule.stamps_for(Decimal("25000"), Decimal("7000"))
    (3, Decimal('2000'))
    """

    step: Decimal = attrs.field(converter=_step)
    currency: str = attrs.field()
    remainder: Remainder = attrs.field(default=Remainder.KEEP, validator=instance_of(Remainder))

    @currency.validator
    def _check_currency(self, attribute: Any, value: str) -> None:
        Money(amount="0", currency=value)  # the same ISO 4217 check, naming the field

    def stamps_for(self, amount: Decimal, carried: Decimal) -> tuple[int, Decimal]:
        """Stamps earned by *amount* with *carried* kept from before, and what is kept after."""
        total = amount + carried
        count = int(total // self.step)
        rest = total - count * self.step
        return count, (rest if self.remainder is Remainder.KEEP else Decimal(0))


class ProgramKind(enum.Enum):
    """What a card of the program collects."""

    STAMPS = "stamps"
    """Stamps towards a goal, a reward each time (the default)."""
    PREPAID = "prepaid"
    """A punch card sold for ``punches`` items paid upfront: each use takes one punch; no reward cycle."""


class Overflow(enum.Enum):
    """What happens to stamps past the goal."""

    CARRY_OVER = "carry_over"
    DROP = "drop"


@attrs.frozen(kw_only=True)
class EarnPolicy:
    """Limits on earning stamps; a stamp that breaks one raises and changes nothing.

    ``max_per_day`` counts stamps per card per calendar day in the program's time zone.
    ``max_per_call`` bounds one ``add_stamps`` call; without it (or without a policy) the bound is
    :data:`DEFAULT_MAX_STAMPS_PER_CALL` (10,000), and it may be raised up to 1,000,000.
    """

    min_interval: timedelta | None = attrs.field(
        default=None, validator=instance_of(timedelta, optional=True, hint="give e.g. timedelta(minutes=5)")
    )
    max_per_day: int | None = attrs.field(default=None, validator=positive)
    max_per_call: int | None = attrs.field(default=None, validator=positive)

    @max_per_call.validator
    def _check_per_call(self, attribute: Any, value: int | None) -> None:
        if value is not None and value > MAX_STAMPS_PER_CALL_LIMIT:
            raise ValidationError(
                f"must be at most {MAX_STAMPS_PER_CALL_LIMIT:,}",
                field="max_per_call",
                value=value,
                fix="every goal reached issues a voucher: keep one call's stamps within a million",
            )

    @property
    def per_call_limit(self) -> int:
        """The most stamps one ``add_stamps`` call may add."""
        return self.max_per_call if self.max_per_call is not None else DEFAULT_MAX_STAMPS_PER_CALL

    @min_interval.validator
    def _check_interval(self, attribute: Any, value: timedelta | None) -> None:
        if value is not None and value <= timedelta(0):
            raise ValidationError(
                "must be positive",
                field="min_interval",
                value=value,
                fix="give e.g. timedelta(minutes=5), or None for no limit",
            )


def _check_zone(instance: object, attribute: Any, value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValidationError(
            "is not an IANA time zone",
            field="timezone",
            value=value,
            fix="use a zone name such as 'Asia/Tashkent' or 'UTC'",
        ) from None


def _check_language(instance: object, attribute: Any, value: str) -> None:
    check_language(value, field=attribute.name)


@attrs.frozen(kw_only=True)
class Program:
    """A stamp program: collect *goal* stamps, get *reward* as a Smart Voucher.

    >>> program = Program(
    ...     id="coffee", name="Coffee card",
    ...     brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
    ...     goal=10, reward=Reward(title="Free coffee", description="Any size"),
    ...     redemption=RedemptionMethod.REDEEM_CODE,
    ... )
    >>> program.goal, program.version, program.languages
    (10, 1, ('en',))
    """

    id: str = attrs.field(validator=identifier)
    name: LocalizedText = attrs.field(converter=to_text, validator=is_text)
    brand: Brand = attrs.field(validator=instance_of(Brand))
    goal: int = attrs.field(validator=[positive, at_most(MAX_GOAL)])
    reward: Reward = attrs.field(validator=instance_of(Reward))
    redemption: RedemptionMethod = attrs.field(validator=instance_of(RedemptionMethod))
    validity: Validity = attrs.field(factory=Validity, validator=instance_of(Validity))
    version: int = attrs.field(default=1, validator=positive)
    default_language: str = attrs.field(default="en", validator=_check_language)
    timezone: str = attrs.field(default="UTC", validator=_check_zone)
    earn_policy: EarnPolicy | None = attrs.field(
        default=None, validator=instance_of(EarnPolicy, optional=True)
    )
    overflow: Overflow = attrs.field(default=Overflow.CARRY_OVER, validator=instance_of(Overflow))
    code_symbology: Symbology = attrs.field(default=Symbology.QR, validator=instance_of(Symbology))
    stamp_label: LocalizedText = attrs.field(
        default=LocalizedText(default="Stamps"), converter=to_text, validator=is_text
    )
    stamp_expiry: StampExpiry = attrs.field(factory=StampExpiry, validator=instance_of(StampExpiry))
    """When uncollected stamps lapse (never, by default)."""
    card_validity: CardValidity = attrs.field(factory=CardValidity, validator=instance_of(CardValidity))
    """How long a card is valid (always, by default)."""
    earn_by_amount: EarnByAmount | None = attrs.field(
        default=None, validator=instance_of(EarnByAmount, optional=True)
    )
    """Earning by the amount spent (``StampCard.add_purchase``) beside per visit; None: per visit only."""
    kind: ProgramKind = attrs.field(default=ProgramKind.STAMPS, validator=instance_of(ProgramKind))
    """Stamps towards a goal, or a prepaid punch card (:class:`ProgramKind`)."""
    punches: int | None = attrs.field(default=None, validator=[positive, at_most(MAX_GOAL)])
    """The punches a prepaid card is sold with (``kind=ProgramKind.PREPAID`` only)."""

    @punches.validator
    def _check_punches(self, attribute: Any, value: int | None) -> None:
        if (self.kind is ProgramKind.PREPAID) != (value is not None):
            raise ValidationError(
                "is given with kind='prepaid', and only then", field="punches", value=value,
                fix="a prepaid program says how many punches its cards are sold with, e.g. punches=10",
            )

    milestones: tuple[Milestone, ...] = attrs.field(default=(), converter=_milestone_tuple)
    """Interim rewards below the goal, in rising order of stamps (see :class:`Milestone`)."""

    @milestones.validator
    def _check_milestones(self, attribute: Any, value: tuple[Milestone, ...]) -> None:
        if len(value) > MAX_MILESTONES:
            raise ValidationError(f"has {len(value)} milestones, more than {MAX_MILESTONES}",
                                  field="milestones", value=len(value), fix="keep a few interim rewards")
        previous = 0
        for index, milestone in enumerate(value):
            if not isinstance(milestone, Milestone):
                raise ValidationError("must hold Milestone objects", field=f"milestones[{index}]",
                                      value=type(milestone).__name__, fix="pass Milestone(at=..., ...)")
            if not previous < milestone.at < self.goal:
                raise ValidationError(
                    f"must be above {previous} and below the goal of {self.goal}",
                    field=f"milestones[{index}].at", value=milestone.at,
                    fix="give each milestone a stamp count between the one before it and the goal",
                )
            previous = milestone.at

    def texts(self) -> Iterator[LocalizedText]:
        """Every localisable text of the program."""
        yield self.name
        yield self.brand.name
        yield self.stamp_label
        yield from self.reward.texts()
        for milestone in self.milestones:
            yield from milestone.reward.texts()

    @functools.cached_property
    def languages(self) -> tuple[str, ...]:
        """The default language first, then every language any of its texts is translated into."""
        found = {lang for text in self.texts() for lang in text.languages} - {self.default_language}
        return (self.default_language, *sorted(found))

    @functools.cached_property
    def zone(self) -> ZoneInfo:
        """The program's time zone (looked up once: every stamp reads it several times)."""
        return ZoneInfo(self.timezone)

    def revise(self, **changes: Any) -> Program:
        """A new version of the program with *changes*; cards move to it at their next cycle.

        ``program.revise(goal=8)`` returns version 2 with a goal of 8; validators run again.
        """
        allowed = {a.name for a in attrs.fields(Program)} - {"version"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ValidationError(
                "are not fields a revision can change", field="changes", value=unknown,
                fix="change goal, reward, validity... (the version is counted for you)",
            )
        return attrs.evolve(self, version=self.version + 1, **changes)

    @property
    def max_stamps_per_call(self) -> int:
        """The most stamps one ``add_stamps`` call may add (the earn policy's, else 10,000)."""
        return self.earn_policy.per_call_limit if self.earn_policy else DEFAULT_MAX_STAMPS_PER_CALL
