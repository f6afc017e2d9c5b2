"""Stamp strips show the right number of filled stamps (sampled pixels); artwork has Apple's sizes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from walletvoucher.apple import STRIP_SIZES, StripDesign, stamp_layout, strip_images
from walletvoucher.apple._images import icon_images, logo_images
from walletvoucher.errors import AppleImageError

BG, STAMP = (30, 58, 95), (242, 193, 78)


def _close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a[:3], b[:3], strict=True))


def _count_filled(png: bytes, goal: int) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    filled = 0
    for x, y, _ in stamp_layout(goal, image.size):
        pixel = image.getpixel((round(x), round(y)))
        assert isinstance(pixel, tuple)
        if _close(pixel, STAMP):
            filled += 1
        else:
            assert _close(pixel, BG), pixel  # an empty stamp shows the background in its middle
    return filled


@pytest.mark.parametrize("goal", [5, 10, 12])
@pytest.mark.parametrize("style", ["storeCard", "coupon"])
def test_strip_fills_exactly_the_collected_stamps_at_every_scale(goal: int, style: str) -> None:
    design = StripDesign(goal=goal, background=BG, stamp=STAMP)
    for filled in (0, 1, goal // 2, goal - 1, goal):
        images = strip_images(design, filled, style)
        assert sorted(images) == ["strip.png", "strip@2x.png", "strip@3x.png"]
        for name, png in images.items():
            assert _count_filled(png, goal) == filled, (name, filled)


def test_stamps_beyond_the_goal_show_a_full_card() -> None:
    design = StripDesign(goal=10, background=BG, stamp=STAMP)
    assert _count_filled(strip_images(design, 14, "storeCard")["strip.png"], 10) == 10


def test_empty_stamps_have_an_outline_in_the_stamp_colour() -> None:
    png = strip_images(StripDesign(goal=4, background=BG, stamp=STAMP), 0, "storeCard")["strip@3x.png"]
    image = Image.open(io.BytesIO(png)).convert("RGB")
    x, y, r = stamp_layout(4, image.size)[0]
    ring = [image.getpixel((round(x + dx), round(y))) for dx in range(int(r * 0.7), int(r * 1.1))]
    assert any(_close(p, STAMP, 40) for p in ring if isinstance(p, tuple))


@pytest.mark.parametrize("style", ["storeCard", "coupon"])
def test_strip_sizes_are_apples(style: str) -> None:
    w, h = STRIP_SIZES[style]
    images = strip_images(StripDesign(goal=8, background=BG, stamp=STAMP), 3, style)
    for scale, name in ((1, "strip.png"), (2, "strip@2x.png"), (3, "strip@3x.png")):
        assert Image.open(io.BytesIO(images[name])).size == (w * scale, h * scale)
    assert STRIP_SIZES == {"storeCard": (375, 123), "coupon": (375, 144)}


def test_strips_are_cached_per_design_and_count() -> None:
    strip_images.cache_clear()
    design = StripDesign(goal=9, background=BG, stamp=STAMP)
    first = strip_images(design, 4, "storeCard")
    again = strip_images(StripDesign(goal=9, background=BG, stamp=STAMP), 4, "storeCard")
    assert again is first
    info = strip_images.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    strip_images(design, 5, "storeCard")
    assert strip_images.cache_info().misses == 2


def _png(size: tuple[int, int], color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def test_custom_stamp_icon_is_drawn_for_filled_stamps() -> None:
    red = (200, 10, 10)
    design = StripDesign(goal=5, background=BG, stamp=STAMP, stamp_icon=_png((64, 64), red))
    image = Image.open(io.BytesIO(strip_images(design, 2, "storeCard")["strip@2x.png"])).convert("RGB")
    centres = [image.getpixel((round(x), round(y))) for x, y, _ in stamp_layout(5, image.size)]
    assert [_close(c, red) for c in centres if isinstance(c, tuple)] == [True, True, False, False, False]


def test_generated_icon_and_logo_have_apples_sizes() -> None:
    icons = icon_images("Kahve House", BG, STAMP, None)
    assert {n: Image.open(io.BytesIO(d)).size for n, d in icons.items()} == {
        "icon.png": (29, 29), "icon@2x.png": (58, 58), "icon@3x.png": (87, 87)}
    logos = logo_images("Kahve House", BG, STAMP, None)
    for scale, name in ((1, "logo.png"), (2, "logo@2x.png"), (3, "logo@3x.png")):
        w, h = Image.open(io.BytesIO(logos[name])).size
        assert w <= 160 * scale and h <= 50 * scale


def test_supplied_artwork_is_fitted() -> None:
    icons = icon_images("K", BG, STAMP, _png((300, 200), (1, 2, 3)))
    assert Image.open(io.BytesIO(icons["icon@3x.png"])).size == (87, 87)
    logos = logo_images("K", BG, STAMP, _png((1000, 100), (1, 2, 3)))
    assert Image.open(io.BytesIO(logos["logo@2x.png"])).size == (320, 32)


def test_unreadable_artwork_is_an_apple_image_error() -> None:
    with pytest.raises(AppleImageError, match="icon"):
        icon_images("K", BG, STAMP, b"\x89PNG\r\n\x1a\nnot really")
