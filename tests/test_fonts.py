"""The shipped fonts cover the scripts our users write: checked against each font's own cmap (fontTools)."""

from __future__ import annotations

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw

from walletvoucher._fonts import Script, draw_text, font_file, load_font, script_of, split_runs, text_width

SAMPLES = {
    "chinese": "咖啡卡 免费咖啡 已兑换",
    "japanese": "コーヒー カード",
    "korean": "커피 카드",
    "hindi": "कॉफ़ी कार्ड मुफ़्त",
    "thai": "บัตรกาแฟ กาแฟฟรี",
    "uzbek_latin": "Qahva kartasi oʻzbek",
    "uzbek_cyrillic": "Қаҳва картаси",
    "arabic": "بطاقة القهوة",
    "german": "Überraschung Größe",
}


@pytest.fixture(scope="module")
def cmaps() -> dict[Script, set[int]]:
    out = {}
    for script in Script:
        with TTFont(str(font_file(script)), lazy=True) as font:
            out[script] = set(font.getBestCmap())
    return out


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_character_is_in_the_cmap_of_the_font_chosen_for_it(
    name: str, cmaps: dict[Script, set[int]]
) -> None:
    for char in SAMPLES[name]:
        script = script_of(char)
        if script is None:
            continue
        assert ord(char) in cmaps[script], (name, char, hex(ord(char)), script)


def _ink(text: str, script: Script) -> bytes:
    image = Image.new("L", (80, 80), 0)
    ImageDraw.Draw(image).text((10, 60), text, font=load_font(script, 48), fill=255, anchor="ls")
    return image.tobytes()


COVERED = [("咖", Script.CJK), ("क", Script.DEVANAGARI), ("ก", Script.THAI), ("ب", Script.ARABIC),
           ("Ü", Script.LATIN), ("Ж", Script.LATIN)]


@pytest.mark.parametrize(("char", "script"), COVERED)
def test_a_covered_character_does_not_draw_the_missing_glyph_box(char: str, script: Script) -> None:
    missing = _ink("\ue000", script)  # a private-use code point no font maps: draws .notdef
    drawn = _ink(char, script)
    assert any(drawn) and drawn != missing


def test_mixed_text_is_split_into_runs_and_drawn_with_each_font() -> None:
    text = "Kahve 咖啡 कॉफ़ी กาแฟ"
    assert [r.script for r in split_runs(text)] == [Script.LATIN, Script.CJK, Script.DEVANAGARI, Script.THAI]
    image = Image.new("RGB", (600, 80), "white")
    width = draw_text(ImageDraw.Draw(image), (5, 60), text, size=32, fill="black", bold=True)
    assert width == pytest.approx(text_width(text, 32, bold=True))
    assert image.convert("L").getextrema()[0] < 64 and width > 200


HOSTILE = ["two\nlines", "tab\tand\rreturn", "para\u2029graph", "lone \ud800 surrogate", "\x1b[31m"]


@pytest.mark.parametrize("text", HOSTILE)
def test_control_characters_and_lone_surrogates_draw_on_one_line(text: str) -> None:
    image = Image.new("L", (400, 60), 0)
    width = draw_text(ImageDraw.Draw(image), (5, 40), text, size=20, fill=255)
    assert width == pytest.approx(text_width(text, 20)) and width > 0
