"""The back of a pass: the list of details each wallet shows behind the front, drawn the same for both.

Apple Wallet lists a pass's ``backFields`` (label over value, the value wrapped over several lines);
Google Wallet's details view lists the object's messages and text modules (header over body), its
validity and links. Both are a titled list of rows on the system's light background, which is what
:func:`draw_back` draws; :mod:`._apple` and :mod:`._google` say which rows a pass has.

Bounded like the front (:mod:`._bounds`): at most :data:`MAX_ROWS` rows, each value at most
:data:`MAX_VALUE_LINES` lines of at most :data:`~walletvoucher.preview._bounds.MAX_LINE_CHARS`
characters each, :data:`MAX_TOTAL_LINES` lines in all; what is cut ends with an ellipsis. Right-to-left
languages (Arabic, Hebrew, Persian, Urdu) are laid out from the right, as the phones do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import attrs
from PIL import Image

from walletvoucher._fonts import text_width
from walletvoucher.preview._bounds import bounded_line
from walletvoucher.preview._canvas import RGB, WHITE, Box, Pen, round_corners
from walletvoucher.preview._picture import Picture, finish

WIDTH = 375
PAD = 16
RADIUS = 14
MAX_ROWS = 24
"""Rows drawn; a pass with more shows the first ones (Apple's back has no limit, real passes use few)."""
MAX_VALUE_LINES = 12
"""Lines of one value; a longer value ends with an ellipsis."""
MAX_TOTAL_LINES = 120
"""Lines of the whole back, so a hostile pass cannot make a picture of unbounded height."""
TITLE_COLOUR: RGB = (0, 0, 0)
VALUE_COLOUR: RGB = (0, 0, 0)
LABEL_COLOUR: RGB = (96, 96, 102)
"""The rows' captions: the phones' secondary grey, dark enough to read on white (WCAG 4.5:1)."""
RULE_COLOUR: RGB = (216, 216, 220)
LABEL_SIZE, VALUE_SIZE, LINE_HEIGHT = 13, 15, 21
_RTL_LANGUAGES = frozenset({"ar", "he", "iw", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb"})
_WORD = re.compile(r"\S+\s*")
_GLUE = frozenset({"\u200c", "\u200d", "\u2060"})  # joiners: never a line break next to them


@attrs.frozen
class BackRow:
    """One row of a pass's back: its caption and its value (plain text, in the pass's language)."""

    label: str
    value: str


def is_rtl(language: str | None) -> bool:
    """Whether *language* (a BCP 47 tag) is written right to left.

    >>> is_rtl("ar"), is_rtl("he-IL"), is_rtl("en"), is_rtl(None)
    (True, True, False, False)
    """
    return (language or "").replace("_", "-").split("-")[0].lower() in _RTL_LANGUAGES


def draw_back(title: str, rows: Iterable[BackRow], *, language: str | None, scale: int) -> Picture:
    """Draw a pass's back: *title* on top, then each row's label over its wrapped value.

    Regions: ``card``, ``title``, and ``back.N.label`` / ``back.N.value`` for the N-th row drawn, with
    ``back.N.line.L`` for each line of its value.
    """
    room = WIDTH - 2 * PAD
    laid = _lay_out(rows, round(VALUE_SIZE * scale), round(room * scale))
    height = max(200, round(52 + sum(_row_height(row, lines) for row, lines in laid) + PAD))
    pen = Pen(Image.new("RGBA", (WIDTH * scale, height * scale), (*WHITE, 255)), scale)
    x, align = (WIDTH - PAD, "right") if is_rtl(language) else (PAD, "left")
    regions: dict[str, Box] = {}
    if title:
        regions["title"] = pen.text(x, 38, title, size=20, fill=TITLE_COLOUR, max_width=room, bold=True,
                                    align=align)
    y = 52.0
    for index, (row, lines) in enumerate(laid):
        pen.draw.line(pen.box(PAD, y, WIDTH - PAD, y), fill=RULE_COLOUR, width=max(1, scale // 2))
        top = y + 8
        if row.label.strip():
            drawn = pen.text(x, top + LABEL_SIZE, row.label, size=LABEL_SIZE, fill=LABEL_COLOUR,
                             max_width=room, align=align)
            regions[f"back.{index}.label"] = _band(pen, drawn, top, top + LABEL_SIZE + 6)
            top += LABEL_SIZE + 6
        boxes = [pen.text(x, top + LINE_HEIGHT * (n + 1) - 5, line, size=VALUE_SIZE, fill=VALUE_COLOUR,
                          max_width=room, align=align) for n, line in enumerate(lines)]
        for number, box in enumerate(boxes):
            line_top = top + LINE_HEIGHT * number
            regions[f"back.{index}.line.{number}"] = _band(pen, box, line_top, line_top + LINE_HEIGHT)
        if boxes:
            regions[f"back.{index}.value"] = _band(pen, _union(boxes), top, top + LINE_HEIGHT * len(lines))
        y += _row_height(row, lines)
    card = round_corners(pen.image, RADIUS * scale)
    pen = Pen(card, scale, pen.notes)
    regions["card"] = (0, 0, card.width, card.height)
    return finish(pen, regions)


def _lay_out(rows: Iterable[BackRow], size: int, width: int) -> list[tuple[BackRow, list[str]]]:
    """The rows drawn (at most :data:`MAX_ROWS`, none empty) with their values' lines, within
    :data:`MAX_TOTAL_LINES` in all."""
    laid: list[tuple[BackRow, list[str]]] = []
    lines_left = MAX_TOTAL_LINES
    for count, row in enumerate(rows):
        if count >= MAX_ROWS or lines_left <= 0:
            break
        if not (row.label.strip() or row.value.strip()):
            continue
        lines = wrap(row.value, size, width, min(MAX_VALUE_LINES, lines_left))
        laid.append((row, lines))
        lines_left -= max(1, len(lines))
    return laid


def _row_height(row: BackRow, lines: list[str]) -> float:
    return 8 + (LABEL_SIZE + 6 if row.label.strip() else 0) + LINE_HEIGHT * len(lines) + 8


def _band(pen: Pen, drawn: Box, top: float, bottom: float) -> Box:
    """A text's region: as wide as it was drawn, as tall as its band of the row (points), so the
    regions of a row's label and value, and of the rows, never overlap."""
    return (drawn[0], pen.px(top), drawn[2], pen.px(bottom))


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))


def wrap(text: str, size: int, max_width: float, max_lines: int) -> list[str]:
    """*text* broken into lines of at most *max_width* pixels at *size*: at spaces, within a word
    with no space (Chinese, Thai, a long link) at a character that starts a grapheme; each paragraph
    (``\\n``) starts a line. At most *max_lines* lines; a cut text ends with ``…``.

    >>> wrap("Free coffee\\nany size", 30, 10_000, 5)
    ['Free coffee', 'any size']
    >>> wrap("one two three", 30, 10_000, 1)
    ['one two three']
    """
    lines: list[str] = []
    paragraphs = text.split("\n", max_lines)
    for number, paragraph in enumerate(paragraphs):
        line, cut = bounded_line(paragraph)
        lines += _wrap_line(line, size, max_width) if line else [""]
        if cut:
            lines[-1] += "…"
        if len(lines) >= max_lines:
            more = len(lines) > max_lines or number < len(paragraphs) - 1
            lines = lines[:max_lines]
            if more:
                lines[-1] = _with_ellipsis(lines[-1], size, max_width)
            break
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _wrap_line(line: str, size: int, max_width: float) -> list[str]:
    out: list[str] = []
    current = ""
    for word in _WORD.findall(line):
        candidate = current + word
        if text_width(candidate.rstrip(), size) <= max_width:
            current = candidate
            continue
        if current:
            out.append(current.rstrip())
        current = word
        while text_width(current.rstrip(), size) > max_width:  # a word wider than the line: break it
            cut = _fitting_prefix(current, size, max_width)
            out.append(current[:cut])
            current = current[cut:]
    if current.strip():
        out.append(current.rstrip())
    return out


def _fitting_prefix(word: str, size: int, max_width: float) -> int:
    """The longest prefix of *word* that fits, ending where a grapheme ends (at least one character)."""
    low, high = 1, len(word)
    while low < high:
        mid = (low + high + 1) // 2
        if text_width(word[:mid], size) <= max_width:
            low = mid
        else:
            high = mid - 1
    cut = low
    while 1 < cut < len(word) and _joined(word, cut):
        cut -= 1
    while cut < len(word) and _joined(word, cut):  # a single cluster wider than the line: keep it whole
        cut += 1
    return cut


def _joined(word: str, cut: int) -> bool:
    """Whether a break before ``word[cut]`` would split a grapheme (a mark, a joiner, a virama's pair)."""
    after, before = word[cut], word[cut - 1]
    return (unicodedata.category(after) in ("Mn", "Mc", "Me") or after in _GLUE or before in _GLUE
            or unicodedata.name(before, "").endswith("SIGN VIRAMA"))


def _with_ellipsis(line: str, size: int, max_width: float) -> str:
    while line and text_width(line.rstrip() + "…", size) > max_width:
        line = line[:-1]
    return line.rstrip() + "…"
