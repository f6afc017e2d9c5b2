"""Fonts that cover the scripts our users write, and emoji; a warning text for what no font draws.

Pillow draws a whole string with one font, and no single free font covers every script, so text is cut
into *runs* and every run is drawn with the Noto font made for it. The fonts come from wheels on PyPI
(OFL-licensed Noto families, unmodified), so ``pip install walletvoucher`` is all a machine needs, no
system fonts:

- Noto Sans: Latin, Greek, Cyrillic (and Vietnamese);
- Noto Sans CJK: Simplified and Traditional Chinese, Japanese kana, Korean Hangul;
- Noto Sans Hebrew, Arabic (also Persian, Urdu, Pashto, Kurdish, Uyghur), Armenian, Georgian,
  Ethiopic, Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam,
  Sinhala, Thai, Lao, Myanmar and Khmer;
- Noto Sans Symbols and Noto Emoji (monochrome: Pillow draws it like any outline font) for ``☕🍩→``.

Each character goes to the font of its Unicode block when that font has it, else to the first font of
:data:`FALLBACK` whose character map (read from the font file itself, :func:`coverage`) has it. A
character no shipped font has (Tibetan, Thaana, Yi, Canadian syllabics, private-use characters) would
draw as the font's missing-glyph box: :func:`missing_glyphs` names those, and the callers that draw
text into artwork or a preview turn that into a
:class:`~walletvoucher.errors.MissingGlyphWarning` (:func:`missing_glyph_note`).

Complex scripts (Devanagari conjuncts, Thai marks, Arabic joining) and right-to-left runs (Hebrew,
Arabic) are shaped by Pillow's Raqm layout when Pillow has it (the PyPI wheels do, when the system has
FriBiDi: ``libfribidi0``, which they load at run time), and the runs are laid in the order the Unicode
bidi algorithm gives (:func:`layout`): in ``"קפה חינם ☕"`` the cup is on the left, where a Hebrew
reader expects the end of the line. Without Raqm, right-to-left runs are still drawn in visual order
(Hebrew reads right; Arabic letters then do not join).

>>> [(r.script, r.text) for r in split_runs("Kahve 咖啡 कॉफ़ी קפה ☕ 2")]  # doctest: +NORMALIZE_WHITESPACE
[('latin', 'Kahve '), ('cjk', '咖啡 '), ('devanagari', 'कॉफ़ी '), ('hebrew', 'קפה '),
 ('emoji', '☕'), ('latin', ' 2')]
"""

from __future__ import annotations

import bisect
import enum
import functools
import importlib
import struct
import unicodedata
from pathlib import Path

import attrs
from PIL import ImageDraw, ImageFont


class Script(str, enum.Enum):
    """The font families we ship, by what each is drawn for."""

    LATIN = "latin"  # also Greek and Cyrillic (Noto Sans covers them)
    SYMBOLS = "symbols"
    EMOJI = "emoji"
    CJK = "cjk"
    HEBREW = "hebrew"
    ARABIC = "arabic"
    ARMENIAN = "armenian"
    GEORGIAN = "georgian"
    ETHIOPIC = "ethiopic"
    DEVANAGARI = "devanagari"
    BENGALI = "bengali"
    GURMUKHI = "gurmukhi"
    GUJARATI = "gujarati"
    ORIYA = "oriya"
    TAMIL = "tamil"
    TELUGU = "telugu"
    KANNADA = "kannada"
    MALAYALAM = "malayalam"
    SINHALA = "sinhala"
    THAI = "thai"
    LAO = "lao"
    MYANMAR = "myanmar"
    KHMER = "khmer"

    def __repr__(self) -> str:
        return repr(self.value)


FALLBACK: tuple[Script, ...] = tuple(Script)
"""The order fonts are tried in for a character its own block's font lacks (Latin, symbols, emoji,
CJK, then the script fonts)."""

# (first, last, script): Unicode blocks whose characters are drawn with a font other than Noto Sans
# when that font has them. The first matching range wins.
_RANGES: tuple[tuple[int, int, Script], ...] = (
    (0x0530, 0x058F, Script.ARMENIAN),
    (0x0590, 0x05FF, Script.HEBREW),
    (0x0600, 0x06FF, Script.ARABIC),
    (0x0750, 0x077F, Script.ARABIC),
    (0x0870, 0x08FF, Script.ARABIC),
    (0x0900, 0x097F, Script.DEVANAGARI),
    (0x0980, 0x09FF, Script.BENGALI),
    (0x0A00, 0x0A7F, Script.GURMUKHI),
    (0x0A80, 0x0AFF, Script.GUJARATI),
    (0x0B00, 0x0B7F, Script.ORIYA),
    (0x0B80, 0x0BFF, Script.TAMIL),
    (0x0C00, 0x0C7F, Script.TELUGU),
    (0x0C80, 0x0CFF, Script.KANNADA),
    (0x0D00, 0x0D7F, Script.MALAYALAM),
    (0x0D80, 0x0DFF, Script.SINHALA),
    (0x0E00, 0x0E7F, Script.THAI),
    (0x0E80, 0x0EFF, Script.LAO),
    (0x1000, 0x109F, Script.MYANMAR),
    (0x10A0, 0x10FF, Script.GEORGIAN),
    (0x1100, 0x11FF, Script.CJK),  # Hangul Jamo
    (0x1200, 0x139F, Script.ETHIOPIC),
    (0x1780, 0x17FF, Script.KHMER),
    (0x19E0, 0x19FF, Script.KHMER),
    (0x1C90, 0x1CBF, Script.GEORGIAN),
    (0x2300, 0x23FF, Script.EMOJI),  # ⌚ ⏰ (other technical signs fall back to the symbol fonts)
    (0x2600, 0x27BF, Script.EMOJI),  # ☕ ❤ ✔ (miscellaneous symbols, dingbats)
    (0x2B00, 0x2BFF, Script.EMOJI),  # ⭐
    (0x2D00, 0x2D2F, Script.GEORGIAN),
    (0x2D80, 0x2DDF, Script.ETHIOPIC),
    (0x2E80, 0x2FDF, Script.CJK),  # radicals
    (0x3000, 0x303F, Script.CJK),  # CJK punctuation
    (0x3040, 0x30FF, Script.CJK),  # kana
    (0x3100, 0x31FF, Script.CJK),
    (0x3200, 0x4DBF, Script.CJK),  # enclosed, compatibility, extension A
    (0x4E00, 0x9FFF, Script.CJK),  # unified ideographs
    (0xA8E0, 0xA8FF, Script.DEVANAGARI),
    (0xA9E0, 0xA9FF, Script.MYANMAR),
    (0xAA60, 0xAA7F, Script.MYANMAR),
    (0xAB00, 0xAB2F, Script.ETHIOPIC),
    (0xAC00, 0xD7AF, Script.CJK),  # Hangul syllables
    (0xF900, 0xFAFF, Script.CJK),
    (0xFB13, 0xFB17, Script.ARMENIAN),
    (0xFB1D, 0xFB4F, Script.HEBREW),
    (0xFB50, 0xFDFF, Script.ARABIC),
    (0xFE30, 0xFE4F, Script.CJK),
    (0xFE70, 0xFEFF, Script.ARABIC),
    (0xFF00, 0xFFEF, Script.CJK),  # full-width forms
    (0x1F000, 0x1FAFF, Script.EMOJI),
    (0x20000, 0x3FFFF, Script.CJK),
)

_NOTO = "manimgx_fonts"  # Noto Emoji, Symbols and the script families the fontpkg wheels do not have
# Where each family lives: (module, file name inside the module's folder).
_FILES: dict[Script, tuple[str, str]] = {
    Script.LATIN: ("fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf"),
    Script.DEVANAGARI: ("fontpkg_noto_sans_devanagari", "files/NotoSansDevanagari[wdth,wght].ttf"),
    Script.THAI: ("fontpkg_noto_sans_thai", "files/NotoSansThai[wdth,wght].ttf"),
    Script.ARABIC: ("fontpkg_noto_sans_arabic", "files/NotoSansArabic[wdth,wght].ttf"),
    Script.CJK: ("cvttf_NotoSansCJK_Regular", "NotoSansCJKtc-Regular.otf"),
    Script.SYMBOLS: (_NOTO, "NotoSansSymbols[wght].ttf"),
    Script.EMOJI: (_NOTO, "NotoEmoji[wght].ttf"),
    Script.HEBREW: (_NOTO, "NotoSansHebrew[wght].ttf"),
    Script.ARMENIAN: (_NOTO, "NotoSansArmenian[wght].ttf"),
    Script.GEORGIAN: (_NOTO, "NotoSansGeorgian[wght].ttf"),
    Script.ETHIOPIC: (_NOTO, "NotoSansEthiopic[wght].ttf"),
    Script.BENGALI: (_NOTO, "NotoSansBengali[wght].ttf"),
    Script.GURMUKHI: (_NOTO, "NotoSansGurmukhi[wght].ttf"),
    Script.GUJARATI: (_NOTO, "NotoSansGujarati[wght].ttf"),
    Script.ORIYA: (_NOTO, "NotoSansOriya[wght].ttf"),
    Script.TAMIL: (_NOTO, "NotoSansTamil[wght].ttf"),
    Script.TELUGU: (_NOTO, "NotoSansTelugu[wght].ttf"),
    Script.KANNADA: (_NOTO, "NotoSansKannada[wght].ttf"),
    Script.MALAYALAM: (_NOTO, "NotoSansMalayalam[wght].ttf"),
    Script.SINHALA: (_NOTO, "NotoSansSinhala[wght].ttf"),
    Script.LAO: (_NOTO, "NotoSansLao[wght].ttf"),
    Script.MYANMAR: (_NOTO, "NotoSansMyanmar[wght].ttf"),
    Script.KHMER: (_NOTO, "NotoSansKhmer[wght].ttf"),
}

_RAQM = bool(ImageFont.core.HAVE_RAQM)
_MAX_NAMED = 5  # characters named in one warning


def font_file(script: Script) -> Path:
    """The font file that draws *script* (from its installed wheel)."""
    module_name, relative = _FILES[script]
    module = importlib.import_module(module_name)
    return Path(module.__file__ or "").parent / relative


# --- which characters a font has: its cmap table ---------------------------------------------------

# cmap subtables we read, best first: (platform, encoding) -> the formats that carry them.
_CMAP_PREFERENCE = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3))


def _read_cmap(path: Path) -> list[tuple[int, int]]:
    """The code point ranges ``(first, last)`` that map to a real glyph in the font at *path*.

    Reads the table directory and the best Unicode subtable of ``cmap`` (format 12 or 4) straight
    from the file: a font's own map is the only truth about which characters it draws.
    """
    with path.open("rb") as handle:
        _version, count = struct.unpack(">IH", handle.read(6))
        handle.seek(12)
        directory = handle.read(16 * count)
        for index in range(count):
            tag, _checksum, offset, length = struct.unpack_from(">4sIII", directory, 16 * index)
            if tag == b"cmap":
                handle.seek(offset)
                table = handle.read(length)
                break
        else:
            raise ValueError(f"{path.name} has no cmap table")
    _version, subtables = struct.unpack_from(">HH", table, 0)
    found: dict[tuple[int, int], int] = {}
    for index in range(subtables):
        platform, encoding, offset = struct.unpack_from(">HHI", table, 4 + 8 * index)
        if struct.unpack_from(">H", table, offset)[0] in (4, 12):
            found.setdefault((platform, encoding), offset)
    for key in _CMAP_PREFERENCE:
        if key in found:
            offset = found[key]
            if struct.unpack_from(">H", table, offset)[0] == 12:
                return _format_12(table, offset)
            return _format_4(table, offset)
    raise ValueError(f"{path.name} has no Unicode cmap of format 4 or 12")


def _format_12(table: bytes, offset: int) -> list[tuple[int, int]]:
    (groups,) = struct.unpack_from(">I", table, offset + 12)
    out = []
    for first, last, glyph in struct.iter_unpack(">III", table[offset + 16:offset + 16 + 12 * groups]):
        if glyph == 0:  # the group's first code point maps to .notdef
            first += 1
        if first <= last:
            out.append((first, last))
    return out


def _format_4(table: bytes, offset: int) -> list[tuple[int, int]]:
    (seg_x2,) = struct.unpack_from(">H", table, offset + 6)
    segs = seg_x2 // 2
    ends = struct.unpack_from(f">{segs}H", table, offset + 14)
    starts = struct.unpack_from(f">{segs}H", table, offset + 16 + seg_x2)
    deltas = struct.unpack_from(f">{segs}h", table, offset + 16 + 2 * seg_x2)
    range_at = offset + 16 + 3 * seg_x2
    range_offsets = struct.unpack_from(f">{segs}H", table, range_at)
    out = []
    for seg in range(segs):
        for code in range(starts[seg], min(ends[seg], 0xFFFE) + 1):
            if range_offsets[seg] == 0:
                glyph = (code + deltas[seg]) & 0xFFFF
            else:
                at = range_at + 2 * seg + range_offsets[seg] + 2 * (code - starts[seg])
                (glyph,) = struct.unpack_from(">H", table, at)
                glyph = (glyph + deltas[seg]) & 0xFFFF if glyph else 0
            if glyph:
                out.append((code, code))
    return out


@functools.cache
def _ranges(script: Script) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The font's covered code points as merged, sorted ranges: (firsts, lasts)."""
    merged: list[list[int]] = []
    for first, last in sorted(_read_cmap(font_file(script))):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return tuple(m[0] for m in merged), tuple(m[1] for m in merged)


def coverage(script: Script) -> frozenset[int]:
    """Every code point the font of *script* draws with a real glyph (from the font's cmap)."""
    firsts, lasts = _ranges(script)
    pairs = zip(firsts, lasts, strict=True)
    return frozenset(code for first, last in pairs for code in range(first, last + 1))


def has_glyph(script: Script, char: str) -> bool:
    """Whether the font of *script* has a glyph for *char* (one character).

    >>> has_glyph(Script.HEBREW, "ק"), has_glyph(Script.LATIN, "ק"), has_glyph(Script.EMOJI, "☕")
    (True, False, True)
    """
    firsts, lasts = _ranges(script)
    code = ord(char)
    index = bisect.bisect_right(firsts, code) - 1
    return index >= 0 and code <= lasts[index]


# --- which font draws each character -------------------------------------------------------------

def _block_script(code: int) -> Script | None:
    for first, last, script in _RANGES:
        if first <= code <= last:
            return script
    return None


@functools.lru_cache(maxsize=8192)
def font_for(char: str) -> Script | None:
    """The family that draws *char*: its block's font when that has it, else the first of
    :data:`FALLBACK` that does; ``None`` when no shipped font has it.

    >>> font_for("A"), font_for("Ж"), font_for("咖"), font_for("ש"), font_for("🍩"), font_for("→")
    ('latin', 'latin', 'cjk', 'hebrew', 'emoji', 'symbols')
    >>> font_for("\\ue000") is None
    True
    """
    preferred = _block_script(ord(char))
    order = (preferred, *FALLBACK) if preferred is not None else FALLBACK
    return next((script for script in order if has_glyph(script, char)), None)


def _shaped_away(char: str) -> bool:
    """Characters the layout handles without a glyph of their own: with Raqm, HarfBuzz hides default
    ignorables (joiners, variation selectors, bidi controls) and draws any missing space as a space."""
    if not _RAQM:  # Pillow's basic layout draws every character from the font's own map
        return False
    code = ord(char)
    return (unicodedata.category(char) in {"Cf", "Zs"} or 0xFE00 <= code <= 0xFE0F
            or 0xE0100 <= code <= 0xE01EF or code == 0x034F)


def _attaches(char: str) -> bool:
    """Spaces, combining marks and format characters stay with the run before them."""
    return char.isspace() or unicodedata.category(char) in {"Mn", "Me", "Cf", "Cc"}


def script_of(char: str) -> Script | None:
    """The family whose font draws *char*; ``None`` for characters drawn with the run before them
    (spaces, combining marks, joiners).

    >>> script_of("A"), script_of("Ж"), script_of("咖"), script_of("ก"), script_of(" "), script_of("ק")
    ('latin', 'latin', 'cjk', 'thai', None, 'hebrew')
    """
    if _attaches(char):
        return None
    return font_for(char) or _block_script(ord(char)) or Script.LATIN


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
    """Cut *text* into runs of one font each; spaces and combining marks stay with the run before them
    when its font draws them (or the layout needs no glyph for them).

    Text is drawn on one line: a newline or other control character becomes a space.
    """
    runs: list[tuple[Script, list[str]]] = []
    for char in map(_drawable, text):
        script = script_of(char)
        if script is None and not (runs and (has_glyph(runs[-1][0], char) or _shaped_away(char))):
            script = font_for(char)  # a mark the run's font lacks (or that starts the text): its own font
        elif script is None and runs and runs[-1][0] is Script.EMOJI and char.isspace():
            script = Script.LATIN  # Noto Emoji's space is more than an em wide
        if runs and (script is None or script is runs[-1][0]):
            runs[-1][1].append(char)
        else:
            runs.append((script or Script.LATIN, [char]))
    return tuple(Run(script, "".join(chars)) for script, chars in runs)


def missing_glyphs(text: str) -> str:
    """The characters of *text* (each once, in order) that no shipped font draws: they would show as
    missing-glyph boxes.

    >>> missing_glyphs("קפה ☕🍩"), [f"U+{ord(c):04X}" for c in missing_glyphs("Kahve \\ue000 བོད")]
    ('', ['U+E000', 'U+0F56', 'U+0F7C', 'U+0F51'])
    """
    seen: dict[str, None] = {}
    for run in split_runs(text):
        for char in run.text:
            if not (has_glyph(run.script, char) or _shaped_away(char)):
                seen[char] = None
    return "".join(seen)


def missing_glyph_note(text: str, where: str, fix: str) -> str | None:
    """A warning text naming the characters of *text* no shipped font draws, or ``None`` if there are
    none; *where* says what draws the text (``"the preview draws the text"``), *fix* what to do.

    >>> print(missing_glyph_note("\\ue000X", "the icon draws", "give an icon"))  # doctest: +ELLIPSIS
    the icon draws '\\ue000X', but no font walletvoucher ships has U+E000 (unnamed): it shows as ...
    """
    missing = missing_glyphs(text)
    if not missing:
        return None
    named = ", ".join(f"U+{ord(c):04X} ({unicodedata.name(c, 'unnamed').lower()})"
                      for c in missing[:_MAX_NAMED])
    more = f" and {len(missing) - _MAX_NAMED} more" if len(missing) > _MAX_NAMED else ""
    shown = text if len(text) <= 40 else text[:39] + "…"
    boxes = "it shows as an empty box" if len(missing) == 1 else "they show as empty boxes"
    return f"{where} {shown!r}, but no font walletvoucher ships has {named}{more}: {boxes}. Fix: {fix}"


# --- drawing -------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=128)
def load_font(script: Script, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The font for *script* at *size* pixels (bold where the family has a weight axis).

    Cached by (script, size, bold): a font object is read-only once made, so sharing it is safe.
    """
    layout = ImageFont.Layout.RAQM if _RAQM else ImageFont.Layout.BASIC
    font = ImageFont.truetype(str(font_file(script)), size, layout_engine=layout)
    if bold and script is not Script.CJK:
        font.set_variation_by_name("Bold")
    return font


# --- right-to-left text: the order runs are laid in (Unicode bidi algorithm, UAX #9) ---------------

_NEUTRAL = frozenset({"ON", "WS", "B", "S"})
_REMOVED = frozenset({"BN", "LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"})
_TRAILING = _REMOVED | {"WS", "B", "S"}
# Unassigned code points in these blocks are right to left (DerivedBidiClass.txt); elsewhere left to right.
_RTL_BLOCKS = ((0x0590, 0x08FF, "R"), (0xFB1D, 0xFDFF, "AL"), (0xFE70, 0xFEFF, "AL"),
               (0x10800, 0x10FFF, "R"), (0x1E800, 0x1EFFF, "R"))


def _bidi_class(char: str) -> str:
    kind = unicodedata.bidirectional(char)
    if kind:
        return kind
    code = ord(char)
    return next((k for first, last, k in _RTL_BLOCKS if first <= code <= last), "L")


def bidi_levels(text: str) -> list[int]:
    """The embedding level of each character of one line of *text* (even: left to right, odd: right
    to left), by the Unicode bidi algorithm's implicit rules (UAX #9 X9, W1-W7, N1-N2, I1-I2, L1).

    The paragraph reads in the direction of its first strong character. Explicit embeddings and
    isolates (U+202A-U+202E, U+2066-U+2069) are not applied: like joiners, they are set aside (X9) and
    take the level of the character before them. Paired brackets (N0) are neutrals like any other.

    >>> bidi_levels("ab קפ 12")
    [0, 0, 0, 1, 1, 1, 2, 2]
    """
    classes = [_bidi_class(char) for char in text]
    base = next(("R" if k in {"R", "AL"} else "L" for k in classes if k in {"L", "R", "AL"}), "L")
    kept = [i for i, kind in enumerate(classes) if kind not in _REMOVED]
    types: list[str] = []
    for i in kept:  # W1: a mark takes the type of the character it sits on
        types.append((types[-1] if types else base) if classes[i] == "NSM" else classes[i])
    _weak_types(types, base)
    levels = [0 if base == "L" else 1] * len(text)
    for i, level in zip(kept, _implicit_levels(types, base), strict=True):
        levels[i] = level
    previous = levels[0] if not kept else levels[kept[0]]
    for i, kind in enumerate(classes):  # set-aside characters: the level of the one before
        if kind in _REMOVED:
            levels[i] = previous
        previous = levels[i]
    for i in range(len(text) - 1, -1, -1):  # L1: white space ending the line is at the paragraph's level
        if classes[i] not in _TRAILING:
            break
        levels[i] = 0 if base == "L" else 1
    return levels


def _weak_types(types: list[str], base: str) -> None:
    """W2-W7 in place: numbers after Arabic letters are Arabic numbers, separators and terminators
    join the numbers around them, numbers after left-to-right text are left to right."""
    strong = base
    for i, kind in enumerate(types):  # W2, W3
        if kind in {"L", "R", "AL"}:
            strong = kind
            types[i] = "R" if kind == "AL" else kind
        elif kind == "EN" and strong == "AL":
            types[i] = "AN"
    for i in range(1, len(types) - 1):  # W4
        if types[i] in {"ES", "CS"} and types[i - 1] == types[i + 1] == "EN":
            types[i] = "EN"
        elif types[i] == "CS" and types[i - 1] == types[i + 1] == "AN":
            types[i] = "AN"
    for order in (range(len(types)), range(len(types) - 1, -1, -1)):  # W5, both ways
        after_number = False
        for i in order:
            if types[i] == "EN":
                after_number = True
            elif types[i] == "ET" and after_number:
                types[i] = "EN"
            else:
                after_number = False
    strong = base
    for i, kind in enumerate(types):  # W6, W7
        if kind in {"ES", "ET", "CS"}:
            types[i] = "ON"
        elif kind in {"L", "R"}:
            strong = kind
        elif kind == "EN" and strong == "L":
            types[i] = "L"


def _implicit_levels(types: list[str], base: str) -> list[int]:
    """N1/N2 (neutrals between text of one direction take it, others the paragraph's), I1/I2."""
    side = ["R" if t in {"R", "EN", "AN"} else "L" if t == "L" else "N" for t in types]
    after, following = [base] * len(side), base
    for i in range(len(side) - 1, -1, -1):
        after[i] = following
        if side[i] != "N":
            following = side[i]
    levels, before = [], base
    for i, kind in enumerate(types):
        if side[i] == "N":
            kind = before if before == after[i] else base
        else:
            before = side[i]
        if base == "L":
            levels.append({"L": 0, "R": 1}.get(kind, 2))
        else:
            levels.append(2 if kind in {"L", "EN", "AN"} else 1)
    return levels


def layout(text: str) -> tuple[tuple[Run, bool], ...]:
    """The runs of *text* from left to right as drawn, each with whether it reads right to left.

    Each font run is cut where the bidi level changes (:func:`bidi_levels`), and the pieces are
    reordered by the bidi algorithm's rule L2 (reverse every sequence at a level or above, from the
    highest level down to the lowest odd one), so a Hebrew or Arabic text with an emoji, a number or a
    Latin word shows each where a reader of that language expects it.

    >>> [(r.text, rtl) for r, rtl in layout("קפה חינם ☕")]
    [('☕', True), ('קפה חינם ', True)]
    >>> [r.text for r, _ in layout("קפה 2 טוב")]
    ['טוב', ' ', '2', 'קפה ']
    """
    runs = split_runs(text)
    if not any(_bidi_class(char) in {"R", "AL", "AN"} for char in text):
        return tuple((run, False) for run in runs)  # left to right throughout: as split
    levels = bidi_levels("".join(run.text for run in runs))
    cut: list[tuple[Script, int, int]] = []  # (font, level, where the piece starts)
    at = 0
    for run in runs:
        for _ in run.text:
            if not cut or cut[-1][0] is not run.script or cut[-1][1] != levels[at]:
                cut.append((run.script, levels[at], at))
            at += 1
    joined = "".join(run.text for run in runs)
    ends = [start for _, _, start in cut[1:]] + [len(joined)]
    pieces = [(Run(script, joined[start:end]), level)
              for (script, level, start), end in zip(cut, ends, strict=True)]
    order = list(range(len(pieces)))
    odd = [level for _, level in pieces if level % 2]
    for level in range(max(lv for _, lv in pieces), min(odd, default=1 << 30) - 1, -1):
        start = 0
        while start < len(order):
            if pieces[order[start]][1] < level:
                start += 1
                continue
            end = start
            while end < len(order) and pieces[order[end]][1] >= level:
                end += 1
            order[start:end] = order[start:end][::-1]
            start = end
    return tuple((pieces[i][0], pieces[i][1] % 2 == 1) for i in order)


_MIRRORED = dict(zip("()[]{}<>«»‹›", ")(][}{><»«›‹", strict=True))


def _reversed_clusters(text: str) -> str:
    """A right-to-left run for Pillow's basic layout, which draws left to right and does not reorder:
    its characters in visual order, each base character still followed by its marks, brackets
    mirrored."""
    clusters: list[str] = []
    for char in text:
        if clusters and (unicodedata.category(char) in {"Mn", "Me", "Mc"} or char in "\u200c\u200d"):
            clusters[-1] += char
        else:
            clusters.append(_MIRRORED.get(char, char))
    return "".join(reversed(clusters))


def _direction(rtl: bool) -> str | None:
    """The direction Raqm lays a run in (Pillow's basic layout takes none)."""
    if not _RAQM:
        return None
    return "rtl" if rtl else "ltr"


@functools.lru_cache(maxsize=4096)
def _short_length(font: ImageFont.FreeTypeFont, text: str, direction: str | None) -> float:
    return font.getlength(text, direction=direction)


def _length(font: ImageFont.FreeTypeFont, text: str, rtl: bool) -> float:
    """How wide one run is. Short runs (a word, a space, a number) are measured once per font: a text
    that is cut to fit is measured again and again, and Raqm sets a font up anew for every call."""
    if len(text) > 64:
        return font.getlength(text, direction=_direction(rtl))
    return _short_length(font, text, _direction(rtl))


def text_width(text: str, size: int, *, bold: bool = False) -> float:
    """How wide *text* is drawn at *size* pixels, every run in its own font."""
    return sum(_length(load_font(run.script, size, bold), run.text, rtl) for run, rtl in layout(text))


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
    laid left to right in the order :func:`layout` gives (right-to-left text reordered).
    """
    x, y = xy
    for run, rtl in layout(text):
        font = load_font(run.script, size, bold)
        shown = _reversed_clusters(run.text) if rtl and not _RAQM else run.text
        draw.text((x, y), shown, font=font, fill=fill, anchor=anchor, direction=_direction(rtl))
        x += _length(font, run.text, rtl)
    return x - xy[0]
