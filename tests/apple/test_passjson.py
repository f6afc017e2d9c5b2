"""pass.json content: styles, states, barcodes per method, dates, options; and the rules that guard it."""

from __future__ import annotations

import io
import re
import warnings
from datetime import timedelta
from typing import Any

import attrs
import pytest
import zxingcpp
from PIL import Image

from tests.apple.helpers import AT, SCAN_KEY, card_with, make_program, ready_card
from walletvoucher.apple import (
    BARCODE_FORMATS,
    AppleOptions,
    Location,
    build_pass_content,
    build_pass_json,
    check_pass_json,
    validate_pass_json,
    w3c_date,
)
from walletvoucher.codes import Symbology, verify_scan_token
from walletvoucher.errors import AppleError, BarcodeFallbackWarning, PassJsonError
from walletvoucher.model import CodeEntry, RedemptionMethod
from walletvoucher.preview import preview_apple

LATER = AT + timedelta(minutes=5)
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


def test_card_collecting_state(options: AppleOptions) -> None:
    doc = build_pass_json(card_with(make_program(), 7), options=options, at=LATER)
    body = doc["storeCard"]
    assert body["headerFields"][0] == {"key": "stamps", "label": "Stamps", "value": "7/10",
                                       "changeMessage": "Stamps: %@"}
    assert doc["barcodes"] == [{"format": "PKBarcodeFormatQR", "message": "CARD-0001",
                                "messageEncoding": "iso-8859-1", "altText": "CARD-0001"}]
    assert "relevantDate" not in doc and "voided" not in doc and "coupon" not in doc


def test_reward_ready_then_back_to_collecting_on_the_same_card(options: AppleOptions) -> None:
    card, voucher = ready_card(make_program(RedemptionMethod.REDEEM_CODE))
    assert voucher.code is not None
    ready = build_pass_json(card, options=options, at=LATER)
    assert ready["storeCard"]["primaryFields"][0]["value"] == "Free coffee"
    assert ready["barcodes"][0]["message"] == voucher.code.value
    assert {f["key"] for f in ready["storeCard"]["secondaryFields"]} == {"code", "expires"}
    after = card.redeem(voucher.serial, CodeEntry(code=voucher.code.value), at=LATER).card
    back = build_pass_json(after, options=options, at=LATER)
    assert back["serialNumber"] == ready["serialNumber"] == card.serial
    assert "primaryFields" not in back["storeCard"]
    assert back["barcodes"][0]["message"] == card.serial


def test_voucher_on_card_can_be_switched_off(options: AppleOptions) -> None:
    card, _ = ready_card(make_program())
    doc = build_pass_json(card, options=attrs.evolve(options, voucher_on_card=False), at=LATER)
    assert doc["barcodes"][0]["message"] == card.serial


@pytest.mark.parametrize(
    ("symbology", "apple"),
    [(Symbology.QR, "PKBarcodeFormatQR"), (Symbology.PDF417, "PKBarcodeFormatPDF417"),
     (Symbology.AZTEC, "PKBarcodeFormatAztec"), (Symbology.CODE_128, "PKBarcodeFormatCode128")],
)
def test_native_symbologies_map_to_apple_formats(
    options: AppleOptions, symbology: Symbology, apple: str
) -> None:
    card, voucher = ready_card(make_program(RedemptionMethod.REDEEM_CODE, symbology))
    assert voucher.code is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc = build_pass_json(voucher, options=options, at=LATER, program=card.program)
    assert doc["barcodes"][0] == {"format": apple, "message": voucher.code.value,
                                  "messageEncoding": "iso-8859-1", "altText": voucher.code.value}
    assert len(doc["barcodes"]) == (2 if apple == "PKBarcodeFormatCode128" else 1)  # Watch fallback
    assert BARCODE_FORMATS[symbology] == apple


@pytest.mark.parametrize(("symbology", "digits"), [(Symbology.EAN_13, "4006381333931"),
                                                   (Symbology.UPC_A, "036000291452")])
def test_ean13_and_upca_fall_back_to_code128_with_a_visible_warning(
    options: AppleOptions, symbology: Symbology, digits: str
) -> None:
    card, voucher = ready_card(make_program(RedemptionMethod.REDEEM_CODE, symbology))
    with pytest.warns(BarcodeFallbackWarning, match=symbology.name):
        content = build_pass_content(voucher, options=options, at=LATER, program=card.program)
    assert content.pass_json["barcodes"][0] == {"format": "PKBarcodeFormatCode128", "message": digits,
                                                "messageEncoding": "iso-8859-1", "altText": digits}
    assert len(content.warnings) == 1 and "Code 128" in content.warnings[0]


WATCH_FORMATS = {"PKBarcodeFormatQR", "PKBarcodeFormatPDF417", "PKBarcodeFormatAztec"}  # not Code 128


def _decoded(doc: dict[str, Any], files: dict[str, bytes], fmt: zxingcpp.BarcodeFormat) -> list[str]:
    picture = preview_apple(doc, files)
    image = Image.open(io.BytesIO(picture.png)).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(fmt))]


@pytest.mark.parametrize(("symbology", "message"), [(Symbology.EAN_13, "4006381333931"),
                                                    (Symbology.UPC_A, "036000291452"),
                                                    (Symbology.CODE_128, "789A-BCDE-FGHK")])  # generated
@pytest.mark.parametrize("on_card", [True, False])
def test_a_code_128_pass_lists_a_qr_of_the_same_message_for_apple_watch(
    options: AppleOptions, symbology: Symbology, message: str, on_card: bool
) -> None:
    # issue 18: watchOS shows the first barcodes[] entry it supports and cannot show Code 128, so a
    # pass with only a Code 128 entry showed no barcode on Apple Watch.
    program = make_program(RedemptionMethod.REDEEM_CODE, symbology)
    card, voucher = ready_card(program)
    assert voucher.code is not None and voucher.code.value == message
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BarcodeFallbackWarning)
        content = build_pass_content(card if on_card else voucher, options=options, at=LATER,
                                     program=None if on_card else card.program)
    doc = content.pass_json
    assert [b["format"] for b in doc["barcodes"]] == ["PKBarcodeFormatCode128", "PKBarcodeFormatQR"]
    assert {(b["message"], b["messageEncoding"], b["altText"]) for b in doc["barcodes"]} == {
        (message, "iso-8859-1", message)}
    assert check_pass_json(doc) == []
    # the iPhone shows the first entry, the watch the first it supports: each scans as that code
    assert _decoded(doc, content.files, zxingcpp.BarcodeFormat.Code128) == [message]
    watch = {**doc, "barcodes": [b for b in doc["barcodes"] if b["format"] in WATCH_FORMATS]}
    assert _decoded(watch, content.files, zxingcpp.BarcodeFormat.QRCode) == [message]


def test_text_codes_show_no_barcode_but_a_field(options: AppleOptions) -> None:
    card, voucher = ready_card(make_program(RedemptionMethod.REDEEM_CODE, Symbology.TEXT))
    doc = build_pass_json(voucher, options=options, at=LATER, program=card.program)
    assert "barcodes" not in doc
    assert doc["coupon"]["secondaryFields"][0]["value"] == "SUMMER-2026"


def test_staff_scan_carries_a_signed_token_as_qr(options: AppleOptions) -> None:
    card, voucher = ready_card(make_program(RedemptionMethod.STAFF_SCAN))
    doc = build_pass_json(voucher, options=options, at=LATER, program=card.program)
    barcode = doc["barcodes"][0]
    assert barcode["format"] == "PKBarcodeFormatQR"
    claims = verify_scan_token(barcode["message"], keys=[SCAN_KEY], at=LATER)
    assert claims.voucher_serial == voucher.serial
    with pytest.raises(AppleError, match="scan_key"):
        build_pass_json(voucher, options=attrs.evolve(options, scan_key=None), at=LATER, program=card.program)


def test_self_redeem_carries_a_link_on_the_back(options: AppleOptions) -> None:
    card, voucher = ready_card(make_program(RedemptionMethod.SELF_REDEEM))
    doc = build_pass_json(voucher, options=options, at=LATER, program=card.program)
    link = next(f for f in doc["coupon"]["backFields"] if f["key"] == "redeem_link")
    assert link["value"] == f"https://example.com/redeem/{voucher.serial}"
    assert "barcodes" not in doc
    with pytest.raises(AppleError, match="redeem_link"):
        no_link = attrs.evolve(options, redeem_link=None)
        build_pass_json(voucher, options=no_link, at=LATER, program=card.program)


def test_coupon_dates_value_and_voided(options: AppleOptions) -> None:
    card, voucher = ready_card(make_program(RedemptionMethod.SELF_REDEEM))
    doc = build_pass_json(voucher, options=options, at=LATER, program=card.program)
    assert W3C.match(doc["expirationDate"]) and "." not in doc["expirationDate"]
    assert "voided" not in doc
    value = doc["coupon"]["auxiliaryFields"][0]
    assert value["value"] == 4.5 and value["currencyCode"] == "EUR"
    from walletvoucher.model import SelfRedeem

    redeemed = card.redeem(voucher.serial, SelfRedeem(), at=LATER).voucher
    assert build_pass_json(redeemed, options=options, at=LATER, program=card.program)["voided"] is True
    voided = card.void_voucher(voucher.serial, "fraud", at=LATER).voucher
    assert build_pass_json(voided, options=options, at=LATER, program=card.program)["voided"] is True
    assert voucher.expires_at is not None
    expired_at = voucher.expires_at + timedelta(days=1)
    late = build_pass_json(voucher, options=options, at=expired_at, program=card.program)
    assert "voided" not in late and late["expirationDate"] == doc["expirationDate"]


def test_w3c_dates_never_have_milliseconds_or_lack_a_zone() -> None:
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 5, 7, 8, 30, 15, 999999, tzinfo=timezone.utc)
    assert w3c_date(moment) == "2026-05-07T08:30:15Z"
    assert w3c_date(moment, ZoneInfo("Europe/Berlin")) == "2026-05-07T10:30:15+02:00"
    with pytest.raises(AppleError, match="timezone-aware"):
        w3c_date(datetime(2026, 5, 7, 8, 30))


def test_optional_features(options: AppleOptions) -> None:
    rich = attrs.evolve(
        options, sharing_prohibited=True, web_service_url="https://example.com/passes",
        authentication_token="t" * 16,
        locations=(Location(latitude=41.31, longitude=69.28, relevant_text="Coffee nearby"),),
    )
    doc = build_pass_json(card_with(make_program(), 1), options=rich, at=AT)
    assert doc["sharingProhibited"] is True
    assert doc["webServiceURL"] == "https://example.com/passes" and doc["authenticationToken"] == "t" * 16
    assert doc["locations"] == [{"latitude": 41.31, "longitude": 69.28, "relevantText": "Coffee nearby"}]
    assert check_pass_json(doc) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"web_service_url": "http://example.com", "authentication_token": "t" * 16}, "web_service_url"),
     ({"web_service_url": "https://example.com", "authentication_token": "short"}, "authentication_token"),
     ({"web_service_url": "https://example.com"}, "authentication_token"),
     ({"locations": [Location(latitude=0, longitude=0)] * 11}, "locations"),
     ({"redeem_link": "https://example.com/no-serial"}, "redeem_link"),
     ({"pass_type_identifier": "com.example"}, "pass_type_identifier")],
)
def test_options_are_checked(options: AppleOptions, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(AppleError, match=field) as info:
        attrs.evolve(options, **changes)
    assert "short" not in str(info.value)  # tokens are secrets


def _valid() -> dict[str, Any]:
    return {"formatVersion": 1, "passTypeIdentifier": "pass.x", "teamIdentifier": "T", "serialNumber": "1",
            "organizationName": "O", "description": "D", "storeCard": {"headerFields": []}}


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda d: d.pop("serialNumber"), "required-key"),
        (lambda d: d.update(formatVersion=2), "required-key"),
        (lambda d: d.update(coupon={}), "one-style"),
        (lambda d: d.pop("storeCard"), "one-style"),
        (lambda d: d["storeCard"].update(primaryFields=[{"key": "a", "value": 1}, {"key": "b", "value": 2}]),
         "field-count"),
        (lambda d: d["storeCard"].update(secondaryFields=[{"key": f"s{i}", "value": i} for i in range(3)],
                                         auxiliaryFields=[{"key": f"a{i}", "value": i} for i in range(2)]),
         "field-count"),
        (lambda d: d["storeCard"].update(headerFields=[{"key": "a", "value": 1}],
                                         backFields=[{"key": "a", "value": 2}]), "field-key-unique"),
        (lambda d: d["storeCard"].update(headerFields=[{"key": "a", "value": "1", "changeMessage": "now"}]),
         "change-message"),
        (lambda d: d["storeCard"].update(headerFields=[{"key": "a", "value": "4.50", "currencyCode": "EUR"}]),
         "currency-number"),
        (lambda d: d["storeCard"].update(headerFields=[{"label": "no key"}]), "field-shape"),
        (lambda d: d.update(backgroundColor="rgb(300, 0, 0)"), "color"),
        (lambda d: d.update(labelColor="#ffffff"), "color"),
        (lambda d: d.update(expirationDate="2026-05-07T10:30:00"), "w3c-date"),
        (lambda d: d.update(expirationDate="2026-05-07T10:30:00.000Z"), "w3c-date"),
        (lambda d: d.update(relevantDate="2026-05-07T10:30:00Z"), "no-relevant-date"),
        (lambda d: d.update(locations=[{"latitude": 1, "longitude": 2}] * 11), "locations"),
        (lambda d: d.update(webServiceURL="http://x", authenticationToken="x" * 16), "web-service"),
        (lambda d: d.update(barcodes=[{"format": "PKBarcodeFormatEAN13", "message": "1",
                                       "messageEncoding": "iso-8859-1"}]), "barcode"),
        (lambda d: d.update(voided="yes"), "boolean"),
    ],
)
def test_each_rule_names_itself(change: Any, rule: str) -> None:
    doc = _valid()
    assert check_pass_json(doc) == []
    change(doc)
    assert rule in {p.rule for p in check_pass_json(doc)}
    with pytest.raises(PassJsonError, match=rule) as info:
        validate_pass_json(doc)
    assert rule in {r for r, _, _ in info.value.problems}
