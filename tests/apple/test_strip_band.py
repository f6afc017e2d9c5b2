"""A strip behind a primary field leaves the field's band plain in every slot Wallet shows it in (issue 18).

Checked on the PNG alone: the strip is scaled and cropped into each slot as Wallet does, and the bottom
of the slot, where Wallet draws the primary field's value and label, must hold only the background
colour. The reward-ready card and every coupon carry such a strip; a collecting card keeps its full
strip.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from tests.apple.test_images import _in_slot, _stamps_seen
from walletvoucher.apple import PRIMARY_BAND, AppleOptions, StripDesign, build_pass_content, strip_images
from walletvoucher.demo import CLOCK, demo_program, seeded_random
from walletvoucher.model import RedemptionMethod, StampCard

BG = (30, 58, 95)
STAMP = (242, 193, 78)
SLOTS = ((375, 123), (375, 144))


def _icon() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 30, 40)).save(out, format="PNG")
    return out.getvalue()


def _band_ink(image: Image.Image) -> int:
    """Pixels in the bottom PRIMARY_BAND points of a slot-shaped image that are not the background."""
    density = image.width / 375
    top = image.height - round(PRIMARY_BAND * density)
    band = image.convert("RGB").crop((0, top, image.width, image.height))
    pixels = band.get_flattened_data()
    return sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, BG, strict=True)) > 12)


@pytest.mark.parametrize(("goal", "filled"), [(1, 1), (10, 10), (38, 38), (100, 63), (1000, 370)])
@pytest.mark.parametrize("style", ["storeCard", "coupon"])
@pytest.mark.parametrize("icon", [None, "icon"])
def test_stamps_keep_out_of_the_primary_fields_band_in_either_slot(
    goal: int, filled: int, style: str, icon: str | None
) -> None:
    design = StripDesign(goal=goal, background=BG, stamp=STAMP, primary_field=True,
                         stamp_icon=_icon() if icon else None)
    image = Image.open(io.BytesIO(strip_images(design, filled, style)["strip@2x.png"]))
    for slot in SLOTS:
        shown = _in_slot(image, slot)
        assert _band_ink(shown) == 0, slot
        assert _band_ink(shown.crop((0, 0, shown.width, shown.height // 3))) > 0, slot  # the stamps are above


@pytest.mark.parametrize(("goal", "filled"), [(5, 2), (12, 7), (30, 9)])
@pytest.mark.parametrize("style", ["storeCard", "coupon"])
def test_every_stamp_stays_whole_and_counted_behind_a_primary_field(
    goal: int, filled: int, style: str
) -> None:
    design = StripDesign(goal=goal, background=BG, stamp=STAMP, primary_field=True)
    image = Image.open(io.BytesIO(strip_images(design, filled, style)["strip@2x.png"]))
    for slot in SLOTS:
        assert _stamps_seen(_in_slot(image, slot)) == (filled, goal), slot


def _strip(content: object) -> Image.Image:
    return Image.open(io.BytesIO(content.files["strip@2x.png"])).convert("RGB")  # type: ignore[attr-defined]


def test_the_reward_ready_card_and_coupon_clear_the_band_and_a_collecting_card_uses_the_whole_strip() -> None:
    options = AppleOptions(pass_type_identifier="pass.com.example.band", team_identifier="TEAM123456")
    program = demo_program(RedemptionMethod.REDEEM_CODE)
    card, _ = StampCard.issue(program, serial="BAND-1", member_id="m", at=CLOCK)
    seven = card.add_stamps(7, at=CLOCK, source="staff").card
    ready = seven.add_stamps(5, at=CLOCK + timedelta(minutes=1), source="staff", random=seeded_random(3))
    at = CLOCK + timedelta(minutes=1)
    collecting = build_pass_content(seven, options=options, at=CLOCK)
    assert "primaryFields" not in collecting.pass_json["storeCard"]
    assert _band_ink(_strip(collecting)) > 0  # two full rows of stamps: the lower one sits in the band
    for item in (ready.card, ready.vouchers[0]):
        content = build_pass_content(item, options=options, at=at, program=program)
        style = "storeCard" if "storeCard" in content.pass_json else "coupon"
        assert content.pass_json[style]["primaryFields"]
        for slot in SLOTS:
            assert _band_ink(_in_slot(_strip(content), slot)) == 0, (style, slot)
