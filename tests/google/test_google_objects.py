"""Model -> Google Wallet JSON: every program, card state and voucher kind validates against the
walletobjects v1 discovery document, and shows what it should."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.google.conftest import (
    AT,
    CODE_VALUES,
    LANGUAGES,
    SCAN_KEY,
    make_card,
    make_options,
    make_program,
    make_voucher,
)
from tests.google.discovery import schema_errors
from walletvoucher.apple._labels import label
from walletvoucher.codes import Symbology, verify_scan_token
from walletvoucher.errors import GoogleOptionsError
from walletvoucher.google import (
    BARCODE_TYPES,
    GoogleOptions,
    ReviewStatus,
    ScanDisplay,
    VoucherDisplay,
    loyalty_class,
    loyalty_object,
    offer_class,
    offer_object,
    stamp_balance,
)
from walletvoucher.model import LocalizedText, RedemptionMethod, Reward, VoucherStatus

METHODS = list(RedemptionMethod)
STATUSES = list(VoucherStatus)


def _localized_fields(value: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("localized") or key == "contentDescription":
                found.append((f"{path}.{key}", item))
            found += _localized_fields(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _localized_fields(item, f"{path}[{index}]")
    return found


@pytest.mark.parametrize("multilingual", [True, False])
@pytest.mark.parametrize("method", METHODS)
def test_loyalty_class_validates_for_every_program(method: RedemptionMethod, multilingual: bool) -> None:
    program = make_program(method, multilingual=multilingual)
    body = loyalty_class(program, make_options())
    assert schema_errors(body, "LoyaltyClass") == []
    assert body["programName"] == "Coffee card"
    assert body["issuerName"] == "Kahve"
    assert body["hexBackgroundColor"] == "#1E3A5F"
    assert body["reviewStatus"] == "UNDER_REVIEW"
    assert body["programLogo"]["sourceUri"]["uri"] == "https://cdn.example.com/logo.png"


@pytest.mark.parametrize("stamps", [0, 7, 9])
@pytest.mark.parametrize("method", METHODS)
def test_loyalty_object_validates_without_voucher(method: RedemptionMethod, stamps: int) -> None:
    card = make_card(make_program(method), stamps=stamps)
    body = loyalty_object(card, make_options(), at=AT)
    assert schema_errors(body, "LoyaltyObject") == []
    assert body["loyaltyPoints"]["balance"] == {"string": f"{stamps}/10"}
    assert body["loyaltyPoints"]["label"] == "Stamps"
    assert "secondaryLoyaltyPoints" not in body  # shown once a reward is earned
    assert body["barcode"] == {"type": "QR_CODE", "value": "card-0001", "alternateText": "card-0001"}
    assert body["heroImage"]["sourceUri"]["uri"] == f"https://cdn.example.com/stamps/{stamps}-10.png"
    assert body["state"] == "ACTIVE"


@pytest.mark.parametrize("symbology", list(Symbology))
def test_redeem_code_on_card_uses_the_asked_symbology(symbology: Symbology) -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE, symbology=symbology)
    card = make_card(program, stamps=2, vouchers=(make_voucher(program),))
    body = loyalty_object(card, make_options(), at=AT)
    assert schema_errors(body, "LoyaltyObject") == []
    expected = {"type": BARCODE_TYPES[symbology], "value": CODE_VALUES[symbology]}
    if symbology is not Symbology.TEXT:
        expected["alternateText"] = CODE_VALUES[symbology]
    assert body["barcode"] == expected
    assert body["secondaryLoyaltyPoints"]["balance"] == {"int": 1}


def test_text_only_barcode_carries_no_alternate_text() -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE, symbology=Symbology.TEXT)
    voucher = make_voucher(program)
    for body in (
        loyalty_object(make_card(program, vouchers=(voucher,)), make_options(), at=AT),
        offer_object(voucher, program, make_options(), at=AT),
    ):
        assert body["barcode"] == {"type": "TEXT_ONLY", "value": CODE_VALUES[Symbology.TEXT]}


def test_barcode_vocabulary_covers_every_symbology() -> None:
    assert set(BARCODE_TYPES) == set(Symbology)
    assert BARCODE_TYPES[Symbology.TEXT] == "TEXT_ONLY"
    assert BARCODE_TYPES[Symbology.PDF417] == "PDF_417"


def test_staff_scan_voucher_on_card_carries_a_signed_scan_token_when_static() -> None:
    program = make_program(RedemptionMethod.STAFF_SCAN)
    voucher = make_voucher(program)
    options = make_options(scan_display=ScanDisplay.STATIC)
    body = loyalty_object(make_card(program, vouchers=(voucher,)), options, at=AT)
    assert body["barcode"]["type"] == "QR_CODE"
    claims = verify_scan_token(body["barcode"]["value"], keys=[SCAN_KEY], at=AT)
    assert claims.voucher_serial == voucher.serial


def test_self_redeem_voucher_on_card_adds_the_redeem_link_and_keeps_the_card_barcode() -> None:
    program = make_program(RedemptionMethod.SELF_REDEEM)
    body = loyalty_object(make_card(program, vouchers=(make_voucher(program),)), make_options(), at=AT)
    assert body["barcode"]["value"] == "card-0001"
    uri = body["linksModuleData"]["uris"][0]
    assert uri["uri"] == "https://shop.example.com/redeem/card-0001-1"
    assert uri["description"] == "Free coffee"
    assert schema_errors(body, "LoyaltyObject") == []


@pytest.mark.parametrize("status", [VoucherStatus.REDEEMED, VoucherStatus.VOIDED, VoucherStatus.EXPIRED])
def test_card_barcode_returns_after_the_voucher_is_final(status: VoucherStatus) -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE)
    card = make_card(program, vouchers=(make_voucher(program, status=status),))
    body = loyalty_object(card, make_options(), at=AT)
    assert body["barcode"]["value"] == "card-0001"
    assert "linksModuleData" not in body


def test_separate_display_keeps_the_card_barcode_and_links_offers_on_request() -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE)
    card = make_card(program, vouchers=(make_voucher(program),))
    options = make_options(voucher_display=VoucherDisplay.SEPARATE)
    plain = loyalty_object(card, options, at=AT)
    linked = loyalty_object(card, options, at=AT, link_offers=True)
    assert plain["barcode"]["value"] == "card-0001"
    assert "linkedOfferIds" not in plain
    assert linked["linkedOfferIds"] == ["3388000000022222222.coffee.voucher.card-0001-1"]
    assert schema_errors(linked, "LoyaltyObject") == []


def test_balance_is_at_most_seven_characters() -> None:
    assert stamp_balance(7, 10) == "7/10"
    assert stamp_balance(999, 999) == "999/999"
    assert stamp_balance(1234, 5000) == "1234"
    program = make_program(goal=5000)
    body = loyalty_object(make_card(program, stamps=1234), make_options(), at=AT)
    assert len(body["loyaltyPoints"]["balance"]["string"]) <= 7


@pytest.mark.parametrize("multilingual", [True, False])
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("method", METHODS)
def test_offer_class_and_object_validate_for_every_kind_and_state(
    method: RedemptionMethod, status: VoucherStatus, multilingual: bool
) -> None:
    program = make_program(method, multilingual=multilingual)
    valid_from = AT + timedelta(days=1) if status is VoucherStatus.ISSUED else AT - timedelta(days=1)
    expires = AT - timedelta(hours=1) if status is VoucherStatus.EXPIRED else AT + timedelta(days=30)
    if status is VoucherStatus.EXPIRED:
        valid_from = AT - timedelta(days=31)
    stored = VoucherStatus.ACTIVE if status in (VoucherStatus.ISSUED, VoucherStatus.EXPIRED) else status
    voucher = make_voucher(program, status=stored, valid_from=valid_from, expires_at=expires)
    assert voucher.status_at(AT) is status
    cls = offer_class(voucher, program, make_options())
    obj = offer_object(voucher, program, make_options(), at=AT)
    assert schema_errors(cls, "OfferClass") == []
    assert schema_errors(obj, "OfferObject") == []
    expected = {
        "ISSUED": "ACTIVE",
        "ACTIVE": "ACTIVE",
        "REDEEMED": "COMPLETED",
        "VOIDED": "INACTIVE",
        "EXPIRED": "EXPIRED",
    }[status.name]
    assert obj["state"] == expected
    assert obj["validTimeInterval"]["end"]["date"] == expires.isoformat()
    assert obj["validTimeInterval"]["start"]["date"] == valid_from.isoformat()
    assert obj["groupingInfo"]["groupingId"] == "3388000000022222222.coffee.card.card-0001"
    assert cls["title"] == "Free coffee"
    assert cls["redemptionChannel"] == "INSTORE"
    if status.is_final:
        assert "barcode" not in obj and "linksModuleData" not in obj


@pytest.mark.parametrize("symbology", list(Symbology))
def test_offer_object_redeem_code_symbology(symbology: Symbology) -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE, symbology=symbology)
    obj = offer_object(make_voucher(program), program, make_options(), at=AT)
    assert obj["barcode"]["type"] == BARCODE_TYPES[symbology]
    expected = None if symbology is Symbology.TEXT else CODE_VALUES[symbology]
    assert obj["barcode"].get("alternateText") == expected
    assert schema_errors(obj, "OfferObject") == []


def test_every_localized_field_has_every_program_language() -> None:
    program = make_program(RedemptionMethod.SELF_REDEEM)
    voucher = make_voucher(program)
    options = make_options()
    bodies = [
        loyalty_class(program, options),
        loyalty_object(make_card(program, vouchers=(voucher,)), options, at=AT),
        offer_class(voucher, program, options),
        offer_object(voucher, program, options, at=AT),
    ]
    fields = [field for body in bodies for field in _localized_fields(body)]
    assert len(fields) >= 12
    for path, localized in fields:
        assert localized["defaultValue"]["language"] == "en", path
        languages = [t["language"] for t in localized["translatedValues"]]
        assert languages == [lang for lang in LANGUAGES if lang != "en"], path
        assert all(t["value"] != localized["defaultValue"]["value"] or t["language"] == "uz"
                   for t in localized["translatedValues"]), path
    names = {t["language"]: t["value"] for t in bodies[0]["localizedProgramName"]["translatedValues"]}
    assert names == {"zh-Hans": "咖啡卡", "hi": "कॉफ़ी कार्ड", "th": "บัตรกาแฟ", "uz": "Qahva kartasi"}


def test_languages_are_listed_only_where_a_translation_exists() -> None:
    program = make_program(
        RedemptionMethod.SELF_REDEEM,
        reward=Reward(
            title=LocalizedText(default="Free coffee", translations={"zh-Hans": "免费咖啡"}),
            description="Any size",
        ),
    )
    voucher = make_voucher(program)
    card_body = loyalty_object(make_card(program, vouchers=(voucher,)), make_options(), at=AT)
    offer = offer_class(voucher, program, make_options())
    title = offer["localizedTitle"]
    assert title["translatedValues"] == [{"language": "zh-Hans", "value": "免费咖啡"}]
    assert "localizedDetails" not in offer  # never translated: the plain field only
    link = card_body["linksModuleData"]["uris"][0]["localizedDescription"]
    assert [t["language"] for t in link["translatedValues"]] == ["zh-Hans"]
    # the rewards label "Rewards" (GoogleOptions default) has no translation: no English posing as Thai
    assert "localizedLabel" not in card_body["secondaryLoyaltyPoints"]
    thai = [t for _, loc in _localized_fields(card_body) + _localized_fields(offer)
            for t in loc["translatedValues"] if t["language"] == "th"]
    assert all(t["value"] != "Free coffee" and t["value"] != "Rewards" for t in thai)
    assert schema_errors(card_body, "LoyaltyObject") == [] and schema_errors(offer, "OfferClass") == []


def test_draft_review_status_refuses_objects_with_the_fix() -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE)
    voucher = make_voucher(program)
    draft = make_options(review_status=ReviewStatus.DRAFT)
    assert loyalty_class(program, draft)["reviewStatus"] == "DRAFT"  # a class alone may be a draft
    with pytest.raises(GoogleOptionsError, match="UNDER_REVIEW") as caught:
        loyalty_object(make_card(program), draft, at=AT)
    assert caught.value.field == "review_status" and "draft class" in str(caught.value)
    with pytest.raises(GoogleOptionsError, match="review_status"):
        offer_object(voucher, program, draft, at=AT)


def test_single_language_program_has_no_translated_padding() -> None:
    program = make_program(multilingual=False)
    body = loyalty_class(program, make_options())
    assert "localizedProgramName" not in body
    assert "translatedValues" not in body["programLogo"]["contentDescription"]


def test_ids_are_issuer_prefixed_sanitised_and_stable() -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE)
    voucher = make_voucher(program)
    card = make_card(program, stamps=1)
    later = make_card(program, stamps=9, vouchers=(voucher,))
    options = make_options()
    assert loyalty_object(card, options, at=AT)["id"] == loyalty_object(later, options, at=AT)["id"]
    for body in (
        loyalty_class(program, options),
        loyalty_object(card, options, at=AT),
        offer_class(voucher, program, options),
        offer_object(voucher, program, options, at=AT),
    ):
        issuer, _, suffix = body["id"].partition(".")
        assert issuer == "3388000000022222222"
        assert all(ch.isalnum() or ch in "._-" for ch in suffix)


def test_staff_scan_without_scan_key_says_what_to_do() -> None:
    program = make_program(RedemptionMethod.STAFF_SCAN)
    with pytest.raises(GoogleOptionsError, match="scan_key"):
        offer_object(make_voucher(program), program, make_options(scan_key=None), at=AT)


def test_self_redeem_without_link_template_says_what_to_do() -> None:
    program = make_program(RedemptionMethod.SELF_REDEEM)
    with pytest.raises(GoogleOptionsError, match="redeem_link_template"):
        offer_object(make_voucher(program), program, make_options(redeem_link_template=None), at=AT)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("issuer_id", "my-issuer"),
        ("origins", ()),
        ("origins", ("http://insecure.example.com",)),
        ("logo_url", "http://cdn.example.com/logo.png"),
        ("hero_image_url_template", "https://cdn.example.com/{count}.png"),
    ],
)
def test_bad_options_name_the_field(field: str, value: Any) -> None:
    with pytest.raises(GoogleOptionsError, match=field):
        make_options(**{field: value})


def test_options_repr_hides_the_scan_key() -> None:
    assert "0123456789abcdef" not in repr(make_options())
    assert isinstance(make_options(), GoogleOptions)


BUILT_IN = ("zh-Hans", "zh-Hant", "hi", "th", "uz", "ru", "de", "fr", "es", "ar")


def test_default_labels_are_translated_in_every_built_in_language() -> None:
    # issue 18: a program without stamp_label translations showed "Stamps" in English beside
    # its translated name.
    program = make_program(RedemptionMethod.SELF_REDEEM, multilingual=False, name=LocalizedText(
        default="Coffee card", translations={lang: f"Coffee card ({lang})" for lang in BUILT_IN}))
    body = loyalty_object(make_card(program, vouchers=(make_voucher(program),)), make_options(), at=AT)
    assert schema_errors(body, "LoyaltyObject") == []
    localized = body["loyaltyPoints"]["localizedLabel"]
    assert body["loyaltyPoints"]["label"] == localized["defaultValue"]["value"] == "Stamps"
    words = {t["language"]: t["value"] for t in localized["translatedValues"]}
    assert set(words) == set(BUILT_IN)
    assert {lang: word for lang, word in words.items() if word == "Stamps"} == {}
    assert all(len(word) <= 9 for word in words.values())  # Google's recommended label length
    assert words == {lang: label("stamps", lang) for lang in BUILT_IN}  # the Apple passes' header


def test_a_default_label_in_a_non_english_program_reads_in_its_language() -> None:
    program = make_program(RedemptionMethod.SELF_REDEEM, multilingual=False, default_language="de")
    body = loyalty_object(make_card(program), make_options(), at=AT)
    assert body["loyaltyPoints"]["label"] == "Stempel"


def test_a_stamp_label_the_business_wrote_is_left_as_it_is() -> None:
    program = make_program(RedemptionMethod.SELF_REDEEM, multilingual=False, stamp_label="Beans",
                           name=LocalizedText(default="Coffee card", translations={"th": "บัตรกาแฟ"}))
    body = loyalty_object(make_card(program), make_options(), at=AT)
    assert body["loyaltyPoints"]["label"] == "Beans" and "localizedLabel" not in body["loyaltyPoints"]
