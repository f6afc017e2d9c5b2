"""Printable join posters: the shop's QR code that takes a customer to the join page.

``render_poster(program, url=...)`` draws an A4, A5 or A6 page with the brand's colours, the program's
name, a QR code of *url* (our own code writer, the same that draws redeem codes) and, in each of the
program's languages, how to join and what the stamps earn. It returns PNG or PDF bytes; the same
input gives the same bytes. ``walletvoucher poster PROGRAM.toml --url ... -o poster.pdf`` is the
command-line way.

>>> from walletvoucher.model import Brand, Program, RedemptionMethod, Reward
>>> program = Program(id="coffee", name="Coffee card", goal=10,
...                   brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
...                   reward=Reward(title="Free coffee", description="Any size"),
...                   redemption=RedemptionMethod.SELF_REDEEM)
>>> url = "https://shop.example/join/coffee"
>>> poster = render_poster(program, url=url, size=PaperSize.A6, fmt="png", dpi=100)
>>> poster[:4], poster == render_poster(program, url=url, size=PaperSize.A6, fmt="png", dpi=100)
(b'\\x89PNG', True)
"""

from __future__ import annotations

import io
import unicodedata
import urllib.parse
from collections.abc import Sequence

from walletvoucher.errors import PosterError, SymbologyError
from walletvoucher.model import Program
from walletvoucher.poster._layout import CALLS, PaperSize, call_to_action, draw_poster
from walletvoucher.poster._pdf import image_pdf

FORMATS = ("pdf", "png")
MAX_URL = 1000
MAX_LANGUAGES = 12


def check_join_url(url: object) -> str:
    """*url* if a phone can open it from a QR code: absolute ``https://`` (or ``http://``) with a host,
    no spaces or control characters, at most 1000 characters; else :class:`PosterError`.

    >>> check_join_url("https://shop.example/join/coffee")
    'https://shop.example/join/coffee'
    """
    fix = "give the join page's full address, e.g. https://shop.example/join/coffee"
    if not isinstance(url, str):
        raise PosterError("must be text", field="url", value=url, fix=fix)
    if len(url) > MAX_URL:
        raise PosterError(
            f"is {len(url)} characters long; at most {MAX_URL} fit a poster's QR code",
            field="url",
            value=url[:60] + "...",
            fix=fix,
        )
    if any(unicodedata.category(c)[0] in "CZ" for c in url):
        raise PosterError("contains spaces or control characters", field="url", value=url, fix=fix)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise PosterError("is not an http(s) address with a host", field="url", value=url, fix=fix)
    return url


def _check(size: object, fmt: object, dpi: object, languages: Sequence[str]) -> None:
    if not isinstance(size, PaperSize):
        raise PosterError(
            "is not a paper size",
            field="size",
            value=size,
            fix="pass PaperSize.A4, PaperSize.A5 or PaperSize.A6",
        )
    if fmt not in FORMATS:
        raise PosterError("is not a poster format", field="fmt", value=fmt, fix="use 'pdf' or 'png'")
    if not isinstance(dpi, int) or isinstance(dpi, bool) or not 72 <= dpi <= 600:
        raise PosterError(
            "must be a whole number from 72 to 600",
            field="dpi",
            value=dpi,
            fix="use 300 for print, 150 for a screen",
        )
    if not languages or len(languages) > MAX_LANGUAGES or not all(isinstance(x, str) for x in languages):
        raise PosterError(
            f"must name 1 to {MAX_LANGUAGES} languages",
            field="languages",
            value=tuple(languages)[: MAX_LANGUAGES + 1],
            fix="leave it out to use the program's",
        )


def render_poster(
    program: Program,
    *,
    url: str,
    size: PaperSize = PaperSize.A5,
    fmt: str = "pdf",
    dpi: int = 300,
    languages: Sequence[str] | None = None,
) -> bytes:
    """A printable poster for *program* whose QR code opens *url*; PDF or PNG bytes.

    *languages* defaults to the program's (its default language first). Raises :class:`PosterError`
    for a URL a phone cannot open or that is too long for the QR code, an unknown size or format.
    """
    if not isinstance(program, Program):
        raise PosterError(
            "is not a Program",
            field="program",
            value=type(program).__name__,
            fix="load one with walletvoucher.programfile.load_program_file",
        )
    chosen = tuple(program.languages if languages is None else languages)
    _check(size, fmt, dpi, chosen)
    try:
        page = draw_poster(program, url=check_join_url(url), size=size, dpi=dpi, languages=chosen)
    except SymbologyError as exc:  # pragma: no cover - the URL cap keeps QR capacity in reach
        raise PosterError(str(exc), field="url", value=url, fix="use a shorter address") from exc
    if fmt == "pdf":
        name = program.name.get(chosen[0])
        return image_pdf(page, page_points=size.points(), title=name)
    out = io.BytesIO()
    page.save(out, format="PNG", optimize=False, compress_level=6, dpi=(dpi, dpi))
    return out.getvalue()


__all__ = ["CALLS", "FORMATS", "PaperSize", "call_to_action", "check_join_url", "render_poster"]
