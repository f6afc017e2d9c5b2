"""Pictures of passes as each wallet lays them out: see a card without an iPhone or an Android phone.

A preview is drawn from what the wallet receives, not from the model: the rendered ``pass.json`` with
the bundle's images and ``xx.lproj/pass.strings`` for Apple, the class and object for Google. So it
shows what the customer will see, including the voided / expired look, in any language the pass
carries, with real glyphs for Chinese, Hebrew, Arabic, Devanagari, Thai, emoji and more (Noto fonts;
a character none of them has raises a :class:`~walletvoucher.errors.MissingGlyphWarning`), and a
barcode drawn by the project's own code writers that scans.

- :func:`preview` -- a card or voucher (rendered first) or a ``.pkpass``'s bytes -> PNG bytes;
- ``side="back"`` (every function) -- the back instead of the front: Apple's ``backFields``, Google's
  messages, text modules, validity and links, as the wallets list them behind the pass;
- :func:`preview_pkpass` -- any ``.pkpass``, ours or not (read defensively: bounded sizes, missing
  images and fields leave their slots empty) -> PNG bytes;
- :func:`preview_apple` / :func:`preview_google` -- the lower level, returning a :class:`Picture`
  (PNG bytes plus where each part was drawn).

Same input, same bytes: nothing here reads the clock (pass ``at=`` to judge expiry) or the network
(pass Google's images as ``images={url: png_bytes}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from walletvoucher.errors import PreviewError
from walletvoucher.model import Program, StampCard, Voucher
from walletvoucher.preview._apple import draw_apple, draw_apple_back
from walletvoucher.preview._bundle import PassBundle, parse_strings, read_bundle
from walletvoucher.preview._google import draw_google, draw_google_back
from walletvoucher.preview._picture import Picture

if TYPE_CHECKING:  # the renderers are imported only when a card or voucher is rendered
    from walletvoucher.apple import AppleOptions
    from walletvoucher.google import GoogleOptions

WALLETS = ("apple", "google")
SIDES = ("front", "back")


def preview_apple(
    pass_json: Mapping[str, Any],
    files: Mapping[str, bytes] | None = None,
    *,
    language: str | None = None,
    at: datetime | None = None,
    scale: int = 2,
    side: str = "front",
) -> Picture:
    """Draw an Apple pass from its pass.json and its files (images, ``xx.lproj/pass.strings``).

    ``language`` picks the lproj folder (``zh`` finds ``zh-Hans``; default English when present, else
    the pass.json texts). ``at`` judges ``expirationDate``; ``scale`` is pixels per point; ``side``
    ``"back"`` draws the back fields instead of the front.

    >>> doc = {"storeCard": {"headerFields": [{"key": "s", "label": "Stamps", "value": "7/10"}]},
    ...        "backgroundColor": "rgb(30, 58, 95)", "foregroundColor": "rgb(255, 255, 255)"}
    >>> preview_apple(doc).size
    (750, 840)
    """
    files = dict(files or {})
    strings = {
        name.split(".lproj/")[0]: parse_strings(body)
        for name, body in files.items()
        if name.endswith(".lproj/pass.strings")
    }
    bundle = PassBundle(pass_json=dict(pass_json), files=files, strings=strings)
    return preview_bundle(bundle, language=language, at=at, scale=scale, side=side)


def preview_pkpass(
    data: bytes, *, language: str | None = None, at: datetime | None = None, scale: int = 2,
    side: str = "front",
) -> bytes:
    """PNG of the front (or ``side="back"``) of any ``.pkpass``; raises :class:`PreviewError` only if it
    has no pass.json."""
    _side(side)
    bundle = read_bundle(data)
    return preview_bundle(bundle, language=language, at=at, scale=scale, side=side).png


def preview_bundle(
    bundle: PassBundle, *, language: str | None = None, at: datetime | None = None, scale: int = 2,
    side: str = "front",
) -> Picture:
    """Draw a bundle already read with :func:`read_bundle` (its ``languages`` tell what can be picked)."""
    if _side(side) == "back":
        return draw_apple_back(bundle, language=language, scale=_scale(scale))
    return draw_apple(bundle, language=language, at=at, scale=_scale(scale))


def pkpass_languages(data: bytes) -> tuple[str, ...]:
    """The languages a ``.pkpass`` carries texts for (its ``xx.lproj`` folders)."""
    return read_bundle(data).languages


def preview_google(
    class_body: Mapping[str, Any],
    object_body: Mapping[str, Any],
    *,
    language: str | None = None,
    images: Mapping[str, bytes] | None = None,
    scale: int = 2,
    at: datetime | None = None,
    side: str = "front",
) -> Picture:
    """Draw a Google loyalty card or offer from its class and object dicts.

    ``images`` maps the image URLs in them (logo, hero image) to PNG bytes; none is ever fetched.
    A rotating barcode is drawn as Google Wallet shows it at *at* (its TOTP value of that moment).
    ``side="back"`` draws the details view: the messages shown at *at*, text modules, validity, links.

    >>> picture = preview_google({"programName": "Coffee card", "hexBackgroundColor": "#1e3a5f"},
    ...                          {"state": "ACTIVE", "barcode": {"type": "QR_CODE", "value": "CARD-1"}})
    >>> sorted(picture.regions)
    ['barcode', 'card', 'logo', 'logo_text', 'title']
    """
    if _side(side) == "back":
        return draw_google_back(class_body, object_body, language=language, scale=_scale(scale), at=at)
    return draw_google(class_body, object_body, language=language, images=images, scale=_scale(scale), at=at)


def preview(
    item: StampCard | Voucher | bytes,
    wallet: str = "apple",
    *,
    at: datetime | None = None,
    options: AppleOptions | GoogleOptions | None = None,
    program: Program | None = None,
    language: str | None = None,
    images: Mapping[str, bytes] | None = None,
    scale: int = 2,
    side: str = "front",
) -> bytes:
    """PNG bytes of a card, a voucher or a ``.pkpass`` as *wallet* (``"apple"`` or ``"google"``) shows it
    (its ``side``: ``"front"`` or ``"back"``).

    A card or voucher is rendered first, with ``options`` (:class:`~walletvoucher.apple.AppleOptions`
    or :class:`~walletvoucher.google.GoogleOptions`), at ``at``; a voucher needs its ``program``. Bytes
    are read as a ``.pkpass`` (Apple only). Nothing is signed: a preview needs no keys.

    >>> # png = preview(card, "apple", at=now, options=AppleOptions(...), language="th")
    """
    if wallet not in WALLETS:
        raise PreviewError(
            "is not a wallet we draw", field="wallet", value=wallet, fix="use 'apple' or 'google'"
        )
    if isinstance(item, (bytes, bytearray)):
        if wallet != "apple":
            raise PreviewError(
                "a .pkpass is an Apple pass",
                field="wallet",
                value=wallet,
                fix="preview a .pkpass with wallet='apple'",
            )
        return preview_pkpass(bytes(item), language=language, at=at, scale=scale, side=side)
    if at is None:
        raise PreviewError(
            "is needed to render a card or voucher",
            field="at",
            value=None,
            fix="pass at=datetime.now(timezone.utc) (or your render clock)",
        )
    _side(side)
    if wallet == "apple":
        return _apple_from_model(item, at, options, program, language, scale, side)
    return _google_from_model(item, at, options, program, language, images, scale, side)


def _apple_from_model(
    item: StampCard | Voucher,
    at: datetime,
    options: Any,
    program: Program | None,
    language: str | None,
    scale: int,
    side: str,
) -> bytes:
    from walletvoucher.apple import AppleOptions, build_pass_content

    if not isinstance(options, AppleOptions):
        raise PreviewError(
            "must be AppleOptions for an Apple preview",
            field="options",
            value=type(options).__name__,
            fix="pass options=AppleOptions(pass_type_identifier=...)",
        )
    content = build_pass_content(item, options=options, at=at, program=program)
    return preview_apple(content.pass_json, content.files, language=language, at=at, scale=scale,
                         side=side).png


def _google_from_model(
    item: StampCard | Voucher,
    at: datetime,
    options: Any,
    program: Program | None,
    language: str | None,
    images: Mapping[str, bytes] | None,
    scale: int,
    side: str,
) -> bytes:
    from walletvoucher.google import GoogleOptions, loyalty_class, loyalty_object, offer_class, offer_object

    if not isinstance(options, GoogleOptions):
        raise PreviewError(
            "must be GoogleOptions for a Google preview",
            field="options",
            value=type(options).__name__,
            fix="pass options=GoogleOptions(issuer_id=...)",
        )
    if isinstance(item, StampCard):
        bodies = loyalty_class(item.program, options), loyalty_object(item, options, at=at)
    else:
        if program is None:
            raise PreviewError(
                "a voucher needs its program to be drawn",
                field="program",
                value=None,
                fix="pass program=card.program",
            )
        bodies = offer_class(item, program, options), offer_object(item, program, options, at=at)
    return preview_google(*bodies, language=language, images=images, scale=scale, at=at, side=side).png


def _side(side: str) -> str:
    if side not in SIDES:
        raise PreviewError(
            "is not a side of a pass", field="side", value=side if isinstance(side, str) else repr(side),
            fix="use side='front' or side='back'",
        )
    return side


def _scale(scale: int) -> int:
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 4:
        raise PreviewError(
            "must be a whole number from 1 to 4",
            field="scale",
            value=scale,
            fix="pass scale=2 (a phone's @2x screen)",
        )
    return scale


__all__ = [
    "SIDES",
    "WALLETS",
    "PassBundle",
    "Picture",
    "pkpass_languages",
    "preview",
    "preview_apple",
    "preview_bundle",
    "preview_google",
    "preview_pkpass",
    "read_bundle",
]
