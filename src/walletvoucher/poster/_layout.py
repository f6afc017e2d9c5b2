"""Lay out a join poster on a page: brand band, the join QR, and a call to action per language.

Pure: a program, a URL and a paper size in, a Pillow image out. Text is drawn with the library's
Noto fonts (every script a program may be written in), wrapped to the page and shrunk until every
language fits.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Sequence

import attrs
from PIL import Image, ImageDraw

from walletvoucher._fonts import Script, draw_text, script_of, text_width
from walletvoucher.codes import Symbology
from walletvoucher.codes._images import encode_symbol, write_png
from walletvoucher.model import Program

MM_PER_INCH = 25.4


class PaperSize(enum.Enum):
    """ISO paper sizes a poster is printed on, as (width, height) in millimetres, portrait."""

    A4 = (210, 297)
    A5 = (148, 210)
    A6 = (105, 148)

    def pixels(self, dpi: int) -> tuple[int, int]:
        """The page in pixels at *dpi* dots per inch.

        >>> PaperSize.A6.pixels(300)
        (1240, 1748)
        """
        width, height = self.value
        return round(width / MM_PER_INCH * dpi), round(height / MM_PER_INCH * dpi)

    def points(self) -> tuple[float, float]:
        """The page in PDF points (1/72 inch).

        >>> [round(p, 2) for p in PaperSize.A5.points()]
        [419.53, 595.28]
        """
        width, height = self.value
        return width / MM_PER_INCH * 72, height / MM_PER_INCH * 72


# (scan phrase, collect phrase with {goal} and {reward}) per built-in language.
CALLS: dict[str, tuple[str, str]] = {
    "en": ("Scan to join", "Collect {goal} stamps, get: {reward}"),
    "zh-Hans": ("扫码加入", "集满{goal}个印章，即可获得：{reward}"),
    "zh-Hant": ("掃碼加入", "集滿{goal}個印章，即可獲得：{reward}"),
    "hi": ("जुड़ने के लिए स्कैन करें", "{goal} स्टैम्प जमा करें और पाएँ: {reward}"),
    "th": ("สแกนเพื่อสมัครสมาชิก", "สะสมครบ {goal} แสตมป์ รับ: {reward}"),
    "uz": ("Qoʻshilish uchun skanerlang", "{goal} ta muhr toʻplang va oling: {reward}"),
    "ru": ("Отсканируйте, чтобы присоединиться", "Соберите {goal} штампов и получите: {reward}"),
    "de": ("Scannen und mitmachen", "{goal} Stempel sammeln und erhalten: {reward}"),
    "fr": ("Scannez pour participer", "Collectez {goal} tampons et recevez : {reward}"),
    "es": ("Escanea para unirte", "Reúne {goal} sellos y recibe: {reward}"),
    "ar": ("امسح الرمز للانضمام", "اجمع {goal} طوابع واحصل على: {reward}"),
}


def call_to_action(program: Program, language: str) -> tuple[str, str]:
    """The two lines a poster prints for *language*: how to join, and what the stamps earn.

    Languages without built-in wording fall back to English phrasing around the program's own
    (translated) reward.

    >>> from walletvoucher.model import Brand, Program, RedemptionMethod, Reward
    >>> p = Program(id="c", name="Coffee", goal=10, reward=Reward(title="Free coffee", description="Any"),
    ...             brand=Brand(name="K", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
    ...             redemption=RedemptionMethod.SELF_REDEEM)
    >>> call_to_action(p, "en")
    ('Scan to join', 'Collect 10 stamps, get: Free coffee')
    """
    scan, collect = CALLS.get(language) or CALLS.get(language.split("-")[0]) or CALLS["en"]
    return scan, collect.format(goal=program.goal, reward=program.reward.title.get(language))


@attrs.frozen
class Line:
    """One line of text to draw, at a size in pixels."""

    text: str
    size: int
    bold: bool = False


def _unspaced(char: str) -> bool:
    """Chinese, Japanese and Korean break between characters; other scripts between words."""
    return script_of(char) is Script.CJK


def _attaches(piece: str, char: str) -> bool:
    """Whether *char* continues *piece* (no line break allowed before it)."""
    category = unicodedata.category(char)
    if char == " " or category in {"Mn", "Mc", "Me"}:
        return True
    if piece.endswith(" "):
        return False
    if _unspaced(char) or _unspaced(piece[-1]):
        return category in {"Po", "Pe", "Pf"}
    return True


def _pieces(text: str) -> list[str]:
    """Break opportunities: words with their trailing space, CJK characters one by one (closing
    punctuation and combining marks stay with the character before them)."""
    pieces: list[str] = []
    for char in text:
        if pieces and _attaches(pieces[-1], char):
            pieces[-1] += char
        else:
            pieces.append(char)
    return pieces


def _fitting_pieces(text: str, size: int, max_width: float, bold: bool) -> list[str]:
    """:func:`_pieces`, with any piece wider than a line cut into characters (a long web address)."""
    out: list[str] = []
    for piece in _pieces(text):
        if text_width(piece.rstrip(), size, bold=bold) <= max_width:
            out.append(piece)
            continue
        for char in piece:
            if out and unicodedata.category(char) in {"Mn", "Mc", "Me"}:
                out[-1] += char
            else:
                out.append(char)
    return out


def wrap(text: str, size: int, max_width: float, *, bold: bool = False) -> list[str]:
    """Greedy line breaking of *text* at *size* so no line is wider than *max_width*.

    Breaks between words, and between the characters of Chinese, Japanese and Korean.

    >>> wrap("Collect 10 stamps, get: Free coffee", 40, 400)
    ['Collect 10 stamps,', 'get: Free coffee']
    >>> wrap("集满10个印章，即可获得：免费咖啡", 40, 300)
    ['集满10个印章，', '即可获得：免费', '咖啡']
    """
    lines: list[str] = []
    current = ""
    for piece in _fitting_pieces(text, size, max_width, bold):
        trial = current + piece
        if current and text_width(trial.rstrip(), size, bold=bold) > max_width:
            lines.append(current.rstrip())
            current = piece.lstrip()
        else:
            current = trial
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _block(program: Program, languages: Sequence[str], size: int, width: float) -> list[Line]:
    """Every language's call to action at body size *size*, wrapped to *width*."""
    lines: list[Line] = []
    for language in languages:
        scan, collect = call_to_action(program, language)
        lines += [Line(t, size, True) for t in wrap(scan, size, width, bold=True)]
        lines += [Line(t, round(size * 0.8)) for t in wrap(collect, round(size * 0.8), width)]
    return lines


def _height(lines: Sequence[Line], gap: float) -> float:
    return sum(line.size * 1.45 for line in lines) + gap * len(lines)


def fit_block(
    program: Program, languages: Sequence[str], width: float, height: float, start: int
) -> list[Line]:
    """The languages' lines at the largest size (down from *start*) that fits *width* x *height*."""
    size = start
    while True:
        lines = _block(program, languages, size, width)
        widest = max((text_width(line.text, line.size, bold=line.bold) for line in lines), default=0.0)
        if (_height(lines, size * 0.1) <= height and widest <= width) or size <= 12:
            return lines
        size = max(12, int(size * 0.9))


def _qr(url: str, target: int) -> Image.Image:
    """The join QR drawn by our own code writer, as large as fits *target* pixels."""
    symbol = encode_symbol(url, Symbology.QR)
    modules = symbol.width + 2 * symbol.quiet_zone
    import io

    return Image.open(io.BytesIO(write_png(symbol, max(1, target // modules)))).convert("RGB")


def _heading(program: Program, languages: Sequence[str], width: int, text_width_max: float) -> list[Line]:
    """The band's lines: the brand, the program's name (large), its names in the other languages."""
    names = [program.name.get(lang) for lang in languages]
    others = " · ".join(dict.fromkeys(n for n in names[1:] if n != names[0]))
    big, small = width // 12, width // 30
    heading = [Line(program.brand.name.get(languages[0]), width // 24)]
    heading += [Line(t, big, True) for t in wrap(names[0], big, text_width_max, bold=True)][:3]
    if others:
        heading += [Line(t, small) for t in wrap(others, small, text_width_max)][:4]
    return heading


def _address(url: str, size: int, width: float) -> list[Line]:
    """The join address under the QR code, at most three lines (cut with an ellipsis)."""
    shown = wrap(url, size, width)
    if len(shown) > 3:
        shown = [*shown[:2], shown[2][:-1] + "…"]
    return [Line(text, size) for text in shown]


def draw_poster(
    program: Program, *, url: str, size: PaperSize, dpi: int, languages: Sequence[str]
) -> Image.Image:
    """Draw the poster page (RGB) at *dpi*: band with the program's names, QR, calls to action."""
    width, height = size.pixels(dpi)
    brand = program.brand
    page = Image.new("RGB", (width, height), "#FFFFFF")
    draw = ImageDraw.Draw(page)
    margin = width // 14
    heading = _heading(program, languages, width, width - 2 * margin)
    band = round(_height(heading, 0) + height * 0.05)
    draw.rectangle((0, 0, width, band), fill=brand.background.hex)
    y = _centred(draw, width, heading[:1], height * 0.02, brand.label.hex)
    _centred(draw, width, heading[1:], y, brand.foreground.hex)
    qr = _qr(url, round(min(width * 0.55, height * 0.38)))
    top = band + round(height * 0.03)
    page.paste(qr, ((width - qr.width) // 2, top))
    small = max(12, width // 48)
    below = _centred(draw, width, _address(url, small, width - 2 * margin), top + qr.height, "#555555")
    area_top = below + small
    lines = fit_block(program, languages, width - 2 * margin, height - area_top - margin, width // 20)
    _centred(draw, width, lines, area_top, "#111111")
    return page


def _centred(draw: ImageDraw.ImageDraw, width: int, lines: Sequence[Line], top: float, fill: str) -> float:
    """Draw *lines* centred from *top* down; returns the y below the last line."""
    y = top
    for line in lines:
        y += line.size * 1.1
        drawn = text_width(line.text, line.size, bold=line.bold)
        draw_text(draw, ((width - drawn) / 2, y), line.text, size=line.size, fill=fill, bold=line.bold)
        y += line.size * 0.35
    return y
