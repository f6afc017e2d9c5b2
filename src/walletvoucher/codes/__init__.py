"""Redeem codes: generated codes, Zero-Integration POS codes, Staff-Scan tokens and code images."""

from walletvoucher.codes._crockford import (
    ALPHABET,
    RandomSource,
    check_character,
    codes_match,
    generate_code,
    normalize_code,
)
from walletvoucher.codes._scan import ScanClaims, ScanKey, issue_scan_token, verify_scan_token
from walletvoucher.codes._symbology import CodeOrigin, RedeemCode, Symbology

__all__ = [
    "ALPHABET",
    "CodeOrigin",
    "RandomSource",
    "RedeemCode",
    "ScanClaims",
    "ScanKey",
    "Symbology",
    "check_character",
    "codes_match",
    "generate_code",
    "issue_scan_token",
    "normalize_code",
    "verify_scan_token",
]
