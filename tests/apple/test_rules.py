"""The merchants' rules where customers see them: both wallets, the strip and the previews, in every
language of the program; the rendered passes still pass openssl and the walletobjects document."""

from __future__ import annotations

import io
import json
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from PIL import Image

from tests.apple.helpers import AT, LANGUAGES, card_with, make_program, openssl_verify, ready_card, unzip
from tests.google.discovery import schema_errors
from walletvoucher.apple import AppleOptions, StripDesign, build_pass_content, render_pass, strip_images
from walletvoucher.apple._images import PRIMARY_BAND, STRIP_SLOTS, milestone_rings, stamp_area
from walletvoucher.apple._sign import AppleSigner
from walletvoucher.google import GoogleOptions, loyalty_object
from walletvoucher.model import (
    CardValidity,
    Channel,
    EarnByAmount,
    LocalizedText,
    Milestone,
    Money,
    Program,
    ProgramKind,
    RedemptionContext,
    RedemptionMethod,
    Reward,
    StampCard,
    StampExpiry,
    TimeWindow,
)
from walletvoucher.preview import parse_strings, preview

BG, STAMP = (30, 58, 95), (242, 193, 78)
LATER = AT + timedelta(minutes=5)


def _cookie() -> Reward:
    return Reward(
        title=LocalizedText(default="Free cookie", translations={
            "zh-Hans": "免费饼干", "hi": "मुफ़्त कुकी", "th": "คุกกี้ฟรี", "uz": "Bepul pechenye"}),
        description="Any cookie",
    )


def milestone_program() -> Program:
    program = make_program(RedemptionMethod.SELF_REDEEM)
    return attrs.evolve(program, milestones=(
        Milestone(at=3, reward=_cookie(), redemption=RedemptionMethod.SELF_REDEEM),
        Milestone(at=6, reward=Reward(title="Free cake", description="Any slice"),
                  redemption=RedemptionMethod.SELF_REDEEM),
    ))


def _options(**changes: Any) -> AppleOptions:
    return AppleOptions(pass_type_identifier="pass.com.example.walletvoucher", team_identifier="TEAMID1234",
                        redeem_link="https://example.com/redeem/{serial}", **changes)


def _strings(files: dict[str, bytes], lproj: str) -> dict[str, str]:
    return parse_strings(files[f"{lproj}.lproj/pass.strings"])


# --- milestones ---------------------------------------------------------------------------------


def test_the_card_back_lists_milestones_earned_and_ahead_in_every_language() -> None:
    card = card_with(milestone_program(), 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        content = build_pass_content(card, options=_options(), at=LATER)
    back = {f["key"]: f for f in content.pass_json["storeCard"]["backFields"]}
    field = back["milestones"]
    assert field["value"] == "✓ 3/10: Free cookie\n○ 6/10: Free cake"
    expected = {"zh-Hans": ("阶段奖励", "免费饼干"), "hi": ("पड़ाव इनाम", "मुफ़्त कुकी"),
                "th": ("รางวัลระหว่างทาง", "คุกกี้ฟรี"), "uz": ("Oraliq mukofotlar", "Bepul pechenye")}
    for lproj, (word, cookie) in expected.items():
        strings = _strings(content.files, lproj)
        assert strings[field["label"]] == word
        assert strings[field["value"]] == f"✓ 3/10: {cookie}\n○ 6/10: Free cake"
    assert LANGUAGES == ("en", "zh-Hans", "hi", "th", "uz")


def test_a_program_without_milestones_has_no_milestone_field() -> None:
    card = card_with(make_program(RedemptionMethod.SELF_REDEEM), 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        content = build_pass_content(card, options=_options(), at=LATER)
    assert "milestones" not in {f["key"] for f in content.pass_json["storeCard"]["backFields"]}


def test_a_milestone_card_signs_and_verifies_with_openssl(
    signer: AppleSigner, chain_files: dict[str, Path], tmp_path: Path
) -> None:
    card = card_with(milestone_program(), 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rendered = render_pass(card, signer=signer, options=_options(), at=LATER)
    files = unzip(rendered.pkpass)
    result = openssl_verify(files, chain_files["root"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "milestones" in {f["key"] for f in json.loads(files["pass.json"])["storeCard"]["backFields"]}


def _ink(png: bytes) -> set[tuple[int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    return {(x, y) for y in range(height) for x in range(width)
            if max(abs(a - b) for a, b in zip(pixels[x, y], BG, strict=True)) > 40}  # type: ignore[arg-type]


def test_the_strip_rings_each_milestone_and_thickens_the_earned_ones() -> None:
    plain = StripDesign(goal=9, background=BG, stamp=STAMP)
    marked = attrs.evolve(plain, milestones=(3, 6))
    size = (375 * 2, 123 * 2)
    for filled in (2, 4, 7):
        extra = _ink(strip_images(marked, filled, "storeCard")["strip@2x.png"]) - _ink(
            strip_images(plain, filled, "storeCard")["strip@2x.png"])
        rings = milestone_rings(marked, filled, size)
        assert [earned for _, _, earned in rings] == [filled >= 3, filled >= 6]
        for (left, top, right, bottom), _, earned in rings:
            inside = {(x, y) for x, y in extra if left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1}
            assert inside, "every milestone's stamp wears a ring"
            thickness = len(inside) / (3.1416 * (right - left))
            assert (thickness > 3) == earned, (filled, thickness)
        boxes = [box for box, _, _ in rings]
        near = [(b[0] - 1, b[1] - 1, b[2] + 1, b[3] + 1) for b in boxes]
        assert all(any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in near) for x, y in extra)


def test_milestone_rings_keep_out_of_the_primary_field_band() -> None:
    design = StripDesign(goal=9, background=BG, stamp=STAMP, primary_field=True, milestones=(3, 6, 8))
    for style in ("storeCard", "coupon"):
        png = strip_images(design, 7, style)["strip@3x.png"]
        width, height = Image.open(io.BytesIO(png)).size
        bottom = stamp_area((width, height), primary_field=True)[3]
        assert _ink(png), style
        assert max(y for _, y in _ink(png)) <= bottom + 1, style
        assert PRIMARY_BAND > 0 and STRIP_SLOTS


def test_the_compact_strip_marks_milestones_across_the_bar() -> None:
    plain = StripDesign(goal=500, background=BG, stamp=STAMP)
    marked = attrs.evolve(plain, milestones=(100, 400))
    a = strip_images(plain, 250, "storeCard")["strip@2x.png"]
    b = strip_images(marked, 250, "storeCard")["strip@2x.png"]
    extra = _ink(b) ^ _ink(a)
    xs = sorted({x for x, _ in extra})
    assert xs, "the ticks change the bar"
    assert xs[0] < 375 and xs[-1] > 375  # one tick left of the middle (earned), one right (ahead)


def test_the_apple_preview_shows_the_milestone_rings() -> None:
    program = milestone_program()
    plain = card_with(attrs.evolve(program, milestones=()), 4)
    marked = card_with(program, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with_rings = preview(marked, "apple", at=LATER, options=_options(), language="th")
        without = preview(plain, "apple", at=LATER, options=_options(), language="th")
    assert with_rings != without


def test_the_google_object_lists_milestones_and_validates() -> None:
    card = card_with(milestone_program(), 4)
    options = GoogleOptions(issuer_id="3388000000022222222", origins=("https://shop.example.com",),
                            logo_url="https://cdn.example.com/logo.png",
                            redeem_link_template="https://shop.example.com/redeem/{serial}")
    body = loyalty_object(card, options, at=LATER)
    assert schema_errors(body, "LoyaltyObject") == []
    [module] = body["textModulesData"]
    assert module["header"] == "Milestone rewards"
    assert module["body"] == "✓ 3/10: Free cookie\n○ 6/10: Free cake"
    headers = {t["language"]: t["value"] for t in module["localizedHeader"]["translatedValues"]}
    assert headers == {"hi": "पड़ाव इनाम", "th": "รางวัลระหว่างทาง", "uz": "Oraliq mukofotlar",
                       "zh-Hans": "阶段奖励"}
    bodies = {t["language"]: t["value"] for t in module["localizedBody"]["translatedValues"]}
    assert bodies["th"] == "✓ 3/10: คุกกี้ฟรี\n○ 6/10: Free cake"


# --- stamp expiry ---------------------------------------------------------------------------------


def lapsing_program() -> Program:
    return attrs.evolve(make_program(RedemptionMethod.SELF_REDEEM), timezone="Asia/Tashkent",
                        stamp_expiry=StampExpiry.rolling(30, warn_days=7))


def _card_fields(card: Any, at: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        content = build_pass_content(card, options=_options(), at=at)
    return content.pass_json, content.files


def test_the_card_says_when_its_stamps_lapse_and_warns_in_the_week_before() -> None:
    card = card_with(lapsing_program(), 4)  # last stamp 2026-05-07 15:31 in Tashkent
    lapse = card.stamps_lapse_at
    assert lapse == datetime(2026, 6, 7, tzinfo=ZoneInfo("Asia/Tashkent"))
    doc, _ = _card_fields(card, LATER)
    back = {f["key"]: f for f in doc["storeCard"]["backFields"]}
    assert back["stamps_lapse"]["value"] == "2026-06-07T00:00:00+05:00"
    assert "stamps_warning" not in {f["key"] for f in doc["storeCard"]["auxiliaryFields"]}
    warned_at = datetime(2026, 5, 31, 0, 0, tzinfo=ZoneInfo("Asia/Tashkent"))  # 7 days before the 7th
    assert card.stamps_warn_at == warned_at
    doc, files = _card_fields(card, warned_at - timedelta(seconds=1))
    assert "stamps_warning" not in {f["key"] for f in doc["storeCard"]["auxiliaryFields"]}
    doc, files = _card_fields(card, warned_at)
    [warning] = [f for f in doc["storeCard"]["auxiliaryFields"] if f["key"] == "stamps_warning"]
    assert warning["value"] == "2026-06-07T00:00:00+05:00"
    assert warning["changeMessage"] == "Your stamps expire on %@"
    assert _strings(files, "th")[warning["changeMessage"]] == "แสตมป์ของคุณจะหมดอายุวันที่ %@"
    assert _strings(files, "zh-Hans")[warning["label"]] == "印章到期"
    doc, _ = _card_fields(card, lapse)
    assert "stamps_warning" not in {f["key"] for f in doc["storeCard"]["auxiliaryFields"]}


def test_a_warning_card_signs_and_verifies_with_openssl(
    signer: AppleSigner, chain_files: dict[str, Path], tmp_path: Path
) -> None:
    card = card_with(lapsing_program(), 4)
    assert card.stamps_warn_at is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rendered = render_pass(card, signer=signer, options=_options(), at=card.stamps_warn_at)
    files = unzip(rendered.pkpass)
    result = openssl_verify(files, chain_files["root"], tmp_path)
    assert result.returncode == 0, result.stderr
    front = json.loads(files["pass.json"])["storeCard"]["auxiliaryFields"]
    assert "stamps_warning" in {f["key"] for f in front}


def test_the_google_object_says_when_stamps_lapse_and_validates() -> None:
    card = card_with(lapsing_program(), 4)
    options = GoogleOptions(issuer_id="3388000000022222222", origins=("https://shop.example.com",),
                            logo_url="https://cdn.example.com/logo.png")
    body = loyalty_object(card, options, at=LATER)
    assert schema_errors(body, "LoyaltyObject") == []
    [module] = body["textModulesData"]
    shown = (module["id"], module["header"], module["body"])
    assert shown == ("stamps_lapse", "Stamps expire", "2026-06-07 00:00")
    headers = {t["language"]: t["value"] for t in module["localizedHeader"]["translatedValues"]}
    assert headers["th"] == "แสตมป์หมดอายุ" and headers["uz"] == "Muhrlar muddati"
    lapsed, _ = card.expire_stamps(at=card.stamps_lapse_at or LATER)
    assert "textModulesData" not in loyalty_object(lapsed, options, at=LATER)


# --- card validity --------------------------------------------------------------------------------


def test_a_card_with_an_end_shows_it_on_both_wallets() -> None:
    program = attrs.evolve(make_program(RedemptionMethod.SELF_REDEEM), timezone="Asia/Tashkent",
                           card_validity=CardValidity(days_after_join=365))
    card = card_with(program, 2)
    doc, _ = _card_fields(card, LATER)
    assert doc["expirationDate"] == "2027-05-08T00:00:00+05:00"
    back = {f["key"]: f["value"] for f in doc["storeCard"]["backFields"]}
    assert back["card_expires"] == doc["expirationDate"]
    options = GoogleOptions(issuer_id="3388000000022222222", origins=("https://shop.example.com",),
                            logo_url="https://cdn.example.com/logo.png")
    live = loyalty_object(card, options, at=LATER)
    assert schema_errors(live, "LoyaltyObject") == []
    assert live["state"] == "ACTIVE"
    assert live["validTimeInterval"] == {"start": {"date": card.issued_at.isoformat()},
                                         "end": {"date": "2027-05-08T00:00:00+05:00"}}
    assert card.expires_at is not None
    ended = loyalty_object(card, options, at=card.expires_at)
    assert schema_errors(ended, "LoyaltyObject") == []
    assert ended["state"] == "EXPIRED"


# --- earning by amount ----------------------------------------------------------------------------


def test_earning_by_amount_shows_the_step_and_what_is_kept_on_both_wallets() -> None:
    program = attrs.evolve(make_program(RedemptionMethod.SELF_REDEEM),
                           earn_by_amount=EarnByAmount(step="10000", currency="UZS"))
    card, _ = StampCard.issue(program, serial="CARD-0001", member_id="M-42", at=AT)
    card = card.add_purchase(Money(amount="25000.50", currency="UZS"), at=AT).card
    doc, files = _card_fields(card, LATER)
    back = {f["key"]: f for f in doc["storeCard"]["backFields"]}
    assert (back["stamp_per"]["value"], back["stamp_per"]["currencyCode"]) == (10000, "UZS")
    assert back["carried"]["value"] == 5000.5
    assert _strings(files, "hi")[back["carried"]["label"]] == "अगले स्टैम्प के लिए जमा"
    options = GoogleOptions(issuer_id="3388000000022222222", origins=("https://shop.example.com",),
                            logo_url="https://cdn.example.com/logo.png")
    body = loyalty_object(card, options, at=LATER)
    assert schema_errors(body, "LoyaltyObject") == []
    assert [(m["id"], m["body"]) for m in body["textModulesData"]] == [
        ("stamp_per", "10000 UZS"), ("carried", "5000.50 UZS")]


# --- prepaid punch cards --------------------------------------------------------------------------


def test_a_prepaid_card_shows_the_punches_left_on_both_wallets() -> None:
    program = attrs.evolve(make_program(RedemptionMethod.SELF_REDEEM), goal=10, kind=ProgramKind.PREPAID,
                           punches=10)
    card, _ = StampCard.issue(program, serial="CARD-0001", member_id="M-42", at=AT)
    for _ in range(3):
        card, _ = card.use_punch(at=AT)
    doc, files = _card_fields(card, LATER)
    [header] = doc["storeCard"]["headerFields"]
    assert (header["key"], header["value"]) == ("punches", "7/10")
    assert _strings(files, "th")[header["label"]] == "คงเหลือ"
    assert _strings(files, "uz")[header["changeMessage"]] == "Qoldi: %@"
    back = {f["key"]: f for f in doc["storeCard"]["backFields"]}
    assert "lifetime" not in back and back["punches_left"]["value"] == "7/10"  # no stamps to count
    assert _strings(files, "th")[back["punches_left"]["label"]] == "คงเหลือ"
    strip = files["strip@2x.png"]
    assert strip == strip_images(StripDesign(goal=10, background=program.brand.background.rgb,
                                             stamp=program.brand.label.rgb), 7, "storeCard")["strip@2x.png"]
    options = GoogleOptions(issuer_id="3388000000022222222", origins=("https://shop.example.com",),
                            logo_url="https://cdn.example.com/logo.png")
    body = loyalty_object(card, options, at=LATER)
    assert schema_errors(body, "LoyaltyObject") == []
    assert body["loyaltyPoints"]["balance"] == {"string": "7/10"} and body["loyaltyPoints"]["label"] == "Left"


def test_a_milestone_voucher_gets_its_own_google_offer_class() -> None:
    from walletvoucher.google import offer_class, offer_object

    card = card_with(milestone_program(), 10)
    cookie, coffee = card.vouchers[0], next(v for v in card.vouchers if v.milestone is None)
    options = GoogleOptions(issuer_id="3388000000022222222", origins=("https://shop.example.com",),
                            logo_url="https://cdn.example.com/logo.png",
                            redeem_link_template="https://shop.example.com/redeem/{serial}")
    classes = [offer_class(v, card.program, options) for v in (cookie, coffee)]
    assert classes[0]["id"] != classes[1]["id"] and classes[0]["id"].endswith("-m3")
    assert classes[0]["title"] == "Free cookie"
    for voucher, body in zip((cookie, coffee), classes, strict=True):
        assert schema_errors(body, "OfferClass") == []
        obj = offer_object(voucher, card.program, options, at=LATER)
        assert obj["classId"] == body["id"] and schema_errors(obj, "OfferObject") == []


# --- redemption context ---------------------------------------------------------------------------


def test_the_context_shows_in_plain_words_and_google_offers_carry_the_channel() -> None:
    from walletvoucher.google import offer_class, offer_object

    context = RedemptionContext(locations=("chilonzor",), channels=(Channel.ONLINE,),
                                windows=(TimeWindow(days="mon-fri", start="14:00", end="17:00"),))
    program = attrs.evolve(make_program(RedemptionMethod.SELF_REDEEM),
                           reward=attrs.evolve(make_program().reward, context=context))
    _, voucher = ready_card(program)
    assert voucher.reward.context == context
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        content = build_pass_content(voucher, options=_options(), at=LATER, program=program)
    back = {f["key"]: f for f in content.pass_json["coupon"]["backFields"]}
    assert back["context"]["value"] == "Mon-Fri 14:00-17:00, chilonzor, online"
    assert _strings(content.files, "zh-Hans")[back["context"]["label"]] == "使用时间和地点"
    words = back["context"]["value"]
    assert _strings(content.files, "zh-Hans")[words] == "周一-周五 14:00-17:00, chilonzor, 线上"
    assert _strings(content.files, "th")[words] == "จ.-ศ. 14:00-17:00, chilonzor, ออนไลน์"
    options = GoogleOptions(issuer_id="3388000000022222222", origins=("https://shop.example.com",),
                            logo_url="https://cdn.example.com/logo.png",
                            redeem_link_template="https://shop.example.com/redeem/{serial}")
    body = offer_class(voucher, program, options)
    assert schema_errors(body, "OfferClass") == []
    assert body["redemptionChannel"] == "ONLINE"
    assert body["textModulesData"][0]["body"] == "Mon-Fri 14:00-17:00, chilonzor, online"
    module = body["textModulesData"][0]
    translated = {t["language"]: t["value"] for t in module["localizedBody"]["translatedValues"]}
    assert translated["uz"] == "Du-Ju 14:00-17:00, chilonzor, onlayn"
    assert schema_errors(offer_object(voucher, program, options, at=LATER), "OfferObject") == []


def test_a_voucher_bound_to_branches_shows_near_them() -> None:
    from walletvoucher.apple import Location

    context = RedemptionContext(locations=("chilonzor", "yunusobod"))
    program = attrs.evolve(make_program(RedemptionMethod.SELF_REDEEM),
                           reward=attrs.evolve(make_program().reward, context=context))
    _, voucher = ready_card(program)
    chilonzor = Location(latitude=41.2756, longitude=69.2034, relevant_text="Lunch at Chilonzor")
    everywhere = Location(latitude=41.3111, longitude=69.2797)
    options = _options(locations=[everywhere], branches={"chilonzor": chilonzor})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bound = build_pass_content(voucher, options=options, at=LATER, program=program).pass_json
        plain = build_pass_content(card_with(make_program(RedemptionMethod.SELF_REDEEM), 2), options=options,
                                   at=LATER).pass_json
    assert [(p["latitude"], p["longitude"]) for p in bound["locations"]] == [(41.2756, 69.2034)]
    assert [(p["latitude"], p["longitude"]) for p in plain["locations"]] == [(41.3111, 69.2797)]
