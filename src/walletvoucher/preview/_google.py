"""Google Wallet, front and back of the pass: drawn from the class and object, as Wallet lays them out.

Loyalty card: the round program logo and the issuer name, the program name, the points (label and
balance) with the secondary points beside them, the barcode with its alternate text on white, and the
hero image along the bottom. Offer: the title image and provider, the title, the validity, the barcode.
Text colour is picked for contrast with the pass colour, as Google does. An object whose state is not
``ACTIVE`` is dimmed grey with a band under its content naming the state in the preview's language
(:mod:`._status`): "Redeemed" for a ``COMPLETED`` offer, "Completed", "Expired", "Inactive".

The back (:func:`draw_google_back`) is the details view: the messages shown at the time given (their
``displayInterval``), the text modules (header over body; the object's, then the class's), the validity
and the links, in the preview's language.

Images are URLs in the objects; a preview never fetches them: pass their bytes in ``images`` (URL ->
PNG). A logo not given becomes a monogram; a hero image not given leaves its slot out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from PIL import Image, ImageDraw

from walletvoucher.codes import Symbology
from walletvoucher.codes._rotating import totp
from walletvoucher.preview._back import MAX_ROWS, BackRow, draw_back
from walletvoucher.preview._canvas import (
    BAND_GAP,
    RGB,
    BarcodeStyle,
    Box,
    Pen,
    band_bottom,
    barcode_box,
    grey_out,
    monogram,
    open_image,
    parse_colour,
    paste_fit,
    readable_on,
    round_corners,
)
from walletvoucher.preview._picture import Picture, finish, parse_date, show_date
from walletvoucher.preview._status import back_word, status_word

WIDTH = 375
PAD = 16
RADIUS = 20
HERO_RATIO = 1032 / 336
"""Google's recommended hero image size (width / height)."""
DEFAULT_BACKGROUND: RGB = (66, 133, 244)
TYPES: dict[str, Symbology] = {
    "QR_CODE": Symbology.QR,
    "CODE_128": Symbology.CODE_128,
    "EAN_13": Symbology.EAN_13,
    "UPC_A": Symbology.UPC_A,
    "PDF_417": Symbology.PDF417,
    "AZTEC": Symbology.AZTEC,
}
"""Google's barcode types -> the symbology our writers draw them in (``TEXT_ONLY`` shows the text)."""


class _View:
    """A class and an object read in one language; the object's fields win over the class's."""

    def __init__(
        self,
        class_body: Mapping[str, Any],
        object_body: Mapping[str, Any],
        language: str | None,
        images: Mapping[str, bytes],
    ) -> None:
        self.cls, self.obj, self.lang, self.images = class_body, object_body, language, images
        self.at: datetime | None = None

    def get(self, name: str) -> Any:
        return self.obj.get(name, self.cls.get(name))

    def text(self, name: str, body: Mapping[str, Any] | None = None) -> str:
        """``localizedName`` in the chosen language, else ``name``."""
        sources = [body] if body is not None else [self.obj, self.cls]
        for source in sources:
            localized = source.get("localized" + name[0].upper() + name[1:])
            found = _pick_localized(localized, self.lang)
            if found:
                return found
            plain = source.get(name)
            if isinstance(plain, str) and plain:
                return plain
        return ""

    def image(self, name: str) -> Image.Image | None:
        value = self.get(name)
        uri = value.get("sourceUri", {}).get("uri") if isinstance(value, dict) else None
        return open_image(self.images.get(uri)) if isinstance(uri, str) else None

    @property
    def is_offer(self) -> bool:
        return "title" in self.cls or "provider" in self.cls


def _pick_localized(localized: object, language: str | None) -> str | None:
    if not isinstance(localized, dict):
        return None
    values = [v for v in localized.get("translatedValues") or [] if isinstance(v, dict)]
    if language:
        wanted = language.lower()
        exact = [v for v in values if str(v.get("language", "")).lower() == wanted]
        base = [v for v in values if str(v.get("language", "")).lower().split("-")[0] == wanted.split("-")[0]]
        for entry in exact + base:
            if isinstance(entry.get("value"), str):
                return str(entry["value"])
    default = localized.get("defaultValue")
    return (
        str(default["value"]) if isinstance(default, dict) and isinstance(default.get("value"), str) else None
    )


def balance_text(points: object) -> str:
    """A ``LoyaltyPointsBalance`` as shown: string, int, double or money.

    >>> balance_text({"balance": {"string": "7/10"}}), balance_text({"balance": {"int": 2}})
    ('7/10', '2')
    >>> balance_text({"balance": {"money": {"micros": "4500000", "currencyCode": "USD"}}})
    '4.50 USD'
    """
    balance = points.get("balance") if isinstance(points, dict) else None
    if not isinstance(balance, dict):
        return ""
    if isinstance(balance.get("string"), str):
        return str(balance["string"])
    for key in ("int", "double"):
        if isinstance(balance.get(key), (int, float, str)):
            return str(balance[key])
    money = balance.get("money")
    if isinstance(money, dict):
        try:
            return f"{int(money.get('micros', 0)) / 1_000_000:.2f} {money.get('currencyCode', '')}".strip()
        except (TypeError, ValueError):
            return ""
    return ""


def draw_google(
    class_body: Mapping[str, Any],
    object_body: Mapping[str, Any],
    *,
    language: str | None = None,
    images: Mapping[str, bytes] | None = None,
    scale: int = 2,
    at: datetime | None = None,
) -> Picture:
    """Draw the front of a Google pass (see :func:`walletvoucher.preview.preview_google`)."""
    view = _View(class_body, object_body, language, images or {})
    view.at = at
    background = parse_colour(view.get("hexBackgroundColor"), DEFAULT_BACKGROUND)
    fg = readable_on(background)
    pen = Pen(Image.new("RGBA", (WIDTH * scale, 1200 * scale), (*background, 255)), scale)
    regions: dict[str, Box] = {}
    issuer = view.text("provider") if view.is_offer else ""
    issuer = issuer or view.text("issuerName")
    logo = view.image("titleImage" if view.is_offer else "programLogo") or view.image("programLogo")
    logo_box = pen.box(PAD, PAD, PAD + 40, PAD + 40)
    if logo is not None:
        _round_logo(pen, logo, logo_box)
    else:
        monogram(pen, logo_box, issuer, fg, background, circle=True)
    regions["logo"] = logo_box
    regions["logo_text"] = pen.text(
        PAD + 52, PAD + 26, issuer, size=15, fill=fg, max_width=WIDTH - PAD * 2 - 52
    )
    pen.draw.line(pen.box(0, 72, WIDTH, 72), fill=_mix(fg, background), width=max(1, pen.scale // 2))
    title = view.text("title") if view.is_offer else view.text("programName")
    if title:
        regions["title"] = pen.text(PAD, 108, title, size=22, fill=fg, max_width=WIDTH - 2 * PAD)
    y = _offer_row(pen, view, fg, regions) if view.is_offer else _points_row(pen, view, fg, regions)
    y = _barcode(pen, view, y, regions)
    y = _hero(pen, view, y, regions)
    word = _status(view)
    height = round(max(y if word is None else band_bottom(y), 360))
    card = round_corners(pen.image.crop((0, 0, WIDTH * scale, height * scale)), RADIUS * scale)
    pen = Pen(card, scale, pen.notes)
    regions["card"] = (0, 0, card.width, card.height)
    if word is not None:
        regions["status"] = grey_out(pen, word.upper(), RADIUS * scale, top=y + BAND_GAP)
    return finish(pen, regions)


_STATES = {"COMPLETED": "completed", "EXPIRED": "expired", "INACTIVE": "inactive"}
"""Google's object states -> the band's word (an offer that is ``COMPLETED`` was redeemed)."""


def _status(view: _View) -> str | None:
    """The status band's word in the preview's language; ``None`` for an ``ACTIVE`` (or stateless) object."""
    state = view.obj.get("state")
    if not isinstance(state, str) or state.upper() == "ACTIVE":
        return None
    name = _STATES.get(state.upper(), "inactive")
    if name == "completed" and view.is_offer:
        name = "redeemed"
    return status_word(name, view.lang)


def _mix(a: RGB, b: RGB) -> RGB:
    return (round(a[0] * 0.3 + b[0] * 0.7), round(a[1] * 0.3 + b[1] * 0.7), round(a[2] * 0.3 + b[2] * 0.7))


def _round_logo(pen: Pen, logo: Image.Image, box: Box) -> None:
    side = box[2] - box[0]
    tile = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    paste_fit(tile, logo, (0, 0, side, side), cover=True)
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side - 1, side - 1), fill=255)
    pen.image.paste(tile, (box[0], box[1]), mask)


def _points_row(pen: Pen, view: _View, fg: RGB, regions: dict[str, Box]) -> float:
    columns = [view.obj.get("loyaltyPoints"), view.obj.get("secondaryLoyaltyPoints")]
    shown = [p for p in columns if isinstance(p, dict)]
    half = (WIDTH - 2 * PAD) / 2
    for index, points in enumerate(shown):
        x = PAD + half * index
        pen.text(x, 140, view.text("label", points), size=12, fill=fg, max_width=half - 8)
        pen.text(x, 168, balance_text(points), size=24, fill=fg, max_width=half - 8, bold=True)
    if shown:
        regions["points"] = pen.box(PAD, 124, WIDTH - PAD, 176)
    return 180 if shown else 124


def _offer_row(pen: Pen, view: _View, fg: RGB, regions: dict[str, Box]) -> float:
    interval = view.obj.get("validTimeInterval")
    end = interval.get("end") if isinstance(interval, dict) else None
    moment = parse_date(end.get("date")) if isinstance(end, dict) else None
    if moment is None:
        return 124
    pen.text(PAD, 140, "Valid until", size=12, fill=fg, max_width=WIDTH - 2 * PAD)
    pen.text(PAD, 164, show_date(moment, with_time=False), size=18, fill=fg, max_width=WIDTH - 2 * PAD)
    regions["validity"] = pen.box(PAD, 124, WIDTH - PAD, 172)
    return 176


_BARCODE = BarcodeStyle(square=180, pad=10, radius=12, margin=14, fallback=(240, 36), text_size=18, bold=True)


def rotating_value(rotating: Mapping[str, Any], at: datetime | None) -> str | None:
    """What Google Wallet shows for a ``rotatingBarcode`` at *at* (the Unix epoch when None): its
    ``valuePattern`` with ``{totp_timestamp_seconds}``, ``{totp_timestamp_millis}`` and
    ``{totp_value_n}`` filled in (RFC 6238 over each parameter's key); None when it is malformed."""
    pattern, details = rotating.get("valuePattern"), rotating.get("totpDetails")
    if not isinstance(pattern, str) or len(pattern) > 2000 or not isinstance(details, dict):
        return None
    seconds = int(at.timestamp()) if at is not None else 0
    try:
        period = max(1, int(str(details.get("periodMillis", "30000"))[:12]) // 1000)
        values = {
            f"{{totp_value_{n}}}": totp(bytes.fromhex(str(p["key"])[:256]), seconds // period,
                                        digits=min(10, int(p.get("valueLength", 6))))
            for n, p in enumerate(details.get("parameters") or []) if isinstance(p, dict)
        }  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return None
    values |= {"{totp_timestamp_seconds}": str(seconds), "{totp_timestamp_millis}": str(seconds * 1000)}
    for placeholder, value in values.items():
        pattern = pattern.replace(placeholder, value)
    return pattern


def _barcode(pen: Pen, view: _View, y: float, regions: dict[str, Box]) -> float:
    barcode = view.obj.get("barcode")
    rotating = view.obj.get("rotatingBarcode")
    if isinstance(rotating, dict):
        value = rotating_value(rotating, view.at)
        barcode = None if value is None else {**rotating, "value": value}
    if not isinstance(barcode, dict) or not isinstance(barcode.get("value"), str):
        return y
    regions["barcode"], bottom = barcode_box(
        pen, value=str(barcode["value"]), symbology=TYPES.get(str(barcode.get("type"))),
        alt=barcode.get("alternateText"), top=y, width=WIDTH, style=_BARCODE,
    )
    return bottom + 16


def _hero(pen: Pen, view: _View, y: float, regions: dict[str, Box]) -> float:
    hero = view.image("heroImage")
    if hero is None:
        return y + 8
    box = pen.box(0, y, WIDTH, y + WIDTH / HERO_RATIO)
    regions["hero"] = paste_fit(pen.image, hero, box, cover=True)
    return y + WIDTH / HERO_RATIO


def draw_google_back(
    class_body: Mapping[str, Any],
    object_body: Mapping[str, Any],
    *,
    language: str | None = None,
    scale: int = 2,
    at: datetime | None = None,
) -> Picture:
    """Draw the back (details view) of a Google pass: messages, text modules, validity, links."""
    view = _View(class_body, object_body, language, {})
    title = view.text("title") if view.is_offer else view.text("programName")
    rows = [*_messages(view, at), *_modules(view), *_validity(view), *_links(view)]
    return draw_back(title or view.text("issuerName"), rows, language=language, scale=scale)


def _listed(view: _View, name: str) -> list[dict[str, Any]]:
    """The object's entries of list *name*, then the class's (each source's first :data:`MAX_ROWS`)."""
    found: list[dict[str, Any]] = []
    for source in (view.obj, view.cls):
        entries = source.get(name)
        if isinstance(entries, list):
            found += [e for e in entries[:MAX_ROWS] if isinstance(e, dict)]
    return found


def _messages(view: _View, at: datetime | None) -> list[BackRow]:
    """Messages Google shows at *at*: those whose ``displayInterval`` holds it (all when *at* is None)."""
    return [BackRow(label=view.text("header", m), value=view.text("body", m))
            for m in _listed(view, "messages") if at is None or _shown_at(m.get("displayInterval"), at)]


def _shown_at(interval: object, at: datetime) -> bool:
    if not isinstance(interval, dict):
        return True
    for edge, after in (("start", True), ("end", False)):
        moment = interval.get(edge)
        when = parse_date(moment.get("date")) if isinstance(moment, dict) else None
        if when is not None and when.tzinfo is not None and (at < when if after else at >= when):
            return False
    return True


def _modules(view: _View) -> list[BackRow]:
    return [BackRow(label=view.text("header", m), value=view.text("body", m))
            for m in _listed(view, "textModulesData")]


def _validity(view: _View) -> list[BackRow]:
    interval = view.obj.get("validTimeInterval")
    end = interval.get("end") if isinstance(interval, dict) else None
    moment = parse_date(end.get("date")) if isinstance(end, dict) else None
    if moment is None:
        return []
    return [BackRow(label=back_word("valid_until", view.lang), value=show_date(moment, with_time=True))]


def _links(view: _View) -> list[BackRow]:
    rows = []
    for source in (view.obj, view.cls):
        module = source.get("linksModuleData")
        uris = module.get("uris") if isinstance(module, dict) else None
        for uri in uris[:MAX_ROWS] if isinstance(uris, list) else []:
            if isinstance(uri, dict) and isinstance(uri.get("uri"), str):
                rows.append(BackRow(label=view.text("description", uri), value=str(uri["uri"])))
    return rows
