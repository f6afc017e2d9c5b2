"""Any .pkpass, ours or not: read defensively, missing parts leave empty slots, hostile ones cost little."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.preview.conftest import ZXING, Demo, decode, png_image
from walletvoucher.cli import main
from walletvoucher.errors import PreviewError
from walletvoucher.preview import parse_strings, preview_pkpass, read_bundle
from walletvoucher.preview._bundle import MAX_ENTRY_BYTES


def _zip(files: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


FOREIGN_PASS = {
    "formatVersion": 1,
    "description": "Boarding pass",
    "organizationName": "Skyways",
    "logoText": "Skyways",
    "backgroundColor": "rgb(200, 30, 40)",
    "foregroundColor": "rgb(255, 255, 255)",
    "labelColor": "rgb(255, 220, 220)",
    "boardingPass": {
        "transitType": "PKTransitTypeAir",
        "headerFields": [{"key": "gate", "label": "GATE", "value": "B12"}],
        "primaryFields": [{"key": "from", "label": "FROM", "value": "TAS"}],
        "auxiliaryFields": [{"key": "seat", "label": "SEAT", "value": "14C"}],
    },
    "barcode": {
        "format": "PKBarcodeFormatPDF417",
        "message": "M1DOE/JOHN E ABC123 TASIST",
        "messageEncoding": "utf-8",
    },
}


def test_a_foreign_pass_without_images_or_strings_still_previews_with_a_scannable_code() -> None:
    data = _zip({"pass.json": json.dumps(FOREIGN_PASS).encode()})
    image = png_image(preview_pkpass(data))
    assert image.getpixel((375, 12)) == (200, 30, 40)
    assert decode(image, ZXING["PKBarcodeFormatPDF417"]) == [FOREIGN_PASS["barcode"]["message"]]  # type: ignore[index]


def test_localised_images_and_utf16_strings_of_a_foreign_pass_are_used() -> None:
    strings = '/* from Xcode */\n"Skyways" = "Небесные пути";\n'.encode("utf-16")
    files = {
        "pass.json": json.dumps(FOREIGN_PASS).encode(),
        "logo@2x.png": _png((100, 100), (0, 0, 255)),
        "ru.lproj/logo@2x.png": _png((100, 100), (0, 255, 0)),
        "ru.lproj/pass.strings": strings,
    }
    bundle = read_bundle(_zip(files))
    assert bundle.languages == ("ru",) and bundle.strings["ru"]["Skyways"] == "Небесные пути"
    russian = png_image(preview_pkpass(_zip(files), language="ru"))
    default = png_image(preview_pkpass(_zip(files)))
    assert russian.getpixel((40, 40)) == (0, 255, 0) and default.getpixel((40, 40)) == (0, 0, 255)


def test_a_zip_bomb_entry_is_skipped_in_bounded_time() -> None:
    bomb = b"\0" * (MAX_ENTRY_BYTES * 3)
    data = _zip({"pass.json": json.dumps(FOREIGN_PASS).encode(), "strip@2x.png": bomb, "icon.png": bomb})
    assert len(data) < 200_000
    start = time.process_time()
    bundle = read_bundle(data)
    assert "strip@2x.png" not in bundle.files and time.process_time() - start < 1.0  # a safety bound


def test_an_image_with_huge_dimensions_is_treated_as_missing() -> None:
    out = io.BytesIO()
    Image.new("1", (20000, 20000), 0).save(out, format="PNG")
    files = {"pass.json": json.dumps({"storeCard": {}}).encode(), "strip@2x.png": out.getvalue()}
    start = time.process_time()
    picture = preview_pkpass(_zip(files))
    assert png_image(picture).size[0] == 750 and time.process_time() - start < 2.0


def test_hostile_entry_names_are_never_read() -> None:
    files = {
        "pass.json": json.dumps(FOREIGN_PASS).encode(),
        "../logo.png": _png((10, 10), (1, 2, 3)),
        "/etc/logo.png": b"x",
        "a/b/c/logo.png": b"y",
    }
    assert dict(read_bundle(_zip(files)).files) == {}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"not a zip at all", "not a zip"),
        (_zip({"manifest.json": b"{}"}), "no pass.json"),
        (_zip({"pass.json": b"\xff\xfe\x00garbage"}), "not UTF-8 JSON"),
        (_zip({"pass.json": b"[1, 2]"}), "not a JSON object"),
        (_zip({"pass.json": b"[" * 100_000}), "not UTF-8 JSON"),
    ],
)
def test_files_that_are_no_pass_raise_preview_error(data: bytes, why: str) -> None:
    with pytest.raises(PreviewError, match=why) as caught:
        read_bundle(data)
    assert caught.value.fix


def test_strings_files_with_comments_escapes_and_junk_parse_what_they_can() -> None:
    text = '// line\n"a" = "b";\njunk\n"q\\"uote" = "x\\ty"; /* "no" = "pe"; */\n"unterminated = "z";'
    assert parse_strings(text.encode()) == {"a": "b", 'q"uote': "x\ty"}


# --- the command line --------------------------------------------------------------------------


def test_preview_command_writes_the_png_of_any_pkpass(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = demo.out / demo.entry("card-7-stamps", "pkpass")["path"]
    out = tmp_path / "card.png"
    assert (
        main(
            ["preview", str(source), "-o", str(out), "--language", "th", "--at", "2026-05-07T10:30:00+00:00"]
        )
        == 0
    )
    assert out.read_bytes() == preview_pkpass(source.read_bytes(), language="th")
    assert "wrote" in capsys.readouterr().out


def test_preview_command_says_when_the_language_is_not_in_the_pass(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = demo.out / demo.entry("card-7-stamps", "pkpass")["path"]
    assert main(["preview", str(source), "-o", str(tmp_path / "c.png"), "--language", "fr"]) == 0
    err = capsys.readouterr().err
    assert "no fr texts" in err and "zh-Hans" in err


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["missing.pkpass", "-o", "out.png"], 2, "cannot read"),
        (["not-a-pass.pkpass", "-o", "out.png"], 1, "not a zip archive"),
        (["pass.pkpass", "-o", "no/such/dir/out.png"], 2, "cannot write"),
        (["pass.pkpass", "-o", "out.png", "--at", "2026-05-07T10:30:00"], 2, "time zone"),
    ],
)
def test_preview_command_mistakes_get_one_line_and_an_exit_status(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    status: int,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-a-pass.pkpass").write_bytes(b"hello")
    (tmp_path / "pass.pkpass").write_bytes(_zip({"pass.json": json.dumps(FOREIGN_PASS).encode()}))
    assert main(["preview", *args]) == status
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
