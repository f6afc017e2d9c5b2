"""Join posters (``render_poster`` and ``walletvoucher poster``): the QR code is read back by zxing-cpp,
the PDF page is read by pypdf, and every character printed is in the font that draws it (fontTools)."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image

from walletvoucher._fonts import font_file, split_runs
from walletvoucher.cli import main
from walletvoucher.demo import demo_program
from walletvoucher.errors import PosterError, WalletVoucherError
from walletvoucher.model import LocalizedText, RedemptionMethod
from walletvoucher.poster import CALLS, PaperSize, call_to_action, render_poster

URL = "https://shop.example/join/coffee-self-redeem"
PROGRAM = demo_program(RedemptionMethod.SELF_REDEEM)


def _decoded(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)]


@pytest.fixture(scope="module")
def png() -> bytes:
    return render_poster(PROGRAM, url=URL, size=PaperSize.A6, fmt="png", dpi=150)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_poster(PROGRAM, url=URL, size=PaperSize.A5, fmt="pdf", dpi=150)


def test_png_poster_is_the_page_size_and_its_qr_opens_the_url(png: bytes) -> None:
    image = Image.open(io.BytesIO(png))
    assert image.size == PaperSize.A6.pixels(150) == (620, 874)
    assert _decoded(image) == [URL]
    assert image.convert("RGB").getpixel((5, 5)) == (0x1E, 0x3A, 0x5F)  # the brand's background band


def test_pdf_poster_is_one_a5_page_whose_picture_carries_the_qr(pdf: bytes) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert [round(float(v), 1) for v in page.mediabox] == [0, 0, 419.5, 595.3]
    [picture] = page.images
    assert picture.image.size == PaperSize.A5.pixels(150)
    assert _decoded(picture.image) == [URL]
    assert reader.metadata is not None and reader.metadata.title == "Coffee stamp card"


def test_same_program_and_url_give_the_same_bytes(png: bytes, pdf: bytes) -> None:
    assert render_poster(PROGRAM, url=URL, size=PaperSize.A6, fmt="png", dpi=150) == png
    assert render_poster(PROGRAM, url=URL, size=PaperSize.A5, fmt="pdf", dpi=150) == pdf


@pytest.mark.parametrize("language", PROGRAM.languages)
def test_every_character_printed_is_in_the_font_that_draws_it(language: str) -> None:
    texts = [*call_to_action(PROGRAM, language), PROGRAM.name.get(language), PROGRAM.brand.name.get(language)]
    for text in texts:
        for run in split_runs(text):
            cmap = _cmap(font_file(run.script))
            missing = [c for c in run.text if c != " " and ord(c) not in cmap]
            assert not missing, (language, text, missing)


def _cmap(path: Path, cache: dict[Path, set[int]] = {}) -> set[int]:  # noqa: B006 - a cache on purpose
    if path not in cache:
        cache[path] = set(TTFont(str(path), fontNumber=0, lazy=True).getBestCmap())
    return cache[path]


def test_each_language_says_how_to_join_in_its_own_words() -> None:
    assert call_to_action(PROGRAM, "zh-Hans") == ("扫码加入", "集满10个印章，即可获得：免费咖啡")
    assert call_to_action(PROGRAM, "uz")[1] == "10 ta muhr toʻplang va oling: Bepul qahva"
    assert len({scan for scan, _ in CALLS.values()}) == len(CALLS)  # no language left in English
    assert call_to_action(PROGRAM, "sw")[0] == "Scan to join"  # no wording: English phrasing


def test_the_languages_printed_change_the_page() -> None:
    english = render_poster(PROGRAM, url=URL, size=PaperSize.A6, fmt="png", dpi=100, languages=["en"])
    both = render_poster(PROGRAM, url=URL, size=PaperSize.A6, fmt="png", dpi=100, languages=["en", "hi"])
    assert english != both and _decoded(Image.open(io.BytesIO(both))) == [URL]


def test_a_long_name_and_address_still_fit_and_decode() -> None:
    long_name = PROGRAM.revise(name=LocalizedText(default="Coffee " * 12, translations={"th": "กาแฟ" * 20}))
    url = URL + "?" + "x" * 400
    image = Image.open(io.BytesIO(render_poster(long_name, url=url, size=PaperSize.A6, fmt="png", dpi=200)))
    assert _decoded(image) == [url]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://shop.example/join", "http(s) address"),
        ("javascript:alert(1)", "http(s) address"),
        ("https://", "http(s) address"),
        ("https://shop.example/join coffee", "spaces or control"),
        ("https://shop.example/\njoin", "spaces or control"),
        ("https://shop.example/" + "x" * 1000, "characters long"),
        (b"https://shop.example", "must be text"),
    ],
)
def test_an_address_a_phone_cannot_open_is_refused_with_the_fix(url: object, said: str) -> None:
    with pytest.raises(PosterError, match="url=") as caught:
        render_poster(PROGRAM, url=url, fmt="png", dpi=72)  # type: ignore[arg-type]
    assert said in str(caught.value) and "Fix:" in str(caught.value)
    assert isinstance(caught.value, WalletVoucherError)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"size": "A5"}, "size"),
        ({"fmt": "jpeg"}, "fmt"),
        ({"dpi": 5000}, "dpi"),
        ({"dpi": True}, "dpi"),
        ({"languages": []}, "languages"),
        ({"languages": ["en"] * 13}, "languages"),
    ],
)
def test_bad_options_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(PosterError, match=f"^{field}="):
        render_poster(PROGRAM, url=URL, **kwargs)  # type: ignore[arg-type]


PROGRAM_FILE = """
[program]
id = "coffee"
name = { default = "Coffee card", zh-Hans = "咖啡卡", th = "บัตรกาแฟ" }
goal = 8
redemption = "self_redeem"

[brand]
name = "Kahve"
foreground = "#FFFFFF"
background = "#7A1F1F"
label = "#F2C14E"

[reward]
title = { default = "Free coffee", zh-Hans = "免费咖啡", th = "กาแฟฟรี" }
description = "Any size"
"""


def test_the_command_writes_a_pdf_and_a_png_whose_codes_open_the_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "coffee.toml"
    program.write_text(PROGRAM_FILE, encoding="utf-8")
    url = "https://shop.example/join/coffee"
    assert main(["poster", str(program), "--url", url, "-o", str(tmp_path / "p.pdf"), "--dpi", "100"]) == 0
    assert url in capsys.readouterr().out
    [picture] = pypdf.PdfReader(tmp_path / "p.pdf").pages[0].images
    assert _decoded(picture.image) == [url]
    assert (
        main(
            [
                "poster",
                str(program),
                "--url",
                url,
                "-o",
                str(tmp_path / "p.png"),
                "--size",
                "a6",
                "--language",
                "th",
                "--dpi",
                "100",
            ]
        )
        == 0
    )
    image = Image.open(tmp_path / "p.png")
    assert image.size == PaperSize.A6.pixels(100) and _decoded(image) == [url]
    assert image.convert("RGB").getpixel((3, 3)) == (0x7A, 0x1F, 0x1F)
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--url", "https://shop.example/j", "-o", "poster.jpg"], ".pdf or .png"),
        (["--url", "mailto:x@y", "-o", "poster.png"], "url='mailto:x@y'"),
        (["--url", "https://shop.example/j", "-o", "exists.png"], "--force"),
    ],
)
def test_command_mistakes_exit_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    said: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "coffee.toml").write_text(PROGRAM_FILE, encoding="utf-8")
    (tmp_path / "exists.png").write_bytes(b"keep")
    assert main(["poster", "coffee.toml", *argv]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and "Traceback" not in err
    assert (tmp_path / "exists.png").read_bytes() == b"keep"
