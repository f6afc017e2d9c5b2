"""pass.strings for every language the program has: escaped, UTF-8, labels/values/messages translated."""

from __future__ import annotations

import json
import re

import pytest

from tests.apple.helpers import AT, LANGUAGES, card_with, make_program, ready_card, unzip
from walletvoucher.apple import AppleOptions, AppleSigner, render_pass, render_pass_strings
from walletvoucher.model import RedemptionMethod

# An independent reader of the .strings format (not the writer's code).
_ENTRY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=\s*"((?:[^"\\]|\\.)*)";')
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def parse_strings(data: bytes) -> dict[str, str]:
    text = data.decode("utf-8")
    assert not text.startswith("\ufeff")

    def unescape(s: str) -> str:
        return re.sub(r"\\(.)", lambda m: _UNESCAPE[m.group(1)], s)

    entries = {unescape(k): unescape(v) for k, v in _ENTRY.findall(text)}
    assert len(entries) == len([line for line in text.splitlines() if line.strip()])
    return entries


def test_escaping_of_quotes_backslashes_and_newlines_round_trips() -> None:
    tricky = {'say "hi"': 'back\\slash\nnew line\ttab "q"', "plain": "ไทย 中文 हिन्दी"}
    data = render_pass_strings(tricky)
    assert b'\\"hi\\"' in data and b"\\\\slash" in data and b"\\n" in data
    assert data.count(b"\n") == len(tricky)  # one raw newline per entry: the one ending it
    assert parse_strings(data) == tricky


def _strings(rendered: bytes) -> dict[str, dict[str, str]]:
    files = unzip(rendered)
    return {name.split(".lproj/")[0]: parse_strings(data) for name, data in files.items()
            if name.endswith(".lproj/pass.strings")}


def test_a_lproj_per_program_language(signer: AppleSigner, options: AppleOptions) -> None:
    card = card_with(make_program(), 7)
    strings = _strings(render_pass(card, signer=signer, options=options, at=AT).pkpass)
    assert set(strings) == set(LANGUAGES)


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
    rendered = render_pass(card, signer=signer, options=options, at=AT.replace(minute=45))
    doc = rendered.pass_json
    table = _strings(rendered.pkpass)[lang]
    header = doc["storeCard"]["headerFields"][0]
    assert table[header["label"]] == stamps
    assert table[header["changeMessage"]] == f"{stamps}: %@"
    assert table[doc["description"]] == name
    primary = doc["storeCard"]["primaryFields"][0]
    assert table[primary["value"]] == reward
    assert table[primary["label"]] == ready
    assert "%@" in table[primary["changeMessage"]]
    back = {f["key"]: f for f in doc["storeCard"]["backFields"]}
    assert back["details"]["value"] in table and back["how"]["value"] in table
    # every text pass.json shows as label/value is a key in every language's table
    for field in doc["storeCard"]["backFields"] + doc["storeCard"]["secondaryFields"]:
        assert field["label"] in table


def test_pass_json_can_be_written_in_another_language(signer: AppleSigner, options: AppleOptions) -> None:
    from attrs import evolve

    card = card_with(make_program(), 7)
    th = evolve(options, language="th")
    rendered = render_pass(card, signer=signer, options=th, at=AT)
    assert rendered.pass_json["storeCard"]["headerFields"][0]["label"] == "แสตมป์"
    assert _strings(rendered.pkpass)["zh-Hans"]["แสตมป์"] == "印章"
    assert json.loads(unzip(rendered.pkpass)["pass.json"])["description"] == "บัตรกาแฟ"
