"""Content that is right for any text: barcode encodings, exact amounts, warnings the caller sees."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
import qrcode
import zxingcpp

from tests.apple.helpers import AT, OneCode, card_with, make_program, ready_card
from walletvoucher.apple import AppleOptions, AppleSigner, build_pass_content, check_pass_json, render_pass
from walletvoucher.apple._passjson import _barcode
from walletvoucher.codes import Symbology
from walletvoucher.codes._pos import pos_code
from walletvoucher.errors import AppleError, PassContentWarning
from walletvoucher.model import Brand, LocalizedText, Money, RedemptionMethod, Reward, StampCard, Validity

LATER = AT + timedelta(minutes=45)


# --- barcode messageEncoding ---------------------------------------------------------------------

def _pos_card(value: str, symbology: Symbology = Symbology.QR) -> StampCard:
    program = make_program(RedemptionMethod.REDEEM_CODE, symbology)
    card, _ = StampCard.issue(program, serial="CARD-0001", member_id="M-42", at=AT)
    card = card.add_stamps(program.goal, at=AT, codes=OneCode(pos_code(value, symbology))).card
    return card


def _scan(message_bytes: bytes) -> bytes:
    """Draw the bytes as a QR code (qrcode library) and read them back with zxing-cpp."""
    image = qrcode.make(message_bytes, border=4, box_size=4).get_image()
    found = zxingcpp.read_barcodes(image.convert("L"))
    assert len(found) == 1
    return found[0].bytes


@pytest.mark.parametrize(("value", "encoding"), [
    ("SUMMER-2026", "iso-8859-1"), ("Café 10% off", "iso-8859-1"),
    ("会员优惠券 8折", "utf-8"), ("Скидка-10", "utf-8"), ("🎁 FREE-1", "utf-8"), ("Oʻzbek-5", "utf-8"),
])
def test_barcode_declares_an_encoding_that_carries_the_code(
    options: AppleOptions, value: str, encoding: str
) -> None:
    card = _pos_card(value)
    doc = build_pass_content(card, options=options, at=LATER).pass_json
    barcode = doc["barcodes"][0]
    assert barcode["messageEncoding"] == encoding
    # what a scanner reads from a symbol made of the declared bytes is the code, exactly
    assert _scan(barcode["message"].encode(barcode["messageEncoding"])).decode(encoding) == value
    assert check_pass_json(doc) == []


def test_capacity_is_counted_in_the_declared_encoding() -> None:
    assert _barcode("PKBarcodeFormatQR", "é" * 2331, "x")["messageEncoding"] == "iso-8859-1"  # 2331 bytes
    with pytest.raises(AppleError, match="utf-8"):
        _barcode("PKBarcodeFormatQR", "中" * 778, "x")  # 2334 bytes in UTF-8
    with pytest.raises(AppleError, match="ASCII"):
        _barcode("PKBarcodeFormatCode128", "Café", "x")


def test_rules_refuse_a_message_its_encoding_cannot_carry() -> None:
    doc: dict[str, Any] = {
           "formatVersion": 1, "passTypeIdentifier": "pass.x", "teamIdentifier": "T", "serialNumber": "1",
           "organizationName": "O", "description": "D", "storeCard": {},
           "barcodes": [{"format": "PKBarcodeFormatQR", "message": "会员", "messageEncoding": "iso-8859-1"}]}
    assert [p.rule for p in check_pass_json(doc)] == ["barcode"]
    doc["barcodes"][0]["messageEncoding"] = "utf-8"
    assert check_pass_json(doc) == []
    doc["barcodes"][0]["messageEncoding"] = "no-such-charset"
    assert [p.rule for p in check_pass_json(doc)] == ["barcode"]


# --- monetary values ------------------------------------------------------------------------------

def _coupon_value(amount: str, options: AppleOptions) -> str:
    program = make_program()
    program = attrs.evolve(program, reward=attrs.evolve(program.reward, value=Money(amount=amount,
                                                                                    currency="UZS")))
    card, voucher = ready_card(program)
    doc = build_pass_content(voucher, options=options, at=LATER, program=card.program).pass_json
    text = json.dumps(doc)
    value = doc["coupon"]["auxiliaryFields"][0]["value"]
    assert Decimal(json.dumps(value)) == Decimal(amount)  # the JSON text is the exact amount
    assert json.loads(text)["coupon"]["auxiliaryFields"][0]["value"] == value
    return json.dumps(value)


@pytest.mark.parametrize(("amount", "written"), [
    ("4.50", "4.5"), ("0.1", "0.1"), ("12000", "12000"), ("12345678901234.5", "12345678901234.5"),
    ("999999999999999", "999999999999999"), ("0.000001", "1e-06"),
])
def test_amounts_are_exact_json_numbers(options: AppleOptions, amount: str, written: str) -> None:
    assert _coupon_value(amount, options) == written


@pytest.mark.parametrize("amount", ["123456789012345678", "1234567890123456", "0.1234567890123456", "1E+20"])
def test_amounts_a_json_reader_cannot_hold_exactly_are_refused(options: AppleOptions, amount: str) -> None:
    with pytest.raises(AppleError, match="amount") as info:
        _coupon_value(amount, options)
    assert info.value.fix


def test_rules_flag_numbers_beyond_2_53() -> None:
    doc = {"formatVersion": 1, "passTypeIdentifier": "pass.x", "teamIdentifier": "T", "serialNumber": "1",
           "organizationName": "O", "description": "D",
           "coupon": {"auxiliaryFields": [{"key": "v", "value": 1.2345678901234568e+17,
                                           "currencyCode": "EUR"}]}}
    assert [p.rule for p in check_pass_json(doc)] == ["safe-number"]


# --- warnings the caller can see ------------------------------------------------------------------

def test_the_demo_like_program_renders_without_content_warnings(options: AppleOptions) -> None:
    card, voucher = ready_card(make_program(RedemptionMethod.SELF_REDEEM))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for item in (card, card_with(make_program(), 3)):
            assert build_pass_content(item, options=options, at=LATER).warnings == ()
        build_pass_content(voucher, options=options, at=LATER, program=card.program)


@pytest.mark.parametrize(("foreground", "label", "which"), [
    ("#1F3B60", "#F2C14E", "brand.foreground"),   # nearly the background
    ("#FFFFFF", "#2A4A70", "brand.label"),
])
def test_near_equal_text_and_background_colours_warn(
    signer: AppleSigner, options: AppleOptions, foreground: str, label: str, which: str
) -> None:
    program = make_program()
    program = attrs.evolve(program, brand=Brand(name="Kahve House", foreground=foreground,
                                                background="#1E3A5F", label=label))
    with pytest.warns(PassContentWarning, match=which):
        rendered = render_pass(card_with(program, 3), signer=signer, options=options, at=AT)
    assert any(which in note and "contrast ratio" in note for note in rendered.warnings)


def test_front_texts_longer_than_the_front_warn_naming_field_and_language(options: AppleOptions) -> None:
    program = make_program()
    long_title = LocalizedText(default="Free coffee", translations={
        "th": "กาแฟฟรีหนึ่งแก้วทุกขนาดทุกเมนูรวมถึงเครื่องดื่มพิเศษประจำฤดูกาลและขนมหวานอีกหนึ่งชิ้น"})
    program = attrs.evolve(program, reward=attrs.evolve(program.reward, title=long_title))
    card, _ = ready_card(program)
    with pytest.warns(PassContentWarning, match="primaryFields.reward.value in 'th'"):
        content = build_pass_content(card, options=options, at=LATER)
    assert [n for n in content.warnings if "primaryFields" in n]


def test_a_not_yet_valid_voucher_shows_valid_from_and_warns(options: AppleOptions) -> None:
    program = attrs.evolve(make_program(), validity=Validity.for_days(30, start_delay=timedelta(days=1)))
    card = card_with(program, program.goal)
    voucher = card.vouchers[0]
    with pytest.warns(PassContentWarning, match="not valid until"):
        content = build_pass_content(card, options=options, at=LATER)
    fields = {f["key"]: f for f in content.pass_json["storeCard"]["secondaryFields"]}
    assert fields["valid_from"]["value"] == "2026-05-08T10:31:00Z" == voucher.valid_from.strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert fields["valid_from"]["dateStyle"] == "PKDateStyleMedium"
    with pytest.warns(PassContentWarning, match="not valid until"):
        coupon = build_pass_content(voucher, options=options, at=LATER, program=card.program)
    assert "valid_from" in {f["key"] for f in coupon.pass_json["coupon"]["secondaryFields"]}
    assert check_pass_json(coupon.pass_json) == [] and check_pass_json(content.pass_json) == []
    # once valid, no such field and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", PassContentWarning)
        valid = build_pass_content(card, options=options, at=voucher.valid_from)
    assert "valid_from" not in {f["key"] for f in valid.pass_json["storeCard"]["secondaryFields"]}


def test_lone_surrogates_in_texts_are_a_library_error(options: AppleOptions) -> None:
    program = attrs.evolve(make_program(), reward=Reward(title="Free \ud800 coffee", description="x"))
    with pytest.raises(AppleError, match=r"reward\.title"):
        build_pass_content(card_with(program, 1), options=options, at=AT)


@pytest.mark.parametrize("name", [3, "", "Kahve\x00", "Kahve\ud800"])
def test_organization_name_must_be_plain_text(options: AppleOptions, name: Any) -> None:
    with pytest.raises(AppleError, match="organization_name"):
        attrs.evolve(options, organization_name=name)


def test_an_organization_name_that_reads_like_a_label_stays_as_given(options: AppleOptions) -> None:
    from tests.apple.wallet_strings import lproj_tables, resolve

    content = build_pass_content(card_with(make_program(), 2), options=attrs.evolve(
        options, organization_name="Reward"), at=AT)
    shown = resolve(content.pass_json, lproj_tables(content.files), "zh-Hans")
    assert shown["organizationName"] == "Reward"
    assert shown["secondaryFields.reward.label"] == "奖励"
