"""Rotating Staff-Scan codes on Google: the objects pass the walletobjects document, the code a wallet
would draw is computed by pyotp (an independent RFC 6238 implementation) from the object's own key,
and our scanner accepts it live, one step of drift either way, and never an old screenshot."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pyotp
import pytest
import zxingcpp
from PIL import Image

from tests.google.conftest import AT, SCAN_KEY, make_card, make_options, make_program, make_voucher
from tests.google.discovery import schema_errors
from tests.google.fake_wallet_api import FakeWalletApi
from walletvoucher.codes import ScanKey, verify_scan_token
from walletvoucher.codes._rotating import rotating_value, totp, verify_rotating_value
from walletvoucher.errors import (
    GoogleOptionsError,
    ScanTokenExpired,
    ScanTokenMalformed,
    ScanTokenTampered,
    ScanTokenUnknownKey,
)
from walletvoucher.google import (
    GoogleOptions,
    LinkMode,
    ScanDisplay,
    ServiceAccountCredentials,
    VoucherDisplay,
    WalletRestClient,
    loyalty_object,
    offer_object,
    save_link,
)
from walletvoucher.model import RedemptionMethod, StaffScan
from walletvoucher.preview import preview_google


def _shown(rotating: dict[str, Any], at_seconds: int) -> str:
    """What Google Wallet draws at *at_seconds*, computed by pyotp from the object alone."""
    details = rotating["totpDetails"]
    assert details["algorithm"] == "TOTP_SHA1"
    [parameter] = details["parameters"]
    key = base64.b32encode(bytes.fromhex(parameter["key"])).decode()
    otp = pyotp.TOTP(key, digits=parameter["valueLength"], interval=int(details["periodMillis"]) // 1000)
    value = otp.at(at_seconds)
    return (
        str(rotating["valuePattern"])
        .replace("{totp_timestamp_seconds}", str(at_seconds))
        .replace("{totp_value_0}", value)
    )


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_totp_matches_the_rfc_6238_vectors(seconds: int, expected: str) -> None:
    assert totp(b"12345678901234567890", seconds // 30) == expected


def _staff_scan_card_object(options: GoogleOptions | None = None) -> tuple[dict[str, Any], str]:
    program = make_program(RedemptionMethod.STAFF_SCAN)
    voucher = make_voucher(program)
    body = loyalty_object(make_card(program, vouchers=(voucher,)), options or make_options(), at=AT)
    return body, voucher.serial


def test_a_staff_scan_voucher_rotates_with_no_static_code_beside_it() -> None:
    body, serial = _staff_scan_card_object()
    assert "barcode" not in body and schema_errors(body, "LoyaltyObject") == []
    rotating = body["rotatingBarcode"]
    assert rotating["type"] == "QR_CODE" and rotating["totpDetails"]["periodMillis"] == "30000"
    now = int(AT.timestamp())
    claims = verify_scan_token(_shown(rotating, now), keys=[SCAN_KEY], at=AT)
    assert claims.voucher_serial == serial and claims.step == now // 30
    # every pass gets its own key: one read off a pass opens no other
    other, _ = _staff_scan_card_object(make_options(scan_key=ScanKey(key_id="k1", secret=b"x" * 32)))
    assert (
        other["rotatingBarcode"]["totpDetails"]["parameters"][0]["key"]
        != rotating["totpDetails"]["parameters"][0]["key"]
    )


def test_separate_offer_objects_rotate_too_and_pass_the_document() -> None:
    program = make_program(RedemptionMethod.STAFF_SCAN)
    voucher = make_voucher(program)
    body = offer_object(voucher, program, make_options(voucher_display=VoucherDisplay.SEPARATE), at=AT)
    assert "barcode" not in body and schema_errors(body, "OfferObject") == []
    value = _shown(body["rotatingBarcode"], int(AT.timestamp()))
    assert verify_scan_token(value, keys=[SCAN_KEY], at=AT).voucher_serial == voucher.serial


def test_a_static_fallback_only_when_the_program_asks() -> None:
    both, _ = _staff_scan_card_object(make_options(scan_display=ScanDisplay.ROTATING_WITH_STATIC))
    assert "rotatingBarcode" in both and both["barcode"]["value"].startswith("wv1.")
    static, _ = _staff_scan_card_object(make_options(scan_display=ScanDisplay.STATIC))
    assert "rotatingBarcode" not in static and static["barcode"]["value"].startswith("wv1.")


@pytest.mark.parametrize("offset", [-30, -1, 0, 29, 30])
def test_the_current_step_and_one_step_of_drift_are_accepted(offset: int) -> None:
    body, serial = _staff_scan_card_object()
    now = int(AT.timestamp())
    value = _shown(body["rotatingBarcode"], now + offset)
    assert verify_scan_token(value, keys=[SCAN_KEY], at=AT).voucher_serial == serial


@pytest.mark.parametrize("offset", [-3600, -91, 91, 86400])
def test_an_old_screenshot_or_a_value_from_the_future_is_refused(offset: int) -> None:
    body, _ = _staff_scan_card_object()
    value = _shown(body["rotatingBarcode"], int(AT.timestamp()) + offset)
    with pytest.raises(ScanTokenExpired, match="screenshot or a replay"):
        verify_scan_token(value, keys=[SCAN_KEY], at=AT)


def test_altered_foreign_and_malformed_values_are_refused() -> None:
    body, serial = _staff_scan_card_object()
    value = _shown(body["rotatingBarcode"], int(AT.timestamp()))
    digit = value[-1]
    with pytest.raises(ScanTokenTampered):
        verify_scan_token(value[:-1] + str((int(digit) + 1) % 10), keys=[SCAN_KEY], at=AT)
    with pytest.raises(ScanTokenTampered):  # another voucher's serial with this one's code
        verify_scan_token(value.replace(serial, serial + "9"), keys=[SCAN_KEY], at=AT)
    with pytest.raises(ScanTokenUnknownKey):
        verify_scan_token(value, keys=[ScanKey(key_id="k2", secret=SCAN_KEY.secret)], at=AT)
    for bad in ("wvr1.k1", "wvr1.k1.S.99999999999999.12345678", "wvr1.k1.S.1.1234567", "wvr1." + "x" * 300):
        with pytest.raises(ScanTokenMalformed):
            verify_rotating_value(bad, secrets=[("k1", SCAN_KEY.secret)], at=AT)


def test_a_rotating_value_redeems_the_voucher_in_the_model_once() -> None:
    program = make_program(RedemptionMethod.STAFF_SCAN)
    voucher = make_voucher(program)
    card = make_card(program, vouchers=(voucher,))
    value = rotating_value(voucher.serial, key_id="k1", secret=SCAN_KEY.secret, at=AT)
    later = AT + timedelta(seconds=20)
    after = card.redeem(voucher.serial, StaffScan(token=value, keys=[SCAN_KEY]), at=later)
    assert [e.type.value for e in after.events][:1] == ["voucher_redeemed"]


def test_the_key_never_travels_in_a_save_link(
    credentials: ServiceAccountCredentials, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    program = make_program(RedemptionMethod.STAFF_SCAN, multilingual=False)
    card = make_card(program, vouchers=(make_voucher(program),))
    with pytest.raises(GoogleOptionsError, match="rotating Staff-Scan code"):
        save_link(card, credentials=credentials, options=make_options(), at=AT)
    link = save_link(card, credentials=credentials, options=make_options(), at=AT, rest=rest)
    assert link.mode is LinkMode.BY_ID
    claims = jwt.decode(link.jwt, options={"verify_signature": False})
    assert "totpDetails" not in json.dumps(claims) and "rotatingBarcode" not in json.dumps(claims)
    stored = fake_api.store["loyaltyObject"][claims["payload"]["loyaltyObjects"][0]["id"]]
    assert stored["rotatingBarcode"]["totpDetails"]["parameters"][0]["valueLength"] == 8


def test_the_preview_draws_the_code_of_that_moment_and_it_scans() -> None:
    body, serial = _staff_scan_card_object()
    picture = preview_google({"programName": "Coffee card", "hexBackgroundColor": "#1e3a5f"}, body, at=AT)
    import io

    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(picture.png)))
    assert found.text == _shown(body["rotatingBarcode"], int(AT.timestamp()))
    assert verify_scan_token(found.text, keys=[SCAN_KEY], at=AT).voucher_serial == serial
