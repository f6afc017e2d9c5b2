from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletvoucher.codes import (
    ALPHABET,
    ScanKey,
    check_character,
    codes_match,
    generate_code,
    issue_scan_token,
    normalize_code,
    verify_scan_token,
)
from walletvoucher.errors import (
    CheckCharacterError,
    CodeError,
    ScanTokenExpired,
    ScanTokenMalformed,
    ScanTokenTampered,
    ScanTokenUnknownKey,
    ValidationError,
)

from .conftest import counting_random

T0 = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
KEY = ScanKey(key_id="k1", secret=b"0123456789abcdef")


def test_generated_code_shape() -> None:
    code = generate_code(counting_random()).value
    assert len(code) == 14 and code[4] == code[9] == "-"
    assert set(code.replace("-", "")) <= set(ALPHABET)
    assert not set("ILOU") & set(code)


def test_generation_uses_the_callers_random_source() -> None:
    assert generate_code(counting_random()) == generate_code(counting_random())
    with pytest.raises(ValidationError, match="too few bytes"):
        generate_code(lambda n: b"\x01")
    with pytest.raises(ValidationError, match="too short"):
        generate_code(counting_random(), groups=1, group_size=3)


@given(st.text(alphabet=ALPHABET, min_size=5, max_size=15), st.data())
def test_every_single_character_typo_is_caught(data: str, draw: st.DataObject) -> None:
    full = data + check_character(data)
    pos = draw.draw(st.integers(0, len(full) - 1))
    wrong = draw.draw(st.sampled_from([c for c in ALPHABET if c != full[pos]]))
    typo = full[:pos] + wrong + full[pos + 1 :]
    with pytest.raises(CheckCharacterError):
        normalize_code(typo)


@given(st.text(alphabet=ALPHABET, min_size=5, max_size=15), st.data())
def test_adjacent_swaps_are_caught(data: str, draw: st.DataObject) -> None:
    full = data + check_character(data)
    pos = draw.draw(st.integers(0, len(full) - 2))
    if full[pos] == full[pos + 1]:
        return
    swapped = full[:pos] + full[pos + 1] + full[pos] + full[pos + 2 :]
    # Luhn mod N misses exactly one swap pair per base; everything else must be caught.
    if {full[pos], full[pos + 1]} == {ALPHABET[0], ALPHABET[31]}:
        return
    with pytest.raises(CheckCharacterError):
        normalize_code(swapped)


def test_normalisation_of_what_people_type() -> None:
    code = generate_code(counting_random()).value
    messy = "  " + code.lower().replace("-", " ").replace("0", "O").replace("1", "i") + " "
    assert normalize_code(messy) == code
    assert codes_match(code, messy)
    with pytest.raises(CodeError, match="not in redeem codes"):
        normalize_code("ABCU-1234")
    with pytest.raises(CodeError, match="too short"):
        normalize_code("-")


def test_scan_token_round_trip_and_length() -> None:
    serial = "A" * 56 + "-123"
    token = issue_scan_token(serial, expires_at=T0 + timedelta(days=30), key=KEY)
    assert len(token) < 120
    claims = verify_scan_token(token, keys=[KEY], at=T0)
    assert claims.voucher_serial == serial
    assert claims.expires_at == T0 + timedelta(days=30)


def test_scan_token_errors_are_distinct() -> None:
    token = issue_scan_token("C1-1", expires_at=T0, key=KEY)
    with pytest.raises(ScanTokenExpired):
        verify_scan_token(token, keys=[KEY], at=T0)
    body, sig = token.rsplit(".", 1)
    tampered = body.replace("C1-1", "C1-2") + "." + sig
    with pytest.raises(ScanTokenTampered):
        verify_scan_token(tampered, keys=[KEY], at=T0 - timedelta(days=1))
    with pytest.raises(ScanTokenUnknownKey, match="k1"):
        verify_scan_token(token, keys=[ScanKey(key_id="k2", secret=b"x" * 16)], at=T0)
    for bad in ["", "hello", "wv1.k1.C1-1.-", "wv2.k1.C1-1.-.AAAAAAAAAAAAAAAAAAAAAA", "x" * 1000]:
        with pytest.raises(ScanTokenMalformed):
            verify_scan_token(bad, keys=[KEY], at=T0)


def test_scan_errors_never_show_the_token_or_secret() -> None:
    token = issue_scan_token("C1-1", expires_at=None, key=KEY)
    forged = token[:-3] + "abc"
    with pytest.raises(ScanTokenTampered) as info:
        verify_scan_token(forged, keys=[KEY], at=T0)
    assert forged not in str(info.value) and "<redacted>" in str(info.value)
    assert "0123456789abcdef" not in repr(KEY)
    with pytest.raises(ValidationError) as short:
        ScanKey(key_id="k", secret=b"short-secret")
    assert "short-secret" not in str(short.value)


def test_scan_token_needs_aware_expiry_and_safe_serial() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        issue_scan_token("C1-1", expires_at=datetime(2026, 1, 1), key=KEY)
    with pytest.raises(ValidationError, match="voucher_serial"):
        issue_scan_token("C1.1", expires_at=None, key=KEY)
