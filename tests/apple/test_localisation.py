"""pass.strings: every shown text resolves to its own translation in every lproj, read independently.

The files are read with tests/apple/wallet_strings.py (a parser written for the tests) and every
localisable pass.json text is resolved the way Wallet does: looked up in the device language's
pass.strings, falling back to the text itself.
"""

from __future__ import annotations

import html.parser
import re
import warnings
from datetime import timedelta
from typing import Any

import attrs
import pytest

from tests.apple.helpers import AT, LANGUAGES, SCAN_KEY, card_with, make_program, ready_card
from tests.apple.wallet_strings import WORD_JOINER, lproj_tables, parse_strings, resolve, unzip
from walletvoucher.apple import (
    AppleOptions,
    AppleSigner,
    TestChain,
    build_pass_content,
    render_pass,
    render_pass_strings,
    verify_pkpass,
)
from walletvoucher.codes import issue_scan_token
from walletvoucher.errors import AppleError, PassContentWarning
from walletvoucher.model import (
    Brand,
    CodeEntry,
    LocalizedText,
    Program,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StaffScan,
    StampCard,
    Validity,
    Voucher,
)

LATER = AT + timedelta(minutes=45)


def _t(default: str, zh: str, th: str) -> LocalizedText:
    return LocalizedText(default=default, translations={"zh-Hans": zh, "th": th})


def colliding_program(method: RedemptionMethod = RedemptionMethod.REDEEM_CODE) -> Program:
    """Texts that read the same in English and differ in Chinese and Thai."""
    return Program(
        id="kahve",
        name=_t("Kahve", "咖啡卡", "บัตรกาแฟ"),                    # the program ...
        brand=Brand(name=_t("Kahve", "咖啡屋", "ร้านกาแฟ"),         # ... and the brand read "Kahve"
                    foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        goal=10,
        reward=Reward(title=_t("Coffee", "免费咖啡", "กาแฟฟรี"),     # the reward ...
                      description=_t("Coffee", "任意大小的咖啡", "กาแฟทุกขนาด"),
                      terms=_t("Reward", "一次一杯", "ครั้งละหนึ่งแก้ว")),  # reads like the label "Reward"
        stamp_label=_t("Coffee", "咖啡印章", "แสตมป์กาแฟ"),         # ... and the stamp label read "Coffee"
        redemption=method,
        validity=Validity.for_days(30),
    )


# The words walletvoucher adds, as a reader of the pass expects them (written out here, not imported).
WORDS = {
    "en": {"reward": "Reward", "ready": "Reward ready", "member": "Member", "details": "Details",
           "terms": "Terms", "lifetime": "Stamps collected", "code": "Redeem code", "how": "How to redeem",
           "redeem": "Redeem"},
    "zh-Hans": {"reward": "奖励", "ready": "奖励可兑换", "member": "会员", "details": "详情", "terms": "条款",
                "lifetime": "累计印章", "code": "兑换码", "how": "兑换方式", "redeem": "兑换"},
    "th": {"reward": "รางวัล", "ready": "รับรางวัลได้แล้ว", "member": "สมาชิก", "details": "รายละเอียด",
           "terms": "เงื่อนไข", "lifetime": "แสตมป์สะสมทั้งหมด", "code": "รหัสแลกรับ", "how": "วิธีแลกรับ",
           "redeem": "แลกรับ"},
}
PROGRAM = {
    "en": {"name": "Kahve", "brand": "Kahve", "title": "Coffee", "description": "Coffee", "terms": "Reward",
           "stamps": "Coffee"},
    "zh-Hans": {"name": "咖啡卡", "brand": "咖啡屋", "title": "免费咖啡", "description": "任意大小的咖啡",
                "terms": "一次一杯", "stamps": "咖啡印章"},
    "th": {"name": "บัตรกาแฟ", "brand": "ร้านกาแฟ", "title": "กาแฟฟรี", "description": "กาแฟทุกขนาด",
           "terms": "ครั้งละหนึ่งแก้ว", "stamps": "แสตมป์กาแฟ"},
}


def _card(program: Program, stamps: int, member: str = "Member") -> StampCard:
    card, _ = StampCard.issue(program, serial="CARD-0001", member_id=member, at=AT)
    return card.add_stamps(stamps, at=AT + timedelta(minutes=1)).card if stamps else card


def expected_collecting(lang: str) -> dict[str, str]:
    w, p = WORDS[lang], PROGRAM[lang]
    return {
        "organizationName": p["brand"], "description": p["name"], "logoText": p["brand"],
        "headerFields.stamps.label": p["stamps"], "headerFields.stamps.value": "7/10",
        "headerFields.stamps.changeMessage": f"{p['stamps']}: %@",
        "secondaryFields.reward.label": w["reward"], "secondaryFields.reward.value": p["title"],
        "auxiliaryFields.member.label": w["member"], "auxiliaryFields.member.value": "Member",
        "backFields.details.label": w["details"], "backFields.details.value": p["description"],
        "backFields.terms.label": w["terms"], "backFields.terms.value": p["terms"],
        "backFields.lifetime.label": w["lifetime"], "barcodes[0].altText": "CARD-0001",
    }


@pytest.mark.parametrize("lang", ["en", "zh-Hans", "th"])
def test_texts_with_the_same_english_wording_each_show_their_own_translation(
    signer: AppleSigner, options: AppleOptions, lang: str
) -> None:
    rendered = render_pass(_card(colliding_program(), 7), signer=signer, options=options, at=AT)
    tables = lproj_tables(unzip(rendered.pkpass))
    assert set(tables) == {"en", "zh-Hans", "th"}
    assert resolve(rendered.pass_json, tables, lang) == expected_collecting(lang)


def test_a_device_language_without_an_lproj_shows_the_base_texts(
    signer: AppleSigner, options: AppleOptions
) -> None:
    rendered = render_pass(_card(colliding_program(), 7), signer=signer, options=options, at=AT)
    tables = lproj_tables(unzip(rendered.pkpass))
    assert resolve(rendered.pass_json, tables, "de") == expected_collecting("en")


def test_every_key_is_in_every_lproj_and_keys_differ_only_by_invisible_joiners(
    signer: AppleSigner, options: AppleOptions
) -> None:
    rendered = render_pass(_card(colliding_program(), 7), signer=signer, options=options, at=AT)
    tables = lproj_tables(unzip(rendered.pkpass))
    keys = set(tables["en"])
    assert all(set(t) == keys for t in tables.values())
    assert {k for k in keys if k.endswith(WORD_JOINER)}  # the collisions were there, and moved aside
    assert all(k.rstrip(WORD_JOINER) == tables["en"][k] for k in keys)


def test_a_member_id_that_reads_like_a_label_is_shown_as_is(
    signer: AppleSigner, options: AppleOptions
) -> None:
    card = _card(colliding_program(), 3, member="Reward")
    rendered = render_pass(card, signer=signer, options=options, at=AT)
    tables = lproj_tables(unzip(rendered.pkpass))
    for lang in ("zh-Hans", "th"):
        shown = resolve(rendered.pass_json, tables, lang)
        assert shown["auxiliaryFields.member.value"] == "Reward"
        assert shown["secondaryFields.reward.label"] == WORDS[lang]["reward"]


@pytest.mark.parametrize("lang", ["en", "zh-Hans", "th"])
def test_reward_ready_card_resolves_in_every_language(options: AppleOptions, lang: str) -> None:
    card = _card(colliding_program(RedemptionMethod.SELF_REDEEM), 10)
    content = build_pass_content(card, options=options, at=LATER)
    shown = resolve(content.pass_json, lproj_tables(content.files), lang)
    w, p = WORDS[lang], PROGRAM[lang]
    assert shown["primaryFields.reward.label"] == w["ready"]
    assert shown["primaryFields.reward.value"] == p["title"]
    assert shown["primaryFields.reward.changeMessage"] == f"{w['ready']}: %@"
    assert shown["headerFields.stamps.label"] == p["stamps"]
    assert shown["backFields.how.label"] == w["how"]
    assert shown["backFields.redeem_link.label"] == w["redeem"]


# --- changeMessage is a format string ------------------------------------------------------------

def wallet_format(message: str, value: str) -> str:
    """Substitute like Wallet's String(format:): %% -> %, %@ -> value; anything else is a failure."""
    out, i, used = [], 0, 0
    while i < len(message):
        if message[i] != "%":
            out.append(message[i])
            i += 1
            continue
        spec = message[i + 1:i + 2]
        assert spec in ("%", "@"), f"Wallet would substitute %{spec} in {message!r}"
        used += spec == "@"
        out.append("%" if spec == "%" else value)
        i += 2
    assert used == 1, message
    return "".join(out)


@pytest.mark.parametrize("stamp_label", ["100% Stamps", "%d stamps", "%@ stamps", "%", "50%%", "%1$@ x %n"])
def test_percent_signs_in_labels_are_escaped_in_change_messages(
    options: AppleOptions, stamp_label: str
) -> None:
    program = attrs.evolve(make_program(), stamp_label=LocalizedText(
        default=stamp_label, translations={"zh-Hans": f"{stamp_label} 印章", "th": "แสตมป์ 100%"}))
    card = card_with(program, 7)
    content = build_pass_content(card, options=options, at=AT)
    tables = lproj_tables(content.files)
    key = content.pass_json["storeCard"]["headerFields"][0]["changeMessage"]
    assert wallet_format(key, "8/10") == f"{stamp_label}: 8/10"
    assert wallet_format(tables["zh-Hans"][key], "8/10") == f"{stamp_label} 印章: 8/10"
    assert wallet_format(tables["th"][key], "8/10") == "แสตมป์ 100%: 8/10"
    for lang in tables:
        wallet_format(tables[lang][key], "x")


def test_percent_in_a_label_override_is_escaped_in_the_reward_ready_message(options: AppleOptions) -> None:
    card, _ = ready_card(make_program())
    custom = attrs.evolve(options, labels={"th": {"reward_ready": "รับได้ 100%"}})
    content = build_pass_content(card, options=custom, at=LATER)
    key = content.pass_json["storeCard"]["primaryFields"][0]["changeMessage"]
    assert wallet_format(lproj_tables(content.files)["th"][key], "x") == "รับได้ 100%: x"


# --- the self-redeem link -------------------------------------------------------------------------

class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag == "a" and self.depth == 0, tag
        self.anchors.append((dict(attrs), ""))
        self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        assert self.depth == 1, f"text outside the link: {data!r}"
        attrs_, text = self.anchors[-1]
        self.anchors[-1] = (attrs_, text + data)


def _anchor(markup: str) -> tuple[dict[str, str | None], str]:
    parser = _Anchors()
    parser.feed(markup)
    parser.close()
    assert len(parser.anchors) == 1, markup
    return parser.anchors[0]


@pytest.mark.parametrize("lang", ["en", "zh-Hans", "hi", "th", "uz"])
def test_redeem_link_is_one_anchor_with_the_translated_text_in_every_lproj(
    options: AppleOptions, lang: str
) -> None:
    linked = attrs.evolve(options, redeem_link="https://example.com/r/{serial}?shop=1&lang=x")
    card, voucher = ready_card(make_program(RedemptionMethod.SELF_REDEEM))
    content = build_pass_content(voucher, options=linked, at=LATER, program=card.program)
    field = next(f for f in content.pass_json["coupon"]["backFields"] if f["key"] == "redeem_link")
    tables = lproj_tables(content.files)
    attrs_, text = _anchor(tables[lang][field["attributedValue"]])
    assert attrs_ == {"href": f"https://example.com/r/{voucher.serial}?shop=1&lang=x"}
    assert text == tables[lang][field["label"]]
    assert text != "Redeem" or lang == "en"


@pytest.mark.parametrize("link", [
    "https://example.com/r/{serial}' onmouseover='alert(1)",
    'https://example.com/r/{serial}"><script>',
    "https://example.com/r/{serial}<b>",
    "https://example.com/r /{serial}",
    "https://example.com/r/{serial}\n",
    "https://example.com/r/{serial}/{serial}",
    "https:///{serial}",
    "javascript:alert(1)//{serial}",
    "https://example.com/" + "a" * 2000 + "{serial}",
])
def test_unsafe_redeem_links_are_refused_with_the_fix(options: AppleOptions, link: str) -> None:
    with pytest.raises(AppleError, match="redeem_link") as info:
        attrs.evolve(options, redeem_link=link)
    assert info.value.fix


# --- every label translated in every lproj --------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh-Hans", "hi", "th", "uz"])
@pytest.mark.parametrize("method", list(RedemptionMethod))
def test_every_label_is_translated_in_every_claimed_language(
    options: AppleOptions, lang: str, method: RedemptionMethod
) -> None:
    card, voucher = ready_card(make_program(method))
    english = {}
    for item, program in ((card, None), (voucher, card.program), (card_with(make_program(method), 3), None)):
        content = build_pass_content(item, options=options, at=LATER, program=program)
        tables = lproj_tables(content.files)
        english = resolve(content.pass_json, tables, "en")
        shown = resolve(content.pass_json, tables, lang)
        labels = {path: text for path, text in shown.items()
                  if path.endswith((".label", ".changeMessage", ".attributedValue")) or ".how." in path}
        untranslated = {p: t for p, t in labels.items() if t == english[p]}
        assert untranslated == {}


BUILT_IN = ("en", "zh-Hans", "zh-Hant", "hi", "th", "uz", "ru", "de", "fr", "es", "ar")
# Where a language really writes the built-in word as English does (German "Details", "Status").
SAME_WORD = {("de", "Details"), ("de", "Status")}


def _every_built_in_label(pass_json: dict[str, Any]) -> set[str]:
    """The pass.json keys of walletvoucher's own words: every field label (the program's texts are
    values), the change messages, the how-to text and the redeem link."""
    style = next(s for s in ("storeCard", "coupon") if s in pass_json)
    keys = set()
    for fields in pass_json[style].values():
        for field in fields:
            keys |= {field[part] for part in ("label", "changeMessage", "attributedValue") if part in field}
            if field["key"] == "how":
                keys.add(field["value"])
    return keys


@pytest.mark.parametrize("method", list(RedemptionMethod))
def test_built_in_labels_are_translated_in_every_built_in_language_even_the_default_stamp_label(
    options: AppleOptions, method: RedemptionMethod
) -> None:
    # issue 18: a program without stamp_label translations showed "Stamps" / "Stamps: %@" in
    # English beside translated "Reward" and "Member".
    program = attrs.evolve(make_program(method, translated=False), name=LocalizedText(
        default="Coffee card", translations={lang: f"Coffee card ({lang})" for lang in BUILT_IN[1:]}))
    card, voucher = ready_card(program)
    redeemed = card.redeem(voucher.serial, _proof(voucher), at=LATER).voucher
    pending = attrs.evolve(program, validity=Validity.for_days(30, start_delay=timedelta(days=2)))
    items = [(card, None), (card_with(program, 3), None), (card_with(pending, 10), None),
             (voucher, program), (redeemed, program), (voucher.void("lost", at=LATER)[0], program)]
    checked = 0
    for item, of in items:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "not valid until" for the pending voucher
            warnings.filterwarnings("error", ".*no built-in labels", PassContentWarning)
            content = build_pass_content(item, options=options, at=LATER, program=of)
        tables = lproj_tables(content.files)
        assert set(tables) == set(BUILT_IN)
        for key in _every_built_in_label(content.pass_json):
            english = tables["en"][key]
            same = {lang: tables[lang][key] for lang in BUILT_IN[1:]
                    if tables[lang][key] == english and (lang, english) not in SAME_WORD}
            assert same == {}, english
            checked += 1
    assert checked > 30


def _proof(voucher: Voucher) -> Any:
    if voucher.method is RedemptionMethod.SELF_REDEEM:
        return SelfRedeem()
    if voucher.method is RedemptionMethod.STAFF_SCAN:
        return StaffScan(token=issue_scan_token(voucher.serial, expires_at=voucher.expires_at, key=SCAN_KEY),
                         keys=SCAN_KEY)
    assert voucher.code is not None
    return CodeEntry(code=voucher.code.value)


def test_a_language_without_built_in_labels_warns_and_takes_the_callers_wording(
    options: AppleOptions,
) -> None:
    program = attrs.evolve(make_program(), name=LocalizedText(default="Coffee card",
                                                               translations={"sw": "Kadi ya kahawa"}))
    card = card_with(program, 3)
    with pytest.warns(PassContentWarning, match="'sw'"):
        content = build_pass_content(card, options=options, at=AT)
    assert any("'sw'" in note for note in content.warnings)
    words = {"reward": "Zawadi", "member": "Mwanachama", "details": "Maelezo", "terms": "Masharti",
             "lifetime": "Stempu zote"}
    custom = attrs.evolve(options, labels={"sw": words})
    with warnings.catch_warnings():
        warnings.simplefilter("error", PassContentWarning)
        content = build_pass_content(card, options=custom, at=AT)
    shown = resolve(content.pass_json, lproj_tables(content.files), "sw")
    assert shown["secondaryFields.reward.label"] == "Zawadi"
    assert shown["auxiliaryFields.member.label"] == "Mwanachama"
    assert shown["description"] == "Kadi ya kahawa"


@pytest.mark.parametrize(("labels", "field"), [
    ({"sw": {"no_such_label": "x"}}, "labels"),
    ({"sw": {"reward": ""}}, "labels"),
    ({"sw": {"reward": "a\x00b"}}, "labels"),
    ({"xx": {"reward": "x"}}, "language"),
    (["reward"], "labels"),
])
def test_label_overrides_are_checked(options: AppleOptions, labels: Any, field: str) -> None:
    with pytest.raises(AppleError, match=field):
        attrs.evolve(options, labels=labels)


# --- lproj folder names ---------------------------------------------------------------------------

def _program_in(*tags: str) -> Program:
    return attrs.evolve(make_program(translated=False), name=LocalizedText(
        default="Coffee card", translations={tag: f"Coffee card ({tag})" for tag in tags}))


def test_lproj_folders_carry_apples_names(options: AppleOptions) -> None:
    card = card_with(_program_in("zh-CN", "en-gb", "zh-tw", "pt-br", "es-419"), 1)
    with pytest.warns(PassContentWarning, match="'pt-BR'"):  # no built-in Portuguese labels
        content = build_pass_content(card, options=options, at=AT)
    folders = sorted(name.split("/")[0] for name in content.files if name.endswith("pass.strings"))
    assert folders == ["en-GB.lproj", "en.lproj", "es-419.lproj", "pt-BR.lproj", "zh-Hans.lproj",
                       "zh-Hant.lproj"]
    tables = lproj_tables(content.files)
    assert resolve(content.pass_json, tables, "zh-Hans")["description"] == "Coffee card (zh-CN)"
    assert resolve(content.pass_json, tables, "zh-Hant")["description"] == "Coffee card (zh-tw)"


@pytest.mark.parametrize(("tags", "fix"), [
    (("xx",), "Apple localisation"),
    (("zh",), "zh-Hans"),
    (("en-ZZ",), "Apple localisation"),
    (("zh-CN", "zh-Hans"), "keep one"),
    (("de-DE-1996",), "Apple localisation"),
])
def test_languages_apple_does_not_know_are_refused_with_the_fix(
    options: AppleOptions, tags: tuple[str, ...], fix: str
) -> None:
    with pytest.raises(AppleError, match="language") as info:
        build_pass_content(card_with(_program_in(*tags), 1), options=options, at=AT)
    assert fix in str(info.value)


def test_the_pass_json_language_option_is_canonical(options: AppleOptions) -> None:
    assert attrs.evolve(options, language="zh-cn").language == "zh-Hans"
    with pytest.raises(AppleError, match="language"):
        attrs.evolve(options, language="klingon")


# --- the file format ------------------------------------------------------------------------------

def test_pass_strings_is_utf16_with_a_bom_and_escapes_round_trip() -> None:
    tricky = {'say "hi"': 'back\\slash\nnew line\ttab "q"\r', "plain": "ไทย 中文 हिन्दी 😀 العربية",
              "%@ 100%": "/* not a comment */ // nor this"}
    data = render_pass_strings(tricky)
    assert data.startswith(b"\xff\xfe")
    text = data[2:].decode("utf-16-le")
    assert text.count("\n") == len(tricky)  # one raw newline per entry: the one ending it
    assert '\\"hi\\"' in text and "\\\\slash" in text
    assert parse_strings(data) == tricky


def test_a_lproj_per_program_language(signer: AppleSigner, options: AppleOptions) -> None:
    rendered = render_pass(card_with(make_program(), 7), signer=signer, options=options, at=AT)
    files = unzip(rendered.pkpass)
    assert set(lproj_tables(files)) == set(LANGUAGES)
    assert all(data.startswith(b"\xff\xfe") for name, data in files.items() if name.endswith(".strings"))


@pytest.mark.parametrize(
    ("lang", "stamps", "name", "reward", "ready"),
    [
        ("en", "Stamps", "Coffee card", "Free coffee", "Reward ready"),
        ("zh-Hans", "印章", "咖啡卡", "免费咖啡", "奖励可兑换"),
        ("hi", "स्टाम्प", "कॉफ़ी कार्ड", "मुफ़्त कॉफ़ी", "इनाम तैयार है"),
        ("th", "แสตมป์", "บัตรกาแฟ", "กาแฟฟรี", "รับรางวัลได้แล้ว"),
        ("uz", "Shtamplar", "Qahva kartasi", "Bepul qahva", "Mukofot tayyor"),
    ],
)
def test_labels_values_change_messages_and_back_texts_are_translated(
    signer: AppleSigner, options: AppleOptions, lang: str, stamps: str, name: str, reward: str, ready: str
) -> None:
    card, _ = ready_card(make_program(RedemptionMethod.REDEEM_CODE))
    rendered = render_pass(card, signer=signer, options=options, at=LATER)
    shown = resolve(rendered.pass_json, lproj_tables(unzip(rendered.pkpass)), lang)
    assert shown["headerFields.stamps.label"] == stamps
    assert shown["headerFields.stamps.changeMessage"] == f"{stamps}: %@"
    assert shown["description"] == name
    assert shown["primaryFields.reward.value"] == reward
    assert shown["primaryFields.reward.label"] == ready
    assert shown["primaryFields.reward.changeMessage"] == f"{ready}: %@"


def test_pass_json_can_be_written_in_another_language(signer: AppleSigner, options: AppleOptions) -> None:
    card = card_with(make_program(), 7)
    rendered = render_pass(card, signer=signer, options=attrs.evolve(options, language="th"), at=AT)
    assert rendered.pass_json["storeCard"]["headerFields"][0]["label"] == "แสตมป์"
    tables = lproj_tables(unzip(rendered.pkpass))
    assert resolve(rendered.pass_json, tables, "zh-Hans")["headerFields.stamps.label"] == "印章"
    assert resolve(rendered.pass_json, tables, "de")["description"] == "บัตรกาแฟ"
    assert not re.search(WORD_JOINER, rendered.pass_json["description"])


def test_hostile_texts_render_a_pass_that_verifies_and_resolves(
    signer: AppleSigner, options: AppleOptions, chain: TestChain
) -> None:
    nasty = 'Line\u2028sep\u2029para "q" \\ %@ 100% \n/* x */ // y = ;'
    program = attrs.evolve(make_program(), stamp_label=LocalizedText(
        default=nasty, translations={"zh-Hans": f"印章{nasty}", "th": "แสตมป์\u2028"}))
    rendered = render_pass(card_with(program, 4), signer=signer, options=options, at=AT)
    report = verify_pkpass(rendered.pkpass, ca=[chain.root], at=AT)
    assert report.ok, report.problems
    files = unzip(rendered.pkpass)
    text = files["zh-Hans.lproj/pass.strings"][2:].decode("utf-16-le")
    assert "\u2028" not in text and "\\U2028" in text
    shown = resolve(rendered.pass_json, lproj_tables(files), "zh-Hans")
    assert shown["headerFields.stamps.label"] == f"印章{nasty}"
    assert wallet_format(shown["headerFields.stamps.changeMessage"], "5/10") == f"印章{nasty}: 5/10"
