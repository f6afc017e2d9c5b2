"""Code images: PNG and SVG pictures of a redeem code, for emails, web pages and printed vouchers.

Shaped like segno: an *encoder* per symbology turns the value into a :class:`Symbol` (a matrix of dark
and light modules, the quiet zone, and the human-readable text of a 1D code); a *writer* per format turns
any :class:`Symbol` into bytes. Encoders and writers are picked from tables, so neither knows the other.

The encoding itself (Reed-Solomon, code sets, masks) is left to ``qrcode``, ``python-barcode``,
``pdf417gen`` and ``aztec-code-generator``; walletvoucher only takes their module matrices and draws them
itself, so that the output is deterministic: the same value gives the same bytes, with no timestamps,
version comments or other metadata.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from xml.sax.saxutils import escape

import attrs
from PIL import Image, ImageDraw, ImageFont

from walletvoucher.codes._pos import validate_pos_value
from walletvoucher.codes._symbology import Symbology
from walletvoucher.errors import SymbologyError

Matrix = tuple[tuple[bool, ...], ...]

BAR_HEIGHT = 50
"""Height of 1D bars, in modules."""
TEXT_SIZE = 10
"""Height of the human-readable line under a 1D code, in modules."""
_TEXT_EM = 0.8
"""Font size as a share of the line: DejaVu Sans Mono's ascent plus descent is 1.17 em, so glyphs stay
inside the line and out of the quiet zone."""
_TEXT_ASCENT = 0.93
"""DejaVu Sans Mono's ascent, in em: where the baseline sits below the top of the line."""
TEXT_GAP = 2
"""Space between the bars and the human-readable line, in modules."""
PDF417_ROW_HEIGHT = 3
"""PDF417 rows are three modules tall (the usual 1:3 module aspect ratio)."""


@attrs.frozen(kw_only=True)
class Symbol:
    """What an encoder produces and a writer draws: every writer sees only this.

    ``modules`` holds rows of modules, ``True`` for dark. Each row is ``row_height`` modules tall (1 for a
    square 2D matrix, 3 for PDF417, the bar height for a 1D code). ``quiet_zone`` light modules surround
    the symbol on every side; ``text`` is printed under 1D codes.
    """

    modules: Matrix
    row_height: int = 1
    quiet_zone: int
    text: str | None = None

    @property
    def width(self) -> int:
        """Width of the symbol without quiet zone, in modules."""
        return len(self.modules[0])

    @property
    def height(self) -> int:
        """Height of the symbol without quiet zone or text, in modules."""
        return len(self.modules) * self.row_height


# --- encoders -------------------------------------------------------------------------------------


def _matrix(rows: Iterable[Iterable[object]]) -> Matrix:
    return tuple(tuple(bool(module) for module in row) for row in rows)


def _encode_qr(value: str) -> Symbol:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(value.encode("utf-8"))
    qr.make(fit=True)
    return Symbol(modules=_matrix(qr.get_matrix()), quiet_zone=4)


def _encode_aztec(value: str) -> Symbol:
    import aztec_code_generator as aztec

    # Non-ASCII text is sent as UTF-8 announced by an ECI, even when it would fit the Latin-1 default:
    # decoders guess the character set of short non-ASCII data without one (zxing-cpp reads "¡" as "｡").
    encoding = None if value.isascii() else "utf-8"
    sequence = _aztec_repaired(aztec.find_optimal_sequence(value, encoding))
    bits = aztec.optimal_sequence_to_bits(sequence)
    for (size, compact), config in aztec.configs.items():  # smallest first, as the library picks
        words = len(aztec.get_data_codewords(bits, config.cw_bits))
        if (words + 3) * 100 / (100 - _AZTEC_EC_PERCENT) < config.codewords:
            code = _aztec_of_sequence()(value, sequence, size=size, compact=compact, encoding=encoding)
            return Symbol(modules=_matrix(code.matrix), quiet_zone=2)
    raise SymbologyError(  # pragma: no cover - AZTEC_MAX_BYTES keeps every value within a 32-layer code
        "AZTEC code does not fit the largest symbol", field="value", value=value[:40], fix="choose QR"
    )


_AZTEC_EC_PERCENT = 23


def _aztec_repaired(sequence: list[object]) -> list[object]:
    """The library's optimal sequence with its one known fault undone.

    aztec-code-generator 0.11-0.12 merges ``", "`` or ``". "`` into one PUNCT code even when the
    comma or full stop was written in DIGIT mode (it looks back to an earlier punctuation shift, not
    to the current mode), and then fails with ``ValueError`` (``pos_code("-5, 1", AZTEC)``). Such a
    pair is written here as its two characters, both of which DIGIT mode has.
    """
    from aztec_code_generator import Latch, Misc, Mode, Shift, code_chars

    out: list[object] = []
    mode, shifted = Mode.UPPER, None
    items = iter(sequence)
    for token in items:
        current, shifted = shifted or mode, None
        if isinstance(token, bytes) and token not in code_chars[current]:
            if not all(char in code_chars[current] for char in token):  # pragma: no cover - not seen
                raise SymbologyError("AZTEC encoder produced a sequence it cannot write", field="value",
                                     value=None, fix="choose QR for this code, and report it")
            out += list(token)
            continue
        out.append(token)
        if token is Shift.BINARY:  # a length (0 means 11 more bits of it), then that many bytes
            length = next(items)
            out.append(length)
            if length == 0:
                length = next(items)
                out.append(length)
                length = int(length) + 31  # type: ignore[call-overload]
            out += [next(items) for _ in range(int(length))]  # type: ignore[call-overload]
        elif token is Misc.FLG:  # FLG(n), then an ECI number when n > 0
            flag = next(items)
            out += [flag, next(items)] if flag else [flag]
        elif isinstance(token, Shift):
            shifted = token.value
        elif isinstance(token, Latch):
            mode = token.value
    return out


@functools.cache
def _aztec_of_sequence() -> type:
    import aztec_code_generator

    class AztecOfSequence(aztec_code_generator.AztecCode):  # type: ignore[misc]
        """An AztecCode drawn from a sequence given here rather than one the library finds itself."""

        def __init__(self, data: str, sequence: list[object], **options: object) -> None:
            self._given = sequence
            super().__init__(data, **options)

        @property
        def sequence(self) -> list[object]:
            return self._given

        @sequence.setter
        def sequence(self, value: object) -> None:
            """The library resets it to None on construction; the given sequence stays."""

    return AztecOfSequence


def _encode_linear(kind: str, data: str, expected: str, quiet_zone: int) -> Symbol:
    """A 1D code from python-barcode's bar pattern (``"1"`` is a dark module)."""
    import barcode

    code = (_code128_class() if kind == "code128" else barcode.get_barcode_class(kind))(data)
    if code.get_fullcode() != expected:  # pragma: no cover - guards against a library change
        raise SymbologyError(
            f"encoder produced {code.get_fullcode()!r}", field="value", value=expected, fix="report a bug"
        )
    bars = "".join(code.build())
    row = tuple(bar != "0" for bar in bars)
    return Symbol(modules=(row,), row_height=BAR_HEIGHT, quiet_zone=quiet_zone, text=expected)


def _encode_ean13(value: str) -> Symbol:
    return _encode_linear("ean13", value[:12], value, quiet_zone=11)


def _encode_upca(value: str) -> Symbol:
    return _encode_linear("upca", value[:11], value, quiet_zone=9)


def _encode_code128(value: str) -> Symbol:
    return _encode_linear("code128", value, value, quiet_zone=10)


@functools.cache
def _code128_class() -> type:
    """python-barcode's Code 128 without its fault on codes that start with ``99``.

    python-barcode 0.16 starts every code in code set C and then shortens "start C, switch to B"
    into "start B". It takes the first value after the start for a switch whenever it is 99, 100
    or 101, but 99 is also the data value of the digits ``99`` in code set C: ``"99"`` became a
    code with no data and ``"9912"`` scanned as ``"12"``. The first value is data exactly when the
    code starts with two digits, so then nothing is shortened.
    """
    from barcode.codex import Code128

    class Code128Data(Code128):  # type: ignore[misc]
        def _try_to_optimize(self, encoded: list[int]) -> list[int]:
            if len(self.code) >= 2 and self.code[:2].isdigit():
                return encoded
            result: list[int] = super()._try_to_optimize(encoded)
            return result

    return Code128Data


_PDF417_ECI = 927
_PDF417_ECI_UTF8 = 26


def _pdf417_data_words(value: str) -> list[int]:
    """Data codewords: pdf417gen's mixed compaction or pure byte compaction, whichever is shorter.

    Non-ASCII text is announced as UTF-8 with an ECI so decoders do not guess the character set.
    """
    from pdf417gen.compaction import BYTE_LATCH, BYTE_LATCH_ALT, compact
    from pdf417gen.compaction.byte import compact_bytes

    data = value.encode("utf-8")
    mixed = list(compact(data))
    binary = [BYTE_LATCH_ALT if len(data) % 6 == 0 else BYTE_LATCH, *compact_bytes(data)]
    words = mixed if len(mixed) <= len(binary) else binary
    return words if value.isascii() else [_PDF417_ECI, _PDF417_ECI_UTF8, *words]


def _pdf417_security_level(data_count: int) -> int:
    """The error correction level the PDF417 specification recommends for this much data."""
    for level, limit in ((2, 40), (3, 160), (4, 320)):
        if data_count <= limit:
            return level
    return 5


def _pdf417_columns(total: int) -> int:
    """Fewest data columns giving at most 90 rows and a symbol no taller than about half its width."""
    for columns in range(1, 30):
        rows = math.ceil(total / columns)
        if rows <= min(90, 3 * columns):
            return columns
    return 30


def _encode_pdf417(value: str) -> Symbol:
    from pdf417gen.encoding import encode_rows, get_padding
    from pdf417gen.error_correction import compute_error_correction_code_words
    from pdf417gen.rendering import barcode_size, modules
    from pdf417gen.util import chunks

    data = _pdf417_data_words(value)
    level = _pdf417_security_level(len(data))
    ec_count = 2 ** (level + 1)
    columns = _pdf417_columns(len(data) + ec_count + 1)
    padding = get_padding(len(data), ec_count, columns)
    words = [len(data) + len(padding) + 1, *data, *padding]
    words += compute_error_correction_code_words(words, level)
    codes = list(encode_rows(list(chunks(words, columns)), columns, level))
    width, height = barcode_size(codes)
    dark = set(modules(codes))
    matrix = tuple(tuple((x, y) in dark for x in range(width)) for y in range(height))
    return Symbol(modules=matrix, row_height=PDF417_ROW_HEIGHT, quiet_zone=2)


def _encode_text(value: str) -> Symbol:
    raise SymbologyError(
        "TEXT codes are shown as text and have no image",
        field="symbology",
        value=Symbology.TEXT,
        fix="show the code as text, or choose QR, CODE_128, EAN_13, UPC_A, PDF417 or AZTEC for an image",
    )


_ENCODERS: dict[Symbology, Callable[[str], Symbol]] = {
    Symbology.QR: _encode_qr,
    Symbology.CODE_128: _encode_code128,
    Symbology.EAN_13: _encode_ean13,
    Symbology.UPC_A: _encode_upca,
    Symbology.PDF417: _encode_pdf417,
    Symbology.AZTEC: _encode_aztec,
    Symbology.TEXT: _encode_text,
}


def encode_symbol(value: str, symbology: Symbology) -> Symbol:
    """Validate ``value`` for ``symbology`` and encode it as a module matrix.

    >>> symbol = encode_symbol("4006381333931", Symbology.EAN_13)
    >>> symbol.width, symbol.text
    (95, '4006381333931')
    """
    shown = validate_pos_value(value, symbology)
    try:
        return _ENCODERS[symbology](shown)
    except SymbologyError:
        raise
    except Exception as exc:  # a fault of a third-party encoder on a value validation accepted
        raise SymbologyError(
            f"{symbology.name} encoder could not draw this code ({type(exc).__name__}: {str(exc)[:100]})",
            field="value",
            value=shown if len(shown) <= 40 else f"{shown[:40]}...",
            fix="choose QR for this code, and report the value to walletvoucher",
        ) from exc


# --- writers --------------------------------------------------------------------------------------


def _dark_runs(row: tuple[bool, ...]) -> Iterator[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    start = None
    for x, dark in enumerate((*row, False)):
        if dark and start is None:
            start = x
        elif not dark and start is not None:
            yield start, x - start
            start = None


def _text_band(symbol: Symbol) -> int:
    """Height of the human-readable line under the symbol, in modules."""
    return 0 if symbol.text is None else TEXT_GAP + TEXT_SIZE


def _canvas_size(symbol: Symbol) -> tuple[int, int]:
    """Width and height of the picture, quiet zones and text included, in modules."""
    qz = symbol.quiet_zone
    return symbol.width + 2 * qz, symbol.height + _text_band(symbol) + 2 * qz


def _font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans Mono, bundled with python-barcode: the same glyphs on every machine."""
    font_file = resources.files("barcode") / "fonts" / "DejaVuSansMono.ttf"
    with resources.as_file(font_file) as path:
        return ImageFont.truetype(str(path), size)


def write_png(symbol: Symbol, module_size: int) -> bytes:
    """Draw ``symbol`` as an 8-bit greyscale PNG, ``module_size`` pixels per module, no metadata."""
    width, height = _canvas_size(symbol)
    image = Image.new("L", (width * module_size, height * module_size), 255)
    draw = ImageDraw.Draw(image)
    qz, rh = symbol.quiet_zone, symbol.row_height
    for y, row in enumerate(symbol.modules):
        top = (qz + y * rh) * module_size
        for start, length in _dark_runs(row):
            left = (qz + start) * module_size
            draw.rectangle(
                (left, top, left + length * module_size - 1, top + rh * module_size - 1),
                fill=0,
            )
    if symbol.text is not None:
        _draw_text(draw, symbol, module_size, image.width)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=9)
    return out.getvalue()


def _draw_text(draw: ImageDraw.ImageDraw, symbol: Symbol, module_size: int, image_width: int) -> None:
    assert symbol.text is not None
    size = math.floor(TEXT_SIZE * _TEXT_EM * module_size)
    font = _font(size)
    fit = symbol.width * module_size / max(font.getlength(symbol.text), 1)
    if fit < 1:
        font = _font(max(1, math.floor(size * fit)))
    top = (symbol.quiet_zone + symbol.height + TEXT_GAP) * module_size
    draw.text((image_width / 2, top), symbol.text, fill=0, font=font, anchor="ma")


def write_svg(symbol: Symbol, module_size: int) -> bytes:
    """Draw ``symbol`` as a standalone SVG: one path for the dark modules, in module units."""
    width, height = _canvas_size(symbol)
    qz, rh = symbol.quiet_zone, symbol.row_height
    path = "".join(
        f"M{qz + start},{qz + y * rh}h{length}v{rh}h-{length}z"
        for y, row in enumerate(symbol.modules)
        for start, length in _dark_runs(row)
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * module_size}" '
        f'height="{height * module_size}" viewBox="0 0 {width} {height}" shape-rendering="crispEdges">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<path fill="#000" d="{path}"/>',
    ]
    if symbol.text is not None:
        parts.append(_svg_text(symbol, width))
    parts.append("</svg>\n")
    return "".join(parts).encode("utf-8")


def _svg_text(symbol: Symbol, width: int) -> str:
    assert symbol.text is not None
    # DejaVu Sans Mono glyphs are 0.6 em wide: keep the line within the width of the bars
    size = min(TEXT_SIZE * _TEXT_EM, symbol.width / (0.6 * len(symbol.text)))
    baseline = symbol.quiet_zone + symbol.height + TEXT_GAP + size * _TEXT_ASCENT
    return (
        f'<text x="{width / 2:g}" y="{baseline:.2f}" font-family="DejaVu Sans Mono, monospace" '
        f'font-size="{size:.2f}" text-anchor="middle" fill="#000">{escape(symbol.text)}</text>'
    )


_WRITERS: dict[str, Callable[[Symbol, int], bytes]] = {"png": write_png, "svg": write_svg}


def _check_module_size(module_size: int) -> None:
    if not isinstance(module_size, int) or isinstance(module_size, bool) or not 1 <= module_size <= 100:
        raise SymbologyError(
            "must be a whole number of pixels from 1 to 100",
            field="module_size",
            value=module_size,
            fix="pass module_size=4 or similar",
        )


def render(value: str, symbology: Symbology, *, fmt: str, module_size: int) -> bytes:
    """Validate, encode and write a code image in format ``fmt`` (``"png"`` or ``"svg"``)."""
    if fmt not in _WRITERS:
        raise SymbologyError(
            "is not an image format", field="fmt", value=fmt, fix=f"use one of {', '.join(sorted(_WRITERS))}"
        )
    _check_module_size(module_size)
    return _WRITERS[fmt](encode_symbol(value, symbology), module_size)


def render_png(value: str, symbology: Symbology, *, module_size: int = 4) -> bytes:
    """A PNG picture of the code: deterministic, quiet zone included, digits under 1D codes.

    >>> png = render_png("7K3M-9QXP-4", Symbology.QR)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    return render(value, symbology, fmt="png", module_size=module_size)


def render_svg(value: str, symbology: Symbology, *, module_size: int = 4) -> bytes:
    """An SVG picture of the code, ``module_size`` user units per module; deterministic.

    >>> render_svg("7K3M-9QXP-4", Symbology.CODE_128).startswith(b"<?xml")
    True
    """
    return render(value, symbology, fmt="svg", module_size=module_size)
