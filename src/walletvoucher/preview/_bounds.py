"""What a preview takes from a pass, bounded: so a hostile pass costs no more than a real one to draw.

A preview reads "any pass, ours or not", so its input is an upload. Every cost that grows with the
input is capped *before* the work is done, never measured after it:

- **text**: a line of a pass is at most 375 points wide, so no line can show more than
  :data:`MAX_LINE_CHARS` characters or :data:`MAX_LINE_RUNS` changes of script; a longer text is
  cut to that before it is laid out (shaping and measuring are linear in the text and in its runs,
  and run a dozen times while a line is fitted);
- **images**: the size in a PNG's header is read (24 bytes) before anything is decoded; artwork
  with a side over :data:`MAX_IMAGE_SIDE` pixels or more than :data:`MAX_IMAGE_PIXELS` pixels is
  left out with a problem (Apple's largest image, a @3x strip, is 1125x432), and scaling only ever
  works on the part of an image that is shown, so a 65535x1 strip cannot become 16 gigapixels;
- **pass.strings**: at most :data:`MAX_STRINGS_BYTES`, parsed in one linear pass.

The bundle itself (entry count, sizes, zip bombs, pass.json's depth and numbers) is bounded by the
reader :func:`walletvoucher.preview.read_bundle` shares with ``walletvoucher verify``.
"""

from __future__ import annotations

import re
import struct

from walletvoucher._fonts import split_runs

MAX_LINE_CHARS = 400
"""Characters of one line that are laid out. 375 points at the smallest text (10 points) hold under
a hundred Latin letters; the rest of the allowance is for combining marks and zero-width joiners."""
MAX_LINE_RUNS = 16
"""Changes of script (and so of font) in one line that are laid out: each run is shaped on its own,
which costs up to a millisecond and a half (Devanagari), and real texts change script a few times."""
MAX_IMAGE_SIDE = 4096
"""Pixels a side; a pass image is at most a few hundred points at @3x."""
MAX_IMAGE_PIXELS = 4096 * 4096
"""Pixels of one image (64 MiB as RGBA): larger artwork is treated as missing."""
MAX_STRINGS_BYTES = 1024 * 1024
"""A pass.strings file holds a few kilobytes of texts; a megabyte is far beyond any real pass."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR = struct.Struct(">I4sII")
_SPACE = re.compile(r"\s+")


def bounded_line(text: str) -> tuple[str, bool]:
    """*text* on one line (runs of white space as one space) cut to :data:`MAX_LINE_CHARS`; and
    whether it was cut (then the line never fits whole and ends with an ellipsis when drawn).

    >>> bounded_line("  Free\\n coffee ")
    ('Free coffee', False)
    >>> line, cut = bounded_line("x" * 600_000)
    >>> len(line), cut
    (400, True)
    """
    head = text[: MAX_LINE_CHARS * 4]
    line = _SPACE.sub(" ", head).strip()
    cut = len(line) > MAX_LINE_CHARS or (len(text) > len(head) and not text[len(head):].isspace())
    line = line[:MAX_LINE_CHARS]
    runs = split_runs(line)
    if len(runs) > MAX_LINE_RUNS:
        return "".join(run.text for run in runs[:MAX_LINE_RUNS]).rstrip(), True
    return line, cut


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's header, without decoding it; ``None`` when it is no PNG.

    >>> header = bytes([0, 0, 0, 13]) + b"IHDR" + bytes([0, 0, 255, 255, 0, 0, 0, 1])
    >>> image_size(b"\\x89PNG\\r\\n\\x1a\\n" + header)
    (65535, 1)
    """
    if not data.startswith(_PNG_SIGNATURE) or len(data) < len(_PNG_SIGNATURE) + _IHDR.size:
        return None
    _, kind, width, height = _IHDR.unpack_from(data, len(_PNG_SIGNATURE))
    return (width, height) if kind == b"IHDR" else None


def image_refusal(size: tuple[int, int] | None) -> str | None:
    """Why an image of *size* is not drawn, or ``None`` when it may be decoded.

    >>> image_refusal((65535, 1))
    '65535x1 pixels: larger than any pass image (at most 4096 pixels a side)'
    >>> image_refusal((750, 246)) is None
    True
    """
    if size is None:
        return "is not a PNG image"
    width, height = size
    sides_fit = 0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE
    if not sides_fit or width * height > MAX_IMAGE_PIXELS:
        return f"{width}x{height} pixels: larger than any pass image (at most {MAX_IMAGE_SIDE} pixels a side)"
    return None
