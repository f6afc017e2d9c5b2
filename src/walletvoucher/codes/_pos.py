"""Zero-Integration POS codes: a code made in the business's till, shown exactly as given.

The business creates its redeem codes in its own point-of-sale system; walletvoucher only shows them.
So a POS code is never altered: it is validated for the chosen symbology, and a value that the symbology
cannot carry raises :class:`~walletvoucher.errors.SymbologyError` (never a silent fix). The one addition
is the check digit of a 12-digit EAN-13 or 11-digit UPC-A value, which the symbology itself defines.
Every value accepted here is one the image writers draw and a scanner reads back as given (a property
test renders what ``pos_code`` accepts and decodes it with zxing-cpp), so a code cannot be accepted now
and fail later in a pass, a preview or an email.

Capacity limits for the 2D symbologies are counted in UTF-8 bytes and are deliberately conservative, so
that any text within the limit fits whatever the mix of characters (walletvoucher's own encoders and the
wallets' encoders alike):

=========  ===========  ====================================================================
symbology  limit         why
=========  ===========  ====================================================================
QR         2331 bytes    byte-mode capacity of version 40 at error correction level M
PDF417     1000 bytes    byte compaction at security level 5 holds 1032 bytes (928 codewords)
Aztec      1500 bytes    a 32-layer full-range symbol at 23% error correction holds ~1650
Code 128   80 chars      printable ASCII; longer codes do not scan from a phone screen
TEXT       64 chars      printable text, shown as text only
=========  ===========  ====================================================================
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from walletvoucher.codes._symbology import CodeOrigin, RedeemCode, Symbology
from walletvoucher.errors import SymbologyError

QR_MAX_BYTES = 2331
"""Byte-mode capacity of a version 40 QR code at error correction level M."""
PDF417_MAX_BYTES = 1000
"""Conservative: byte compaction at security level 5 leaves room for 1032 bytes."""
AZTEC_MAX_BYTES = 1500
"""Conservative: a full-range 32-layer Aztec symbol at 23% error correction holds about 1650 bytes."""
CODE_128_MAX_CHARS = 80
"""Longer Code 128 symbols become too wide to scan from a phone screen."""
TEXT_MAX_CHARS = 64
"""A code shown as text must be readable aloud and typeable at the till."""

_Validator = Callable[[str, Symbology], str]


def ean13_check_digit(digits12: str) -> str:
    """The EAN-13 check digit of 12 digits (weights 1, 3, 1, 3, ... from the left).

    >>> ean13_check_digit("400638133393")
    '1'
    """
    _require_digits(digits12, 12, Symbology.EAN_13)
    return _mod10_check(digits12)


def upca_check_digit(digits11: str) -> str:
    """The UPC-A check digit of 11 digits (weights 3, 1, 3, 1, ... from the left).

    >>> upca_check_digit("03600029145")
    '2'
    """
    _require_digits(digits11, 11, Symbology.UPC_A)
    return _mod10_check(digits11)


def _mod10_check(digits: str) -> str:
    """GS1 mod-10: weight 3 on the rightmost digit, then alternate 1 and 3 leftwards."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _require_digits(value: str, count: int, symbology: Symbology) -> None:
    if not (isinstance(value, str) and len(value) == count and value.isascii() and value.isdigit()):
        raise SymbologyError(
            f"{_name(symbology)} check digit needs exactly {count} digits 0-9",
            field="value",
            value=value,
            fix=f"give {count} digits",
        )


def pos_code(value: str, symbology: Symbology) -> RedeemCode:
    """A redeem code created in the business's POS, validated for its symbology.

    The value is kept exactly as given; only a missing EAN-13/UPC-A check digit is appended.

    >>> pos_code("400638133393", Symbology.EAN_13).value
    '4006381333931'
    >>> pos_code("SUMMER-2024", Symbology.CODE_128).origin
    <CodeOrigin.POS: 'pos'>
    """
    shown = validate_pos_value(value, symbology)
    return RedeemCode(value=shown, symbology=symbology, origin=CodeOrigin.POS)


def validate_pos_value(value: str, symbology: Symbology) -> str:
    """Check that ``symbology`` can carry ``value``; return the value to show (with check digit).

    >>> validate_pos_value("03600029145", Symbology.UPC_A)
    '036000291452'
    >>> validate_pos_value("Café 10% off", Symbology.QR)
    'Café 10% off'
    """
    if not isinstance(symbology, Symbology):
        raise SymbologyError(
            "is not a Symbology",
            field="symbology",
            value=symbology,
            fix=f"use one of {', '.join(s.name for s in Symbology)}",
        )
    _check_common(value, symbology)
    return _VALIDATORS[symbology](value, symbology)


def _name(symbology: Symbology) -> str:
    return symbology.name.replace("_", "-")


def _fail(symbology: Symbology, message: str, value: object, fix: str) -> SymbologyError:
    return SymbologyError(f"{_name(symbology)} {message}", field="value", value=value, fix=fix)


def _check_common(value: object, symbology: Symbology) -> None:
    """Rules for every symbology: a non-empty str without surrounding whitespace."""
    if not isinstance(value, str):
        raise _fail(
            symbology, f"code must be a str, not {type(value).__name__}", value, "pass the code as text"
        )
    if not value:
        raise _fail(symbology, "code must not be empty", value, "give the code exactly as the POS shows it")
    if value != value.strip():
        raise _fail(
            symbology,
            "code has leading or trailing whitespace; POS codes are shown exactly as given, never stripped",
            value,
            "remove the surrounding whitespace in the POS export, or pass the code without it",
        )


def _check_gs1(value: str, symbology: Symbology, data_digits: int) -> str:
    """EAN-13 / UPC-A: compute a missing check digit, or verify a given one."""
    if not (value.isascii() and value.isdigit()) or len(value) not in (data_digits, data_digits + 1):
        raise _fail(
            symbology,
            f"code must be {data_digits} digits (check digit added) or {data_digits + 1} digits "
            f"(check digit verified), got {len(value)} characters",
            value,
            f"give {data_digits} or {data_digits + 1} digits 0-9, or choose QR or CODE_128 for other codes",
        )
    expected = _mod10_check(value[:data_digits])
    if len(value) == data_digits:
        return value + expected
    if value[-1] != expected:
        raise _fail(
            symbology,
            f"check digit is wrong: expected {expected}, got {value[-1]}",
            value,
            f"check the code for a typo, or give only the first {data_digits} digits",
        )
    return value


def _check_ean13(value: str, symbology: Symbology) -> str:
    return _check_gs1(value, symbology, 12)


def _check_upca(value: str, symbology: Symbology) -> str:
    return _check_gs1(value, symbology, 11)


def _check_code128(value: str, symbology: Symbology) -> str:
    bad = [c for c in value if not " " <= c <= "~"]
    if bad:
        raise _fail(
            symbology,
            f"carries printable ASCII only, got {bad[0]!r}",
            value,
            "choose QR, PDF417 or AZTEC for non-ASCII codes",
        )
    if len(value) > CODE_128_MAX_CHARS:
        raise _fail(
            symbology,
            f"code is {len(value)} characters, at most {CODE_128_MAX_CHARS} scan reliably",
            value,
            "choose QR for long codes",
        )
    return value


def _check_control(value: str, symbology: Symbology, allowed: str) -> None:
    for char in value:
        if char not in allowed and unicodedata.category(char) in ("Cc", "Cs"):
            raise _fail(
                symbology,
                f"code contains the control character {char!r}",
                value,
                "remove control characters from the code",
            )


def _check_bytes(value: str, symbology: Symbology, limit: int) -> str:
    """2D symbologies: any text without control characters (tab and newlines allowed), within capacity."""
    _check_control(value, symbology, "\t\n\r")
    size = len(value.encode("utf-8"))
    if size > limit:
        raise _fail(
            symbology,
            f"code is {size} bytes in UTF-8, at most {limit} fit",
            f"{value[:40]}..." if len(value) > 40 else value,
            "shorten the code; for long payloads show a short code or a link instead",
        )
    return value


def _check_qr(value: str, symbology: Symbology) -> str:
    return _check_bytes(value, symbology, QR_MAX_BYTES)


def _check_pdf417(value: str, symbology: Symbology) -> str:
    return _check_bytes(value, symbology, PDF417_MAX_BYTES)


def _check_aztec(value: str, symbology: Symbology) -> str:
    return _check_bytes(value, symbology, AZTEC_MAX_BYTES)


def _check_text(value: str, symbology: Symbology) -> str:
    _check_control(value, symbology, "")
    if len(value) > TEXT_MAX_CHARS:
        raise _fail(
            symbology,
            f"code is {len(value)} characters, at most {TEXT_MAX_CHARS} can be read out and typed",
            value,
            "shorten the code or show it as a QR code",
        )
    return value


_VALIDATORS: dict[Symbology, _Validator] = {
    Symbology.QR: _check_qr,
    Symbology.CODE_128: _check_code128,
    Symbology.EAN_13: _check_ean13,
    Symbology.UPC_A: _check_upca,
    Symbology.PDF417: _check_pdf417,
    Symbology.AZTEC: _check_aztec,
    Symbology.TEXT: _check_text,
}
