"""Drawing pieces the Apple and Google previews share: colours, text that fits, barcodes, overlays.

Everything is drawn in *points* times a ``scale`` (2 by default, like a phone's @2x screen), with the
project's Noto fonts (:mod:`walletvoucher._fonts`) so every script draws with real glyphs, and the
project's code writers (:mod:`walletvoucher.codes`) so a preview's barcode scans like the real one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import attrs
from PIL import Image, ImageDraw

from walletvoucher._fonts import draw_text, missing_glyph_note, text_width
from walletvoucher.codes import Symbology, encode_symbol
from walletvoucher.codes._images import write_png
from walletvoucher.errors import SymbologyError
from walletvoucher.preview._bounds import bounded_line, image_refusal

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]
"""``(left, top, right, bottom)`` in pixels."""

WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)

_PREVIEW_FIX = ("only the preview lacks them: the phone draws a pass's texts with its own fonts (generated "
                "artwork is warned about when the pass is rendered)")
_RGB = re.compile(r"^\s*rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*[\d.]+\s*)?\)\s*\Z")
_HEX = re.compile(r"^\s*#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\s*\Z")


def parse_colour(text: object, default: RGB) -> RGB:
    """``rgb(r, g, b)`` (Apple), ``#rrggbb`` or ``#rgb`` (Google) to a tuple; *default* for anything else.

    >>> parse_colour("rgb(30, 58, 95)", WHITE), parse_colour("#F2C14E", WHITE), parse_colour(7, BLACK)
    ((30, 58, 95), (242, 193, 78), (0, 0, 0))
    """
    if not isinstance(text, str):
        return default
    match = _RGB.match(text)
    if match:
        r, g, b = (min(255, int(part)) for part in match.groups())
        return (r, g, b)
    match = _HEX.match(text)
    if match:
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(ch * 2 for ch in digits)
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    return default


def readable_on(background: RGB) -> RGB:
    """Black or white, whichever reads better on *background* (what Google does with a pass colour).

    >>> readable_on((30, 58, 95)), readable_on((250, 250, 250))
    ((255, 255, 255), (0, 0, 0))
    """
    r, g, b = background
    return BLACK if 0.299 * r + 0.587 * g + 0.114 * b > 150 else WHITE


@attrs.frozen
class Pen:
    """Draws in points on a canvas whose pixels are ``scale`` times smaller.

    ``notes`` collects a warning text for each drawn text that has characters no shipped font draws.
    """

    image: Image.Image
    scale: int
    notes: list[str] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def draw(self) -> ImageDraw.ImageDraw:
        """A drawing context for the canvas."""
        return ImageDraw.Draw(self.image)

    def px(self, points: float) -> int:
        """Points to pixels."""
        return round(points * self.scale)

    def box(self, left: float, top: float, right: float, bottom: float) -> Box:
        """A box in points to a box in pixels."""
        return (self.px(left), self.px(top), self.px(right), self.px(bottom))

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        fill: RGB,
        max_width: float,
        bold: bool = False,
        align: str = "left",
        anchor: str = "ls",
    ) -> Box:
        """Draw one line cut to *max_width* points (with an ellipsis); returns the box it may ink."""
        pixels = self.px(size)
        shown = fit_text(text, pixels, self.px(max_width), bold=bold)
        width = text_width(shown, pixels, bold=bold)
        left = self.px(x) - (width if align == "right" else width / 2 if align == "center" else 0)
        draw_text(self.draw, (left, self.px(y)), shown, size=pixels, fill=fill, bold=bold, anchor=anchor)
        note = missing_glyph_note(shown, "the preview draws the text", _PREVIEW_FIX)
        if note is not None and note not in self.notes:
            self.notes.append(note)
        top = self.px(y) - (pixels if anchor == "ls" else pixels // 2 if anchor == "lm" else 0)
        return (round(left), top - pixels // 3, round(left + width), top + pixels + pixels // 3)


def fit_text(text: str, size: int, max_width: float, *, bold: bool = False) -> str:
    """*text* on one line, cut with ``…`` so that it is at most *max_width* pixels wide."""
    line, cut = bounded_line(text)  # no line shows more; a hostile 600 KB text is laid out as 400 chars
    if not cut and text_width(line, size, bold=bold) <= max_width:
        return line
    low, high = 0, len(line)
    while low < high:
        mid = (low + high + 1) // 2
        if text_width(line[:mid].rstrip() + "…", size, bold=bold) <= max_width:
            low = mid
        else:
            high = mid - 1
    return line[:low].rstrip() + "…"


def open_image(data: bytes | None) -> Image.Image | None:
    """Decode artwork defensively: ``None`` for missing, unreadable or oversized images."""
    if not data:
        return None
    try:
        image = Image.open(io.BytesIO(data), formats=("PNG", "JPEG"))
        if image_refusal(image.size) is not None:  # checked on the header, before decoding
            return None
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    return image.convert("RGBA")


def paste_fit(
    canvas: Image.Image, image: Image.Image, box: Box, *, cover: bool = False, align: str = "left"
) -> Box:
    """Paste *image* scaled into *box* (whole image, or *cover* cropping it); returns where it went."""
    left, top, right, bottom = box
    width, height = max(1, right - left), max(1, bottom - top)
    if cover:  # only the part of the image that shows is scaled: the work is the box's size at most
        ratio = max(width / image.width, height / image.height)
        seen_w, seen_h = min(image.width, width / ratio), min(image.height, height / ratio)
        x0, y0 = (image.width - seen_w) / 2, (image.height - seen_h) / 2
        seen = (x0, y0, x0 + seen_w, y0 + seen_h)
        scaled = image.resize((width, height), Image.Resampling.LANCZOS, box=seen)
        canvas.paste(scaled, (left, top), scaled)
        return box
    ratio = min(width / image.width, height / image.height)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    scaled = image.resize(size, Image.Resampling.LANCZOS)
    x = left if align == "left" else left + (width - size[0]) // 2
    y = top + (height - size[1]) // 2
    canvas.paste(scaled, (x, y), scaled)
    return (x, y, x + size[0], y + size[1])


def barcode_image(value: str, symbology: Symbology, max_size: tuple[int, int]) -> Image.Image | None:
    """The code drawn by the project's PNG writer at the largest whole module size that fits.

    Whole pixels per module keep the code sharp, so it scans (zxing-cpp reads it in the tests). The
    human-readable line of 1D codes is left out: the wallet shows the alt text under the code instead.
    ``None`` when the value cannot be drawn in that symbology or would not fit at one pixel per module.
    """
    try:
        symbol = attrs.evolve(encode_symbol(value, symbology), text=None)
    except SymbologyError:
        return None
    modules_w = symbol.width + 2 * symbol.quiet_zone
    modules_h = symbol.height + 2 * symbol.quiet_zone
    module = min(max_size[0] // modules_w, max_size[1] // modules_h, 12)
    if module < 1:
        return None
    return Image.open(io.BytesIO(write_png(symbol, module))).convert("RGB")


@attrs.frozen(kw_only=True)
class BarcodeStyle:
    """How a wallet frames its barcode: the white box's padding and corner, the code's largest size,
    and the value's text size when the code cannot be drawn (points)."""

    square: int
    pad: float
    radius: int
    margin: float
    fallback: tuple[float, float]
    text_size: int
    bold: bool = False


def barcode_box(
    pen: Pen, *, value: str, symbology: Symbology | None, alt: object, top: float, width: float,
    style: BarcodeStyle,
) -> tuple[Box, float]:
    """Draw the code (or its value, when it cannot be drawn) in a white box centred on *width*.

    The alt text, when there is one, goes under the code as the wallets show it. Returns the box in
    pixels and its bottom in points.
    """
    square = symbology in (Symbology.QR, Symbology.AZTEC)
    limit = (pen.px(style.square), pen.px(style.square)) if square else (pen.px(300), pen.px(96))
    image = barcode_image(value, symbology, limit) if symbology is not None else None
    caption = alt if isinstance(alt, str) and alt else None
    inner_w, inner_h = (image.width / pen.scale, image.height / pen.scale) if image else style.fallback
    box_w, box_h = inner_w + 2 * style.pad, inner_h + 2 * style.pad + (20 if caption else 0)
    left, top = (width - box_w) / 2, top + style.margin
    pen.draw.rounded_rectangle(pen.box(left, top, left + box_w, top + box_h), radius=pen.px(style.radius),
                               fill=WHITE)
    if image is not None:
        pen.image.paste(image, (pen.px(left + style.pad), pen.px(top + style.pad)))
    else:
        pen.text(width / 2, top + style.pad + inner_h / 2, value, size=style.text_size, fill=BLACK,
                 max_width=box_w - 2 * style.pad, align="center", anchor="lm", bold=style.bold)
    if caption:
        pen.text(width / 2, top + box_h - style.pad, caption, size=12, fill=BLACK, max_width=box_w - 12,
                 align="center")
    return pen.box(left, top, left + box_w, top + box_h), top + box_h


def round_corners(image: Image.Image, radius: int) -> Image.Image:
    """*image* with its corners cut round (transparent): the shape of a pass."""
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, image.width - 1, image.height - 1), radius=radius, fill=255)
    out = Image.new("RGBA", image.size, (0, 0, 0, 0))
    out.paste(image, (0, 0), mask)
    return out


BAND_HEIGHT = 52
"""Height of the status band (points)."""
BAND_GAP = 12
"""Room left between the pass's last part and the status band, and under the band (points)."""


def band_bottom(content_bottom: float) -> float:
    """Where a pass ends (points) when a status band goes under its content ending at *content_bottom*."""
    return content_bottom + BAND_GAP + BAND_HEIGHT + BAND_GAP


def grey_out(pen: Pen, word: str, radius: int, *, top: float) -> Box:
    """The voided / expired look: the whole pass dimmed grey, and *word* on a dark band across it.

    The band runs across the card from *top* (points), under everything the pass shows, so it
    never hides a field; the caller makes the card tall enough (:func:`band_bottom`).
    """
    image = pen.image
    veil = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(veil).rounded_rectangle(
        (0, 0, image.width - 1, image.height - 1), radius=radius, fill=(128, 128, 128, 170)
    )
    alpha = image.getchannel("A")
    image.alpha_composite(veil)
    grey = image.convert("LA").convert("RGBA")
    image.paste(grey, (0, 0))
    image.putalpha(alpha)
    width_pt = image.width / pen.scale
    middle = top + BAND_HEIGHT / 2
    band = pen.box(0, top, width_pt, top + BAND_HEIGHT)
    pen.draw.rectangle(band, fill=(60, 60, 60, 235))
    pen.text(
        width_pt / 2,
        middle,
        word,
        size=28,
        fill=WHITE,
        max_width=width_pt - 24,
        bold=True,
        align="center",
        anchor="lm",
    )
    return band


def to_png(image: Image.Image) -> bytes:
    """Encode as PNG with no metadata (same picture, same bytes)."""
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def initials(name: str) -> str:
    """One or two letters for a monogram.

    >>> initials("Kahve Café"), initials("咖啡馆"), initials("")
    ('KC', '咖', '?')
    """
    words = [w for w in name.split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def monogram(pen: Pen, box: Box, name: str, background: RGB, foreground: RGB, *, circle: bool) -> None:
    """Initials of *name* in a circle or rounded square filling *box* (artwork stand-in)."""
    draw = pen.draw
    if circle:
        draw.ellipse(box, fill=background)
    else:
        draw.rounded_rectangle(box, radius=(box[3] - box[1]) // 5, fill=background)
    side_pt = (box[3] - box[1]) / pen.scale
    centre_x = (box[0] + box[2]) / 2 / pen.scale
    centre_y = (box[1] + box[3]) / 2 / pen.scale
    pen.text(
        centre_x,
        centre_y,
        initials(name),
        size=side_pt * 0.42,
        fill=foreground,
        max_width=side_pt,
        bold=True,
        align="center",
        anchor="lm",
    )


def pick(mapping: Mapping[str, bytes], names: list[str]) -> bytes | None:
    """The first of *names* present in *mapping*."""
    for name in names:
        if name in mapping:
            return mapping[name]
    return None
