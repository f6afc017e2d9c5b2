"""Localisable text: a default plus translations keyed by BCP 47 language tag."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from walletvoucher.errors import ValidationError

_LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,8}")


def check_language(tag: str, field: str = "language") -> str:
    """Check a BCP 47 language tag such as ``en``, ``zh-Hans``, ``hi``, ``th``, ``uz``."""
    if not isinstance(tag, str) or len(tag) > 80 or not _LANG.fullmatch(tag):
        raise ValidationError(
            "is not a BCP 47 language tag",
            field=field,
            value=tag,
            fix="use tags such as 'en', 'zh-Hans', 'hi', 'th', 'uz'",
        )
    return tag


def _pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    try:
        items = value.items() if isinstance(value, Mapping) else value
        pairs = [(k, v) for k, v in items]
    except (TypeError, ValueError):
        raise ValidationError(
            "must map language tags to texts", field="translations", value=type(value).__name__,
            fix="pass a dict such as {'zh-Hans': '咖啡卡'}",
        ) from None
    for lang, text in pairs:
        check_language(lang, field="translations")
        _check_text(f"translations[{lang!r}]", text)
    if len({lang for lang, _ in pairs}) != len(pairs):
        raise ValidationError(
            "names a language twice", field="translations", value=sorted(lang for lang, _ in pairs),
            fix="give each language once",
        )
    return tuple(sorted(pairs))


MAX_TEXT_LENGTH = 10_000
"""The longest text (characters) a program accepts: longer than any pass shows, even on its back."""


def _check_text(field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("must be non-empty text", field=field, value=value, fix="give the text")
    if len(value) > MAX_TEXT_LENGTH:
        raise ValidationError(
            f"is {len(value)} characters long, more than {MAX_TEXT_LENGTH}", field=field,
            value=value[:40] + "...", fix="shorten it: a pass shows a few lines, its back a few paragraphs",
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise ValidationError(
            "contains control characters",
            field=field,
            value=value,
            fix="remove control characters (only newlines and tabs are kept)",
        )


def _check_translations(instance: LocalizedText, attribute: Any, value: tuple[tuple[str, str], ...]) -> None:
    for lang, text in value:
        check_language(lang, field=f"translations[{lang!r}]")
        _check_text(f"translations[{lang!r}]", text)


@attrs.frozen(kw_only=True)
class LocalizedText:
    """A text in the program's default language plus translations.

    >>> name = LocalizedText(default="Coffee card", translations={"zh-Hans": "咖啡卡", "th": "บัตรสะสมแต้ม"})
    >>> name.get("zh-Hans"), name.get("uz"), name.languages
    ('咖啡卡', 'Coffee card', ('th', 'zh-Hans'))
    """

    default: str = attrs.field()
    translations: tuple[tuple[str, str], ...] = attrs.field(
        factory=tuple, converter=_pairs, validator=_check_translations
    )

    @default.validator
    def _check_default(self, attribute: Any, value: str) -> None:
        _check_text("default", value)

    def get(self, language: str | None) -> str:
        """The text in *language*, or the default when there is no translation."""
        return dict(self.translations).get(language or "", self.default)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this text has translations for (the default's language is the program's)."""
        return tuple(lang for lang, _ in self.translations)

    def as_dict(self) -> dict[str, str]:
        """The translations as a plain dict."""
        return dict(self.translations)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"default": self.default, "translations": dict(self.translations)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LocalizedText:
        """Rebuild from :meth:`to_json` output."""
        if not isinstance(data, Mapping):
            raise ValidationError("must be an object", field="text", value=type(data).__name__,
                                  fix="pass what LocalizedText.to_json() produced")
        return cls(default=data.get("default", ""), translations=data.get("translations", {}))


Text = str | LocalizedText
"""Anywhere a :class:`LocalizedText` is taken, a plain ``str`` is accepted as its default."""


def to_text(value: Text) -> LocalizedText:
    """Converter: wrap a ``str`` into a :class:`LocalizedText` (other types are left to the validator)."""
    return LocalizedText(default=value) if isinstance(value, str) else value


def is_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validator: a :class:`LocalizedText`; else a ValidationError naming the field."""
    if not isinstance(value, LocalizedText):
        raise ValidationError(
            f"must be text or LocalizedText, not {type(value).__name__}", field=attribute.name,
            value=repr(value)[:80], fix="pass a str or LocalizedText(default=..., translations={...})",
        )


def is_optional_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validator: None or a :class:`LocalizedText`."""
    if value is not None:
        is_text(instance, attribute, value)


def to_optional_text(value: Text | None) -> LocalizedText | None:
    """Converter for optional texts."""
    return None if value is None else to_text(value)
