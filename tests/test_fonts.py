"""The shipped fonts cover the scripts our users write: checked against each font's own cmap (fontTools)."""

from __future__ import annotations

import warnings

import pytest
from bidi import get_display
from fontTools.ttLib import TTFont
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from walletvoucher._fonts import (
    Script,
    coverage,
    draw_text,
    font_file,
    layout,
    load_font,
    missing_glyphs,
    script_of,
    split_runs,
    text_width,
)
from walletvoucher.apple._strings import _LANGUAGES
from walletvoucher.errors import MissingGlyphWarning
from walletvoucher.preview import preview_apple, preview_google

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
    "hebrew": "קפה טוב",
    "yiddish": "קאַווע",
    "persian": "قهوه\u200cخانه",  # with the zero-width non-joiner Persian spelling needs
    "urdu": "کافی کارڈ",
    "kurdish_sorani": "قاوەخانە",
    "uyghur": "قەھۋەخانا",
    "emoji": "☕🍩❤️⭐ →",
    "greek": "Καφές δωρεάν",
    "russian": "Кофейня бесплатно",
    "kazakh": "Кофе Әөүұқғң",
    "armenian": "Սուրճ",
    "georgian": "ყავა",
    "amharic": "ቡና ቤት",
    "bengali": "কফি কার্ড",
    "punjabi": "ਕੌਫੀ ਕਾਰਡ",
    "gujarati": "કોફી કાર્ડ",
    "odia": "କଫି",
    "tamil": "காபி அட்டை",
    "telugu": "కాఫీ కార్డు",
    "kannada": "ಕಾಫಿ ಕಾರ್ಡ್",
    "malayalam": "കാപ്പി കാർഡ്",
    "sinhala": "කෝපි කාඩ්පත",
    "lao": "ກາເຟ",
    "burmese": "ကော်ဖီ",
    "khmer": "កាហ្វេ",
    "vietnamese": "Cà phê sữa đá miễn phí",
    "west_african": "Ọjà ƙaƴa ɓɗ Ɛɔŋ ƒʋ ị ụ",
    "latin_more": "Łódź Ærø Azərbaycan ʻāina m̧n̄ ą́ ŧ g̃ỹ şç",
}

# Scripts of accepted languages that no font on PyPI we found covers: these still warn.
UNCOVERED = {
    "tibetan": "བོད་སྐད",
    "thaana": "ކޮފީ",
    "yi": "ꆈꌠꁱꂷ",
    "syllabics": "ᐃᓄᒃᑎᑐᑦ",
    "avestan": "\U00010B00\U00010B01",
}

# Every language Apple localisations accept (apple._strings), by the script it is written in, and the
# samples above that stand for that script.
LANGUAGE_SCRIPTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "latin": (
        "aa af ak an ay az bi bm br bs ca ch co cr cs cy da de ee en eo es et eu ff fi fil fj fo fr fy ga "
        "gd gl gn gv ha haw ho hr ht hu hz ia id ie ig ik io is it jv kg ki kj kl kr ku kw la lb lg li ln "
        "lt lu lv mg mh mi ms mt na nb nd ng nl nn nr nv ny oc oj om pi pl pt qu rm rn ro rw sc se sg sk "
        "sl sm sn so sq ss st su sv sw tk tl tn to tr ts tw ty uz ve vi vo wa wo xh yo za zu",
        ("german", "uzbek_latin", "vietnamese", "west_african", "latin_more")),
    "cyrillic": ("ab av ba be bg ce cu cv kk kv ky mk mn os ru sr tg tt uk",
                 ("russian", "kazakh", "uzbek_cyrillic")),
    "greek": ("el", ("greek",)),
    "armenian": ("hy", ("armenian",)),
    "georgian": ("ka", ("georgian",)),
    "hebrew": ("he yi", ("hebrew", "yiddish")),
    "arabic": ("ar fa ps sd ug ur ks ckb", ("arabic", "persian", "urdu", "kurdish_sorani", "uyghur")),
    "devanagari": ("hi mr ne sa", ("hindi",)),
    "bengali": ("bn as", ("bengali",)),
    "gurmukhi": ("pa", ("punjabi",)),
    "gujarati": ("gu", ("gujarati",)),
    "oriya": ("or", ("odia",)),
    "tamil": ("ta", ("tamil",)),
    "telugu": ("te", ("telugu",)),
    "kannada": ("kn", ("kannada",)),
    "malayalam": ("ml", ("malayalam",)),
    "sinhala": ("si", ("sinhala",)),
    "thai": ("th", ("thai",)),
    "lao": ("lo", ("lao",)),
    "myanmar": ("my", ("burmese",)),
    "khmer": ("km", ("khmer",)),
    "ethiopic": ("am ti", ("amharic",)),
    "han": ("zh yue", ("chinese",)),
    "japanese": ("ja", ("japanese",)),
    "korean": ("ko", ("korean",)),
    "tibetan": ("bo dz", ("tibetan",)),
    "thaana": ("dv", ("thaana",)),
    "yi": ("ii", ("yi",)),
    "syllabics": ("iu", ("syllabics",)),
    "avestan": ("ae", ("avestan",)),
}


@pytest.fixture(scope="module")
def cmaps() -> dict[Script, set[int]]:
    """Each family's character map as fontTools reads it (glyph 0, .notdef, is no glyph)."""
    out = {}
    for script in Script:
        with TTFont(str(font_file(script)), lazy=True) as font:
            out[script] = {code for code, glyph in font.getBestCmap().items() if glyph != ".notdef"}
    return out


@pytest.mark.parametrize("script", list(Script))
def test_our_cmap_reader_agrees_with_fonttools(script: Script, cmaps: dict[Script, set[int]]) -> None:
    assert coverage(script) == cmaps[script]
    assert len(cmaps[script]) > 60  # a real font, not an empty stand-in


def test_every_accepted_language_has_a_script_here() -> None:
    listed = [lang for langs, _ in LANGUAGE_SCRIPTS.values() for lang in langs.split()]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(_LANGUAGES)
    named = {sample for _, samples in LANGUAGE_SCRIPTS.values() for sample in samples}
    assert named <= set(SAMPLES) | set(UNCOVERED)
    uncovered = {name for name, (_, samples) in LANGUAGE_SCRIPTS.items() if set(samples) <= set(UNCOVERED)}
    assert uncovered == {"tibetan", "thaana", "yi", "syllabics", "avestan"}  # the known gaps, warned about


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_character_is_in_the_cmap_of_the_font_chosen_for_it(
    name: str, cmaps: dict[Script, set[int]]
) -> None:
    for run in split_runs(SAMPLES[name]):
        for char in run.text:
            assert ord(char) in cmaps[run.script], (name, char, hex(ord(char)), run.script)
    assert missing_glyphs(SAMPLES[name]) == ""


@pytest.mark.parametrize("name", sorted(UNCOVERED))
def test_scripts_no_shipped_font_has_are_reported(name: str, cmaps: dict[Script, set[int]]) -> None:
    text = UNCOVERED[name]
    reported = set(missing_glyphs(text))
    in_no_font = {c for c in text if not c.isspace() and not any(ord(c) in cmap for cmap in cmaps.values())}
    assert reported == in_no_font and reported


def test_hebrew_and_emoji_go_to_their_own_fonts() -> None:
    assert [(r.script, r.text) for r in split_runs("קפה טוב ☕🍩")] == [
        (Script.HEBREW, "קפה טוב "), (Script.EMOJI, "☕🍩")]
    assert script_of("ק") is Script.HEBREW and script_of("🍩") is Script.EMOJI


def _ink(text: str, script: Script) -> bytes:
    image = Image.new("L", (80, 80), 0)
    ImageDraw.Draw(image).text((10, 60), text, font=load_font(script, 48), fill=255, anchor="ls")
    return image.tobytes()


COVERED = [("咖", Script.CJK), ("क", Script.DEVANAGARI), ("ก", Script.THAI), ("ب", Script.ARABIC),
           ("Ü", Script.LATIN), ("Ж", Script.LATIN), ("ק", Script.HEBREW), ("☕", Script.EMOJI),
           ("🍩", Script.EMOJI), ("→", Script.SYMBOLS), ("Ս", Script.ARMENIAN), ("ቡ", Script.ETHIOPIC),
           ("ক", Script.BENGALI), ("ක", Script.SINHALA)]


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


# --- the preview warns where a glyph is still missing -------------------------------------------------

def _apple_doc(logo_text: str) -> dict[str, object]:
    return {"logoText": logo_text, "organizationName": logo_text, "backgroundColor": "rgb(30, 58, 95)",
            "foregroundColor": "rgb(255, 255, 255)",
            "storeCard": {"headerFields": [{"key": "s", "label": "Stamps", "value": "7/10"}]}}


def test_a_preview_warns_naming_a_text_and_character_no_font_draws() -> None:
    with pytest.warns(MissingGlyphWarning, match=r"U\+E000") as caught:
        picture = preview_apple(_apple_doc("Kahve \ue000"))
    assert picture.warnings and all("'Kahve \\ue000'" in note for note in picture.warnings)
    assert {str(w.message) for w in caught if w.category is MissingGlyphWarning} == set(picture.warnings)
    with pytest.warns(MissingGlyphWarning, match="U\\+0F56"):
        google = preview_google({"programName": "བོད", "hexBackgroundColor": "#1e3a5f"}, {"state": "ACTIVE"})
    assert any("'བོད'" in note for note in google.warnings)


@pytest.mark.parametrize("text", ["קפה טוב", "☕🍩", "Kahve Dünyası", "咖啡 कॉफ़ी ቡና"])
def test_a_preview_of_covered_scripts_does_not_warn(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingGlyphWarning)
        assert preview_apple(_apple_doc(text)).warnings == ()


# --- right-to-left text is laid out in the order the Unicode bidi algorithm gives --------------------

BIDI = ["קפה חינם ☕", "קפה 2 טוב", "خصم 10% على القهوة!", "Kahve קפה ☕", "(קפה) טוב", "☕🍩 קפה",
        "Café 10 كافيه", "קפה, Café 10 ☕!", "קפה 1,000.50 ₪ טוב", "سعر: ١٠٠ ر.س", "abc אבג 123 def",
        "אבג abc 123, def!", "  קפה  ", "קפה חינם ", "قهوه\u200cخانه ۱۲ تومان", "שָׁלוֹם 7/10", "-5 קפה",
        "קפה טוב - Kahve Dünyası ☕ 10%", "מבצע: 2+1 על כל הקפה!"]


@pytest.mark.parametrize("text", BIDI)
def test_runs_are_laid_in_the_visual_order_of_the_bidi_algorithm(text: str) -> None:
    # python-bidi (the Rust unicode-bidi crate) gives the visual order of the characters; ours is each
    # run in turn, a right-to-left run reversed (Raqm lays it right to left)
    ours = "".join(run.text[::-1] if rtl else run.text for run, rtl in layout(text))
    assert ours == get_display(text)


def test_a_hebrew_line_shows_its_emoji_at_the_left_end() -> None:
    def ink(text: str) -> set[int]:
        image = Image.new("L", (500, 70), 0)
        draw_text(ImageDraw.Draw(image), (10, 50), text, size=40, fill=255)
        return {i for i, v in enumerate(image.tobytes()) if v > 128}

    cup, line = ink("☕"), ink("קפה חינם ☕")
    assert len(cup & line) > 0.9 * len(cup)  # the cup is drawn first, where the line starts


# Hebrew and Arabic letters and marks, Arabic-Indic digits, Latin, digits, punctuation and number signs,
# spaces, CJK, Devanagari and emoji: everything but paired brackets (rule N0) and explicit embeddings
_MIXED = st.text(st.sampled_from(list(
    "קפהטובשָׁלוֹםقهوةخصمعلى٠١٢٣۱۲\u200c\u200dabcXYZé0123456789 .,:;!?%+-/$€₪#*&'\"…咖啡कॉफ़ी☕🍩❤\ufe0f→")),
    max_size=30)


def _visible(text: str) -> str:
    """Joiners have no glyph: where they stand between others does not show."""
    return text.replace("\u200c", "").replace("\u200d", "")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_MIXED)
def test_any_mix_of_scripts_is_laid_in_bidi_order(text: str) -> None:
    ours = "".join(run.text[::-1] if rtl else run.text for run, rtl in layout(text))
    assert _visible(ours) == _visible(get_display(text))


def test_without_raqm_hebrew_is_still_drawn_right_to_left(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow's wheels load FriBiDi from the system: without it there is no Raqm, only the basic
    layout, which draws characters left to right as given."""
    from walletvoucher import _fonts

    def qof_side(text: str) -> float:
        image = Image.new("L", (300, 90), 0)
        width = draw_text(ImageDraw.Draw(image), (10, 50), text, size=48, fill=255)
        assert width == pytest.approx(text_width(text, 48))
        # ק is the only letter here reaching below the baseline: where is it?
        low = [x for x in range(300) if any(image.getpixel((x, y)) > 128 for y in range(56, 90))]
        return (min(low) - 10) / width

    with_raqm = qof_side("קט")
    monkeypatch.setattr(_fonts, "_RAQM", False)
    _fonts.load_font.cache_clear()
    try:
        assert _fonts.load_font(Script.HEBREW, 48).layout_engine == ImageFont.Layout.BASIC
        without = qof_side("קט")
    finally:
        monkeypatch.undo()
        _fonts.load_font.cache_clear()
    assert with_raqm > 0.4 and without > 0.4  # the first letter on the right either way
