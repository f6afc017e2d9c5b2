"""Previews show what the wallet gets: the stamps, a barcode that scans, the voided look, real glyphs."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any

import attrs
import pytest
from PIL import Image, ImageChops, ImageFont

from tests.preview.conftest import ZXING, Demo, decode, png_image
from walletvoucher import _fonts
from walletvoucher.apple import AppleOptions, stamp_layout
from walletvoucher.demo._apple import DEMO_PASS_TYPE, DEMO_REDEEM_LINK, DEMO_TEAM
from walletvoucher.demo._google import DEMO_OPTIONS
from walletvoucher.errors import PreviewError
from walletvoucher.preview import preview, preview_apple, preview_google, preview_pkpass, read_bundle

COLLECTING = ("card-0-stamps", "card-7-stamps", "card-after-redemption", "card-7-stamps-th")


def _filled(image: Image.Image, box: tuple[int, int, int, int], goal: int, colour: tuple[int, ...]) -> int:
    """How many stamp spots inside *box* are painted in the stamp colour (pixel at each spot's centre)."""
    left, top, right, bottom = box
    count = 0
    for x, y, _ in stamp_layout(goal, (right - left, bottom - top)):
        pixel = image.getpixel((left + round(x), top + round(y)))
        assert isinstance(pixel, tuple)
        count += all(abs(a - b) < 16 for a, b in zip(pixel, colour, strict=True))
    return count


def _regions(demo: Demo, item: str, wallet: str) -> dict[str, Any]:
    """The regions of a demo preview, drawn again through the public API (the demo keeps only the PNG)."""
    if wallet == "apple":
        bundle = read_bundle(demo.pkpass(item))
        picture = preview_apple(
            bundle.pass_json,
            {**bundle.files, **_strings(demo.pkpass(item))},
            language=demo.items[item].language,
            at=demo.items[item].at,
        )
    else:
        picture = _google_picture(demo, item)
    return {"regions": dict(picture.regions), "png": picture.png}


def _strings(pkpass: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n.endswith("pass.strings")}


def _google_picture(demo: Demo, item_name: str) -> Any:
    from walletvoucher.demo._previews import _write_heroes
    from walletvoucher.google import loyalty_class, loyalty_object

    item = demo.items[item_name]
    options = attrs.evolve(DEMO_OPTIONS, scan_key=item.scan_key)
    heroes = _write_heroes([item], demo.out / "heroes-again")
    return preview_google(
        loyalty_class(item.card.program, options),
        loyalty_object(item.card, options, at=item.at),
        language=item.language,
        images=heroes,
    )


@pytest.mark.parametrize("item", COLLECTING)
def test_apple_preview_shows_the_cards_stamps_in_its_strip(demo: Demo, item: str) -> None:
    drawn = _regions(demo, item, "apple")
    assert drawn["png"] == (demo.out / demo.entry(item, "pkpass")["preview"]).read_bytes()
    card = demo.items[item].card
    image = png_image(drawn["png"])
    label = card.program.brand.label.rgb
    assert _filled(image, drawn["regions"]["strip"], card.goal, label) == card.stamps


@pytest.mark.parametrize("item", COLLECTING)
def test_google_preview_shows_the_cards_stamps_in_its_hero_image(demo: Demo, item: str) -> None:
    drawn = _regions(demo, item, "google")
    assert drawn["png"] == (demo.out / demo.entry(item, "json")["google_preview"]).read_bytes()
    card = demo.items[item].card
    image = png_image(drawn["png"])
    assert _filled(image, drawn["regions"]["hero"], card.goal, card.program.brand.label.rgb) == card.stamps


def test_every_apple_preview_barcode_decodes_to_the_pass_message(demo: Demo) -> None:
    checked = set()
    for entry in demo.index["entries"]:
        if entry["format"] != "pkpass":
            continue
        doc = read_bundle(demo.pkpass(entry["item"])).pass_json
        barcodes = doc.get("barcodes")
        if not barcodes or doc.get("voided"):
            continue
        barcode = barcodes[0]
        assert decode(demo.apple_preview(entry["item"]), ZXING[barcode["format"]]) == [barcode["message"]]
        checked.add(barcode["format"])
    assert checked == {"PKBarcodeFormatQR", "PKBarcodeFormatCode128"}


def test_every_google_preview_barcode_decodes_to_the_object_value(demo: Demo) -> None:
    from walletvoucher.google import loyalty_object, offer_object

    checked = set()
    for name, item in demo.items.items():
        options = attrs.evolve(DEMO_OPTIONS, scan_key=item.scan_key)
        if item.kind == "voucher" and item.voucher is not None:
            body = offer_object(item.voucher, item.card.program, options, at=item.at)
        else:
            body = loyalty_object(item.card, options, at=item.at)
        barcode = body.get("barcode")
        if barcode is None:
            continue
        # zxing-cpp reports a UPC-A in its EAN-13 form, with the leading 0 the two share.
        want = "0" + barcode["value"] if barcode["type"] == "UPC_A" else barcode["value"]
        fmt = ZXING[barcode["type"]]
        found = decode(demo.google_preview(name), fmt)
        if barcode["type"] == "UPC_A":
            found = decode(demo.google_preview(name), ZXING["EAN_13"]) or found
        assert found == [want], name
        checked.add(barcode["type"])
    assert checked == {"QR_CODE", "EAN_13", "UPC_A"}


def _is_grey(pixel: Any) -> bool:
    return max(pixel[:3]) - min(pixel[:3]) < 8


def test_a_voided_apple_pass_looks_voided(demo: Demo) -> None:
    live = demo.apple_preview("voucher-redeem-code")
    voided = demo.apple_preview("voucher-redeem-code-redeemed")
    regions = _regions(demo, "voucher-redeem-code-redeemed", "apple")["regions"]
    assert "status" in regions and "status" not in _regions(demo, "voucher-redeem-code", "apple")["regions"]
    spot = (375, 12)  # the pass background, top middle
    assert not _is_grey(live.getpixel(spot)) and _is_grey(voided.getpixel(spot))
    left, top, right, bottom = regions["status"]
    band = voided.crop((left, top, right, bottom))
    white = sum(1 for p in band.get_flattened_data() if min(p) > 230)
    dark = sum(1 for p in band.get_flattened_data() if max(p) < 90)
    assert white > 500 and dark > band.width * band.height // 2  # white letters on a dark band
    assert _ink_of_word("REDEEMED", band) > 0.5  # what the pass's own status field says (issue 18)


def _ink_of_word(word: str, band: Image.Image) -> float:
    """Share of the band's white pixels that lie inside where *word* draws (centred), at the band's scale."""
    from PIL import ImageDraw

    size = round(band.height * 28 / 52)
    probe = Image.new("L", band.size, 0)
    width = _fonts.text_width(word, size, bold=True)
    _fonts.draw_text(
        ImageDraw.Draw(probe),
        ((band.width - width) / 2, band.height / 2),
        word,
        size=size,
        fill=255,
        bold=True,
        anchor="lm",
    )
    letters = [i for i, v in enumerate(probe.get_flattened_data()) if v > 128]
    white = [i for i, p in enumerate(band.get_flattened_data()) if min(p) > 200]
    return len(set(letters) & set(white)) / max(1, len(white))


def test_an_expired_pass_looks_expired_only_after_its_expiration_date(demo: Demo) -> None:
    data = demo.pkpass("voucher-redeem-code")
    expires = datetime.fromisoformat(read_bundle(data).pass_json["expirationDate"].replace("Z", "+00:00"))
    before = png_image(preview_pkpass(data, at=expires - timedelta(minutes=1)))
    after_png = preview_pkpass(data, at=expires + timedelta(minutes=1))
    after = png_image(after_png)
    assert not _is_grey(before.getpixel((375, 12))) and _is_grey(after.getpixel((375, 12)))
    bundle = read_bundle(data)
    regions = preview_apple(bundle.pass_json, bundle.files, at=expires + timedelta(minutes=1)).regions
    assert _ink_of_word("EXPIRED", after.crop(regions["status"])) > 0.5


def test_a_completed_google_offer_looks_completed(demo: Demo) -> None:
    image = demo.google_preview("voucher-redeem-code-redeemed")
    assert _is_grey(image.getpixel((30, 200))) and not _is_grey(
        demo.google_preview("voucher-redeem-code").getpixel((30, 200))
    )


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    from PIL import ImageDraw

    image = Image.new("L", (60, 60), 0)
    ImageDraw.Draw(image).text((10, 5), char, font=font, fill=255)
    return image.tobytes()


@pytest.mark.parametrize("language", ["zh-Hans", "hi", "th"])
@pytest.mark.parametrize("wallet", ["apple", "google"])
def test_complex_scripts_draw_with_real_glyphs_not_missing_glyph_boxes(
    demo: Demo, language: str, wallet: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = f"card-7-stamps-{language}"
    real = _regions(demo, item, wallet)
    # DejaVu Sans Mono (shipped with python-barcode) has no CJK, Devanagari or Thai glyphs: every such
    # character draws as its .notdef box, what a preview with the wrong font would show.
    mono = resources.files("barcode") / "fonts" / "DejaVuSansMono.ttf"
    font = ImageFont.truetype(str(mono), 40)
    assert {_glyph(font, ch) for ch in "咖स\u0e01\uffff"} == {_glyph(font, "\uffff")}

    def without_glyphs(script: _fonts.Script, size: int, bold: bool = False) -> Any:
        return ImageFont.truetype(str(mono), size)

    monkeypatch.setattr(_fonts, "load_font", without_glyphs)
    boxes = _regions(demo, item, wallet)
    for part in ("logo_text", "header") if wallet == "apple" else ("logo_text", "points"):
        box = real["regions"][part]
        drawn = png_image(real["png"]).crop(box)
        tofu = png_image(boxes["png"]).crop(box)
        assert ImageChops.difference(drawn, tofu).getbbox() is not None, part
        assert drawn.convert("L").getextrema()[0] != drawn.convert("L").getextrema()[1], (
            part
        )  # ink, not empty


def test_the_language_comes_from_the_lproj_folder_asked_for(demo: Demo) -> None:
    data = demo.pkpass("card-7-stamps")
    assert read_bundle(data).languages == ("en", "hi", "th", "uz", "zh-Hans")
    english, chinese, base = (preview_pkpass(data, language=lang) for lang in (None, "zh", "zh-Hans"))
    assert english != chinese == base
    assert preview_pkpass(data, language="fr") == english  # not carried: English


def test_previews_are_deterministic(demo: Demo) -> None:
    data = demo.pkpass("card-12-stamps-reward-ready")
    assert preview_pkpass(data) == preview_pkpass(data)
    assert _google_picture(demo, "card-7-stamps-th").png == _google_picture(demo, "card-7-stamps-th").png


def test_preview_from_the_model_matches_the_preview_of_the_signed_pass(demo: Demo) -> None:
    item = demo.items["card-12-stamps-reward-ready"]
    options = AppleOptions(
        pass_type_identifier=DEMO_PASS_TYPE,
        team_identifier=DEMO_TEAM,
        scan_key=item.scan_key,
        redeem_link=DEMO_REDEEM_LINK,
    )
    png = preview(item.card, "apple", at=item.at, options=options)
    assert png == preview(demo.pkpass(item.name), "apple", at=item.at)
    google = preview(
        item.card, "google", at=item.at, options=attrs.evolve(DEMO_OPTIONS, scan_key=item.scan_key)
    )
    assert decode(png_image(google), ZXING["QR_CODE"]) == [item.card.vouchers[0].code.value]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda item: preview(item.card, "samsung", at=item.at), "wallet"),
        (lambda item: preview(item.card, "apple", at=item.at, options=None), "options"),
        (lambda item: preview(item.card, "google", at=item.at, options=object()), "options"),
        (lambda item: preview(item.card, "apple"), "at"),
        (lambda item: preview(item.voucher, "google", at=item.at, options=DEMO_OPTIONS), "program"),
        (lambda item: preview(b"PK\x03\x04", "google"), "wallet"),
        (lambda item: preview_pkpass(b"x", scale=9), "pkpass"),
        (lambda item: preview_apple({}, scale=0), "scale"),
    ],
)
def test_preview_mistakes_raise_preview_error_naming_the_field(demo: Demo, call: Any, field: str) -> None:
    with pytest.raises(PreviewError) as caught:
        call(demo.items["voucher-redeem-code"])
    assert caught.value.field == field and caught.value.fix


def test_google_preview_picks_the_translation_asked_for() -> None:
    cls = {
        "programName": "Coffee",
        "localizedProgramName": {
            "defaultValue": {"language": "en", "value": "Coffee"},
            "translatedValues": [
                {"language": "th", "value": "กาแฟ"},
                {"language": "zh-Hans", "value": "咖啡"},
            ],
        },
    }
    obj = {"state": "ACTIVE"}
    pictures = {lang: preview_google(cls, obj, language=lang).png for lang in (None, "en", "th", "zh", "de")}
    assert pictures[None] == pictures["en"] == pictures["de"]
    assert len({pictures["en"], pictures["th"], pictures["zh"]}) == 3


def test_pass_json_fields_of_any_shape_are_shown_or_skipped_never_crash() -> None:
    doc = json.loads(
        json.dumps(
            {
                "storeCard": {
                    "headerFields": [{"key": "a", "value": 3.5}, "junk", {"key": "b"}],
                    "primaryFields": [{"key": "p", "label": 7, "value": {"x": 1}}],
                    "secondaryFields": [
                        {"key": f"s{i}", "label": "L" * 80, "value": "V" * 80} for i in range(9)
                    ],
                    "auxiliaryFields": "nope",
                },
                "barcodes": [{"format": "PKBarcodeFormatQR", "message": "x" * 5000}, {"format": "?"}],
                "backgroundColor": "rgb(999, -1, 3)",
                "foregroundColor": "red",
                "voided": "yes",
                "expirationDate": "not a date",
                "logoText": ["list"],
            }
        )
    )
    picture = preview_apple(
        doc,
        {"logo.png": b"not a png", "strip@2x.png": b"\x89PNG broken"},
        at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    assert png_image(picture.png).size == picture.size and "status" not in picture.regions
