"""Code images: every PNG is read back by an independent decoder (zxing-cpp).

SVGs are checked three ways: well-formed XML without metadata, the same module geometry as the PNG, and,
where librsvg and cairo are installed, rasterised by librsvg and read back by zxing-cpp.
"""

from __future__ import annotations

import ctypes
import io
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import PIL.Image
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from walletvoucher.codes._images import encode_symbol, render, render_png, render_svg
from walletvoucher.codes._symbology import Symbology
from walletvoucher.errors import SymbologyError

F = zxingcpp.BarcodeFormat
FORMATS = {
    Symbology.QR: F.QRCode,
    Symbology.CODE_128: F.Code128,
    Symbology.EAN_13: F.EAN13,
    Symbology.UPC_A: F.UPCA,
    Symbology.PDF417: F.PDF417,
    Symbology.AZTEC: F.Aztec,
}
IMAGE_SYMBOLOGIES = list(FORMATS)
TWO_D = [Symbology.QR, Symbology.PDF417, Symbology.AZTEC]
UNICODE_VALUES = {
    "chinese": "会员优惠券：第十杯咖啡免费",
    "hindi": "नमस्ते! दसवीं कॉफ़ी मुफ़्त",
    "thai": "คูปองส่วนลด กาแฟฟรี",
    "uzbek": "Oʻzbekiston: oʻninchi qahva bepul",
    "mixed": "Café ☕ 10% — 会员 नमस्ते สวัสดี Oʻzbek",
}
CASES = [
    pytest.param("7K3M-9QXP-4", Symbology.QR, id="qr-crockford"),
    pytest.param("https://example.com/v/7K3M-9QXP-4?x=1&y=2", Symbology.QR, id="qr-url"),
    pytest.param("7K3M-9QXP-4", Symbology.CODE_128, id="code128-crockford"),
    pytest.param("SUMMER 2024 ~{}|&<>\"'", Symbology.CODE_128, id="code128-punctuation"),
    pytest.param("1234567890", Symbology.CODE_128, id="code128-digits"),
    pytest.param("4006381333931", Symbology.EAN_13, id="ean13"),
    pytest.param("0000000000000", Symbology.EAN_13, id="ean13-zeros"),
    pytest.param("036000291452", Symbology.UPC_A, id="upca"),
    pytest.param("7K3M-9QXP-4", Symbology.PDF417, id="pdf417-crockford"),
    pytest.param("12345678901234567890", Symbology.PDF417, id="pdf417-numeric"),
    pytest.param("7K3M-9QXP-4", Symbology.AZTEC, id="aztec-crockford"),
    pytest.param("Café Zürich", Symbology.AZTEC, id="aztec-latin1"),
    *(
        pytest.param(text, symbology, id=f"{symbology.value}-{name}")
        for name, text in UNICODE_VALUES.items()
        for symbology in TWO_D
    ),
]


def read(image: PIL.Image.Image, symbology: Symbology) -> list[tuple[zxingcpp.BarcodeFormat, str]]:
    """Every barcode of the symbology's format that zxing-cpp finds in the image."""
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(FORMATS[symbology]))
    return [(result.format, result.text) for result in results]


def decode(png: bytes, symbology: Symbology) -> list[tuple[zxingcpp.BarcodeFormat, str]]:
    return read(PIL.Image.open(io.BytesIO(png)), symbology)


def expected(value: str, symbology: Symbology) -> list[tuple[zxingcpp.BarcodeFormat, str]]:
    # zxing-cpp reports a UPC-A in its EAN-13 form, with the leading 0 the two share.
    text = "0" + value if symbology is Symbology.UPC_A else value
    return [(FORMATS[symbology], text)]


# --- PNG: decoded by zxing-cpp --------------------------------------------------------------------


@pytest.mark.parametrize(("value", "symbology"), CASES)
def test_png_decodes_to_the_exact_value_and_format(value: str, symbology: Symbology) -> None:
    assert decode(render_png(value, symbology), symbology) == expected(value, symbology)


@pytest.mark.parametrize(
    ("value", "symbology", "shown"),
    [
        ("400638133393", Symbology.EAN_13, "4006381333931"),
        ("03600029145", Symbology.UPC_A, "036000291452"),
    ],
)
def test_missing_check_digit_is_computed_before_drawing(value: str, symbology: Symbology, shown: str) -> None:
    assert decode(render_png(value, symbology), symbology) == expected(shown, symbology)


@pytest.mark.parametrize(
    ("value", "symbology"),
    [
        pytest.param("a" * 2331, Symbology.QR, id="qr-max-ascii"),
        pytest.param("中" * 777, Symbology.QR, id="qr-max-chinese"),
        pytest.param("x" * 1000, Symbology.PDF417, id="pdf417-max-text"),
        pytest.param("aé1" * 250, Symbology.PDF417, id="pdf417-max-mixed"),
        pytest.param("नमस्ते" * 55, Symbology.PDF417, id="pdf417-max-hindi"),
        pytest.param("zÿ" * 500, Symbology.AZTEC, id="aztec-max-latin1"),
        pytest.param("~" * 1500, Symbology.AZTEC, id="aztec-max-ascii"),
        pytest.param("中" * 500, Symbology.AZTEC, id="aztec-max-chinese"),
        pytest.param("~" * 80, Symbology.CODE_128, id="code128-max"),
    ],
)
def test_values_at_the_capacity_limit_still_decode(value: str, symbology: Symbology) -> None:
    assert decode(render_png(value, symbology, module_size=2), symbology) == expected(value, symbology)


ONE_D = (Symbology.EAN_13, Symbology.UPC_A, Symbology.CODE_128)


@pytest.mark.parametrize(
    ("module_size", "symbology"),
    # One-pixel 1D bars are below what zxing-cpp resolves reliably, so 1D codes start at 2.
    [(size, sym) for size in (1, 2, 3, 8) for sym in IMAGE_SYMBOLOGIES if not (size == 1 and sym in ONE_D)],
)
def test_every_module_size_decodes(module_size: int, symbology: Symbology) -> None:
    value = {Symbology.EAN_13: "5901234123457", Symbology.UPC_A: "042100005264"}.get(symbology, "7K3M-9QXP-4")
    assert decode(render_png(value, symbology, module_size=module_size), symbology) == expected(
        value, symbology
    )


@pytest.mark.parametrize("symbology", IMAGE_SYMBOLOGIES)
def test_module_size_scales_the_picture(symbology: Symbology) -> None:
    value = "5901234123457" if symbology is Symbology.EAN_13 else "042100005264"
    value = value if symbology in (Symbology.EAN_13, Symbology.UPC_A) else "SCALE"
    small = PIL.Image.open(io.BytesIO(render_png(value, symbology, module_size=2)))
    large = PIL.Image.open(io.BytesIO(render_png(value, symbology, module_size=6)))
    assert (large.width, large.height) == (small.width * 3, small.height * 3)


@pytest.mark.parametrize("symbology", IMAGE_SYMBOLOGIES)
def test_png_has_a_light_quiet_zone_all_round(symbology: Symbology) -> None:
    value = {Symbology.EAN_13: "5901234123457", Symbology.UPC_A: "042100005264"}.get(symbology, "QUIET")
    module_size = 3
    border = encode_symbol(value, symbology).quiet_zone * module_size
    image = PIL.Image.open(io.BytesIO(render_png(value, symbology, module_size=module_size))).convert("L")
    w, h = image.size
    for box in [(0, 0, w, border), (0, h - border, w, h), (0, 0, border, h), (w - border, 0, w, h)]:
        assert image.crop(box).getextrema() == (255, 255), box


@pytest.mark.parametrize("symbology", [Symbology.EAN_13, Symbology.UPC_A, Symbology.CODE_128])
def test_1d_codes_carry_human_readable_text_under_the_bars(symbology: Symbology) -> None:
    value = {Symbology.EAN_13: "5901234123457", Symbology.UPC_A: "042100005264"}.get(symbology, "7K3M-9QXP-4")
    symbol = encode_symbol(value, symbology)
    assert symbol.text == value
    module_size = 2
    image = PIL.Image.open(io.BytesIO(render_png(value, symbology, module_size=module_size))).convert("L")
    bars_end = (symbol.quiet_zone + symbol.height) * module_size
    band = image.crop((0, bars_end, image.width, image.height - symbol.quiet_zone * module_size))
    darkest, _ = band.getextrema()
    assert isinstance(darkest, int)
    assert darkest < 128  # something dark: the digits


@pytest.mark.parametrize("symbology", TWO_D)
def test_2d_codes_have_no_text_line(symbology: Symbology) -> None:
    assert encode_symbol("7K3M-9QXP-4", symbology).text is None


def png_chunk_types(png: bytes) -> list[bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    types, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        types.append(png[offset + 4 : offset + 8])
        offset += 12 + length
    return types


@pytest.mark.parametrize("symbology", IMAGE_SYMBOLOGIES)
def test_png_holds_pixels_only_no_metadata(symbology: Symbology) -> None:
    value = {Symbology.EAN_13: "5901234123457", Symbology.UPC_A: "042100005264"}.get(symbology, "META")
    assert set(png_chunk_types(render_png(value, symbology))) == {b"IHDR", b"IDAT", b"IEND"}


_ANY_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=60).filter(
    lambda text: text == text.strip()
)


@settings(max_examples=150, deadline=None)
@given(_ANY_TEXT, st.sampled_from(TWO_D))
def test_any_text_round_trips_through_2d_codes(value: str, symbology: Symbology) -> None:
    assert decode(render_png(value, symbology, module_size=2), symbology) == expected(value, symbology)


@pytest.mark.parametrize("value", ["¡", "é", "ÿ", "Ä", "¥", "€", "ｱ"])
@pytest.mark.parametrize("symbology", TWO_D)
def test_short_non_ascii_text_is_not_misread(value: str, symbology: Symbology) -> None:
    # regression: a Latin-1 Aztec code without ECI was read by zxing-cpp as Shift_JIS ("¡" -> "｡")
    assert decode(render_png(value, symbology), symbology) == expected(value, symbology)


# --- determinism ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "symbology"), CASES)
def test_same_value_gives_the_same_bytes(value: str, symbology: Symbology) -> None:
    assert render_png(value, symbology) == render_png(value, symbology)
    assert render_svg(value, symbology) == render_svg(value, symbology)


def test_different_values_give_different_pictures() -> None:
    assert render_png("7K3M-9QXP-4", Symbology.QR) != render_png("7K3M-9QXP-5", Symbology.QR)


# --- SVG ------------------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"
_RUN = re.compile(r"M(\d+),(\d+)h(\d+)v(\d+)h-(\d+)z")


def svg_modules(svg: bytes) -> set[tuple[int, int]]:
    """Dark (x, y) unit squares covered by the SVG's path, in viewBox units."""
    root = ET.fromstring(svg)
    (path,) = root.iter(f"{SVG}path")
    d = path.attrib["d"]
    runs = _RUN.findall(d)
    assert "".join(f"M{x},{y}h{w}v{h}h-{w2}z" for x, y, w, h, w2 in runs) == d  # nothing unparsed
    dark = set()
    for x, y, w, h, w2 in runs:
        assert w == w2
        dark |= {(int(x) + i, int(y) + j) for i in range(int(w)) for j in range(int(h))}
    return dark


def png_modules(png: bytes, module_size: int, height: int) -> set[tuple[int, int]]:
    """Dark (x, y) squares of the PNG, sampled at each module's centre, above the text line."""
    image = PIL.Image.open(io.BytesIO(png)).convert("L")
    half = module_size // 2
    return {
        (x, y)
        for y in range(height)
        for x in range(image.width // module_size)
        if image.getpixel((x * module_size + half, y * module_size + half)) == 0
    }


@pytest.mark.parametrize(("value", "symbology"), CASES)
def test_svg_is_well_formed_without_comments_or_metadata(value: str, symbology: Symbology) -> None:
    svg = render_svg(value, symbology)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert b"<!--" not in svg
    assert [child.tag.removeprefix(SVG) for child in root] in (["rect", "path"], ["rect", "path", "text"])
    width, height = (int(v) for v in root.attrib["viewBox"].split()[2:])
    assert (int(root.attrib["width"]), int(root.attrib["height"])) == (width * 4, height * 4)


@pytest.mark.parametrize(("value", "symbology"), CASES)
def test_svg_draws_exactly_the_modules_of_the_decoded_png(value: str, symbology: Symbology) -> None:
    symbol = encode_symbol(value, symbology)
    bars_bottom = symbol.quiet_zone + symbol.height
    module_size = 4
    png = render_png(value, symbology, module_size=module_size)
    assert decode(png, symbology)  # the PNG is independently readable ...
    # ... and the SVG covers exactly the same modules
    assert svg_modules(render_svg(value, symbology)) == png_modules(png, module_size, bars_bottom)


@pytest.mark.parametrize("symbology", [Symbology.EAN_13, Symbology.UPC_A, Symbology.CODE_128])
def test_svg_1d_codes_carry_the_text_escaped(symbology: Symbology) -> None:
    value = {Symbology.EAN_13: "5901234123457", Symbology.UPC_A: "042100005264"}.get(symbology, "A&B<C>")
    root = ET.fromstring(render_svg(value, symbology))
    (text,) = root.iter(f"{SVG}text")
    assert text.text == value


def test_svg_module_size_sets_width_and_height_only() -> None:
    small = ET.fromstring(render_svg("7K3M-9QXP-4", Symbology.QR, module_size=1))
    large = ET.fromstring(render_svg("7K3M-9QXP-4", Symbology.QR, module_size=10))
    assert small.attrib["viewBox"] == large.attrib["viewBox"]
    assert int(large.attrib["width"]) == 10 * int(small.attrib["width"])


class _Librsvg:
    """librsvg + cairo through ctypes: an SVG renderer that shares no code with ours."""

    def __init__(self) -> None:
        self.rsvg = ctypes.CDLL("librsvg-2.so.2")
        self.cairo = ctypes.CDLL("libcairo.so.2")
        self.rsvg.rsvg_handle_new_from_data.restype = ctypes.c_void_p
        self.rsvg.rsvg_handle_new_from_data.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p]
        self.rsvg.rsvg_handle_render_cairo.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.cairo.cairo_image_surface_create.restype = ctypes.c_void_p
        self.cairo.cairo_image_surface_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.cairo.cairo_create.restype = ctypes.c_void_p
        self.cairo.cairo_create.argtypes = [ctypes.c_void_p]
        self.cairo.cairo_surface_write_to_png.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self.cairo.cairo_destroy.argtypes = [ctypes.c_void_p]
        self.cairo.cairo_surface_destroy.argtypes = [ctypes.c_void_p]

    def rasterise(self, svg: bytes, out: Path) -> PIL.Image.Image:
        root = ET.fromstring(svg)
        width, height = int(root.attrib["width"]), int(root.attrib["height"])
        handle = self.rsvg.rsvg_handle_new_from_data(svg, len(svg), None)
        assert handle, "librsvg refused the SVG"
        surface = self.cairo.cairo_image_surface_create(0, width, height)  # CAIRO_FORMAT_ARGB32
        context = self.cairo.cairo_create(surface)
        assert self.rsvg.rsvg_handle_render_cairo(handle, context)
        assert self.cairo.cairo_surface_write_to_png(surface, str(out).encode()) == 0
        self.cairo.cairo_destroy(context)
        self.cairo.cairo_surface_destroy(surface)
        image = PIL.Image.open(out).convert("RGBA")
        flat = PIL.Image.new("RGBA", image.size, "white")
        flat.alpha_composite(image)
        return flat.convert("L")


@pytest.fixture(scope="module")
def librsvg() -> _Librsvg:
    try:
        return _Librsvg()
    except OSError as exc:
        pytest.skip(f"librsvg/cairo not installed: {exc}")


@pytest.mark.parametrize(("value", "symbology"), CASES)
def test_svg_rasterised_by_librsvg_decodes(
    value: str, symbology: Symbology, librsvg: _Librsvg, tmp_path: Path
) -> None:
    image = librsvg.rasterise(render_svg(value, symbology), tmp_path / "svg.png")
    assert read(image, symbology) == expected(value, symbology)


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("renderer", [render_png, render_svg])
def test_text_symbology_has_no_image(renderer: object) -> None:
    with pytest.raises(SymbologyError, match="TEXT codes are shown as text") as info:
        renderer("7K3M-9QXP-4", Symbology.TEXT)  # type: ignore[operator]
    assert info.value.field == "symbology"
    assert "QR" in (info.value.fix or "")


@pytest.mark.parametrize("renderer", [render_png, render_svg])
@pytest.mark.parametrize(
    ("value", "symbology", "match"),
    [
        (" 7K3M", Symbology.QR, "whitespace"),
        ("4006381333932", Symbology.EAN_13, "expected 1, got 2"),
        ("0360002914", Symbology.UPC_A, "11 digits"),
        ("Café", Symbology.CODE_128, "printable ASCII"),
        ("x" * 1001, Symbology.PDF417, "at most 1000"),
        ("", Symbology.AZTEC, "empty"),
    ],
)
def test_invalid_values_are_rejected_before_drawing(
    renderer: object, value: str, symbology: Symbology, match: str
) -> None:
    with pytest.raises(SymbologyError, match=match):
        renderer(value, symbology)  # type: ignore[operator]


@pytest.mark.parametrize("renderer", [render_png, render_svg])
@pytest.mark.parametrize("module_size", [0, -1, 101, 2.5, True, "4"])
def test_module_size_must_be_a_sensible_whole_number(renderer: object, module_size: object) -> None:
    with pytest.raises(SymbologyError, match="whole number of pixels") as info:
        renderer("7K3M", Symbology.QR, module_size=module_size)  # type: ignore[operator]
    assert info.value.field == "module_size"


def test_unknown_image_format_is_rejected() -> None:
    with pytest.raises(SymbologyError, match="use one of png, svg"):
        render("7K3M", Symbology.QR, fmt="gif", module_size=4)
