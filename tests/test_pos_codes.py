"""Zero-Integration POS codes: shown exactly as given, validated for their symbology."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletvoucher.codes._pos import (
    AZTEC_MAX_BYTES,
    CODE_128_MAX_CHARS,
    PDF417_MAX_BYTES,
    QR_MAX_BYTES,
    TEXT_MAX_CHARS,
    ean13_check_digit,
    pos_code,
    upca_check_digit,
    validate_pos_value,
)
from walletvoucher.codes._symbology import CodeOrigin, RedeemCode, Symbology
from walletvoucher.errors import SymbologyError, ValidationError, WalletVoucherError

UNICODE_VALUES = ["会员优惠券 8折", "नमस्ते कूपन", "คูปองส่วนลด", "Oʻzbekiston chegirma", "Café 10% off"]
TWO_D = [Symbology.QR, Symbology.PDF417, Symbology.AZTEC]


def _ean_reference(digits: str) -> str:
    """Check digit per the GS1 textbook: odd positions from the right weigh 3."""
    odd = sum(int(d) for d in digits[::-1][0::2])
    even = sum(int(d) for d in digits[::-1][1::2])
    return str((10 - (3 * odd + even) % 10) % 10)


# --- check digits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "check"),
    [("400638133393", "1"), ("590123412345", "7"), ("978020137962", "4"), ("000000000000", "0")],
)
def test_ean13_check_digit_of_known_codes(digits: str, check: str) -> None:
    assert ean13_check_digit(digits) == check


@pytest.mark.parametrize(
    ("digits", "check"), [("03600029145", "2"), ("04210000526", "4"), ("00000000000", "0")]
)
def test_upca_check_digit_of_known_codes(digits: str, check: str) -> None:
    assert upca_check_digit(digits) == check


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_ean13_check_digit_matches_reference_and_round_trips(digits: str) -> None:
    check = ean13_check_digit(digits)
    assert check == _ean_reference(digits)
    assert pos_code(digits, Symbology.EAN_13).value == digits + check
    assert pos_code(digits + check, Symbology.EAN_13).value == digits + check


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.integers(1, 9))
def test_upca_wrong_check_digit_is_always_caught(digits: str, offset: int) -> None:
    wrong = str((int(upca_check_digit(digits)) + offset) % 10)
    with pytest.raises(SymbologyError, match="expected"):
        pos_code(digits + wrong, Symbology.UPC_A)


@pytest.mark.parametrize(
    "bad", ["12345678901", "1234567890123", "40063813339a", "٤٠٠٦٣٨١٣٣٣٩٣", 400638133393]
)
def test_ean13_check_digit_rejects_anything_but_12_ascii_digits(bad: object) -> None:
    with pytest.raises(SymbologyError, match="12 digits"):
        ean13_check_digit(bad)  # type: ignore[arg-type]


def test_upca_check_digit_rejects_wrong_length() -> None:
    with pytest.raises(SymbologyError, match="11 digits"):
        upca_check_digit("123")


# --- pos_code -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "symbology", "shown"),
    [
        ("400638133393", Symbology.EAN_13, "4006381333931"),
        ("4006381333931", Symbology.EAN_13, "4006381333931"),
        ("03600029145", Symbology.UPC_A, "036000291452"),
        ("036000291452", Symbology.UPC_A, "036000291452"),
        ("7K3M-9QXP-4", Symbology.CODE_128, "7K3M-9QXP-4"),
        ("summer 2024 ~ {x}", Symbology.CODE_128, "summer 2024 ~ {x}"),
        ("7K3M-9QXP-4", Symbology.QR, "7K3M-9QXP-4"),
        ("line one\nline two", Symbology.QR, "line one\nline two"),
        ("7K3M-9QXP-4", Symbology.TEXT, "7K3M-9QXP-4"),
        ("kod 12 34", Symbology.TEXT, "kod 12 34"),
    ],
)
def test_pos_code_is_shown_exactly_as_given(value: str, symbology: Symbology, shown: str) -> None:
    code = pos_code(value, symbology)
    assert code == RedeemCode(value=shown, symbology=symbology, origin=CodeOrigin.POS)


@pytest.mark.parametrize("symbology", [*TWO_D, Symbology.TEXT])
@pytest.mark.parametrize("value", UNICODE_VALUES)
def test_unicode_text_is_accepted_by_2d_and_text_symbologies(value: str, symbology: Symbology) -> None:
    assert pos_code(value, symbology).value == value


@pytest.mark.parametrize("symbology", list(Symbology))
@pytest.mark.parametrize(
    "value", [" 4006381333931", "4006381333931 ", "4006381333931\n", "\u30004006381333931"]
)
def test_surrounding_whitespace_is_rejected_never_stripped(value: str, symbology: Symbology) -> None:
    with pytest.raises(SymbologyError, match="whitespace") as info:
        pos_code(value, symbology)
    assert info.value.field == "value"
    assert info.value.value == value


@pytest.mark.parametrize("symbology", list(Symbology))
def test_empty_code_is_rejected(symbology: Symbology) -> None:
    with pytest.raises(SymbologyError, match="empty"):
        pos_code("", symbology)


@pytest.mark.parametrize("value", [None, 4006381333931, b"ABC"])
def test_non_str_value_is_rejected(value: object) -> None:
    with pytest.raises(SymbologyError, match="must be a str"):
        pos_code(value, Symbology.QR)  # type: ignore[arg-type]


def test_unknown_symbology_is_rejected_naming_the_choices() -> None:
    with pytest.raises(SymbologyError, match="CODE_128") as info:
        pos_code("ABC", "qr")  # type: ignore[arg-type]
    assert info.value.field == "symbology"


def test_wrong_ean13_check_digit_names_expected_and_got() -> None:
    with pytest.raises(SymbologyError) as info:
        pos_code("4006381333932", Symbology.EAN_13)
    message = str(info.value)
    assert "EAN-13" in message
    assert "expected 1, got 2" in message
    assert "'4006381333932'" in message
    assert info.value.fix is not None


def test_wrong_upca_check_digit_names_expected_and_got() -> None:
    with pytest.raises(SymbologyError, match="UPC-A check digit is wrong: expected 2, got 3"):
        pos_code("036000291453", Symbology.UPC_A)


@pytest.mark.parametrize(
    ("value", "symbology"),
    [
        ("40063813339", Symbology.EAN_13),
        ("40063813339312", Symbology.EAN_13),
        ("4006-38133393", Symbology.EAN_13),
        ("٤٠٠٦٣٨١٣٣٣٩٣", Symbology.EAN_13),  # Arabic-Indic digits are digits, but not barcode digits
        ("0360002914", Symbology.UPC_A),
        ("0360002914522", Symbology.UPC_A),
        ("03600029145X", Symbology.UPC_A),
    ],
)
def test_gs1_codes_need_the_right_number_of_ascii_digits(value: str, symbology: Symbology) -> None:
    with pytest.raises(SymbologyError, match="digits") as info:
        pos_code(value, symbology)
    assert "QR or CODE_128" in (info.value.fix or "")


@pytest.mark.parametrize("value", ["Café", "会员", "tab\there", "bell\a"])
def test_code128_carries_printable_ascii_only(value: str) -> None:
    with pytest.raises(SymbologyError, match="CODE-128 carries printable ASCII only"):
        pos_code(value, Symbology.CODE_128)


def test_code128_length_limit() -> None:
    assert pos_code("A" * CODE_128_MAX_CHARS, Symbology.CODE_128).value == "A" * CODE_128_MAX_CHARS
    with pytest.raises(SymbologyError, match=f"at most {CODE_128_MAX_CHARS}"):
        pos_code("A" * (CODE_128_MAX_CHARS + 1), Symbology.CODE_128)


@pytest.mark.parametrize(
    ("symbology", "limit"),
    [(Symbology.QR, QR_MAX_BYTES), (Symbology.PDF417, PDF417_MAX_BYTES), (Symbology.AZTEC, AZTEC_MAX_BYTES)],
)
def test_2d_capacity_is_counted_in_utf8_bytes(symbology: Symbology, limit: int) -> None:
    assert validate_pos_value("a" * limit, symbology) == "a" * limit
    chinese = "中" * (limit // 3)  # three UTF-8 bytes each
    assert validate_pos_value(chinese, symbology) == chinese
    with pytest.raises(SymbologyError, match=f"at most {limit} fit"):
        validate_pos_value("a" * (limit + 1), symbology)
    with pytest.raises(SymbologyError, match=f"{3 * (limit // 3 + 1)} bytes"):
        validate_pos_value("中" * (limit // 3 + 1), symbology)


def test_capacity_error_shortens_the_value_it_shows() -> None:
    with pytest.raises(SymbologyError) as info:
        pos_code("x" * 5000, Symbology.QR)
    assert len(str(info.value)) < 400


@pytest.mark.parametrize("symbology", TWO_D)
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\ud800"])
def test_2d_codes_reject_control_characters(char: str, symbology: Symbology) -> None:
    with pytest.raises(SymbologyError, match="control character"):
        pos_code(f"A{char}B", symbology)


@pytest.mark.parametrize("char", ["\t", "\n", "\x00"])
def test_text_codes_reject_any_control_character(char: str) -> None:
    with pytest.raises(SymbologyError, match="control character"):
        pos_code(f"A{char}B", Symbology.TEXT)


def test_text_length_limit() -> None:
    assert pos_code("A" * TEXT_MAX_CHARS, Symbology.TEXT).value == "A" * TEXT_MAX_CHARS
    with pytest.raises(SymbologyError, match=f"at most {TEXT_MAX_CHARS}"):
        pos_code("A" * (TEXT_MAX_CHARS + 1), Symbology.TEXT)


def test_symbology_error_is_a_validation_error_and_a_walletvoucher_error() -> None:
    with pytest.raises(ValueError) as info:
        pos_code("", Symbology.QR)
    assert isinstance(info.value, ValidationError)
    assert isinstance(info.value, WalletVoucherError)
    assert str(info.value).startswith("value='': QR code must not be empty. Fix: ")
