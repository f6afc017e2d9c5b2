"""Pass artwork: the stamp strip, the icon and the logo, at @1x, @2x and @3x.

Sizes (points; @2x and @3x multiply them), from Apple's "Pass Design and Creation":

- ``icon.png``  29 x 29 (required on every pass; shown in notifications and Mail)
- ``logo.png``  at most 160 x 50 (top-left of the pass)
- ``strip.png`` 375 x 123 behind a store card's primary field, 375 x 144 on a coupon

The strip draws the card's stamps: one circle per stamp of the goal, filled (the brand's
foreground colour, or the business's stamp icon) for collected ones, an outline for the rest.
Strips depend only on the design and the count, so they are cached (``strip_images``).
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Mapping
from types import MappingProxyType

import attrs
from PIL import Image, ImageDraw, ImageFont

from walletvoucher.errors import AppleImageError

RGB = tuple[int, int, int]

SCALES: tuple[int, ...] = (1, 2, 3)
ICON_SIZE = (29, 29)
LOGO_MAX = (160, 50)
STRIP_SIZES: dict[str, tuple[int, int]] = {"storeCard": (375, 123), "coupon": (375, 144)}
"""Strip size in points per pass style."""

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


def stamp_layout(goal: int, size: tuple[int, int]) -> list[tuple[float, float, float]]:
    """Centres and radius ``(x, y, r)`` of each stamp, in pixels of an image of ``size``.

    Up to 10 stamps sit in one row; more are spread over as few rows as fit.

    >>> [round(x) for x, _, _ in stamp_layout(3, (300, 100))]
    [50, 150, 250]
    """
    width, height = size
    rows = max(1, math.ceil(goal / 10))
    per_row = math.ceil(goal / rows)
    cell = min(width / per_row, height / rows)
    radius = cell * 0.4
    top = (height - rows * cell) / 2
    spots = []
    for index in range(goal):
        row, col = divmod(index, per_row)
        in_row = min(per_row, goal - row * per_row)
        left = (width - in_row * (width / per_row)) / 2
        x = left + (col + 0.5) * (width / per_row)
        y = top + (row + 0.5) * cell
        spots.append((x, y, radius))
    return spots


def _open(data: bytes, field: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError) as exc:
        raise AppleImageError(
            "is not a readable PNG image", field=field, value=f"<{len(data)} bytes>",
            fix="give the bytes of a .png file",
        ) from exc
    return image.convert("RGBA")


def draw_strip(design: StripDesign, filled: int, size: tuple[int, int]) -> bytes:
    """Draw one strip PNG of ``size`` pixels with ``filled`` of ``design.goal`` stamps filled."""
    big = (size[0] * _SUPERSAMPLE, size[1] * _SUPERSAMPLE)
    canvas = Image.new("RGB", big, design.background)
    draw = ImageDraw.Draw(canvas)
    icon = _open(design.stamp_icon, "stamp_icon") if design.stamp_icon else None
    for index, (x, y, r) in enumerate(stamp_layout(design.goal, big)):
        box = (x - r, y - r, x + r, y + r)
        if index >= filled:
            draw.ellipse(box, outline=design.stamp, width=max(2, round(r * 0.12)))
        elif icon is None:
            draw.ellipse(box, fill=design.stamp)
        else:
            side = max(1, round(2 * r))
            stamp = icon.resize((side, side), Image.Resampling.LANCZOS)
            canvas.paste(stamp, (round(x - r), round(y - r)), stamp)
    return _png(canvas.resize(size, Image.Resampling.LANCZOS))


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


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def initials(name: str) -> str:
    """One or two letters for a monogram.

    >>> initials("Kahve Dünyası"), initials("bean")
    ('KD', 'B')
    """
    words = [w for w in name.split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:2]) or name.strip()[:1] or "?"
    return letters.upper()


def _monogram(text: str, side: int, background: RGB, foreground: RGB) -> bytes:
    big = side * 4
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=(*background, 255))
    font = _font(round(big * (0.5 if len(text) < 2 else 0.4)))
    draw.text((big / 2, big / 2), text, fill=(*foreground, 255), font=font, anchor="mm")
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
