"""Fuzz: any text as brand, program, reward, labels and member ids renders into right pass content.

Hypothesis draws texts from all of Unicode (with ``%`` formats, quotes, backslashes, newlines,
right-to-left scripts, emoji, invisible joiners and the library's own label words mixed in). For
each, building the pass content either raises a library error or gives files where

- every ``pass.strings`` parses with the tests' own reader (tests/apple/wallet_strings.py),
- every shown text resolves, the way Wallet resolves it, to the text meant for that language,
- every ``changeMessage`` formats to the label and the value, with nothing else substituted,
- pass.json passes the rules and serialises as UTF-8.

Budget: about a minute in all (``max_examples`` below).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apple.wallet_strings import WORD_JOINER, lproj_tables, resolve
from walletvoucher.apple import AppleOptions, PassContent, build_pass_content, check_pass_json
from walletvoucher.codes import ScanKey
from walletvoucher.errors import WalletVoucherError
from walletvoucher.model import Brand, LocalizedText, Program, RedemptionMethod, Reward, StampCard, Validity

AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
LANGS = ("zh-Hans", "th", "ar")
TRICKY = ["Reward", "Member", "Stamps", "Details", "Terms", "Redeem", "Reward ready", "%@", "%d", "100%",
          "%%", "%1$@", '"', "\\", "\\n", "\n", "\t", "'", "<a href='x'>", "&amp;", "\u2060", "\u200f",
          "مرحبا", "שלום", "😀", "👩‍👩‍👧", "\u0301", "咖啡", "กาแฟ", "कॉफ़ी", "Ü", " ", "/*", "*/", "//", "=",
          "\ud800"]
OPTIONS = AppleOptions(pass_type_identifier="pass.com.example.fuzz", team_identifier="TEAMID1234",
                       redeem_link="https://example.com/redeem/{serial}",
                       scan_key=ScanKey(key_id="k1", secret=b"0123456789abcdef0123456789abcdef"))

_any = st.text(st.characters(exclude_categories=["Cc"]) | st.sampled_from("\n\t"), max_size=40)
texts = st.one_of(
    _any,
    st.lists(st.sampled_from(TRICKY), min_size=1, max_size=4).map("".join),
    st.tuples(st.sampled_from(TRICKY), _any).map("".join),
).filter(str.strip)  # the model refuses empty texts; that is not what this fuzzes
pool = st.shared(st.lists(texts, min_size=1, max_size=3), key="pool")  # so texts often collide


@st.composite
def localized(draw: st.DrawFn) -> LocalizedText:
    words = draw(pool)
    default = draw(st.one_of(st.sampled_from(words), texts))
    chosen = draw(st.lists(st.sampled_from(LANGS), unique=True, max_size=3))
    translations = {lang: draw(st.one_of(st.sampled_from(words), texts)) for lang in chosen}
    return LocalizedText(default=default, translations=translations)


@st.composite
def programs(draw: st.DrawFn) -> Program:
    return Program(
        id="fuzz",
        name=draw(localized()),
        brand=Brand(name=draw(localized()), foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        goal=draw(st.integers(1, 12)),
        reward=Reward(title=draw(localized()), description=draw(localized()),
                      terms=draw(st.none() | localized())),
        redemption=draw(st.sampled_from(list(RedemptionMethod))),
        validity=Validity.for_days(30),
        stamp_label=draw(localized()),
    )


def _build(program: Program, member: str, stamps: int) -> tuple[StampCard, PassContent]:
    card, _ = StampCard.issue(program, serial="CARD-0001", member_id=member, at=AT)
    if stamps:
        card = card.add_stamps(stamps, at=AT + timedelta(minutes=1), random=lambda n: bytes(range(n))).card
    return card, build_pass_content(card, options=OPTIONS, at=AT + timedelta(minutes=2))


def wallet_format(message: str, value: str) -> str | None:
    """Wallet's substitution: %% -> %, %@ -> value; None if anything else would be substituted."""
    out, i, used = [], 0, 0
    while i < len(message):
        if message[i] == "%":
            spec = message[i + 1:i + 2]
            if spec not in ("%", "@"):
                return None
            used += spec == "@"
            out.append("%" if spec == "%" else value)
            i += 2
        else:
            out.append(message[i])
            i += 1
    return "".join(out) if used == 1 else None


def _stamp_word(program: Program, lang: str) -> str:
    """The program's stamp label in *lang*; the default "Stamps" without a translation of its own shows
    walletvoucher's built-in word for the language (issue 18: no English header among translations)."""
    text = program.stamp_label
    if text.default != "Stamps" or lang in text.as_dict():
        return text.get(lang)
    from walletvoucher.apple._labels import label

    return label("stamps", lang)


def _expected(program: Program, card: StampCard, lang: str) -> dict[str, str]:
    def get(text: LocalizedText) -> str:
        return text.get(lang)

    ready = any(v.status_at(AT + timedelta(minutes=2)).value == "active" for v in card.vouchers)
    out = {
        "organizationName": get(program.brand.name), "logoText": get(program.brand.name),
        "description": get(program.name), "headerFields.stamps.label": _stamp_word(program, lang),
        "headerFields.stamps.value": card.progress, "auxiliaryFields.member.value": card.member_id,
        "backFields.details.value": get(program.reward.description),
        "primaryFields.reward.value" if ready else "secondaryFields.reward.value": get(program.reward.title),
    }
    if program.reward.terms is not None:
        out["backFields.terms.value"] = get(program.reward.terms)
    return out


@pytest.mark.filterwarnings("ignore::walletvoucher.errors.AppleWalletWarning")  # advice on random text
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(),
       member=st.sampled_from(["Member", "Reward", "Stamps", "M-42", "100", "Details", "CARD-0001"]),
       stamps=st.integers(0, 12))
def test_any_text_renders_to_strings_that_resolve_to_the_right_text(
    program: Program, member: str, stamps: int
) -> None:
    try:
        card, content = _build(program, member, stamps)
    except WalletVoucherError:
        return
    assert check_pass_json(content.pass_json) == []
    json.dumps(content.pass_json, ensure_ascii=False).encode("utf-8")
    tables = lproj_tables(content.files)
    assert set(tables) == {"en", *program.languages} - {"en"} | {"en"}
    for lang in tables:
        shown = resolve(content.pass_json, tables, lang)
        for path, text in _expected(program, card, lang).items():
            assert shown[path] == text, (lang, path)
        for path, message in shown.items():
            if path.endswith(".changeMessage"):
                label_path = path.replace(".changeMessage", ".label")
                assert wallet_format(message, "X") == f"{shown[label_path]}: X", (lang, path, message)
    # a device language the pass does not carry shows the base texts
    fallback = resolve(content.pass_json, tables, "de")
    for path, text in _expected(program, card, "en").items():
        assert fallback[path] == text.rstrip(WORD_JOINER), path


@pytest.mark.filterwarnings("ignore::walletvoucher.errors.AppleWalletWarning")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(),
       labels=st.dictionaries(st.sampled_from(["reward", "member", "redeem_link"]), texts, max_size=3))
def test_caller_labels_with_any_text_resolve_in_their_language(
    program: Program, labels: dict[str, str]
) -> None:
    try:
        options = attrs.evolve(OPTIONS, labels={"ar": labels} if labels else None)
        card, _ = StampCard.issue(program, serial="CARD-0001", member_id="M-42", at=AT)
        card = card.add_stamps(program.goal, at=AT, random=lambda n: bytes(range(n))).card
        voucher = card.vouchers[0]
        content = build_pass_content(voucher, options=options, at=AT + timedelta(minutes=1), program=program)
    except WalletVoucherError:
        return
    tables = lproj_tables(content.files)
    assert check_pass_json(content.pass_json) == []
    if "ar" in tables and "reward" in labels:
        assert resolve(content.pass_json, tables, "ar")["primaryFields.reward.label"] == labels["reward"]
