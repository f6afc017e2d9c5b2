"""walletvoucher's own words on a Google Wallet object, in the languages the Apple passes ship.

The stamp count's label on a loyalty object is the program's ``stamp_label``; left at the model's
default ("Stamps") with no translation, a program in Thai or Arabic would show it in English
beside its translated name. Where the label is still that default and the program gives no
translation of its own, :func:`with_built_in_words` fills in these words (the same as the Apple
pass's header; Google's ``LoyaltyPoints.label`` is best kept within 9 characters: every word here
is).

The earned-rewards label (``GoogleOptions.rewards_label``, "Rewards") is not filled in: its
translations would push the object of a reward-ready card in five languages past the 1800
characters of an object-only save link. Give ``GoogleOptions(rewards_label=LocalizedText(...))``
to translate it.
"""

from __future__ import annotations

from walletvoucher._words import RULE_WORDS
from walletvoucher.model import LocalizedText, Program

__all__ = ["BUILT_IN_WORDS", "built_in_word", "with_built_in_words"]

BUILT_IN_WORDS: dict[str, dict[str, str]] = {words["en"]: words for words in RULE_WORDS.values()}
"""The default English label -> ``{language: word}``."""
_TRADITIONAL = frozenset({"hant", "tw", "hk", "mo"})


def built_in_word(english: str, tag: str) -> str | None:
    """The built-in word for the default label ``english`` in the BCP 47 language ``tag``, if any.

    >>> built_in_word("Stamps", "zh-TW"), built_in_word("Stamps", "de-AT"), built_in_word("Stamps", "sw")
    ('印章', 'Stempel', None)
    """
    words = BUILT_IN_WORDS.get(english)
    if words is None:
        return None
    parts = tag.replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return words["zh-Hant" if _TRADITIONAL & set(parts[1:]) else "zh-Hans"]
    return words.get(parts[0])


def with_built_in_words(text: LocalizedText, program: Program) -> LocalizedText:
    """``text`` with built-in words for each program language it lacks, when it is a default label.

    A label the business wrote itself (anything but the English defaults above) is returned as it is.

    >>> from walletvoucher.model import Brand, RedemptionMethod, Reward
    >>> program = Program(id="p", name=LocalizedText(default="Card", translations={"th": "บัตร"}),
    ...     brand=Brand(name="B", foreground="#FFFFFF", background="#000000", label="#FFFFFF"),
    ...     goal=5, reward=Reward(title="Tea", description="Any"), redemption=RedemptionMethod.SELF_REDEEM)
    >>> with_built_in_words(program.stamp_label, program).as_dict()
    {'th': 'แสตมป์'}
    """
    if text.default not in BUILT_IN_WORDS:
        return text
    translations = text.as_dict()
    for tag in program.languages[1:]:
        word = built_in_word(text.default, tag)
        if tag not in translations and word is not None:
            translations[tag] = word
    default = built_in_word(text.default, program.default_language) or text.default
    return LocalizedText(default=default, translations=translations)
