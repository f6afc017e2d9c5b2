"""Fonts that cover the scripts our users write: Latin, Cyrillic, Greek, Chinese, Devanagari, Thai, Arabic.

Pillow draws a whole string with one font, and no single free font covers every script, so text is cut
into *runs* of one script each and every run is drawn with the Noto font made for it. The fonts come
from wheels on PyPI (OFL-licensed Noto families; the CJK one covers Simplified and Traditional Chinese,
Japanese kana and Korean Hangul), so ``pip install walletvoucher`` is all a machine needs: no system
fonts, no missing-glyph boxes. Complex scripts (Devanagari conjuncts, Thai marks, Arabic joining) are
shaped by Pillow's Raqm layout when Pillow has it (the PyPI wheels do).

>>> [(r.script, r.text) for r in split_runs("Kahve 咖啡 कॉफ़ी")]
[('latin', 'Kahve '), ('cjk', '咖啡 '), ('devanagari', 'कॉफ़ी')]
"""

from __future__ import annotations

import enum
import functools
import importlib
import unicodedata
from pathlib import Path

import attrs
from PIL import ImageDraw, ImageFont


class Script(str, enum.Enum):
    """The font families we ship, by the script each is drawn for."""

    LATIN = "latin"  # also Greek and Cyrillic (Noto Sans covers them)
    CJK = "cjk"
    DEVANAGARI = "devanagari"
    THAI = "thai"
    ARABIC = "arabic"

    def __repr__(self) -> str:
        return repr(self.value)


# (first, last, script): Unicode blocks that the Latin/Cyrillic/Greek font does not cover.
_RANGES: tuple[tuple[int, int, Script], ...] = (
    (0x0600, 0x06FF, Script.ARABIC),
    (0x0750, 0x077F, Script.ARABIC),
    (0x08A0, 0x08FF, Script.ARABIC),
    (0x0900, 0x097F, Script.DEVANAGARI),
    (0x0E00, 0x0E7F, Script.THAI),
    (0x1100, 0x11FF, Script.CJK),  # Hangul Jamo
    (0x2E80, 0x2FDF, Script.CJK),  # radicals
    (0x3000, 0x303F, Script.CJK),  # CJK punctuation
    (0x3040, 0x30FF, Script.CJK),  # kana
    (0x3100, 0x31FF, Script.CJK),
    (0x3200, 0x4DBF, Script.CJK),  # enclosed, compatibility, extension A
    (0x4E00, 0x9FFF, Script.CJK),  # unified ideographs
    (0xA8E0, 0xA8FF, Script.DEVANAGARI),
    (0xAC00, 0xD7AF, Script.CJK),  # Hangul syllables
    (0xF900, 0xFAFF, Script.CJK),
    (0xFB50, 0xFDFF, Script.ARABIC),
    (0xFE30, 0xFE4F, Script.CJK),
    (0xFE70, 0xFEFF, Script.ARABIC),
    (0xFF00, 0xFFEF, Script.CJK),  # full-width forms
    (0x20000, 0x3FFFF, Script.CJK),
)

# Where each family lives: (module, file name inside the module's folder or its files/ folder).
_FILES: dict[Script, tuple[str, str]] = {
    Script.LATIN: ("fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf"),
    Script.DEVANAGARI: ("fontpkg_noto_sans_devanagari", "files/NotoSansDevanagari[wdth,wght].ttf"),
    Script.THAI: ("fontpkg_noto_sans_thai", "files/NotoSansThai[wdth,wght].ttf"),
    Script.ARABIC: ("fontpkg_noto_sans_arabic", "files/NotoSansArabic[wdth,wght].ttf"),
    Script.CJK: ("cvttf_NotoSansCJK_Regular", "NotoSansCJKtc-Regular.otf"),
}


def script_of(char: str) -> Script | None:
    """The script whose font draws *char*; ``None`` for characters any font draws (spaces, marks, digits).

    >>> script_of("A"), script_of("Ж"), script_of("咖"), script_of("ก"), script_of(" ")
    ('latin', 'latin', 'cjk', 'thai', None)
    """
    code = ord(char)
    for first, last, script in _RANGES:
        if first <= code <= last:
            return script
    if char.isspace() or unicodedata.category(char) in {"Mn", "Me", "Cf", "Cc"}:
        return None
    return Script.LATIN


@attrs.frozen
class Run:
    """A stretch of text drawn with one font."""

    script: Script
    text: str


def _drawable(char: str) -> str:
    """What is drawn for *char* on one line: line breaks and other controls as a space, a lone
    surrogate (which no font can shape) as U+FFFD."""
    if 0xD800 <= ord(char) <= 0xDFFF:
        return "\ufffd"
    if unicodedata.category(char) in {"Cc", "Zl", "Zp"}:
        return " "
    return char


def split_runs(text: str) -> tuple[Run, ...]:
    """Cut *text* into runs of one script; spaces and combining marks stay with the run before them.

    Text is drawn on one line: a newline or other control character becomes a space.
    """
    runs: list[Run] = []
    for char in map(_drawable, text):
        script = script_of(char)
        if runs and (script is None or script is runs[-1].script):
            runs[-1] = Run(runs[-1].script, runs[-1].text + char)
        else:
            runs.append(Run(script or Script.LATIN, char))
    return tuple(runs)


def font_file(script: Script) -> Path:
    """The font file that draws *script* (from its installed wheel)."""
    module_name, relative = _FILES[script]
    module = importlib.import_module(module_name)
    return Path(module.__file__ or "").parent / relative


@functools.lru_cache(maxsize=64)
def load_font(script: Script, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The font for *script* at *size* pixels (bold where the family has a weight axis).

    Cached by (script, size, bold): a font object is read-only once made, so sharing it is safe.
    """
    layout = ImageFont.Layout.RAQM if ImageFont.core.HAVE_RAQM else ImageFont.Layout.BASIC
    font = ImageFont.truetype(str(font_file(script)), size, layout_engine=layout)
    if bold and script is not Script.CJK:
        font.set_variation_by_name("Bold")
    return font


def text_width(text: str, size: int, *, bold: bool = False) -> float:
    """How wide *text* is drawn at *size* pixels, every run in its own font."""
    return sum(load_font(r.script, size, bold).getlength(r.text) for r in split_runs(text))


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    *,
    size: int,
    fill: str | tuple[int, ...],
    bold: bool = False,
    anchor: str = "ls",
) -> float:
    """Draw *text* run by run from *xy* (left, baseline by default); returns the width drawn.

    *anchor* takes Pillow's vertical part (``"ls"`` baseline, ``"lm"`` middle, ``"lt"`` top); runs are
    always laid left to right.
    """
    x, y = xy
    for run in split_runs(text):
        font = load_font(run.script, size, bold)
        draw.text((x, y), run.text, font=font, fill=fill, anchor=anchor)
        x += font.getlength(run.text)
    return x - xy[0]
