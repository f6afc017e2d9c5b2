"""Redeem codes: generated codes, Zero-Integration POS codes, Staff-Scan tokens and code images.

The image writers (Pillow and the barcode encoders) load on first use, so ``import walletvoucher``
stays light for a backend that only keeps cards.
"""

from typing import TYPE_CHECKING, Any

from walletvoucher.codes._crockford import (
    ALPHABET,
    RandomSource,
    check_character,
    codes_match,
    generate_code,
    normalize_code,
)
from walletvoucher.codes._links import RedeemLinkKey
from walletvoucher.codes._pool import CodeBatchSource, CodePool, CodeSource
from walletvoucher.codes._pos import ean13_check_digit, pos_code, upca_check_digit
from walletvoucher.codes._scan import ScanClaims, ScanKey, issue_scan_token, verify_scan_token
from walletvoucher.codes._symbology import CodeOrigin, RedeemCode, Symbology

if TYPE_CHECKING:
    from walletvoucher.codes._images import encode_symbol, render_png, render_svg

_IMAGES = frozenset({"encode_symbol", "render_png", "render_svg"})


def __getattr__(name: str) -> Any:
    if name in _IMAGES:
        from walletvoucher.codes import _images

        return getattr(_images, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ALPHABET",
    "CodeBatchSource",
    "CodeOrigin",
    "CodePool",
    "CodeSource",
    "RandomSource",
    "RedeemCode",
    "RedeemLinkKey",
    "ScanClaims",
    "ScanKey",
    "Symbology",
    "check_character",
    "codes_match",
    "ean13_check_digit",
    "encode_symbol",
    "generate_code",
    "issue_scan_token",
    "normalize_code",
    "pos_code",
    "render_png",
    "render_svg",
    "upca_check_digit",
    "verify_scan_token",
]
