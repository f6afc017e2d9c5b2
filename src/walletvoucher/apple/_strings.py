"""Localisation: ``xx.lproj/pass.strings`` files and the folder names Apple knows.

Wallet looks every localisable pass.json text (labels, values, change messages, description,
organisation name, logo text, relevant texts, barcode alt text) up as a key in the
``pass.strings`` of the device's language and shows the value found there, or the key itself
when there is none. Which key each text gets is decided in :mod:`._passjson`; this module writes
the files and names the folders.

Encoding: **UTF-16 with a byte-order mark** (little-endian, ``FF FE``), the encoding Apple's
"Pass Design and Creation" recommends for ``.strings`` files and the one every ``.strings``
reader (iOS, macOS ``plutil``, older Wallet versions) accepts. Quotes, backslashes, newlines,
carriage returns and tabs are escaped, and so are the Unicode line and paragraph separators
(U+2028 and U+2029, written as ``\\U2028`` escapes) so that every entry stays on one line for
line-based readers; everything else is written as is (UTF-16 carries any character; lone
surrogates are refused before a file is written).

Folder names: Apple names localisations ``en``, ``en-GB``, ``zh-Hans``, ``zh-Hant``,
``zh-HK``, ``pt-BR``, ``es-419``: language in lower case, script in title case, region in upper
case. :func:`apple_language` maps a BCP 47 tag onto that form (``zh-CN`` -> ``zh-Hans``,
``en-gb`` -> ``en-GB``, ``iw`` -> ``he``) and refuses a tag Apple would not match, saying which
to use instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from walletvoucher.apple._pieces import memo_by_content
from walletvoucher.errors import AppleError

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\u2028": "\\U2028", "\u2029": "\\U2029"}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)  # one C-level pass over a text instead of a generator per character
BOM = b"\xff\xfe"
"""The UTF-16 little-endian byte-order mark every pass.strings starts with."""

# ISO 639-1, plus the three-letter codes Apple uses for languages without one.
_LANGUAGES = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el
en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it
iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt
my na nb nd ne ng nl nn nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm
sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za
zh zu fil haw yue ckb
""".split())
# ISO 3166-1 alpha-2 regions, plus XK (Kosovo) and 419 (Latin America), both used by Apple.
_REGIONS = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY
BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK
FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR
IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK
ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW 419
""".split())
_SCRIPTS = frozenset({"Latn", "Cyrl", "Arab", "Hans", "Hant", "Deva", "Guru", "Beng"})
_RENAMED = {"iw": "he", "in": "id", "ji": "yi", "no": "nb", "jw": "jv"}
_CHINESE = {"Hans": "zh-Hans", "Hant": "zh-Hant", "CN": "zh-Hans", "SG": "zh-Hans", "TW": "zh-Hant",
            "MO": "zh-Hant", "HK": "zh-HK"}
_SPLIT = re.compile(r"[-_]")
_FIX = "use an Apple localisation such as 'en', 'en-GB', 'zh-Hans', 'zh-Hant', 'pt-BR', 'es-419', 'uz'"


def escape_string(text: str) -> str:
    r"""Escape a text for a ``.strings`` file (without the surrounding quotes).

    >>> print(escape_string('Say "hi"\\now'))
    Say \"hi\"\\now
    """
    return text.translate(_ESCAPE_TABLE)


_MEMO_LINE = 1024
"""Entries up to this many characters are remembered (bounded LRU); longer ones are made each time."""


def _line(key: str, value: str) -> str:
    return f'"{escape_string(key)}" = "{escape_string(value)}";\n'


_remembered_line = functools.lru_cache(maxsize=8192)(_line)  # a design's texts recur on every card


@memo_by_content(256)  # the same texts for every card of a design: render them once
def render_pass_strings(entries: Mapping[str, str]) -> bytes:
    r"""Render ``{key: translation}`` as a UTF-16 (BOM) ``pass.strings`` file, sorted by key.

    Each ``"key" = "value";`` line is made once per distinct pair (a bounded LRU): a card's file
    differs from the next card's only in its few per-card values, and only those are escaped anew.

    >>> data = render_pass_strings({"Stamps": "印章"})
    >>> data[:2] == BOM, data[2:].decode("utf-16-le")
    (True, '"Stamps" = "印章";\n')
    """
    lines = [(_remembered_line if len(key) + len(entries[key]) <= _MEMO_LINE else _line)(key, entries[key])
             for key in sorted(entries)]
    return BOM + "".join(lines).encode("utf-16-le")


def apple_language(tag: str) -> str:
    """The Apple localisation name for a BCP 47 tag, or :class:`AppleError` naming the fix.

    >>> apple_language("en-gb"), apple_language("zh-CN"), apple_language("zh-Hant-HK"), apple_language("iw")
    ('en-GB', 'zh-Hans', 'zh-HK', 'he')
    """
    if not isinstance(tag, str):
        raise AppleError("is not a language Apple Wallet knows", field="language", value=tag, fix=_FIX)
    return _apple_language(tag)


@functools.lru_cache(maxsize=256)  # a pure function of the tag, asked for on every render
def _apple_language(tag: str) -> str:
    parts = _SPLIT.split(tag)
    language = _RENAMED.get(parts[0].lower(), parts[0].lower())
    if language not in _LANGUAGES:
        raise AppleError("is not a language Apple Wallet knows", field="language", value=tag, fix=_FIX)
    script, region = _script_and_region(tag, parts[1:])
    if language == "zh":
        return _chinese(tag, script, region)
    return "-".join(p for p in (language, script, region) if p)


def _script_and_region(tag: str, rest: list[str]) -> tuple[str | None, str | None]:
    script = rest.pop(0).title() if rest and len(rest[0]) == 4 and rest[0].isalpha() else None
    region = rest.pop(0).upper() if rest else None
    if rest or script not in _SCRIPTS | {None} or region not in _REGIONS | {None}:
        raise AppleError("has a script, region or variant Apple localisations do not use", field="language",
                         value=tag, fix=_FIX)
    return script, region


def _chinese(tag: str, script: str | None, region: str | None) -> str:
    if region == "HK" and script != "Hans":
        return "zh-HK"
    name = _CHINESE.get(script or "") or _CHINESE.get(region or "")
    if name is None:
        raise AppleError("does not say which Chinese script", field="language", value=tag,
                         fix="use 'zh-Hans' (Simplified) or 'zh-Hant' (Traditional)")
    return name


def lproj_name(language: str) -> str:
    """The file of a language's strings: ``zh-CN`` -> ``zh-Hans.lproj/pass.strings``.

    >>> lproj_name("uz"), lproj_name("en-gb")
    ('uz.lproj/pass.strings', 'en-GB.lproj/pass.strings')
    """
    return f"{apple_language(language)}.lproj/pass.strings"
