"""The status band (redeemed / void / expired ...) speaks the pass's language and hides no field (issue 18).

For every status, on both wallets: the band's box meets no other part of the pass; where the band lies,
the same pass drawn while still usable shows nothing but its background (so the band covers nothing);
and the band's white letters are those of the expected word in the preview's language (written out
here, not taken from the code), e.g. a redeemed voucher says "Redeemed", never "VOIDED".
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from PIL import Image

from tests.preview.conftest import Demo, png_image
from tests.preview.test_preview import _ink_of_word
from tests.preview.test_strip_clearance import _bundle, _program
from walletvoucher.apple._labels import LABEL_LANGUAGES, label
from walletvoucher.demo import CLOCK, demo_program, seeded_random
from walletvoucher.demo._google import DEMO_OPTIONS
from walletvoucher.google import offer_class, offer_object
from walletvoucher.model import CodeEntry, Program, RedemptionMethod, StampCard, Voucher
from walletvoucher.preview import (
    PassBundle,
    Picture,
    preview_bundle,
    preview_google,
    preview_pkpass,
    read_bundle,
)
from walletvoucher.preview._status import STATUS_WORDS

DEMO_LANGUAGES = ("en", "hi", "th", "uz", "zh-Hans")
EXPECTED = {  # what a customer reads on the band, by status and language
    "redeemed": {"en": "REDEEMED", "hi": "रिडीम किया गया", "th": "แลกแล้ว", "uz": "ISHLATILGAN",
                 "zh-Hans": "已兑换", "ar": "تم الاستبدال"},
    "void": {"en": "VOID", "hi": "रद्द", "th": "ยกเลิกแล้ว", "uz": "BEKOR QILINGAN", "zh-Hans": "已作废",
             "ar": "ملغى", "de": "UNGÜLTIG"},
    "expired": {"en": "EXPIRED", "hi": "समाप्त", "th": "หมดอายุแล้ว", "uz": "MUDDATI O'TGAN",
                "zh-Hans": "已过期", "ar": "منتهي الصلاحية"},
    "inactive": {"en": "INACTIVE", "hi": "निष्क्रिय", "th": "ไม่ใช้งาน", "uz": "FAOL EMAS", "zh-Hans": "已停用",
                 "ar": "غير نشط"},
}


@attrs.frozen
class Case:
    """A pass drawn with its status band, the same pass drawn while usable, and the band's expected word."""

    shown: Picture
    live: Picture
    word: str


def _live_bundle(bundle: PassBundle) -> PassBundle:
    return attrs.evolve(bundle, pass_json={k: v for k, v in bundle.pass_json.items() if k != "voided"})


def _apple(bundle: PassBundle, language: str, at: datetime, word: str) -> Case:
    return Case(shown=preview_bundle(bundle, language=language, at=at),
                live=preview_bundle(_live_bundle(bundle), language=language, at=None), word=word)


def _google(voucher: Voucher, program: Program, language: str, at: datetime, word: str) -> Case:
    options = attrs.evolve(DEMO_OPTIONS, scan_key=None)
    cls = offer_class(voucher, program, options)
    obj = offer_object(voucher, program, options, at=at)
    return Case(shown=preview_google(cls, obj, language=language),
                live=preview_google(cls, {**obj, "state": "ACTIVE"}, language=language), word=word)


def _redeemed_and_voided(program: Program) -> tuple[Voucher, Voucher, Voucher, datetime]:
    card, _ = StampCard.issue(program, serial="BAND-1", member_id="m-1", at=CLOCK)
    ready = card.add_stamps(program.goal * 2, at=CLOCK, source="staff", random=seeded_random(5))
    first, second = ready.vouchers
    assert first.code is not None
    later = CLOCK + timedelta(minutes=5)
    redeemed = ready.card.redeem(first.serial, CodeEntry(code=first.code.value, by="till"), at=later)
    voided = redeemed.card.void_voucher(second.serial, "duplicate", at=later)
    assert redeemed.voucher is not None and voided.voucher is not None
    return first, redeemed.voucher, voided.voucher, later


def _cases(demo: Demo) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    redeemed = demo.items["voucher-redeem-code-redeemed"]
    live = demo.items["voucher-redeem-code"]
    assert redeemed.voucher is not None and live.voucher is not None and live.voucher.expires_at is not None
    after = live.voucher.expires_at + timedelta(minutes=1)
    redeemed_pass, live_pass = read_bundle(demo.pkpass(redeemed.name)), read_bundle(demo.pkpass(live.name))
    main = demo_program(RedemptionMethod.REDEEM_CODE)
    _, _, voided, later = _redeemed_and_voided(main)
    voided_pass = _bundle(voided, later, main)
    for lang in DEMO_LANGUAGES:
        cases[f"apple redeemed {lang}"] = _apple(redeemed_pass, lang, redeemed.at, EXPECTED["redeemed"][lang])
        cases[f"apple expired {lang}"] = _apple(live_pass, lang, after, EXPECTED["expired"][lang])
        cases[f"apple void {lang}"] = _apple(voided_pass, lang, later, EXPECTED["void"][lang])
        cases[f"google redeemed {lang}"] = _google(redeemed.voucher, main, lang, redeemed.at,
                                                   EXPECTED["redeemed"][lang])
        cases[f"google expired {lang}"] = _google(live.voucher, main, lang, after, EXPECTED["expired"][lang])
        cases[f"google inactive {lang}"] = _google(voided, main, lang, later, EXPECTED["inactive"][lang])
    arabic = _program(10)
    fresh, used, void, at = _redeemed_and_voided(arabic)
    assert fresh.expires_at is not None
    ends = fresh.expires_at + timedelta(minutes=1)
    cases["apple redeemed ar"] = _apple(_bundle(used, at, arabic), "ar", at, EXPECTED["redeemed"]["ar"])
    cases["apple void ar"] = _apple(_bundle(void, at, arabic), "ar", at, EXPECTED["void"]["ar"])
    cases["apple expired ar"] = _apple(_bundle(fresh, CLOCK, arabic), "ar", ends, EXPECTED["expired"]["ar"])
    cases["google redeemed ar"] = _google(used, arabic, "ar", at, EXPECTED["redeemed"]["ar"])
    cases["google inactive ar"] = _google(void, arabic, "ar", at, EXPECTED["inactive"]["ar"])
    cases["google expired ar"] = _google(fresh, arabic, "ar", ends, EXPECTED["expired"]["ar"])
    return cases


@pytest.fixture(scope="module")
def cases(demo: Demo) -> dict[str, Case]:
    return _cases(demo)


def _meets(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_band_meets_no_field_on_either_wallet(cases: dict[str, Case]) -> None:
    met = {}
    for name, case in cases.items():
        band = case.shown.regions["status"]
        parts = {k: box for k, box in case.shown.regions.items() if k not in ("card", "status")}
        assert {"fields", "primary"} <= set(parts) or {"title", "validity"} <= set(parts), name
        met.update({f"{name}: {k}": box for k, box in parts.items() if _meets(band, box)})
    assert met == {}


def test_the_band_covers_only_plain_background(cases: dict[str, Case]) -> None:
    """Where the band lies, the same pass drawn while usable shows nothing but its background."""
    covered = {}
    for name, case in cases.items():
        live = Image.open(io.BytesIO(case.live.png)).convert("RGBA")
        left, top, right, bottom = case.shown.regions["status"]
        background = live.getpixel((live.width // 2, 4))
        corner = 40  # the card's rounded corners are transparent
        rows = range(top, min(bottom, live.height))
        spots = [(x, y) for y in rows for x in range(left + corner, right - corner)]
        drawn = [p for p in spots if live.getpixel(p) not in (background, (0, 0, 0, 0))]
        if drawn:
            covered[name] = len(drawn)
    assert covered == {}


def test_the_band_says_the_status_in_the_passes_language(cases: dict[str, Case]) -> None:
    wrong = {}
    for name, case in cases.items():
        band = png_image(case.shown.png).crop(case.shown.regions["status"])
        ink = _ink_of_word(case.word, band)
        if ink < 0.6:
            wrong[name] = (case.word, round(ink, 2))
    assert wrong == {}


def test_a_redeemed_voucher_says_redeemed_not_voided(cases: dict[str, Case]) -> None:
    for wallet in ("apple", "google"):
        case = cases[f"{wallet} redeemed en"]
        band = png_image(case.shown.png).crop(case.shown.regions["status"])
        assert _ink_of_word("REDEEMED", band) > 0.9 > _ink_of_word("VOIDED", band)
        assert _ink_of_word("REDEEMED", band) > 0.9 > _ink_of_word("COMPLETED", band)


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(("language", "word"), [("ar", "ملغى"), ("de-AT", "UNGÜLTIG"), (None, "VOID")])
def test_a_foreign_voided_pass_without_strings_says_void_in_the_language_asked_for(
    language: str | None, word: str
) -> None:
    doc: dict[str, Any] = {
        "formatVersion": 1, "description": "Card", "organizationName": "Shop", "voided": True,
        "backgroundColor": "rgb(20, 80, 40)", "foregroundColor": "rgb(255, 255, 255)",
        "storeCard": {"headerFields": [{"key": "pts", "label": "POINTS", "value": "120"}],
                      "secondaryFields": [{"key": "name", "label": "NAME", "value": "Ada"}]},
    }
    bundle = read_bundle(_zip({"pass.json": json.dumps(doc).encode()}))
    picture = preview_bundle(bundle, language=language)
    band = png_image(picture.png).crop(picture.regions["status"])
    assert _ink_of_word(word, band) > 0.6
    assert png_image(preview_pkpass(_zip({"pass.json": json.dumps(doc).encode()}), language=language)).size \
        == picture.size


def test_every_band_word_is_translated_into_every_built_in_language() -> None:
    for status, table in STATUS_WORDS.items():
        assert set(table) == set(LABEL_LANGUAGES), status
        assert all(word and word != table["en"] for lang, word in table.items() if lang != "en"), status


def test_the_band_and_the_passes_own_status_field_use_the_same_words() -> None:
    for lang in LABEL_LANGUAGES:
        assert STATUS_WORDS["redeemed"][lang] == label("redeemed", lang)
        assert STATUS_WORDS["voided"][lang] == label("voided", lang)

