"""Pass artwork: the stamp strip, the icon and the logo, at @1x, @2x and @3x.

Sizes (points; @2x and @3x multiply them), from Apple's "Pass Design and Creation":

- ``icon.png``  29 x 29 (required on every pass; shown in notifications and Mail)
- ``logo.png``  at most 160 x 50 (top-left of the pass)
- ``strip.png`` 375 x 123 behind a store card's primary field, 375 x 144 on a coupon

**Which strip size we ship, and why.** A store card gets Apple's 375 x 123 ("all other
styles"), a coupon 375 x 144 (coupons, gift cards). But a store card is also the style for gift
cards, and Wallet may show a store card's strip in a 144-high slot: it scales the 123-high
image up to 144 and crops its sides (about 27 pt each side at 375 wide); a 144-high strip in a
123-high slot loses about 10 pt at top and bottom. So every strip is drawn inside its
**safe area** (:func:`safe_area`): the central part of the image that survives both aspect
ratios (for 375 x 123 the middle 320 pt; for 375 x 144 the middle 123 pt of height), with a
small margin. Background colour fills the rest, so whichever way Wallet crops, no stamp is cut.

**The primary field's band.** On a coupon and on a reward-ready store card, Wallet draws the pass's
primary field (the reward in large type, its label under it) over the strip, along its lower left;
the text may run across the whole width. A strip behind a primary field
(``StripDesign(primary_field=True)``) keeps every stamp out of the bottom :data:`PRIMARY_BAND` points
of each slot, so the reward reads on the plain background colour, never on stamp ink
(:func:`stamp_area`).

The strip draws the card's stamps: one circle per stamp of the goal, filled (the brand's
foreground colour, or the business's stamp icon, kept at its aspect ratio) for collected ones,
an outline for the rest, in as many rows as make the stamps largest. When even the best rows
would make a stamp smaller than :data:`MIN_STAMP_CELL` points (goals above about 120, or about 38
behind a primary field), the strip shows the count instead, ``37/1000`` over a progress bar
(:func:`is_compact`). Strips depend only on the design and the count, so they are cached
(``strip_images``).

Generated icons and logos are a monogram of the brand's initials drawn with the Noto fonts of
:mod:`walletvoucher._fonts` (every script Apple localisations use but a few, and emoji), one
grapheme per word; an initial no shipped font draws is warned about when the pass is rendered.
"""

from __future__ import annotations

import functools
import io
import math
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

import attrs
from PIL import Image, ImageDraw

from walletvoucher._fonts import draw_text, text_width
from walletvoucher.apple._artwork import open_artwork

RGB = tuple[int, int, int]

SCALES: tuple[int, ...] = (1, 2, 3)
ICON_SIZE = (29, 29)
LOGO_MAX = (160, 50)
STRIP_SIZES: dict[str, tuple[int, int]] = {"storeCard": (375, 123), "coupon": (375, 144)}
"""Strip size in points per pass style."""
STRIP_SLOTS: tuple[tuple[int, int], ...] = ((375, 123), (375, 144))
"""The strip slots Wallet may show a strip in (points): every strip is drawn to survive both."""
PRIMARY_BAND = 68.0
"""Height (points, from the bottom of a strip slot) of the primary field Wallet draws over the strip."""
MIN_STAMP_CELL = 16.0
"""Smallest room per stamp, in points, before the strip switches to the compact ``n/goal`` form."""
MAX_MARKS = 4
"""Marks kept on a monogram's initial."""
_MARGIN = 0.06  # of the height, inside the safe area

_SUPERSAMPLE = 2


def image_name(base: str, scale: int) -> str:
    """``icon`` at scale 2 -> ``icon@2x.png``.

    >>> image_name("strip", 1), image_name("strip", 3)
    ('strip.png', 'strip@3x.png')
    """
    return f"{base}.png" if scale == 1 else f"{base}@{scale}x.png"


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


@attrs.frozen(kw_only=True)
class StripDesign:
    """What a stamp strip looks like; hashable, so strips are cached per design and count.

    >>> StripDesign(goal=10, background=(30, 58, 95), stamp=(242, 193, 78)).goal
    10
    """

    goal: int
    background: RGB
    stamp: RGB
    stamp_icon: bytes | None = attrs.field(default=None, repr=False)
    primary_field: bool = False
    """Whether Wallet draws a primary field over this strip (then the stamps keep out of its band)."""


def safe_area(size: tuple[int, int]) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` of an image of ``size`` that every slot of :data:`STRIP_SLOTS` shows.

    Wallet fills a slot of another aspect ratio by scaling the image and cropping what sticks
    out (centred); this is what is left in every case, less a small margin.

    >>> [round(v, 1) for v in safe_area((375, 123))]
    [34.7, 7.4, 340.3, 115.6]
    >>> [round(v, 1) for v in safe_area((375, 144))]
    [7.4, 17.9, 367.6, 126.1]
    """
    width, height = size
    left, top, right, bottom = 0.0, 0.0, float(width), float(height)
    for slot_w, slot_h in STRIP_SLOTS:
        slot = slot_w / slot_h
        if width / height > slot:
            cut = (width - height * slot) / 2
            left, right = max(left, cut), min(right, width - cut)
        else:
            cut = (height - width / slot) / 2
            top, bottom = max(top, cut), min(bottom, height - cut)
    margin = _MARGIN * (bottom - top)
    return (left + margin, top + margin, right - margin, bottom - margin)


def stamp_area(size: tuple[int, int], *, primary_field: bool = False) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` of an image of ``size`` where stamps may be drawn.

    The :func:`safe_area`; behind a primary field, less the primary field's band
    (:data:`PRIMARY_BAND`) as it falls on the image in every slot of :data:`STRIP_SLOTS`, and a
    margin above it.

    >>> [round(v, 1) for v in stamp_area((375, 144), primary_field=True)]
    [7.4, 17.9, 367.6, 59.0]
    >>> [round(v, 1) for v in stamp_area((375, 123), primary_field=True)]
    [34.7, 7.4, 340.3, 48.5]
    """
    left, top, right, bottom = safe_area(size)
    if not primary_field:
        return (left, top, right, bottom)
    width, height = size
    band_top = float(height)
    for slot_w, slot_h in STRIP_SLOTS:
        ratio = max(slot_w / width, slot_h / height)  # slot points per image unit
        crop_top = (height * ratio - slot_h) / 2
        band_top = min(band_top, (slot_h - PRIMARY_BAND + crop_top) / ratio)
    margin = _MARGIN * (bottom - top)
    return (left, top, right, max(top + 1.0, min(bottom, band_top - margin)))


def _best_rows(goal: int, width: float, height: float) -> tuple[int, float]:
    """Rows that make the stamps largest, and the cell size then."""
    best = (1, 0.0)
    for rows in range(1, min(goal, 64) + 1):
        cell = min(width / math.ceil(goal / rows), height / rows)
        if cell > best[1]:
            best = (rows, cell)
    return best


def is_compact(goal: int, *, primary_field: bool = False) -> bool:
    """Whether a goal is too large for one circle per stamp (then the strip shows ``n/goal``).

    Behind a primary field the stamps have less room, so smaller goals turn compact.

    >>> is_compact(10), is_compact(100), is_compact(1000), is_compact(100, primary_field=True)
    (False, False, True, True)
    """
    left, top, right, bottom = stamp_area(STRIP_SIZES["storeCard"], primary_field=primary_field)
    return _best_rows(goal, right - left, bottom - top)[1] < MIN_STAMP_CELL


def stamp_layout(
    goal: int, size: tuple[int, int], *, primary_field: bool = False
) -> list[tuple[float, float, float]]:
    """Centres and radius ``(x, y, r)`` of each stamp, in pixels of an image of ``size``.

    Stamps fill the :func:`stamp_area` in as many rows as make them largest (centred rows);
    a compact goal (:func:`is_compact`) has no circles, so the list is empty.

    >>> [round(x) for x, _, _ in stamp_layout(3, (375, 123))]
    [86, 188, 289]
    """
    if goal < 1 or is_compact(goal, primary_field=primary_field):
        return []
    left, top, right, bottom = stamp_area(size, primary_field=primary_field)
    width, height = right - left, bottom - top
    rows, cell = _best_rows(goal, width, height)
    per_row = math.ceil(goal / rows)
    rows = math.ceil(goal / per_row)
    radius = cell * 0.4
    y0 = top + (height - rows * cell) / 2
    spots = []
    for index in range(goal):
        row, col = divmod(index, per_row)
        in_row = min(per_row, goal - row * per_row)
        x0 = left + (width - in_row * cell) / 2
        spots.append((x0 + (col + 0.5) * cell, y0 + (row + 0.5) * cell, radius))
    return spots


def progress_bar(size: tuple[int, int], *, primary_field: bool = False) -> tuple[float, float, float, float]:
    """The box of the compact strip's progress bar (the lower third of the :func:`stamp_area`)."""
    left, top, right, bottom = stamp_area(size, primary_field=primary_field)
    height = bottom - top
    return (left, top + height * 0.72, right, top + height * 0.92)


def _open(data: bytes, field: str) -> Image.Image:
    return open_artwork(data, field)  # bounded before decoding: see apple/_artwork.py


def draw_strip(design: StripDesign, filled: int, size: tuple[int, int]) -> bytes:
    """Draw one strip PNG of ``size`` pixels with ``filled`` of ``design.goal`` stamps filled."""
    big = (size[0] * _SUPERSAMPLE, size[1] * _SUPERSAMPLE)
    canvas = Image.new("RGB", big, design.background)
    if is_compact(design.goal, primary_field=design.primary_field):
        _draw_compact(canvas, design, filled)
    else:
        _draw_stamps(canvas, design, filled)
    return _png(canvas.resize(size, Image.Resampling.LANCZOS))


def _draw_stamps(canvas: Image.Image, design: StripDesign, filled: int) -> None:
    draw = ImageDraw.Draw(canvas)
    icon = _open(design.stamp_icon, "stamp_icon") if design.stamp_icon else None
    spots = stamp_layout(design.goal, canvas.size, primary_field=design.primary_field)
    for index, (x, y, r) in enumerate(spots):
        box = (x - r, y - r, x + r, y + r)
        if index >= filled:
            draw.ellipse(box, outline=design.stamp, width=max(2, round(r * 0.12)))
        elif icon is None:
            draw.ellipse(box, fill=design.stamp)
        else:
            stamp = _contain(icon, max(1, round(2 * r)))
            canvas.paste(stamp, (round(x - stamp.width / 2), round(y - stamp.height / 2)), stamp)


def _contain(image: Image.Image, side: int) -> Image.Image:
    """Scale ``image`` to fit a ``side`` square, keeping its aspect ratio (a wide icon stays wide)."""
    ratio = side / max(image.width, image.height)
    fitted = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    return image.resize(fitted, Image.Resampling.LANCZOS)


def _draw_compact(canvas: Image.Image, design: StripDesign, filled: int) -> None:
    draw = ImageDraw.Draw(canvas)
    left, top, right, _bottom = stamp_area(canvas.size, primary_field=design.primary_field)
    bar = progress_bar(canvas.size, primary_field=design.primary_field)
    text = f"{filled}/{design.goal}"
    size = max(1, round((bar[1] - top) * 0.7))
    while size > 4 and text_width(text, size, bold=True) > right - left:
        size = max(4, size * 9 // 10)
    x = (left + right - text_width(text, size, bold=True)) / 2
    draw_text(draw, (x, (top + bar[1]) / 2), text, size=size, fill=design.stamp, bold=True, anchor="lm")
    outline = max(2, round((bar[3] - bar[1]) * 0.15))
    draw.rectangle(bar, outline=design.stamp, width=outline)
    if filled:
        share = (bar[2] - bar[0]) * filled / design.goal
        draw.rectangle((bar[0], bar[1], bar[0] + share, bar[3]), fill=design.stamp)


@functools.lru_cache(maxsize=512)
def strip_images(design: StripDesign, filled: int, style: str) -> Mapping[str, bytes]:
    """``{"strip.png": ..., "strip@2x.png": ..., "strip@3x.png": ...}`` for a style; cached.

    The cache key is ``(design, filled, style)``: every card of a program at 7 stamps shares
    one set of strips. ``strip_images.cache_info()`` shows the hits.
    """
    points = STRIP_SIZES[style]
    count = max(0, min(filled, design.goal))
    return MappingProxyType({
        image_name("strip", s): draw_strip(design, count, (points[0] * s, points[1] * s)) for s in SCALES
    })


def first_grapheme(word: str) -> str:
    """The first user-perceived character of ``word``: a base character and the marks on it.

    A leading combining mark (which has nothing to sit on) is skipped; at most
    :data:`MAX_MARKS` marks are kept (hostile text can stack thousands).

    >>> first_grapheme("\u0301Ünal"), first_grapheme("क्षत्रिय"), first_grapheme("e\u0301cole") == "e\u0301"
    ('Ü', 'क्', True)
    """
    chars = list(word)
    while chars and _is_mark(chars[0]):
        chars.pop(0)
    if not chars:
        return ""
    out = chars[0]
    for ch in chars[1:MAX_MARKS + 1]:
        if not (_is_mark(ch) or ch in "\u200d\ufe0f"):
            break
        out += ch
    return out


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def initials(name: str) -> str:
    """One or two initials for a monogram: the first grapheme of the first two words.

    >>> initials("Kahve Dünyası"), initials("bean"), initials("咖啡 店"), initials("über")
    ('KD', 'B', '咖店', 'Ü')
    """
    graphemes = [first_grapheme(w) for w in name.split()]
    letters = [g for g in graphemes if g and (g[0].isalnum() or unicodedata.category(g[0]).startswith("L"))]
    picked = "".join(letters[:2]) or next((g for g in graphemes if g), "") or "?"
    return unicodedata.normalize("NFC", picked.upper())


def _monogram(text: str, side: int, background: RGB, foreground: RGB) -> bytes:
    big = side * 4
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=(*background, 255))
    size = round(big * (0.5 if len(text) < 2 else 0.4))
    while size > 8 and text_width(text, size, bold=True) > big * 0.8:
        size = size * 9 // 10
    x = (big - text_width(text, size, bold=True)) / 2
    draw_text(draw, (x, big / 2), text, size=size, fill=(*foreground, 255), bold=True, anchor="lm")
    return _png(canvas.resize((side, side), Image.Resampling.LANCZOS))


@functools.lru_cache(maxsize=128)
def icon_images(name: str, background: RGB, foreground: RGB, artwork: bytes | None) -> Mapping[str, bytes]:
    """``icon.png`` at 29, 58, 87 px: the business's icon cropped square, or a monogram; cached."""
    out = {}
    for scale in SCALES:
        side = ICON_SIZE[0] * scale
        if artwork is None:
            out[image_name("icon", scale)] = _monogram(initials(name), side, background, foreground)
        else:
            out[image_name("icon", scale)] = _png(_cover(_open(artwork, "icon"), side))
    return MappingProxyType(out)


@functools.lru_cache(maxsize=128)
def logo_images(name: str, background: RGB, foreground: RGB, artwork: bytes | None) -> Mapping[str, bytes]:
    """``logo.png`` within 160 x 50 pt: the business's logo fitted, or a 50 x 50 monogram."""
    out = {}
    for scale in SCALES:
        box = (LOGO_MAX[0] * scale, LOGO_MAX[1] * scale)
        if artwork is None:
            out[image_name("logo", scale)] = _monogram(initials(name), box[1], foreground, background)
        else:
            image = _open(artwork, "logo")
            ratio = min(box[0] / image.width, box[1] / image.height)
            fitted = (max(1, math.floor(image.width * ratio)), max(1, math.floor(image.height * ratio)))
            out[image_name("logo", scale)] = _png(image.resize(fitted, Image.Resampling.LANCZOS))
    return MappingProxyType(out)


def _cover(image: Image.Image, side: int) -> Image.Image:
    short = min(image.width, image.height)
    left, top = (image.width - short) // 2, (image.height - short) // 2
    return image.crop((left, top, left + short, top + short)).resize((side, side), Image.Resampling.LANCZOS)
