"""Small attrs validators shared by the model: each names the field, the value and the fix."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import attrs

from walletvoucher.errors import ValidationError

_IDENT = re.compile(r"^[A-Za-z0-9_-]{1,56}$")


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
    if not isinstance(value, str) or not _IDENT.match(value):
        raise ValidationError(
            "must be 1-56 characters of A-Z a-z 0-9 _ -",
            field=attribute.name,
            value=value,
            fix="use letters, digits, '_' and '-' only",
        )


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


def non_negative(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    """An int of 0 or more."""
    _whole(attribute.name, value, 0)
