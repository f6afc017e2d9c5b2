"""Redemption context: where, through which channel, when and how often a reward may be redeemed.

A reward's :class:`RedemptionContext` is checked when a voucher is redeemed; a redemption outside it
raises :class:`~walletvoucher.errors.OutsideRedemptionContext` naming the rule (``field``:
``context.locations``, ``context.channels``, ``context.windows``, ``context.per_card``) and, where
there is one, the next moment it would be allowed; nothing changes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

import attrs

from walletvoucher.errors import OutsideRedemptionContext, ValidationError
from walletvoucher.model._validate import instance_of

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
VISIT_GAP = timedelta(hours=2)
"""``one_per_visit``: a card's redemptions at least this far apart count as separate visits."""
_WORDS: Mapping[str, tuple[tuple[str, ...], Mapping[str, str]]] = {
    # language: (Monday..Sunday abbreviated, {phrase: words})
    "en": (("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
           {"in_store": "in store", "online": "online", "one_per_day": "one per day",
            "one_per_visit": "one per visit"}),
    "zh-Hans": (("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
                {"in_store": "到店", "online": "线上", "one_per_day": "每天一次",
                 "one_per_visit": "每次到店一次"}),
    "zh-Hant": (("週一", "週二", "週三", "週四", "週五", "週六", "週日"),
                {"in_store": "到店", "online": "線上", "one_per_day": "每天一次",
                 "one_per_visit": "每次到店一次"}),
    "hi": (("सोम", "मंगल", "बुध", "गुरु", "शुक्र", "शनि", "रवि"),
           {"in_store": "स्टोर में", "online": "ऑनलाइन", "one_per_day": "दिन में एक बार",
            "one_per_visit": "हर विज़िट में एक बार"}),
    "th": (("จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส.", "อา."),
           {"in_store": "ที่ร้าน", "online": "ออนไลน์", "one_per_day": "วันละครั้ง",
            "one_per_visit": "ครั้งละหนึ่งต่อการมาเยือน"}),
    "uz": (("Du", "Se", "Ch", "Pa", "Ju", "Sh", "Ya"),
           {"in_store": "do'konda", "online": "onlayn", "one_per_day": "kuniga bir marta",
            "one_per_visit": "har tashrifda bir marta"}),
    "ru": (("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"),
           {"in_store": "в магазине", "online": "онлайн", "one_per_day": "раз в день",
            "one_per_visit": "раз за визит"}),
    "de": (("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
           {"in_store": "im Laden", "online": "online", "one_per_day": "einmal pro Tag",
            "one_per_visit": "einmal pro Besuch"}),
    "fr": (("lun", "mar", "mer", "jeu", "ven", "sam", "dim"),
           {"in_store": "en magasin", "online": "en ligne", "one_per_day": "une fois par jour",
            "one_per_visit": "une fois par visite"}),
    "es": (("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
           {"in_store": "en tienda", "online": "en línea", "one_per_day": "una vez al día",
            "one_per_visit": "una vez por visita"}),
    "ar": (("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"),
           {"in_store": "في المتجر", "online": "عبر الإنترنت", "one_per_day": "مرة في اليوم",
            "one_per_visit": "مرة في كل زيارة"}),
}
"""The words of :meth:`RedemptionContext.describe` in the languages walletvoucher ships."""


def words_for(language: str | None) -> tuple[tuple[str, ...], Mapping[str, str]]:
    """The day names and phrases for a BCP 47 *language* (English when it has none)."""
    parts = (language or "en").replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return _WORDS["zh-Hant" if {"hant", "tw", "hk", "mo"} & set(parts[1:]) else "zh-Hans"]
    return _WORDS.get(parts[0], _WORDS["en"])


_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_WINDOW_FIX = 'write windows = [{ days = "mon-fri", from = "14:00", to = "17:00" }]'
_LOCATION = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class Channel(enum.Enum):
    """Where the customer redeems."""

    IN_STORE = "in_store"
    ONLINE = "online"


class PerCard(enum.Enum):
    """How often one card may redeem this reward."""

    ONE_PER_VISIT = "one_per_visit"
    """Not twice within :data:`VISIT_GAP` (one visit)."""
    ONE_PER_DAY = "one_per_day"
    """Not twice on one calendar day in the program's time zone."""


def parse_days(text: str) -> frozenset[int]:
    """``"mon-fri"``, ``"sat,sun"``, ``"fri-mon"`` -> weekday numbers (Monday 0).

    >>> sorted(parse_days("fri-mon"))
    [0, 4, 5, 6]
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("must name days such as 'mon-fri' or 'sat,sun'", field="context.windows.days",
                              value=text, fix="write days = \"mon-fri\"")
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e not in DAY_NAMES for e in ends):
            raise ValidationError("is not a day or a range of days", field="context.windows.days", value=part,
                                  fix=f"use {', '.join(DAY_NAMES)}, e.g. 'mon-fri' or 'sat,sun'")
        first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


def _clock(value: time | str) -> time:
    if isinstance(value, time):
        return value
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError("is not a time of day HH:MM", field="context.windows", value=value,
                              fix='write e.g. from = "14:00", to = "17:00"')
    return time(int(match[1]), int(match[2]))


def _day_set(value: str | Iterable[int]) -> frozenset[int]:
    days = parse_days(value) if isinstance(value, str) else frozenset(value)
    if not days or not days <= set(range(7)):
        raise ValidationError("must name weekdays", field="context.windows.days", value=sorted(days)[:8],
                              fix="write days = \"mon-fri\"")
    return days


@attrs.frozen(kw_only=True)
class TimeWindow:
    """Weekdays and hours, in the program's time zone; ``end`` at or before ``start`` runs past
    midnight into the next day (the days name the day a window starts)."""

    days: frozenset[int] = attrs.field(converter=_day_set)
    start: time = attrs.field(converter=_clock)
    end: time = attrs.field(converter=_clock)

    def opens(self, local: datetime) -> datetime | None:
        """The window's opening moment containing naive local time *local*, if it is open then."""
        for back in (0, 1):
            day = (local - timedelta(days=back)).date()
            opening = datetime.combine(day, self.start)
            closing = datetime.combine(day + timedelta(days=1 if self.end <= self.start else 0), self.end)
            if day.weekday() in self.days and opening <= local < closing:
                return opening
        return None

    def next_opening(self, local: datetime) -> datetime:
        """The first opening at or after naive local time *local*."""
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            opening = datetime.combine(day, self.start)
            if day.weekday() in self.days and opening >= local:
                return opening
        raise AssertionError("a window with days opens within a week")  # pragma: no cover

    def describe(self, language: str | None = None) -> str:
        """``Mon-Fri 14:00-17:00`` (the day names in *language*)."""
        return f"{_describe_days(self.days, words_for(language)[0])} {self.start:%H:%M}-{self.end:%H:%M}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"days": ",".join(DAY_NAMES[d] for d in sorted(self.days)), "from": f"{self.start:%H:%M}",
                "to": f"{self.end:%H:%M}"}


def _describe_days(days: frozenset[int], shown: tuple[str, ...]) -> str:
    names = [shown[d] for d in sorted(days)]
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{names[0]}-{names[-1]}"
    return ", ".join(names)


def _items(value: Iterable[Any], field: str) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError("must be a list", field=field, value=type(value).__name__,
                              fix="pass a list or tuple")
    return tuple(value)


def _locations(value: Iterable[str]) -> tuple[str, ...]:
    return _items(value, "context.locations")


def _channels(value: Iterable[Channel | str]) -> tuple[Channel, ...]:
    out = []
    for item in _items(value, "context.channels"):
        try:
            out.append(Channel(item))
        except ValueError:
            raise ValidationError("is not a channel", field="context.channels", value=repr(item)[:40],
                                  fix="use 'in_store' or 'online'") from None
    return tuple(out)


def _windows(value: Iterable[TimeWindow]) -> tuple[TimeWindow, ...]:
    return _items(value, "context.windows")


def _check_locations(instance: object, attribute: Any, value: tuple[str, ...]) -> None:
    for location in value:
        if not isinstance(location, str) or not _LOCATION.fullmatch(location):
            raise ValidationError("must be location ids of a-z 0-9 _ - (1-64)", field="context.locations",
                                  value=location, fix='write e.g. locations = ["chilonzor"]')


@attrs.frozen(kw_only=True)
class RedemptionContext:
    """Where (locations, channels), when (windows) and how often (per_card) a reward may be redeemed.

    Empty lists mean no limit. A redemption that names no location or channel passes those rules only
    when they are not set.

    >>> from zoneinfo import ZoneInfo
    >>> lunch = RedemptionContext(windows=(TimeWindow(days="mon-fri", start="12:00", end="14:00"),),
    ...                           locations=("chilonzor",))
    >>> lunch.describe()
    'Mon-Fri 12:00-14:00, chilonzor'
    """

    locations: tuple[str, ...] = attrs.field(default=(), converter=_locations, validator=_check_locations)
    channels: tuple[Channel, ...] = attrs.field(default=(), converter=_channels)
    windows: tuple[TimeWindow, ...] = attrs.field(default=(), converter=_windows)
    per_card: PerCard | None = attrs.field(default=None, validator=instance_of(PerCard, optional=True))

    @windows.validator
    def _check_windows(self, attribute: Any, value: tuple[TimeWindow, ...]) -> None:
        for window in value:
            if not isinstance(window, TimeWindow):
                raise ValidationError("must be TimeWindows", field="context.windows",
                                      value=repr(window)[:40], fix=_WINDOW_FIX)

    def check(self, *, at: datetime, zone: tzinfo, location: str | None, channel: Channel | None,
              last_redeemed_at: datetime | None) -> None:
        """Raise :class:`OutsideRedemptionContext` naming the first rule a redemption at *at* breaks."""
        if self.locations and location not in self.locations:
            raise OutsideRedemptionContext("may be redeemed only at " + ", ".join(self.locations),
                                           field="context.locations", value=location,
                                           fix="redeem it at one of those locations")
        if self.channels and (channel is None or Channel(channel) not in self.channels):
            raise OutsideRedemptionContext(
                "may be redeemed only " + " or ".join(c.value.replace("_", " ") for c in self.channels),
                field="context.channels", value=channel.value if isinstance(channel, Channel) else channel,
                fix="redeem it through one of those channels")
        local = at.astimezone(zone).replace(tzinfo=None)
        if self.windows and not any(w.opens(local) for w in self.windows):
            nxt = min(w.next_opening(local) for w in self.windows)
            raise OutsideRedemptionContext(
                "may be redeemed only " + "; ".join(w.describe() for w in self.windows),
                field="context.windows", value=at.isoformat(),
                fix=f"it can be redeemed from {_aware(nxt, zone).isoformat()}")
        self._check_per_card(at, zone, last_redeemed_at)

    def _check_per_card(self, at: datetime, zone: tzinfo, last: datetime | None) -> None:
        if self.per_card is None or last is None:
            return
        if self.per_card is PerCard.ONE_PER_VISIT and at < last + VISIT_GAP:
            nxt = last + VISIT_GAP
        elif self.per_card is PerCard.ONE_PER_DAY and _day(at, zone) == _day(last, zone):
            nxt = _aware(datetime.combine(_day(last, zone) + timedelta(days=1), time()), zone)
        else:
            return
        raise OutsideRedemptionContext(
            f"allows {self.per_card.value.replace('_', ' ')} per card; it redeemed at {last.isoformat()}",
            field="context.per_card", value=at.isoformat(), fix=f"it can be redeemed from {nxt.isoformat()}")

    def describe(self, language: str | None = None) -> str:
        """The context in plain words, in *language* where walletvoucher has its words (English else):
        ``"Mon-Fri 14:00-17:00, chilonzor"``; location ids are shown as they are."""
        phrases = words_for(language)[1]
        parts = [w.describe(language) for w in self.windows] + list(self.locations)
        parts += [phrases[c.value] for c in self.channels if len(self.channels) < len(Channel)]
        if self.per_card is not None:
            parts.append(phrases[self.per_card.value])
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (rebuild with :meth:`from_json`)."""
        return {"locations": list(self.locations), "channels": [c.value for c in self.channels],
                "windows": [w.to_json() for w in self.windows],
                "per_card": self.per_card.value if self.per_card else None}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RedemptionContext:
        """Rebuild from :meth:`to_json` output."""
        return cls(locations=raw.get("locations", ()), channels=raw.get("channels", ()),
                   windows=tuple(TimeWindow(days=w["days"], start=w["from"], end=w["to"])
                                 for w in raw.get("windows", ())),
                   per_card=PerCard(raw["per_card"]) if raw.get("per_card") else None)


def _day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def _aware(local: datetime, zone: tzinfo) -> datetime:
    return local.replace(tzinfo=zone, fold=0).astimezone(timezone.utc).astimezone(zone)
