"""Content that makes a valid pass read badly: colours too close, front texts too long.

These are warnings, not errors: Wallet opens the pass, the customer just cannot read part of it.

- **Contrast**: the WCAG 2 contrast ratio of the text colours (foreground, label) against the
  background. Below :data:`MIN_CONTRAST` (3:1, WCAG's minimum for large text; Wallet's front
  texts are 11 pt and up, most of them bold or large) the text is hard to read.
- **Length**: each front field's label and value, in every language the pass carries, measured
  with the Noto font for its script at the size Wallet draws it, against the width of its slot
  (:data:`FRONT_SLOTS`). Wallet shrinks a little and then cuts with an ellipsis, so the widths are
  estimates with some slack, taken from Wallet's layout of a 375-point wide pass.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from walletvoucher._fonts import text_width

RGB = tuple[int, int, int]
MIN_CONTRAST = 3.0
PASS_WIDTH = 343.0
"""Points available for fields across the front (375 minus the margins)."""

#: area -> (label size, value size, width of the whole row in points, fields sharing it)
FRONT_SLOTS: dict[str, tuple[int, int, float]] = {
    "headerFields": (11, 17, 180.0),
    "primaryFields": (14, 24, PASS_WIDTH),
    "secondaryFields": (11, 15, PASS_WIDTH),
    "auxiliaryFields": (11, 15, PASS_WIDTH),
}
LOGO_TEXT = (17, 200.0)
"""logoText: size and the width left beside the logo."""
_SLACK = 1.15  # Wallet shrinks a text by about this much before it cuts it


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0 black .. 1 white).

    >>> relative_luminance((255, 255, 255)), relative_luminance((0, 0, 0))
    (1.0, 0.0)
    """
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio, 1 (same colour) to 21 (black on white).

    >>> round(contrast_ratio((255, 255, 255), (0, 0, 0)), 1), contrast_ratio((9, 9, 9), (9, 9, 9))
    (21.0, 1.0)
    """
    return _contrast(tuple(a), tuple(b))


@functools.lru_cache(maxsize=256)  # a brand's colours are the same on every pass
def _contrast(a: RGB, b: RGB) -> float:
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def contrast_warnings(*, foreground: RGB, background: RGB, label: RGB) -> list[str]:
    """A note for each text colour too close to the background."""
    notes = []
    for name, colour in (("foreground", foreground), ("label", label)):
        ratio = contrast_ratio(colour, background)
        if ratio < MIN_CONTRAST:
            notes.append(f"brand.{name} rgb{colour} on brand.background rgb{background} has a contrast "
                         f"ratio of {ratio:.2f}:1, below {MIN_CONTRAST:.0f}:1, so its texts are hard "
                         "to read. Fix: pick a lighter or darker colour")
    return notes


def front_length_warnings(
    doc: Mapping[str, Any], style: str, table: Mapping[str, Mapping[str, str]]
) -> list[str]:
    """A note for each front text that is wider than its slot in some language."""
    body = doc.get(style, {})
    notes = []
    languages = sorted({lang for texts in table.values() for lang in texts}) or ["(base)"]
    for area, (label_size, value_size, row) in FRONT_SLOTS.items():
        fields = body.get(area, [])
        width = row / max(1, len(fields))
        for field in fields:
            dated = "dateStyle" in field or "timeStyle" in field  # Wallet formats dates itself
            for part, size in (("label", label_size), ("value", value_size))[: 1 if dated else 2]:
                notes += _too_long(f"{style}.{area}.{field['key']}.{part}", field.get(part), size, width,
                                   table, languages)
    notes += _too_long("logoText", doc.get("logoText"), LOGO_TEXT[0], LOGO_TEXT[1], table, languages)
    return notes


@functools.lru_cache(maxsize=4096)  # keyed by text and size (which pick the fonts): once per distinct text
def _width(text: str, size: int) -> float:
    """The widest line of ``text`` at ``size`` (Pillow measures one line at a time); 0 if unmeasurable."""
    try:
        return max(text_width(line, size) for line in text.splitlines() or [""])
    except (RuntimeError, OSError, ValueError):  # a layout engine refusing odd text: no advice, no failure
        return 0.0


@functools.lru_cache(maxsize=64)
def _widest_ascii(size: int) -> float:
    """The widest printable ASCII character at ``size``: measured once per size."""
    return max(_width(chr(code), size) for code in range(32, 127))


def _surely_fits(text: str, size: int, width: float) -> bool:
    """A printable ASCII text whose every character could be the widest still fits: no need to measure.

    The texts that differ on every card (member ids, codes, ``7/10``) are short ASCII, so a batch
    of distinct cards measures none of them, and the cache of :func:`_width` keeps the design's texts.
    """
    return text.isascii() and text.isprintable() and len(text) * _widest_ascii(size) <= width * _SLACK


def _too_long(where: str, key: Any, size: int, width: float, table: Mapping[str, Mapping[str, str]],
              languages: list[str]) -> list[str]:
    if not isinstance(key, str):
        return []  # numbers and dates are formatted by Wallet
    notes = []
    for lang in languages:
        shown = table.get(key, {}).get(lang, key)
        if _surely_fits(shown, size, width):
            continue
        needed = _width(shown, size) / _SLACK
        if needed > width:
            notes.append(f"{where} in {lang!r} ({shown[:40]!r}) needs about {needed:.0f} pt, the front shows "
                         f"{width:.0f} pt, so Wallet cuts it. Fix: shorten it or move it to the back")
            break
    return notes
