"""Hostile .pkpass files for ``preview`` (issue 18, found by fuzzing): each costs little and ends in the
library's own error, or in a picture with the problem said, never in a foreign exception.

Time is CPU time (``time.process_time``, immune to other load) against generous safety bounds, not
a speed claim; memory is bounded by design (sizes checked before anything is allocated), and the
tests check that the refusal happens before the work: the strip is refused from its header, the
entry count from the end record.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.apple.hostile import RawEntry, build_zip, deflate, measured
from tests.preview.conftest import png_image
from walletvoucher.cli import main
from walletvoucher.errors import PreviewError
from walletvoucher.preview import parse_strings, preview_apple, preview_pkpass, read_bundle
from walletvoucher.preview._bounds import MAX_LINE_CHARS, bounded_line
from walletvoucher.preview._canvas import fit_text, paste_fit

STORE_CARD = {
    "formatVersion": 1, "storeCard": {"primaryFields": [{"key": "p", "label": "L", "value": "7/10"}]},
    "backgroundColor": "rgb(30, 58, 95)", "foregroundColor": "rgb(255, 255, 255)",
}  # fmt: skip
MEGABYTE = 1024 * 1024
NOISE = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(128))  # 4 KB that do not compress


def _zip(files: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _png(size: tuple[int, int], mode: str = "1") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 0).save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- images ---------------------------------------------------------------------------------------


def test_a_1_kb_strip_of_65535x1_pixels_is_left_out_before_it_is_decoded() -> None:
    strip = _png((65535, 1))
    assert len(strip) < 1100
    data = _zip({"pass.json": json.dumps(STORE_CARD).encode(), "strip@2x.png": strip})
    bundle = read_bundle(data)
    assert "strip@2x.png" not in bundle.files
    assert bundle.problems == (
        "strip@2x.png: 65535x1 pixels: larger than any pass image (at most 4096 pixels a side)",
    )
    png, seconds, _ = measured(lambda: preview_pkpass(data))
    assert png_image(png).size == (750, 840) and seconds < 2.0  # safety bound (it was a MemoryError)


@pytest.mark.parametrize("size", [(4096, 1), (1, 4096)])
def test_a_thin_image_that_may_be_drawn_is_scaled_only_where_it_shows(size: tuple[int, int]) -> None:
    # covering a 1500x492 box with a 1x4096 image used to scale it to 1500x6144000 pixels first
    canvas = Image.new("RGBA", (1500, 492))
    image = Image.new("RGBA", size, (200, 30, 40, 255))
    box, seconds, _ = measured(lambda: paste_fit(canvas, image, (0, 0, 1500, 492), cover=True))
    assert box == (0, 0, 1500, 492) and canvas.getpixel((750, 246)) == (200, 30, 40, 255)
    assert seconds < 1.0


def test_images_passed_to_preview_apple_are_bounded_too() -> None:
    files = {"strip@2x.png": _png((65535, 1)), "logo@2x.png": _png((1, 4096), "RGB")}
    picture, seconds, _ = measured(lambda: preview_apple(STORE_CARD, files))
    assert picture.size == (750, 840) and seconds < 2.0


# --- pass.strings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'"' + b'\\"' * 20_000,  # 40 KB that took 10 s: a quadratic pattern
        b'"' + b'\\"' * 500_000,
        b'"a" = ' * 170_000,
        b"/* " * 340_000,  # a comment never closed, many times
        b"/x" * 500_000,
        b"x;" * 500_000,
    ],
    ids=["quotes-40k", "quotes-1m", "no-semicolons", "open-comments", "slashes", "semicolons"],
)
def test_hostile_strings_files_parse_in_linear_time(data: bytes) -> None:
    start = time.process_time()  # without tracemalloc, which slows a parser of many small tokens
    pairs = parse_strings(data)
    assert pairs == {} and time.process_time() - start < 2.0  # safety bound (40 KB took 10 s before)


def test_strings_parse_strings_and_comments_in_one_pass() -> None:
    text = '"url" = "http://example.com/x"; /* "a" = "b"; */ "c" /* x */ = "d"; // "e" = "f";\n"g"="h";'
    assert parse_strings(text.encode()) == {"url": "http://example.com/x", "c": "d", "g": "h"}


def test_strings_files_over_the_budget_are_left_out_with_a_problem() -> None:
    big = ('"k" = "' + "x" * 600_000 + '";').encode()
    files = {"pass.json": json.dumps(STORE_CARD).encode(), "en.lproj/pass.strings": big,
             "fr.lproj/pass.strings": big}
    bundle = read_bundle(_zip(files))
    assert bundle.strings["en"]["k"] == "x" * 600_000 and dict(bundle.strings.get("fr", {})) == {}
    assert any(p.startswith("fr.lproj/pass.strings: ") and "not read" in p for p in bundle.problems)


# --- text -----------------------------------------------------------------------------------------


def _every_field(text_key: str) -> dict[str, object]:
    def field(key: str) -> dict[str, str]:
        return {"key": key, "label": text_key, "value": text_key}

    return {
        "logoText": text_key, "organizationName": text_key,
        "storeCard": {
            "headerFields": [field("h1"), field("h2"), field("h3")], "primaryFields": [field("p")],
            "secondaryFields": [field(f"s{i}") for i in range(4)],
            "auxiliaryFields": [field(f"a{i}") for i in range(4)],
        },
        "barcode": {"format": "PKBarcodeFormatQR", "message": "CODE-1", "altText": text_key},
    }  # fmt: skip


def test_600_kb_of_text_in_a_field_is_laid_out_as_what_a_pass_can_show() -> None:
    doc = {"storeCard": {"primaryFields": [{"key": "p", "label": "L", "value": "x " * 300_000}]}}
    png, seconds, _ = measured(lambda: preview_pkpass(_zip({"pass.json": json.dumps(doc).encode()})))
    assert png_image(png).size[0] == 750 and seconds < 3.0  # safety bound (it was over 60 s)


@pytest.mark.parametrize("unit", ["x ", "कa", "aกعक咖"], ids=["latin", "devanagari-latin", "five-scripts"])
def test_every_field_full_of_hostile_text_costs_a_few_seconds_at_most(unit: str) -> None:
    # one pass.strings value shared by every field: 13 lines of 600 KB, script changing every letter
    big = unit * (300_000 // len(unit))
    files = {"pass.json": json.dumps(_every_field("big")).encode(),
             "en.lproj/pass.strings": ('"big" = "' + big + '";').encode()}
    png, seconds, _ = measured(lambda: preview_pkpass(_zip(files)))
    assert png_image(png).size[0] == 750 and seconds < 10.0  # safety bound (it was minutes)


def test_a_line_is_cut_to_what_can_show_and_ends_with_an_ellipsis() -> None:
    assert bounded_line("क" + "a" * 10 + "कa" * 100)[1] is True
    shown = fit_text("ii" * 300_000, 20, 10_000)
    assert len(shown) <= MAX_LINE_CHARS + 1 and shown.endswith("…")


# --- the zip and pass.json --------------------------------------------------------------------------


def _many_entries(count: int) -> bytes:
    """A zip whose central directory really holds ``count`` empty entries named ``a``."""
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, 1, 0) + b"a"
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
                          0) + b"a"
    directory = central * count
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count & 0xFFFF, count & 0xFFFF, len(directory),
                      len(local), 0)
    return local + directory + end


def test_a_zip_of_many_entries_is_refused_from_its_end_record_before_the_directory_is_parsed() -> None:
    data = _many_entries(65_535)  # the most a plain zip declares; the fuzzer's had 1,000,000 (zip64)
    with pytest.raises(PreviewError, match="65535 entries, over 500") as caught:
        read_bundle(data)
    _, seconds, peak = measured(lambda: _refused(data))
    assert caught.value.fix and seconds < 0.5 and peak < 1 * MEGABYTE  # nothing parsed: no ZipInfo objects


def _refused(data: bytes) -> str:
    try:
        read_bundle(data)
    except PreviewError as exc:
        return str(exc)
    raise AssertionError("read_bundle accepted it")


def test_a_zip64_archive_is_refused_with_the_fix() -> None:
    data = _zip({"pass.json": json.dumps(STORE_CARD).encode()})
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, 0, 1)
    end = data.rindex(b"PK\x05\x06")
    with pytest.raises(PreviewError, match="zip64"):
        read_bundle(data[:end] + locator + data[end:])


@pytest.mark.parametrize(
    ("pass_json", "why"),
    [
        (b'{"storeCard": {"primaryFields": [{"key": "p", "value": ' + b"9" * 5000 + b"}]}}", "5000 digits"),
        (b'{"a": 1e' + b"9" * 5000 + b"}", "characters"),
        (b"[" * 10_000 + b"]" * 10_000, "nested deeper"),
        (b'{"a": [' + b"0," * 20_000 + b"0]}", "more than 10000 values"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b"\xef\xbb\xbf[1]", "not a JSON object"),
    ],
    ids=["huge-int", "huge-float", "deep", "many-values", "nan", "bom-array"],
)
def test_pass_json_is_read_within_verifys_bounds(pass_json: bytes, why: str) -> None:
    with pytest.raises(PreviewError, match=why) as caught:
        read_bundle(_zip({"pass.json": pass_json}))
    assert caught.value.fix


def test_a_utf8_byte_order_mark_before_pass_json_is_allowed() -> None:
    bundle = read_bundle(_zip({"pass.json": b"\xef\xbb\xbf" + json.dumps(STORE_CARD).encode()}))
    assert bundle.pass_json["formatVersion"] == 1


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (RawEntry(name=b"pass.json", content=b"{}", stored=b"\xff" * 40), "deflate data is corrupt"),
        (RawEntry(name=b"pass.json", content=NOISE, stored=deflate(NOISE)[:500]), "data is truncated"),
        (RawEntry(name=b"pass.json", content=b"{}", method=14, stored=b"\x09\x14\x05\x00" + b"\xff" * 30),
         "compression method 14"),
        (RawEntry(name=b"pass.json", content=b"{}", crc=1), "CRC-32"),
        (RawEntry(name=b"pass.json", content=b"{}", flags=1), "encrypted"),
    ],
    ids=["corrupt-deflate", "truncated-deflate", "lzma", "bad-crc", "encrypted"],
)
def test_a_pass_json_that_cannot_be_inflated_says_why(entry: RawEntry, why: str) -> None:
    with pytest.raises(PreviewError, match=f"no readable pass.json .*{why}") as caught:
        read_bundle(build_zip([entry]))
    assert caught.value.fix


def test_a_corrupt_image_leaves_its_slot_empty_and_says_why() -> None:
    data = build_zip([RawEntry(name=b"pass.json", content=json.dumps(STORE_CARD).encode()),
                      RawEntry(name=b"logo.png", content=b"x", stored=b"\xff" * 20)])
    bundle = read_bundle(data)
    assert dict(bundle.files) == {}
    assert any(p.startswith("logo.png: the deflate data") for p in bundle.problems)
    assert png_image(preview_pkpass(data)).size == (750, 840)


# --- the command line -------------------------------------------------------------------------------


def test_preview_command_notes_what_it_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "strip.pkpass"
    source.write_bytes(_zip({"pass.json": json.dumps(STORE_CARD).encode(), "strip@2x.png": _png((65535, 1))}))
    assert main(["preview", str(source), "-o", str(tmp_path / "card.png")]) == 0
    err = capsys.readouterr().err
    assert "note: left out strip@2x.png: 65535x1 pixels" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_many_entries(1000), "1000 entries, over 500"),
        (build_zip([RawEntry(name=b"pass.json", content=b"{}", stored=b"\xff" * 40)]), "data is corrupt"),
        (_zip({"pass.json": b'{"a": ' + b"9" * 5000 + b"}"}), "5000 digits"),
    ],
    ids=["entries", "deflate", "integer"],
)
def test_preview_command_refuses_hostile_files_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, message: str
) -> None:
    source = tmp_path / "hostile.pkpass"
    source.write_bytes(data)
    assert main(["preview", str(source), "-o", str(tmp_path / "card.png")]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_store_card_strip_covers_a_coupons_taller_strip() -> None:
    # found by the preview fuzzer: the part of the strip that shows came out a hair taller than the
    # image (246.00000000000003 of 246 rows) and Pillow refused to scale it
    doc = {**STORE_CARD, "coupon": STORE_CARD["storeCard"]}
    del doc["storeCard"]
    files = {"pass.json": json.dumps(doc).encode(), "strip@2x.png": _png((750, 246), "RGB")}
    assert png_image(preview_pkpass(_zip(files))).size[0] == 750
