"""The business's look: name, colours and optional artwork."""

from __future__ import annotations

import re
from typing import Any

import attrs

from walletvoucher.errors import ValidationError
from walletvoucher.model._i18n import LocalizedText, is_text, to_text

_HEX = re.compile(r"#?([0-9a-fA-F]{6})")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_ARTWORK_SIDE = 4096
"""Artwork wider or taller than this (pixels, read from the PNG header) is refused before decoding:
Wallet shows nothing larger than 480 px, and a 100-byte PNG may claim 60000 x 60000."""


def _channel(instance: object, attribute: Any, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 255:
        raise ValidationError("must be 0-255", field=attribute.name, value=value, fix="give a value 0-255")


@attrs.frozen(kw_only=True)
class Color:
    """An sRGB colour.

    >>> c = Color.parse("#1E3A5F")
    >>> c.hex, c.css_rgb
    ('#1E3A5F', 'rgb(30, 58, 95)')
    """

    red: int = attrs.field(validator=_channel)
    green: int = attrs.field(validator=_channel)
    blue: int = attrs.field(validator=_channel)

    @classmethod
    def parse(cls, text: str) -> Color:
        """Parse ``#RRGGBB`` (the ``#`` is optional)."""
        match = _HEX.fullmatch(text) if isinstance(text, str) else None
        if not match:
            raise ValidationError(
                "is not a #RRGGBB colour",
                field="color",
                value=text,
                fix="write colours as '#RRGGBB', e.g. '#1E3A5F'",
            )
        raw = int(match.group(1), 16)
        return cls(red=raw >> 16, green=(raw >> 8) & 0xFF, blue=raw & 0xFF)

    @property
    def hex(self) -> str:
        """``#RRGGBB``."""
        return f"#{self.red:02X}{self.green:02X}{self.blue:02X}"

    @property
    def css_rgb(self) -> str:
        """``rgb(r, g, b)``, the form Apple Wallet wants."""
        return f"rgb({self.red}, {self.green}, {self.blue})"

    @property
    def rgb(self) -> tuple[int, int, int]:
        """The three channels."""
        return (self.red, self.green, self.blue)


def to_color(value: Color | str) -> Color:
    """Converter: accept ``#RRGGBB`` strings (other types are left to the validator)."""
    if isinstance(value, str):
        try:
            return Color.parse(value)
        except ValidationError:
            pass  # the validator names the field
    return value  # type: ignore[return-value]


def _is_color(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Color):
        raise ValidationError(
            "is not a #RRGGBB colour", field=attribute.name, value=repr(value)[:80],
            fix="write colours as '#RRGGBB', e.g. '#1E3A5F', or pass a Color",
        )


def png_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a PNG's header (its IHDR chunk), without decoding; None if there is none.

    >>> png_size(_PNG_MAGIC + bytes.fromhex("0000000d49484452 0000ea60 0000ea60 0802000000"))
    (60000, 60000)
    """
    if len(data) < 24 or not data.startswith(_PNG_MAGIC) or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def check_png(field: str, value: object) -> None:
    """Raise :class:`ValidationError` unless *value* is PNG bytes, at most :data:`MAX_ARTWORK_SIDE` a side."""
    if not isinstance(value, bytes) or not value.startswith(_PNG_MAGIC):
        shown = value[:8] if isinstance(value, bytes) else type(value).__name__
        raise ValidationError(
            "must be PNG image bytes",
            field=field,
            value=shown,
            fix="pass the bytes of a .png file (Path(...).read_bytes())",
        )
    size = png_size(value)
    if size is None or not (0 < size[0] <= MAX_ARTWORK_SIDE and 0 < size[1] <= MAX_ARTWORK_SIDE):
        raise ValidationError(
            f"is {size[0]} x {size[1]} pixels; artwork must be 1 to {MAX_ARTWORK_SIDE} pixels a side"
            if size else "has no PNG header (IHDR)",
            field=field,
            value=f"<{len(value)} bytes>",
            fix=f"scale the image to at most {MAX_ARTWORK_SIDE} x {MAX_ARTWORK_SIDE} pixels (1024 is plenty)",
        )


def _png(instance: object, attribute: Any, value: bytes | None) -> None:
    if value is not None:
        check_png(attribute.name, value)


def _short_bytes(value: bytes | None) -> str:
    return "None" if value is None else f"<{len(value)} bytes PNG>"


@attrs.frozen(kw_only=True)
class Brand:
    """The business as shown on its cards: name, colours, optional logo, icon and stamp artwork.

    >>> Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E").background.hex
    '#1E3A5F'
    """

    name: LocalizedText = attrs.field(converter=to_text, validator=is_text)
    foreground: Color = attrs.field(converter=to_color, validator=_is_color)
    background: Color = attrs.field(converter=to_color, validator=_is_color)
    label: Color = attrs.field(converter=to_color, validator=_is_color)
    logo: bytes | None = attrs.field(default=None, validator=_png, repr=_short_bytes)
    icon: bytes | None = attrs.field(default=None, validator=_png, repr=_short_bytes)
    stamp_icon: bytes | None = attrs.field(default=None, validator=_png, repr=_short_bytes)
