"""Small attrs validators shared by the model: each names the field, the value and the fix.

Every wrong type is a :class:`~walletvoucher.errors.ValidationError` naming the field (never the
``TypeError`` attrs' own validators raise), and date arithmetic near year 1 or 9999 raises one too
(never ``OverflowError``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import attrs

from walletvoucher.errors import ValidationError

_IDENT = re.compile(r"[A-Za-z0-9_-]{1,56}")

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def aware(instance: object, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    """Only timezone-aware datetimes (or None) are accepted."""
    if value is None:
        return
    if not isinstance(value, datetime):
        raise ValidationError(
            "must be a datetime", field=attribute.name, value=value, fix="pass a timezone-aware datetime"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            "must be timezone-aware",
            field=attribute.name,
            value=value,
            fix="pass datetime(..., tzinfo=timezone.utc) or a ZoneInfo zone",
        )


def is_aware(value: object) -> bool:
    """Whether :func:`aware` accepts *value* other than None (a timezone-aware datetime), as a test."""
    return isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() is not None


def check_at(at: datetime, field: str = "at") -> datetime:
    """Check a transition's clock argument and return it."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(
            "must be a timezone-aware datetime",
            field=field,
            value=at,
            fix="pass datetime(..., tzinfo=timezone.utc)",
        )
    return at


def identifier(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """Ids and serials: 1-56 characters of A-Z a-z 0-9 _ - (safe in URLs, file names and QR codes)."""
    check_identifier(value, attribute.name)


def check_identifier(value: object, field: str) -> str:
    """The check behind :func:`identifier`, for plain arguments (a trailing newline is refused)."""
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise ValidationError(
            "must be 1-56 characters of A-Z a-z 0-9 _ -",
            field=field,
            value=value,
            fix="use letters, digits, '_' and '-' only",
        )
    return value


def _whole(name: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValidationError(
            f"must be a whole number of {minimum} or more",
            field=name,
            value=value,
            fix=f"give {name} as {minimum} or more",
        )


def positive(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    """An int of 1 or more (None allowed where the field is optional)."""
    if value is not None:
        _whole(attribute.name, value, 1)


def at_most(limit: int) -> Validator:
    """A validator refusing an int above *limit* (a huge number would overflow what is drawn or stored)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
        if isinstance(value, int) and value > limit:
            raise ValidationError(
                f"must be at most {limit}", field=attribute.name,
                value=value if value.bit_length() < 64 else f"<about 10**{int(value.bit_length() * 0.301)}>",
                fix=f"give {attribute.name} as {limit} or less",
            )

    return check


def non_negative(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    """An int of 0 or more."""
    _whole(attribute.name, value, 0)


def instance_of(*types: type, optional: bool = False, hint: str | None = None) -> Validator:
    """A validator raising :class:`ValidationError` (not attrs' ``TypeError``) for a value of another type."""
    names = " or ".join(t.__name__ for t in types) + (" or None" if optional else "")

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if (value is None and optional) or (isinstance(value, types) and not isinstance(value, bool)):
            return
        raise ValidationError(
            f"must be {names}, not {type(value).__name__}",
            field=attribute.name,
            value=_short(value),
            fix=hint or f"pass {names}",
        )

    return check


def optional_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """None or a str."""
    if value is not None and not isinstance(value, str):
        raise ValidationError(
            f"must be text or None, not {type(value).__name__}", field=attribute.name, value=_short(value),
            fix="pass a str",
        )


def _short(value: object) -> object:
    text = repr(value) if not isinstance(value, (str, int, float)) else value
    if isinstance(text, str) and len(text) > 80:
        return text[:77] + "..."
    return text


def shift(moment: datetime, delta: timedelta, field: str) -> datetime:
    """``moment + delta``, or a :class:`ValidationError` past the ends of the calendar (year 1 / 9999)."""
    try:
        return moment + delta
    except OverflowError:
        raise ValidationError(
            f"{moment.isoformat()} + {delta} is outside the calendar (years 1-9999)",
            field=field,
            value=moment.isoformat(),
            fix="use times and durations that stay within years 1-9999",
        ) from None


def local_date(moment: datetime, zone: tzinfo, field: str = "at") -> date:
    """The calendar date of *moment* in *zone*, or a :class:`ValidationError` at the calendar's ends."""
    try:
        return moment.astimezone(zone).date()
    except (OverflowError, ValueError):
        raise ValidationError(
            "is too close to year 1 or 9999 to be shown in the program's time zone",
            field=field,
            value=moment.isoformat(),
            fix="use a time within years 1-9999 in every time zone",
        ) from None
