"""Stamp strips show the right number of filled stamps (sampled pixels); artwork has Apple's sizes."""

from __future__ import annotations

import io
import unicodedata
import warnings

import attrs
import pytest
from PIL import Image, ImageChops

from tests.apple.helpers import AT, card_with, make_program
from walletvoucher.apple import (
    STRIP_SIZES,
    AppleOptions,
    AppleSigner,
    StripDesign,
    build_pass_content,
    render_pass,
    stamp_layout,
    strip_images,
)
from walletvoucher.apple._images import _monogram, icon_images, initials, is_compact, logo_images
from walletvoucher.errors import AppleImageError, MissingGlyphWarning
from walletvoucher.model import Brand

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


# --- stamps survive both strip slots (pixels sampled, stamps found without the layout code) ------------

def _stamp_mask(
    image: Image.Image, colour: tuple[int, int, int] = STAMP, tol: int = 40
) -> set[tuple[int, int]]:
    """Pixels within ``tol`` of ``colour`` in every channel."""
    channels = []
    for band, want in zip(image.convert("RGB").split(), colour, strict=True):
        channels.append(band.point(lambda v, w=want: 255 if abs(v - w) <= tol else 0))
    mask = ImageChops.logical_and(ImageChops.logical_and(channels[0].convert("1"), channels[1].convert("1")),
                                  channels[2].convert("1"))
    width = image.width
    return {(i % width, i // width) for i, v in enumerate(mask.convert("L").tobytes()) if v}


def _blobs(mask: set[tuple[int, int]]) -> list[set[tuple[int, int]]]:
    """8-connected components of a pixel set (runs per row, joined with union-find)."""
    rows: dict[int, list[int]] = {}
    for x, y in mask:
        rows.setdefault(y, []).append(x)
    runs: list[tuple[int, int, int]] = []  # (y, first x, last x)
    parent: list[int] = []

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    previous: list[int] = []
    for y in sorted(rows):
        xs = sorted(rows[y])
        current = []
        start = xs[0]
        for a, b in zip(xs, [*xs[1:], None], strict=True):
            if b is None or b != a + 1:
                runs.append((y, start, a))
                parent.append(len(runs) - 1)
                current.append(len(runs) - 1)
                for j in previous:
                    py, p0, p1 = runs[j]
                    if py == y - 1 and p0 <= a + 1 and p1 >= start - 1:
                        parent[find(j)] = find(len(runs) - 1)
                start = b if b is not None else start
        previous = current
    blobs: dict[int, set[tuple[int, int]]] = {}
    for i, (y, x0, x1) in enumerate(runs):
        blobs.setdefault(find(i), set()).update((x, y) for x in range(x0, x1 + 1))
    return [blob for blob in blobs.values() if len(blob) > 8]  # drop anti-aliasing specks


def _stamps_seen(image: Image.Image) -> tuple[int, int]:
    """(filled, total) stamps: a filled disc covers its own centre, an outline ring does not.

    Fails when a stamp touches the image edge (it was cut)."""
    mask = _stamp_mask(image)
    filled = total = 0
    for blob in _blobs(mask):
        xs, ys = [p[0] for p in blob], [p[1] for p in blob]
        assert min(xs) > 0 and min(ys) > 0 and max(xs) < image.width - 1 and max(ys) < image.height - 1, \
            "a stamp touches the edge: it was cut"
        centre = (round(sum(xs) / len(xs)), round(sum(ys) / len(ys)))
        total += 1
        filled += centre in mask
    return filled, total


def _in_slot(image: Image.Image, slot: tuple[int, int]) -> Image.Image:
    """What Wallet shows of ``image`` in a slot of another aspect ratio: scaled to fill, centred, cropped."""
    density = image.width / 375
    want = (round(slot[0] * density), round(slot[1] * density))
    scale = max(want[0] / image.width, want[1] / image.height)
    scaled = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    left, top = (scaled.width - want[0]) // 2, (scaled.height - want[1]) // 2
    return scaled.crop((left, top, left + want[0], top + want[1]))


@pytest.mark.parametrize(("goal", "filled"), [(5, 2), (10, 1), (10, 10), (12, 7), (50, 37), (100, 63)])
@pytest.mark.parametrize("style", ["storeCard", "coupon"])
def test_no_stamp_is_lost_in_either_slot(goal: int, filled: int, style: str) -> None:
    design = StripDesign(goal=goal, background=BG, stamp=STAMP)
    scale = "strip@3x.png" if goal >= 50 else "strip@2x.png"  # thin rings stay whole at 3x
    image = Image.open(io.BytesIO(strip_images(design, filled, style)[scale]))
    assert _stamps_seen(image) == (filled, goal)
    for slot in ((375, 123), (375, 144)):
        assert _stamps_seen(_in_slot(image, slot)) == (filled, goal), slot


def test_the_demo_card_keeps_stamps_1_and_10_when_shown_in_a_144_slot() -> None:
    image = Image.open(io.BytesIO(strip_images(StripDesign(goal=10, background=BG, stamp=STAMP), 10,
                                               "storeCard")["strip@2x.png"]))
    cropped = _in_slot(image, (375, 144))
    assert _stamps_seen(cropped) == (10, 10)


@pytest.mark.parametrize(("goal", "filled", "style"), [
    (1000, 370, "storeCard"), (1000, 370, "coupon"), (1000, 0, "storeCard"), (500, 500, "coupon"),
    (10**6, 1, "storeCard"),
])
def test_large_goals_show_a_count_and_a_progress_bar_in_either_slot(
    goal: int, filled: int, style: str
) -> None:
    assert is_compact(goal)
    design = StripDesign(goal=goal, background=BG, stamp=STAMP)
    image = Image.open(io.BytesIO(strip_images(design, filled, style)["strip@2x.png"]))
    for shown in (image, _in_slot(image, (375, 123)), _in_slot(image, (375, 144))):
        blobs = sorted(_blobs(_stamp_mask(shown)), key=lambda b: -max(y for _, y in b))
        bar = blobs[0]  # the lowest shape is the bar: its outline, or outline and fill
        xs = [x for x, _ in bar]
        ys = sorted({y for _, y in bar})
        assert min(xs) > 0 and max(xs) < shown.width - 1  # the whole bar is on show
        middle = ys[len(ys) // 2]
        row = sorted(x for x, y in bar if y == middle)
        inner = (row[-1] - row[0]) * 0.97
        share = (len(row) - (row[-1] - row[0]) * 0.03) / inner if filled else 0.0
        assert abs(share - filled / goal) < 0.03, (share, filled / goal)
        assert len(blobs) >= 3  # and digits above it


def test_goals_up_to_a_hundred_are_drawn_as_stamps() -> None:
    assert not any(is_compact(goal) for goal in (1, 10, 50, 100))


def test_a_wide_stamp_icon_keeps_its_aspect_ratio() -> None:
    red = (200, 10, 10)
    design = StripDesign(goal=5, background=BG, stamp=STAMP, stamp_icon=_png((200, 50), red))
    image = Image.open(io.BytesIO(strip_images(design, 2, "storeCard")["strip@3x.png"]))
    icons = _blobs(_stamp_mask(image, red, 20))
    assert len(icons) == 2
    for blob in icons:
        width = max(x for x, _ in blob) - min(x for x, _ in blob) + 1
        height = max(y for _, y in blob) - min(y for _, y in blob) + 1
        assert 3.6 < width / height < 4.4, (width, height)


# --- monograms draw every script ----------------------------------------------------------------

def _ink(png: bytes) -> set[tuple[int, int]]:
    return _stamp_mask(Image.open(io.BytesIO(png)).convert("RGB"), (255, 255, 255), 70)


@pytest.mark.parametrize("name", ["咖啡 店", "กาแฟ", "कॉफ़ी", "قهوة", "Жар-птица", "Über", "\u0301Über", "ß",
                                  "קפה טוב", "☕🍩", "Սուրճ", "ቡና", "কফি", "ყავა სახლი"])
def test_monogram_initials_draw_real_glyphs_not_missing_glyph_boxes(name: str) -> None:
    white, navy = (255, 255, 255), (30, 58, 95)
    drawn = _ink(icon_images(name, navy, white, None)["icon@3x.png"])
    # a private-use character for each letter drawn: the font's .notdef boxes, at the same size
    letters = sum(1 for ch in initials(name) if not unicodedata.combining(ch))
    box = _ink(_monogram("\ue000" * letters, 87, navy, white))
    assert len(drawn) > 60  # ink
    assert len(drawn ^ box) > 0.5 * len(box), name  # not the box


def test_initials_take_the_first_grapheme_of_each_word() -> None:
    assert initials("\u0301Über Café") == "ÜC"
    assert initials("कॉफ़ी हाउस") == "कॉहा"  # consonant + vowel sign: one grapheme each
    assert initials("咖啡") == "咖"


def test_hebrew_initials_read_right_to_left() -> None:
    white, navy = (255, 255, 255), (30, 58, 95)
    image = Image.open(io.BytesIO(icon_images("קפה טוב", navy, white, None)["icon@3x.png"])).convert("RGB")
    ink = _stamp_mask(image, white, 70)
    # ק (the first initial) is the one letter reaching below the baseline: in Hebrew it stands on the right
    lowest = max(y for _, y in ink)
    descender = [x for x, y in ink if y > lowest - 6]
    assert min(descender) > image.width / 2


@pytest.mark.parametrize(("name", "char"), [("བོད ཀ", "U+0F56"), ("\ue000", "U+E000")])
def test_initials_no_font_draws_warn_naming_the_name_and_character(
    signer: AppleSigner, options: AppleOptions, name: str, char: str
) -> None:
    program = attrs.evolve(make_program(), brand=Brand(name=name, foreground="#FFFFFF", background="#1E3A5F",
                                                       label="#F2C14E"))
    with pytest.warns(MissingGlyphWarning, match=char.replace("+", r"\+")):
        rendered = render_pass(card_with(program, 3), signer=signer, options=options, at=AT)
    notes = [n for n in rendered.warnings if char in n]
    assert len(notes) == 1 and repr(name) in notes[0] and "icon and logo" in notes[0]
    # with the business's own icon and logo, nothing is drawn from the name: no warning
    art = _png((64, 64), (200, 30, 30))
    program = attrs.evolve(program, brand=attrs.evolve(program.brand, icon=art, logo=art))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingGlyphWarning)
        rendered = render_pass(card_with(program, 3), signer=signer, options=options, at=AT)
    assert not [n for n in rendered.warnings if char in n]


@pytest.mark.parametrize("name", ["קפה טוב", "☕🍩", "Kahve Dünyası"])
def test_covered_initials_do_not_warn(options: AppleOptions, name: str) -> None:
    program = attrs.evolve(make_program(), brand=Brand(name=name, foreground="#FFFFFF", background="#1E3A5F",
                                                       label="#F2C14E"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingGlyphWarning)
        content = build_pass_content(card_with(program, 3), options=options, at=AT)
    assert not [n for n in content.warnings if "no font" in n]
