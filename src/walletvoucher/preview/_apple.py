"""Apple Wallet, front and back of the pass: drawn from pass.json, the bundle's images and its lproj strings.

The layout follows Wallet's store card and coupon: logo, logo text and header fields on top, the strip
(with the primary field over it), secondary and auxiliary fields in a row, the barcode with its alt
text on white at the bottom. Other styles (generic, event ticket, boarding pass) are drawn in the same
frame without a strip. A ``voided`` pass, or one whose ``expirationDate`` has passed at ``at``, is
dimmed grey with a band under its content saying so in the pass's language (:mod:`._status`): its own
status field's word when it has one (a redeemed coupon says "Redeemed"), else "Void" or "Expired".
The back (:func:`draw_apple_back`) lists the ``backFields`` as Wallet's pass details do: each label over
its value, in the same language, dates formatted as on the front.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from PIL import Image

from walletvoucher._fonts import text_width
from walletvoucher.codes import Symbology
from walletvoucher.preview._back import MAX_ROWS, BackRow, draw_back
from walletvoucher.preview._bounds import bounded_line
from walletvoucher.preview._bundle import PassBundle
from walletvoucher.preview._canvas import (
    BAND_GAP,
    BLACK,
    RGB,
    WHITE,
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
    pick,
    round_corners,
)
from walletvoucher.preview._picture import Picture, finish, parse_date, show_date
from walletvoucher.preview._status import status_word

STYLES = ("boardingPass", "coupon", "eventTicket", "generic", "storeCard")
WIDTH = 375
PAD = 14
TOP = 54
STRIP_HEIGHTS = {"storeCard": 123, "coupon": 144}
MIN_HEIGHT = 420
RADIUS = 14
FORMATS: dict[str, Symbology] = {
    "PKBarcodeFormatQR": Symbology.QR,
    "PKBarcodeFormatPDF417": Symbology.PDF417,
    "PKBarcodeFormatAztec": Symbology.AZTEC,
    "PKBarcodeFormatCode128": Symbology.CODE_128,
}
"""Apple's barcode formats -> the symbology our writers draw them in."""
_CURRENCY = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "THB": "฿"}


class _View:
    """pass.json read with the chosen language's strings, every value checked before use."""

    def __init__(self, bundle: PassBundle, language: str | None) -> None:
        self.doc = bundle.pass_json
        self.lang = bundle.pick_language(language)
        self.band_lang = self.lang or language  # a pass without lproj folders: the language asked for
        self.strings: Mapping[str, str] = bundle.strings.get(self.lang, {}) if self.lang else {}
        self.files = bundle.files
        self.style = next((s for s in STYLES if isinstance(self.doc.get(s), dict)), "generic")
        body = self.doc.get(self.style)
        self.body: dict[str, Any] = body if isinstance(body, dict) else {}

    def text(self, value: object) -> str:
        """A pass text in the chosen language (pass.json texts are keys into pass.strings)."""
        if not isinstance(value, str):
            return ""
        return self.strings.get(value, value)

    def colour(self, key: str, default: RGB) -> RGB:
        return parse_colour(self.doc.get(key), default)

    def fields(self, kind: str) -> list[dict[str, Any]]:
        found = self.body.get(kind)
        if not isinstance(found, list):
            return []
        return [f for f in found if isinstance(f, dict) and "value" in f][:8]

    def image(self, name: str, scale: int) -> Image.Image | None:
        names = [f"{name}@{scale}x.png", f"{name}@3x.png", f"{name}@2x.png", f"{name}.png"]
        if self.lang:
            names = [f"{self.lang}.lproj/{n}" for n in names] + names
        return open_image(pick(self.files, names))

    def value(self, field: dict[str, Any]) -> str:
        """A field's value as Wallet shows it: localised text, formatted date, number with currency."""
        value = field.get("value")
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (int, float)):
            currency = field.get("currencyCode")
            if isinstance(currency, str):
                amount = f"{value:,.2f}"
                return f"{_CURRENCY[currency]}{amount}" if currency in _CURRENCY else f"{amount} {currency}"
            return f"{value:g}" if isinstance(value, float) else str(value)
        moment = parse_date(value) if "dateStyle" in field or "timeStyle" in field else None
        if moment is not None:
            return show_date(moment, with_time=field.get("timeStyle") not in (None, "PKDateStyleNone"))
        return self.text(value) if isinstance(value, str) else ""

    def barcode(self) -> dict[str, Any] | None:
        listed = self.doc.get("barcodes")
        candidates = listed if isinstance(listed, list) else [self.doc.get("barcode")]
        for barcode in candidates:
            if isinstance(barcode, dict) and isinstance(barcode.get("message"), str):
                return barcode
        return None

    def status(self, at: datetime | None) -> str | None:
        """The status band's word, in the pass's language; ``None`` while the pass is usable.

        A voided pass that says its own status (a field keyed ``status``, as walletvoucher's
        redeemed and voided coupons do) shows that word, so the band agrees with the pass.
        """
        if self.doc.get("voided") is True:
            own = next((self.value(f) for f in self.all_fields() if f.get("key") == "status"), "")
            return own.strip() or status_word("voided", self.band_lang)
        expires = parse_date(self.doc.get("expirationDate"))
        if at is not None and expires is not None and expires.tzinfo is not None and expires <= at:
            return status_word("expired", self.band_lang)
        return None

    def all_fields(self) -> list[dict[str, Any]]:
        """The front's fields, header first."""
        kinds = ("headerFields", "primaryFields", "secondaryFields", "auxiliaryFields")
        return [field for kind in kinds for field in self.fields(kind)]


def draw_apple(
    bundle: PassBundle, *, language: str | None = None, at: datetime | None = None, scale: int = 2
) -> Picture:
    """Draw the front of an Apple pass from its bundle (see :func:`walletvoucher.preview.preview_pkpass`)."""
    view = _View(bundle, language)
    background = view.colour("backgroundColor", WHITE)
    pen = Pen(Image.new("RGBA", (WIDTH * scale, 1400 * scale), (*background, 255)), scale)
    regions: dict[str, Box] = {}
    _top_row(pen, view, regions)
    y = _strip_and_primary(pen, view, regions)
    y = _field_rows(pen, view, view.fields("secondaryFields") + view.fields("auxiliaryFields"), y, regions)
    y = _barcode(pen, view, y, regions)
    word = view.status(at)
    height = max(MIN_HEIGHT, round(y + 18 if word is None else band_bottom(y)))
    card = round_corners(pen.image.crop((0, 0, WIDTH * scale, height * scale)), RADIUS * scale)
    pen = Pen(card, scale, pen.notes)
    regions["card"] = (0, 0, card.width, card.height)
    if word is not None:
        regions["status"] = grey_out(pen, word.upper(), RADIUS * scale, top=y + BAND_GAP)
    return finish(pen, regions)


def _top_row(pen: Pen, view: _View, regions: dict[str, Box]) -> None:
    fg, label = view.colour("foregroundColor", BLACK), view.colour("labelColor", BLACK)
    right: float = WIDTH - PAD
    for field in reversed(view.fields("headerFields")[:3]):
        value, caption = view.value(field), view.text(field.get("label")).upper()
        width = max(_width(pen, value, 17), _width(pen, caption, 10))
        width = min(width, 150)
        pen.text(right, 24, caption, size=10, fill=label, max_width=width, align="right")
        pen.text(right, 45, value, size=17, fill=fg, max_width=width, align="right")
        regions["header"] = pen.box(right - width, 10, WIDTH - PAD, 50)
        right -= width + 12
    logo = view.image("logo", pen.scale)
    logo_box = pen.box(PAD, 9, PAD + 160, 45)
    if logo is not None:
        logo_box = paste_fit(pen.image, logo, logo_box)
    else:
        name = view.text(view.doc.get("organizationName"))
        logo_box = pen.box(PAD, 9, PAD + 36, 45)
        monogram(pen, logo_box, name, fg, view.colour("backgroundColor", WHITE), circle=False)
    regions["logo"] = logo_box
    logo_text = view.text(view.doc.get("logoText"))
    left = logo_box[2] / pen.scale + 8
    if logo_text and right - left > 20:
        regions["logo_text"] = pen.text(
            left, 33, logo_text, size=17, fill=fg, max_width=right - left - 6, bold=True
        )


def _width(pen: Pen, text: str, size: float) -> float:
    return text_width(bounded_line(text)[0], pen.px(size)) / pen.scale + 1


def _strip_and_primary(pen: Pen, view: _View, regions: dict[str, Box]) -> float:
    fg, label = view.colour("foregroundColor", BLACK), view.colour("labelColor", BLACK)
    primary = view.fields("primaryFields")[:1]
    height = float(STRIP_HEIGHTS.get(view.style, 0))
    strip = view.image("strip", pen.scale) if height else None
    if strip is not None:
        regions["strip"] = paste_fit(pen.image, strip, pen.box(0, TOP, WIDTH, TOP + height), cover=True)
    elif primary:
        height = 78
    else:
        return TOP if not height else TOP + 8
    for field in primary:  # over the strip's bottom band, which walletvoucher's strips keep clear
        bottom = TOP + height
        pen.text(PAD, bottom - 32, view.value(field), size=30, fill=fg, max_width=WIDTH - 2 * PAD)
        pen.text(
            PAD,
            bottom - 12,
            view.text(field.get("label")).upper(),
            size=11,
            fill=label,
            max_width=WIDTH - 2 * PAD,
        )
        regions["primary"] = pen.box(PAD, bottom - 64, WIDTH - PAD, bottom - 6)
    return TOP + height


def _field_rows(
    pen: Pen, view: _View, fields: list[dict[str, Any]], y: float, regions: dict[str, Box]
) -> float:
    """Secondary and auxiliary fields, up to four a row; the font shrinks (as Wallet's does) to fit."""
    fg, label = view.colour("foregroundColor", BLACK), view.colour("labelColor", BLACK)
    top = y
    for start in range(0, len(fields), 4):
        row = [(view.text(f.get("label")).upper(), view.value(f)) for f in fields[start : start + 4]]
        size, widths = _row_fit(pen, row)
        gap = (WIDTH - 2 * PAD - sum(widths)) / max(1, len(row) - 1)
        x = float(PAD)
        for (caption, value), width in zip(row, widths, strict=True):
            pen.text(x, y + 22, caption, size=10, fill=label, max_width=width)
            pen.text(x, y + 42, value, size=size, fill=fg, max_width=width)
            x += width + gap
        y += 48
    if fields:
        regions["fields"] = pen.box(PAD, top + 8, WIDTH - PAD, y)
    return y


def _row_fit(pen: Pen, row: list[tuple[str, str]]) -> tuple[int, list[float]]:
    """The largest value size (16 down to 11 points) at which the row fits, and each column's width."""
    room = WIDTH - 2 * PAD - 10 * (len(row) - 1)
    for size in (16, 15, 14, 13, 12, 11):
        widths = [max(_width(pen, caption, 10), _width(pen, value, size)) for caption, value in row]
        if sum(widths) <= room:
            return size, widths
    return 11, [room / len(row)] * len(row)


_BARCODE = BarcodeStyle(square=170, pad=8, radius=8, margin=16, fallback=(200, 40), text_size=15)


def _barcode(pen: Pen, view: _View, y: float, regions: dict[str, Box]) -> float:
    barcode = view.barcode()
    if barcode is None:
        return y
    regions["barcode"], bottom = barcode_box(
        pen, value=str(barcode["message"]), symbology=FORMATS.get(str(barcode.get("format"))),
        alt=barcode.get("altText"), top=y, width=WIDTH, style=_BARCODE,
    )
    return bottom


def draw_apple_back(bundle: PassBundle, *, language: str | None = None, scale: int = 2) -> Picture:
    """Draw the back of an Apple pass: its ``backFields`` (label over value) under the pass's name."""
    view = _View(bundle, language)
    title = view.text(view.doc.get("logoText")) or view.text(view.doc.get("organizationName"))
    found = view.body.get("backFields")
    fields = [f for f in found[:MAX_ROWS] if isinstance(f, dict) and "value" in f] if isinstance(
        found, list) else []
    rows = (BackRow(label=view.text(f.get("label")), value=view.value(f)) for f in fields)
    return draw_back(title, rows, language=view.band_lang, scale=scale)
