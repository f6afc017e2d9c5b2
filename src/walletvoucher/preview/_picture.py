"""What a preview returns: the PNG, and where each part of the pass was drawn."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from walletvoucher.errors import MissingGlyphWarning
from walletvoucher.preview._canvas import Box, Pen, to_png

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\Z")


def _frozen_regions(regions: Mapping[str, Box]) -> Mapping[str, Box]:
    return MappingProxyType(dict(regions))


@attrs.frozen(kw_only=True)
class Picture:
    """A drawn pass: ``png`` bytes of ``size`` pixels; ``regions`` maps a part's name to its pixel box;
    ``warnings`` the texts of the :class:`~walletvoucher.errors.MissingGlyphWarning` raised while drawing.

    Regions (when drawn): ``card``, ``logo``, ``logo_text``, ``header``, ``strip``, ``primary``,
    ``fields``, ``barcode``, ``hero``, ``points``, ``title`` and ``validity`` (a Google offer's),
    ``status`` (the voided / expired band, under everything else).
    """

    png: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    size: tuple[int, int]
    regions: Mapping[str, Box] = attrs.field(converter=_frozen_regions)
    warnings: tuple[str, ...] = ()


def finish(pen: Pen, regions: Mapping[str, Box]) -> Picture:
    """The picture on *pen*'s canvas; each of its notes (a text no shipped font draws) is raised as a
    :class:`~walletvoucher.errors.MissingGlyphWarning` and kept in ``warnings``."""
    for note in pen.notes:
        warnings.warn(note, MissingGlyphWarning, stacklevel=4)
    return Picture(png=to_png(pen.image), size=pen.image.size, regions=regions, warnings=tuple(pen.notes))


def parse_date(text: object) -> datetime | None:
    """A W3C / ISO 8601 date from a pass, or ``None`` when it is not one.

    >>> parse_date("2026-06-06T15:30:00+05:00").hour, parse_date("soon")
    (15, None)
    """
    if not isinstance(text, str) or not _W3C.match(text.strip()):
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def show_date(moment: datetime, *, with_time: bool) -> str:
    """A date as the pass shows it, in the pass's own zone, the same on every machine.

    >>> show_date(datetime(2026, 6, 6, 15, 30), with_time=True)
    '6 Jun 2026, 15:30'
    """
    day = f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"
    return f"{day}, {moment:%H:%M}" if with_time else day
