"""Stamp programs: the goal, the reward, how vouchers are redeemed and how long they are valid."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from walletvoucher.codes import Symbology
from walletvoucher.errors import ValidationError
from walletvoucher.model._brand import Brand
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

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (rebuild with :meth:`from_json`)."""
        return {
            "title": self.title.to_json(),
            "description": self.description.to_json(),
            "terms": self.terms.to_json() if self.terms else None,
            "value": {"amount": str(self.value.amount), "currency": self.value.currency}
            if self.value
            else None,
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

    def __attrs_post_init__(self) -> None:
        if self.days is not None and self.until is not None:
            raise ValidationError(
                "give days or until, not both",
                field="validity",
                value=(self.days, self.until),
                fix="use Validity.for_days(...) or Validity.fixed(...)",
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
    def fixed(cls, until: datetime, *, start_delay: timedelta = timedelta(0)) -> Validity:
        """Vouchers expire at a fixed moment (e.g. the end of a campaign)."""
        return cls(until=until, start_delay=start_delay)

    def window(self, issued_at: datetime) -> tuple[datetime, datetime | None]:
        """``(valid_from, expires_at)`` for a voucher issued at *issued_at*.

        A window that would end past year 9999 raises :class:`~walletvoucher.errors.ValidationError`.
        """
        valid_from = shift(issued_at, self.start_delay, "validity.start_delay")
        if self.days is not None:
            return valid_from, shift(valid_from, timedelta(days=self.days), "validity.days")
        return valid_from, self.until


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

    def texts(self) -> Iterator[LocalizedText]:
        """Every localisable text of the program."""
        yield self.name
        yield self.brand.name
        yield self.stamp_label
        yield from self.reward.texts()

    @functools.cached_property
    def languages(self) -> tuple[str, ...]:
        """The default language first, then every language any of its texts is translated into."""
        found = {lang for text in self.texts() for lang in text.languages} - {self.default_language}
        return (self.default_language, *sorted(found))

    @property
    def zone(self) -> ZoneInfo:
        """The program's time zone."""
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
