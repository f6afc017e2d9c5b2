"""The primary field (a coupon's reward, a reward-ready card's reward) never sits on stamp ink (issue 18).

Wallet draws a store card's or coupon's primary field over the strip, at its lower left. These tests
measure that in the preview, independently of how either is drawn: each pass is drawn three times, as
it is, without the primary field's label, and without the primary field at all. What changes between
the drawings is the primary text's ink; the drawing without it shows what lies under it. Stamp ink is
every strip pixel that is not the strip's own background colour (its most common colour). The text's
bounding box must hold no stamp ink, and every text pixel must read against what is under it at WCAG
contrast 4.5:1 or more (the colours taken from pass.json, parsed here).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from PIL import Image, ImageChops

from tests.preview.conftest import Demo, png_image
from walletvoucher.apple import AppleOptions, build_pass_content
from walletvoucher.demo import CLOCK, seeded_random
from walletvoucher.model import (
    Brand,
    CodeEntry,
    LocalizedText,
    Money,
    Program,
    RedemptionMethod,
    Reward,
    StampCard,
    Validity,
)
from walletvoucher.preview import PassBundle, parse_strings, preview_bundle, read_bundle

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]
STYLES = ("coupon", "storeCard")
MIN_CONTRAST = 4.5
_RGB = re.compile(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)")


def _colour(text: str) -> RGB:
    match = _RGB.fullmatch(text)
    assert match, text
    r, g, b = (int(v) for v in match.groups())
    return (r, g, b)


def _luminance(rgb: tuple[int, ...]) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """WCAG 2 contrast ratio, 1 to 21.

    >>> round(contrast((255, 255, 255), (0, 0, 0)))
    21
    """
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _style(doc: dict[str, Any]) -> str | None:
    return next((s for s in STYLES if isinstance(doc.get(s), dict)), None)


def _with_primary(bundle: PassBundle, change: Any) -> PassBundle:
    doc = {**bundle.pass_json}
    style = _style(doc)
    assert style is not None
    body = {**doc[style]}
    body["primaryFields"] = change([dict(f) for f in body["primaryFields"]])
    doc[style] = body
    return attrs.evolve(bundle, pass_json=doc)


def _changed(a: Image.Image, b: Image.Image) -> set[tuple[int, int]]:
    """Pixels that differ between two drawings of the same size."""
    assert a.size == b.size
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
    width = diff.width
    return {(i % width, i // width) for i, v in enumerate(diff.get_flattened_data()) if v}


def _bbox(pixels: set[tuple[int, int]]) -> Box:
    xs, ys = [x for x, _ in pixels], [y for _, y in pixels]
    return (min(xs), min(ys), max(xs) + 1, max(ys) + 1)


def _stamp_ink(image: Image.Image, strip: Box) -> set[tuple[int, int]]:
    """Strip pixels that are not the strip's background (its most common colour), to a small tolerance."""
    crop = image.crop(strip)
    data = list(crop.get_flattened_data())
    background = Counter(data).most_common(1)[0][0]
    ink = set()
    for i, pixel in enumerate(data):
        if max(abs(a - b) for a, b in zip(pixel, background, strict=True)) > 12:
            ink.add((strip[0] + i % crop.width, strip[1] + i // crop.width))
    return ink


@attrs.frozen
class Measure:
    """What one pass in one language shows under its primary field."""

    overlap: int  # stamp-ink pixels inside the primary text's bounding box
    value_contrast: float  # lowest contrast of a value pixel against what is under it
    label_contrast: float
    text_box: Box
    strip: Box


def measure(
    bundle: PassBundle, language: str, at: datetime | None, *, judge_contrast: bool = True
) -> Measure:
    """Draw the pass with, without the label of, and without its primary field; measure the text.

    Contrast is judged on a pass's live look (``judge_contrast``); the voided look greys it on purpose.
    """
    full = preview_bundle(bundle, language=language, at=at)
    no_label = preview_bundle(_with_primary(bundle, lambda fs: [{**f, "label": ""} for f in fs]),
                              language=language, at=at)
    bare = preview_bundle(_with_primary(bundle, lambda fs: []), language=language, at=at)
    strip = full.regions["strip"]
    images = [png_image(p.png) for p in (full, no_label, bare)]
    text = _changed(images[0], images[2])
    value = _changed(images[1], images[2])
    label = text - value
    assert value and label, "the primary field draws both its value and its label"
    box = _bbox(text)
    ink = _stamp_ink(images[2], strip)
    overlap = sum(1 for x, y in ink if box[0] <= x < box[2] and box[1] <= y < box[3])
    doc = bundle.pass_json
    under = images[2]
    if not judge_contrast:
        return Measure(overlap=overlap, value_contrast=0.0, label_contrast=0.0, text_box=box, strip=strip)
    return Measure(
        overlap=overlap,
        value_contrast=_lowest(value, images[0], under, _colour(doc["foregroundColor"])),
        label_contrast=_lowest(label, images[0], under, _colour(doc["labelColor"])),
        text_box=box,
        strip=strip,
    )


def _lowest(pixels: set[tuple[int, int]], drawn: Image.Image, under: Image.Image, colour: RGB) -> float:
    """Lowest contrast of *colour* against what is under the text's core pixels.

    Core pixels are those drawn in (nearly) the text colour itself; the anti-aliased rim mixes the two
    colours and says nothing about legibility.
    """
    core = [p for p in pixels if _distance(drawn.getpixel(p), colour) < 40]
    assert core, "the text is drawn in its pass.json colour"
    return min(contrast(colour, under.getpixel(p)) for p in core)


def _distance(pixel: Any, colour: RGB) -> int:
    return max(abs(a - b) for a, b in zip(pixel[:3], colour, strict=True))


def _live(bundle: PassBundle) -> PassBundle:
    """The pass as it looks while valid (the voided look greys everything on purpose)."""
    doc = {k: v for k, v in bundle.pass_json.items() if k != "voided"}
    return attrs.evolve(bundle, pass_json=doc)


def _demo_passes(demo: Demo) -> Iterator[tuple[str, PassBundle, datetime]]:
    for entry in demo.index["entries"]:
        if entry["format"] == "pkpass":
            yield entry["item"], read_bundle(demo.pkpass(entry["item"])), demo.items[entry["item"]].at


def test_the_primary_field_of_every_demo_pass_in_every_language_sits_clear_of_the_stamps(demo: Demo) -> None:
    checked: dict[str, tuple[str, ...]] = {}
    problems = []
    for name, bundle, at in _demo_passes(demo):
        style = _style(bundle.pass_json)
        if style is None or not bundle.pass_json[style].get("primaryFields"):
            continue
        for language in bundle.languages:
            looks = [("live", _live(bundle))]
            if bundle.pass_json.get("voided"):
                looks.append(("as issued", bundle))
            for shown, look in looks:
                found = measure(look, language, at, judge_contrast=shown == "live")
                if found.overlap:
                    problems.append(f"{name} [{language}, {shown}]: {found.overlap} stamp pixels under text")
                if shown == "live" and min(found.value_contrast, found.label_contrast) < MIN_CONTRAST:
                    problems.append(f"{name} [{language}]: contrast {found.value_contrast:.2f} (value) / "
                                    f"{found.label_contrast:.2f} (label)")
        checked[name] = bundle.languages
    assert problems == []
    # every coupon and the reward-ready card were measured, each in all five demo languages
    assert set(checked) == {
        "card-12-stamps-reward-ready", "voucher-redeem-code", "voucher-redeem-code-redeemed",
        "voucher-self-redeem", "voucher-staff-scan", "voucher-pos-ean13", "voucher-pos-upca",
    }
    assert all(langs == ("en", "hi", "th", "uz", "zh-Hans") for langs in checked.values())


# --- beyond the demo: Arabic and Hindi rewards, both pass shapes that carry a primary field -----------

OPTIONS = AppleOptions(pass_type_identifier="pass.com.example.strip", team_identifier="TEAM123456")


def _program(goal: int) -> Program:
    return Program(
        id=f"oat-{goal}",
        name=LocalizedText(default="Coffee card", translations={"hi": "कॉफ़ी कार्ड", "ar": "بطاقة القهوة"}),
        brand=Brand(name="Kahve Café", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        goal=goal,
        reward=Reward(
            title=LocalizedText(default="Free oat milk coffee",
                                translations={"hi": "ओट मिल्क", "ar": "قهوة مجانية"}),
            description="Any size",
            value=Money(amount="4.50", currency="USD"),
        ),
        redemption=RedemptionMethod.REDEEM_CODE,
        validity=Validity.for_days(30),
    )


def _bundle(item: Any, at: datetime, program: Program) -> PassBundle:
    content = build_pass_content(item, options=OPTIONS, at=at, program=program)
    strings = {
        name.split(".lproj/")[0]: parse_strings(body)
        for name, body in content.files.items()
        if name.endswith(".lproj/pass.strings")
    }
    return PassBundle(pass_json=content.pass_json, files=content.files, strings=strings)


def _arabic_passes(goal: int) -> dict[str, PassBundle]:
    program = _program(goal)
    card, _ = StampCard.issue(program, serial="AR-1", member_id="m-1", at=CLOCK)
    ready = card.add_stamps(goal + 2, at=CLOCK, source="staff", random=seeded_random(goal))
    voucher = ready.vouchers[0]
    assert voucher.code is not None
    later = CLOCK + timedelta(minutes=5)
    redeemed = ready.card.redeem(voucher.serial, CodeEntry(code=voucher.code.value, by="till"), at=later)
    return {
        "reward-ready card": _bundle(ready.card, CLOCK, program),
        "coupon": _bundle(voucher, CLOCK, program),
        "redeemed coupon": _bundle(redeemed.voucher, later, program),
    }


@pytest.mark.parametrize("goal", [6, 10, 24])
@pytest.mark.parametrize("language", ["en", "hi", "ar"])
def test_arabic_and_hindi_rewards_sit_clear_of_the_stamps(goal: int, language: str) -> None:
    for shape, bundle in _arabic_passes(goal).items():
        assert language in bundle.languages
        found = measure(_live(bundle), language, CLOCK)
        assert found.overlap == 0, (shape, found)
        assert found.value_contrast >= MIN_CONTRAST and found.label_contrast >= MIN_CONTRAST, (shape, found)
        assert found.text_box[1] >= found.strip[1] and found.text_box[3] <= found.strip[3], (shape, found)
