"""Loading the business's artwork (logo, icon, stamp icon) for drawing: bounded before decoding.

The PNG header is read first (:func:`walletvoucher.model.png_size`): an image over
:data:`~walletvoucher.model.MAX_ARTWORK_SIDE` pixels a side is refused before Pillow decodes a pixel, so a
100-byte file claiming 60000 x 60000 is an :class:`~walletvoucher.errors.AppleImageError`, never a
``DecompressionBombError``. A large image that is allowed is shrunk once to :data:`WORKING_SIDE` (the
largest size any pass image is drawn at), so a stamp icon is not resized from 4096 px for every stamp.
"""

from __future__ import annotations

import functools
import io

from PIL import Image

from walletvoucher.errors import AppleImageError, ValidationError
from walletvoucher.model._brand import check_png

WORKING_SIDE = 1024
"""Artwork is drawn at most this large (a @3x stamp on the supersampled strip is about 520 px)."""


def open_artwork(data: bytes, field: str) -> Image.Image:
    """The artwork as an RGBA image of at most :data:`WORKING_SIDE` a side; cached, so do not change it."""
    try:
        check_png(field, data)
    except ValidationError as exc:
        raise AppleImageError(exc.message, field=field, value=f"<{len(data)} bytes>", fix=exc.fix) from None
    try:
        return _decoded(data)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise AppleImageError(
            "is not a readable PNG image", field=field, value=f"<{len(data)} bytes>",
            fix="give the bytes of a .png file",
        ) from exc


@functools.lru_cache(maxsize=8)
def _decoded(data: bytes) -> Image.Image:
    """Decode once per image (a logo also used as icon is decoded once), shrink, then convert."""
    image: Image.Image = Image.open(io.BytesIO(data), formats=["PNG"])
    image.load()
    if image.mode not in _SHRINKABLE:
        image = image.convert("RGBA")
    if max(image.size) > WORKING_SIDE:
        image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
    return image.convert("RGBA")


_SHRINKABLE = frozenset({"RGB", "RGBA", "L", "LA"})
