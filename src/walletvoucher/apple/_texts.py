"""Which key each shown text gets in pass.json, so every text shows its own translation.

Wallet shows a localisable pass.json string ``s`` on a device in language ``L`` as
``L.lproj/pass.strings[s]`` when that key exists, and as ``s`` itself otherwise. One key can
therefore carry one translation per language. Keying by the base-language text alone breaks
as soon as two texts read the same in the base language but differ in another (a reward titled
like the stamp label, a brand named like the program, a member id that reads like a label):
the first translation wins for both.

The rule here: a text's key is its base-language text, so a device in a language the pass has
no strings for still shows the right words. When that key is already taken by a text whose
translations differ, the new text's key gets invisible U+2060 WORD JOINER characters appended
(one, then two, ...) until it is free. Wallet shows the key only where no lproj has it, and
then the joiners draw nothing. Values that are never translated (member ids, codes, links,
serial numbers, the organisation name given in the options) are *reserved* first: they keep
their exact text and show as themselves in every language (they are not written to
``pass.strings``: a key Wallet does not find is shown as it is), so a translated label that
happens to read the same moves aside instead.

A role-based key such as ``"reward.title"`` was considered and not used: on a device whose
language the pass does not carry (and Wallet has no lproj to fall back on), Wallet would show
the key itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from walletvoucher.apple._strings import apple_language, render_pass_strings
from walletvoucher.errors import AppleError
from walletvoucher.model import LocalizedText

WORD_JOINER = "\u2060"
"""Appended to a key to make it unique; draws nothing."""


def escape_format(text: str) -> str:
    """Escape a text for a ``changeMessage`` format string (Wallet substitutes ``%@`` and ``%d``).

    >>> escape_format("100% off %@ %d")
    '100%% off %%@ %%d'
    """
    return text.replace("%", "%%")


def lproj_languages(tags: tuple[str, ...]) -> dict[str, str]:
    """``{lproj: program language tag}`` for a program's languages; two tags on one lproj are refused.

    >>> lproj_languages(("en", "zh-CN", "en-gb"))
    {'en': 'en', 'zh-Hans': 'zh-CN', 'en-GB': 'en-gb'}
    """
    out: dict[str, str] = {}
    for tag in tags:
        lproj = apple_language(tag)
        if lproj in out:
            raise AppleError(f"names the same Apple localisation {lproj!r} as {out[lproj]!r}",
                             field="language", value=tag,
                             fix="keep one of the two tags in the program's translations")
        out[lproj] = tag
    return out


class PassTexts:
    """Collects every shown text: pass.json gets the keys, each lproj its ``pass.strings``."""

    def __init__(self, base: str, languages: Mapping[str, str]) -> None:
        self.base = base
        self.languages = dict(languages)
        self.table: dict[str, dict[str, str]] = {}
        self.reserved: set[str] = set()

    def tag(self, lproj: str) -> str:
        """The program's language tag for an lproj (the lproj itself for a language it lacks)."""
        return self.languages.get(lproj, lproj)

    def reserve(self, role: str, value: str) -> str:
        """A text shown exactly as it is in every language (ids, codes, links); returns it.

        Reserve these before adding translated texts: a translated text that reads the same
        then moves aside, and the reserved value keeps its exact key.
        """
        same = {lproj: _check_text(role, value) for lproj in self.languages}
        key = value
        while key in self.table and self.table[key] != same:
            key += WORD_JOINER  # only when reserved late; _Build reserves first
        self.table[key] = same
        self.reserved.add(key)
        return key

    def add(self, role: str, make: Callable[[str], str]) -> str:
        """The key for a text that reads ``make(lproj)`` in each Apple localisation."""
        wanted = {lproj: make(lproj) for lproj in self.languages}
        key = wanted[self.base] if self.base in wanted else make(self.base)
        _check_texts(role, key, *wanted.values())
        while key in self.table and self.table[key] != wanted:
            key += WORD_JOINER
        self.table[key] = wanted
        return key

    def text(self, role: str, text: LocalizedText) -> str:
        """The key for one of the program's texts."""
        return self.add(role, lambda lproj: text.get(self.tag(lproj)))

    def files(self) -> dict[str, bytes]:
        """``{"xx.lproj/pass.strings": bytes}`` for every language.

        Reserved values are left out: Wallet shows a key it does not find as it is, which is what
        they are for, and without them (member ids, serials, codes) the files are the same for
        every card of a design, so they are made, compressed and hashed once.
        """
        shown = [(k, v) for k, v in self.table.items() if k not in self.reserved]
        return {f"{lproj}.lproj/pass.strings": render_pass_strings({k: v[lproj] for k, v in shown})
                for lproj in self.languages}


def _check_texts(role: str, *texts: str) -> None:
    try:
        "".join(texts).encode("utf-8")  # one C call for them all; a lone surrogate stays lone when joined
    except UnicodeEncodeError:
        for text in texts:
            _check_text(role, text)
        raise  # not reached: one of them failed


def _check_text(role: str, text: str) -> str:
    try:
        text.encode("utf-8")  # fails exactly on a lone surrogate, at C speed
    except UnicodeEncodeError as exc:
        raise AppleError("contains a lone surrogate, which no pass file can carry", field=role,
                         value=text.encode("ascii", "backslashreplace").decode("ascii"),
                         fix="give well-formed Unicode text") from exc
    return text
