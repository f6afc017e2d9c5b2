"""Localisation: ``xx.lproj/pass.strings`` files.

Wallet looks a pass.json text up as a key in the ``pass.strings`` of the device's language
and shows the value found there. So the keys are the default-language texts that pass.json
carries, and each language's file maps them to that language's text.

Encoding: **UTF-8 without a byte-order mark** (Apple reads UTF-8 and UTF-16 ``.strings``;
UTF-8 keeps the files diffable). Quotes, backslashes, newlines, carriage returns and tabs
are escaped; everything else is written as is.
"""

from __future__ import annotations

from collections.abc import Mapping

from walletvoucher.apple._pieces import memo_by_content

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_string(text: str) -> str:
    r"""Escape a text for a ``.strings`` file (without the surrounding quotes).

    >>> print(escape_string('Say "hi"\\now'))
    Say \"hi\"\\now
    """
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


@memo_by_content(256)  # the same texts for every card of a design: render them once
def render_pass_strings(entries: Mapping[str, str]) -> bytes:
    r"""Render ``{key: translation}`` as a UTF-8 ``pass.strings`` file, sorted by key.

    >>> render_pass_strings({"Stamps": "印章"}).decode("utf-8")
    '"Stamps" = "印章";\n'
    """
    lines = [f'"{escape_string(key)}" = "{escape_string(entries[key])}";\n' for key in sorted(entries)]
    return "".join(lines).encode("utf-8")


def lproj_name(language: str) -> str:
    """The folder of a language's strings: ``zh-Hans`` -> ``zh-Hans.lproj/pass.strings``.

    >>> lproj_name("uz")
    'uz.lproj/pass.strings'
    """
    return f"{language}.lproj/pass.strings"
