"""The back of a pass in a preview (issue 16): the rules' back fields -- the redemption context in plain
words, when stamps lapse, when the card expires, the milestones, punches left -- as each wallet lists
them, in the program's languages, bounded for hostile passes.

The words a customer should read are written out here (not taken from the code). Each drawn text is
measured in the picture: its ink is found by drawing the back again without that text (what changes
is the text's ink), the ink must lie in the region the preview reports and nowhere near another row,
start at the reading edge of the language (left, or right for Arabic), read at WCAG contrast 4.5:1
or more against the back's background, and have the shape of the expected word drawn on its own with
the Noto fonts (so an English word where Arabic belongs, or a missing-glyph box, fails).
"""

from __future__ import annotations

import warnings
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from tests.preview.conftest import png_image
from tests.preview.test_strip_clearance import contrast
from walletvoucher import _fonts
from walletvoucher.apple import AppleOptions, build_pass_content
from walletvoucher.demo import CLOCK, demo_program, lunch_program
from walletvoucher.demo._apple import DEMO_PASS_TYPE, DEMO_REDEEM_LINK, DEMO_TEAM
from walletvoucher.demo._google import DEMO_OPTIONS
from walletvoucher.errors import PreviewError
from walletvoucher.google import loyalty_class, loyalty_object, offer_class, offer_object
from walletvoucher.model import CardValidity, LocalizedText, ProgramKind, RedemptionMethod, StampCard
from walletvoucher.preview import Picture, preview, preview_apple, preview_google, preview_pkpass

SCALE = 2
PAD, WIDTH = 16, 375
LANGUAGES = ("en", "zh-Hans", "hi", "th", "uz", "ar")
AT = CLOCK + timedelta(days=25)  # within the week before the stamps lapse

# what the customer reads on the Apple back, by field key and language (label, value)
APPLE_EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "context": {
        "en": ("When and where", "Mon-Fri 12:00-14:00, chilonzor, in store, one per day"),
        "hi": ("कब और कहाँ", "सोम-शुक्र 12:00-14:00, chilonzor, स्टोर में, दिन में एक बार"),
        "ar": ("متى وأين", "الاثنين-الجمعة 12:00-14:00, chilonzor, في المتجر, مرة في اليوم"),
        "zh-Hans": ("使用时间和地点", ""), "th": ("เวลาและสถานที่ใช้", ""), "uz": ("Qachon va qayerda", ""),
    },
    "stamps_lapse": {
        "en": ("Stamps expire", "7 Jun 2026, 00:00"), "hi": ("स्टैम्प की समाप्ति", "7 Jun 2026, 00:00"),
        "ar": ("انتهاء الطوابع", "7 Jun 2026, 00:00"), "zh-Hans": ("印章到期", "7 Jun 2026, 00:00"),
        "th": ("แสตมป์หมดอายุ", "7 Jun 2026, 00:00"), "uz": ("Muhrlar muddati", "7 Jun 2026, 00:00"),
    },
    "card_expires": {
        "en": ("Valid until", "8 May 2027, 00:00"), "hi": ("मान्य तिथि", "8 May 2027, 00:00"),
        "ar": ("صالح حتى", "8 May 2027, 00:00"), "zh-Hans": ("有效期至", "8 May 2027, 00:00"),
        "th": ("ใช้ได้ถึง", "8 May 2027, 00:00"), "uz": ("Amal qilish muddati", "8 May 2027, 00:00"),
    },
    "milestones": {
        "en": ("Milestone rewards", "○ 3/9: Free cookie"), "hi": ("पड़ाव इनाम", "○ 3/9: मुफ़्त कुकी"),
        "ar": ("مكافآت المراحل", "○ 3/9: Free cookie"), "zh-Hans": ("阶段奖励", "○ 3/9: 免费饼干"),
        "th": ("รางวัลระหว่างทาง", "○ 3/9: คุกกี้ฟรี"), "uz": ("Oraliq mukofotlar", "○ 3/9: Bepul pechenye"),
    },
}


def _program() -> Any:
    """The demo's lunch program, its main reward bound to lunchtime at Chilonzor too, cards valid a
    year, and an Arabic name (so the pass carries an Arabic lproj)."""
    program = lunch_program()
    return attrs.evolve(
        program, card_validity=CardValidity(days_after_join=365),
        reward=attrs.evolve(program.reward, context=program.milestones[0].reward.context),
        name=LocalizedText(default=program.name.default,
                           translations={**program.name.as_dict(), "ar": "بطاقة القهوة"}),
    )


def _card() -> StampCard:
    card, _ = StampCard.issue(_program(), serial="C1", member_id="m-1", at=CLOCK)
    return card.add_stamps(2, at=CLOCK, source="staff").card


def _apple_content(card: StampCard) -> Any:
    options = AppleOptions(pass_type_identifier=DEMO_PASS_TYPE, team_identifier=DEMO_TEAM,
                           redeem_link=DEMO_REDEEM_LINK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_pass_content(card, options=options, at=AT)


def _last(doc: dict[str, Any], key: str, part: str | None = None) -> dict[str, Any]:
    """pass.json with back field *key* moved to the end; with *part* ("label" or "value"), that part
    replaced by a zero-width space (a line that inks nothing)."""
    fields = [f for f in doc["storeCard"]["backFields"] if f["key"] != key]
    [field] = [f for f in doc["storeCard"]["backFields"] if f["key"] == key]
    if part is not None:
        styles = ("dateStyle", "timeStyle") if part == "value" else ()  # a date's label keeps its date
        field = {k: v for k, v in field.items() if k not in styles} | {part: "\u200b"}
    return {**doc, "storeCard": {**doc["storeCard"], "backFields": [*fields, field]}}


def _ink(a: Picture, b: Picture) -> tuple[int, int, int, int] | None:
    """Where two drawings differ (the ink of what one has and the other lacks), above the rounded
    bottom corners of the shorter one."""
    first, second = png_image(a.png), png_image(b.png)
    height = min(first.height, second.height) - 16 * SCALE
    box = (0, 0, first.width, height)
    return ImageChops.difference(first.crop(box), second.crop(box)).getbbox()


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int], slack: int = 2) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and inner[2] <= outer[2] + slack
            and inner[3] <= outer[3] + slack)


def _shape_matches(image: Image.Image, box: tuple[int, int, int, int], text: str, points: int) -> float:
    """How well the ink in *box* matches *text* drawn alone at *points*: the two ink masks aligned at
    their top-left corners, the share of each one's ink that lies within a pixel of the other's (the
    lower of the two; 1.0 is the same word, a different word or script scores far lower)."""
    crop = image.crop(box).convert("L")
    background = Counter(crop.get_flattened_data()).most_common(1)[0][0]
    drawn = crop.point(lambda v: 255 if abs(v - background) > 80 else 0)
    size = points * SCALE
    probe = Image.new("L", (crop.width + 4 * size, crop.height + 4 * size), 0)
    _fonts.draw_text(ImageDraw.Draw(probe), (2 * size, 3 * size), text, size=size, fill=255)
    expected = probe.point(lambda v: 255 if v > 128 else 0)
    a_box, b_box = drawn.getbbox(), expected.getbbox()
    if a_box is None or b_box is None:
        return 0.0
    width = max(a_box[2] - a_box[0], b_box[2] - b_box[0])
    height = max(a_box[3] - a_box[1], b_box[3] - b_box[1])
    a, b = Image.new("L", (width, height), 0), Image.new("L", (width, height), 0)
    a.paste(drawn.crop(a_box), (0, 0))
    b.paste(expected.crop(b_box), (0, 0))
    widths = sorted((a_box[2] - a_box[0], b_box[2] - b_box[0]))
    return min(_covered(a, b), _covered(b, a)) * widths[0] / max(1, widths[1])


def _value_matches(image: Image.Image, regions: Any, index: int, text: str, points: int = 15) -> bool:
    """Whether the value of row *index* reads *text*, wrapped at spaces: each drawn line, in order,
    matches the next words of *text* (the most that match), and every word is drawn."""
    words, count = text.split(" "), 0
    while f"back.{index}.line.{count}" in regions:
        count += 1
    for number in range(count):
        box = regions[f"back.{index}.line.{number}"]
        crop = image.crop(box).convert("L")
        ink = crop.point(lambda v: 255 if v < 128 else 0).getbbox()
        if ink is None:
            return False
        tight = (box[0] + ink[0] - 2, box[1] + ink[1] - 2, box[0] + ink[2] + 2, box[1] + ink[3] + 2)
        scores = {k: _shape_matches(image, tight, " ".join(words[:k]), points)
                  for k in range(1, len(words) + 1)}
        take = max(scores, key=lambda k: scores[k], default=0)
        if take == 0 or scores[take] <= 0.8:
            return False
        words = words[take:]
    return count > 0 and not words


def _covered(ink: Image.Image, by: Image.Image) -> float:
    """Share of *ink*'s pixels within a pixel of *by*'s ink."""
    near = by.filter(ImageFilter.MaxFilter(3))
    inside = ImageChops.multiply(ink, near).histogram()[255]
    return inside / max(1, ink.histogram()[255])


def _lowest_contrast(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Contrast of the text's darkest ink against the back's background (its most common colour)."""
    crop = image.crop(box).convert("RGB")
    background = Counter(image.convert("RGB").get_flattened_data()).most_common(1)[0][0]
    core = min(crop.get_flattened_data(), key=lambda p: sum(p))
    return contrast(core, background)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_apple_back_shows_the_rules_in_the_pass_language(language: str) -> None:
    content = _apple_content(_card())
    doc, files = content.pass_json, content.files
    back = preview_apple(doc, files, language=language, at=AT, side="back")
    image = png_image(back.png)
    keys = [f["key"] for f in doc["storeCard"]["backFields"]]
    regions = back.regions
    assert {"card", "title"} <= set(regions)
    boxes = {(k, part): regions[f"back.{i}.{part}"]
             for i, k in enumerate(keys) for part in ("label", "value")}
    for (key, part), box in boxes.items():
        assert _inside(box, regions["card"]), (key, part)
        others = [b for (k, _), b in boxes.items() if k != key]
        assert not any(_overlap(box, b) for b in others), (key, part)  # rows never run into each other
    for key, by_language in APPLE_EXPECTED.items():
        label, value = by_language[language]
        moved = preview_apple(_last(doc, key), files, language=language, at=AT, side="back")
        image = png_image(moved.png)
        for part, text, points in (("label", label, 13), ("value", value, 15)):
            box = moved.regions[f"back.{len(keys) - 1}.{part}"]
            ink = _ink(moved, preview_apple(_last(doc, key, part), files, language=language, at=AT,
                                            side="back"))
            assert ink is not None and _inside(ink, box), (key, part, ink, box)
            edge = (ink[2] >= (WIDTH - PAD) * SCALE - 6) if language == "ar" else (ink[0] <= PAD * SCALE + 6)
            assert edge, (key, part, ink)  # from the reading edge: the right in Arabic
            assert _lowest_contrast(image, ink) >= 4.5, (key, part)
            if text and part == "label":
                assert _shape_matches(image, _grown(ink), text, points) > 0.8, (key, part, text)
            elif text:
                assert _value_matches(image, moved.regions, len(keys) - 1, text), (key, part, text)


def _grown(box: tuple[int, int, int, int], by: int = 2) -> tuple[int, int, int, int]:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_a_prepaid_card_back_says_how_many_punches_are_left() -> None:
    program = attrs.evolve(demo_program(RedemptionMethod.REDEEM_CODE, program_id="ten"),
                           kind=ProgramKind.PREPAID, punches=10)
    card, _ = StampCard.issue(program, serial="P1", member_id="m-1", at=CLOCK)
    card, _ = card.use_punch(at=CLOCK)
    content = _apple_content(card)
    keys = [f["key"] for f in content.pass_json["storeCard"]["backFields"]]
    for language, word in (("en", "Left"), ("th", "คงเหลือ"), ("hi", "शेष")):
        back = preview_apple(content.pass_json, content.files, language=language, side="back")
        index = keys.index("punches_left")
        image = png_image(back.png)
        assert _shape_matches(image, back.regions[f"back.{index}.label"], word, 13) > 0.8, language
        assert _value_matches(image, back.regions, index, "9/10"), language
        assert _shape_matches(image, back.regions[f"back.{index}.label"], "Stamps collected", 13) < 0.5
        assert not _value_matches(image, back.regions, index, "0")  # the oracle tells words apart


def _lapse_message() -> dict[str, Any]:
    from walletvoucher.service._google_sync import lapse_message

    message = lapse_message(_card(), notify=True)
    assert message is not None
    return message


GOOGLE_EXPECTED = {  # the lapse warning message's body, and the milestone module's header
    "en": ("Your stamps expire on 2026-06-07 00:00", "Milestone rewards"),
    "hi": ("आपके स्टैम्प समाप्त होंगे: 2026-06-07 00:00", "पड़ाव इनाम"),
    "ar": ("تنتهي طوابعك في 2026-06-07 00:00", "مكافآت المراحل"),
    "zh-Hans": ("您的印章到期日： 2026-06-07 00:00", "阶段奖励"),
    "th": ("แสตมป์ของคุณจะหมดอายุวันที่ 2026-06-07 00:00", "รางวัลระหว่างทาง"),
    "uz": ("Muhrlaringiz muddati tugaydi: 2026-06-07 00:00", "Oraliq mukofotlar"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_google_back_lists_the_lapse_warning_and_the_modules_in_the_pass_language(language: str) -> None:
    card = _card()
    cls = loyalty_class(card.program, DEMO_OPTIONS)
    obj = {**loyalty_object(card, DEMO_OPTIONS, at=AT), "messages": [_lapse_message()]}
    back = preview_google(cls, obj, language=language, at=AT, side="back")
    image = png_image(back.png)
    body, header = GOOGLE_EXPECTED[language]
    assert _value_matches(image, back.regions, 0, body)  # the message comes first
    assert _shape_matches(image, back.regions["back.1.label"], header, 13) > 0.8  # then the milestones
    for name, box in back.regions.items():
        if name.startswith("back."):
            assert _lowest_contrast(image, box) >= 4.5, name
            assert (box[2] >= (WIDTH - PAD) * SCALE - 6) if language == "ar" else (box[0] <= PAD * SCALE + 6)
    # before the warning's displayInterval starts, and once the stamps lapse, Google does not show it
    zone = card.program.zone
    for at in (datetime(2026, 5, 30, 23, 59, tzinfo=zone), datetime(2026, 6, 7, tzinfo=zone)):
        hidden = preview_google(cls, obj, language=language, at=at, side="back")
        assert _shape_matches(png_image(hidden.png), hidden.regions["back.0.label"], header, 13) > 0.8


def test_a_google_offer_back_says_when_and_where_it_may_be_redeemed() -> None:
    card = _card().add_stamps(1, at=CLOCK, source="staff").card
    voucher = card.vouchers[0]
    program = card.program
    for language, words in (("en", "Mon-Fri 12:00-14:00, chilonzor, in store, one per day"),
                            ("hi", "सोम-शुक्र 12:00-14:00, chilonzor, स्टोर में, दिन में एक बार")):
        back = preview_google(offer_class(voucher, program, DEMO_OPTIONS),
                              offer_object(voucher, program, DEMO_OPTIONS, at=AT), language=language, at=AT,
                              side="back")
        image = png_image(back.png)
        rows = [n for n in back.regions if n.endswith(".value")]
        assert any(_value_matches(image, back.regions, int(n.split(".")[1]), words) for n in rows), language


# --- hostile passes -----------------------------------------------------------------------------------


def _hostile_doc(fields: Any) -> dict[str, Any]:
    return {"formatVersion": 1, "organizationName": "X", "storeCard": {"backFields": fields}}


def test_a_hostile_back_is_drawn_bounded_and_never_crashes() -> None:
    many = [{"key": f"k{n}", "label": f"L{n}", "value": "v " * 50} for n in range(5000)]
    tall = [{"key": "t", "label": "Terms", "value": "line\n" * 100_000}]
    wide = [{"key": "w", "label": "x" * 600_000, "value": "word " * 120_000 + "咖" * 200_000}]
    odd = [None, 7, {"key": "a"}, {"key": "b", "value": {"x": 1}}, {"key": "c", "label": 3, "value": True},
           {"key": "d", "value": 1e308, "currencyCode": "USD"}, {"key": "e", "value": "2026-13-45T99:99",
                                                                  "dateStyle": "PKDateStyleShort"}]
    for fields in (many, tall, wide, odd, "not a list", {"key": "x"}):
        picture = preview_apple(_hostile_doc(fields), side="back")
        assert picture.size[1] <= 4000 * SCALE, fields if not isinstance(fields, list) else len(fields)
        assert len([n for n in picture.regions if n.endswith(".value")]) <= 24
    cut = preview_apple(_hostile_doc(tall), side="back")
    assert {n for n in cut.regions if n.startswith("back.") and ".line." not in n} == {
        "back.0.label", "back.0.value"}  # one row
    assert len([n for n in cut.regions if ".line." in n]) == 12  # its value cut to 12 lines
    google = preview_google({"programName": "P", "textModulesData": "no"},
                            {"messages": [None, {"header": 3, "displayInterval": {"start": "x"}}],
                             "textModulesData": [{"header": "h" * 500_000, "body": "b\n" * 50_000}] * 100,
                             "linksModuleData": {"uris": [{"uri": 5}, {"uri": "https://x.example"}]},
                             "validTimeInterval": {"end": {"date": "garbage"}}},
                            at=CLOCK, side="back")
    assert google.size[1] <= 4000 * SCALE


def test_side_is_checked_and_the_command_line_draws_the_back(tmp_path: Any) -> None:
    from walletvoucher.cli import main

    with pytest.raises(PreviewError) as caught:
        preview_apple(_hostile_doc([]), side="inside")
    assert caught.value.field == "side"
    content = _apple_content(_card())
    with pytest.raises(PreviewError):
        preview(_card(), "google", at=AT, options=DEMO_OPTIONS, side="left")
    from walletvoucher.apple import zip_bundle

    source = tmp_path / "card.pkpass"
    source.write_bytes(zip_bundle({"pass.json": __import__("json").dumps(content.pass_json).encode(),
                                   **content.files, "manifest.json": b"{}", "signature": b""}))
    out = tmp_path / "back.png"
    assert main(["preview", str(source), "-o", str(out), "--back", "--language", "hi"]) == 0
    assert out.read_bytes() == preview_pkpass(source.read_bytes(), language="hi", side="back")
    assert out.read_bytes() != preview_pkpass(source.read_bytes(), language="hi")
