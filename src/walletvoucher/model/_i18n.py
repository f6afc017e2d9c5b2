"""Localisable text: a default plus translations keyed by BCP 47 language tag."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from walletvoucher.errors import ValidationError

_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def check_language(tag: str, field: str = "language") -> str:
    """Check a BCP 47 language tag such as ``en``, ``zh-Hans``, ``hi``, ``th``, ``uz``."""
    if not isinstance(tag, str) or not _LANG.match(tag):
        raise ValidationError(
            "is not a BCP 47 language tag",
            field=field,
            value=tag,
            fix="use tags such as 'en', 'zh-Hans', 'hi', 'th', 'uz'",
        )
    return tag


def _pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), v) for k, v in items))


def _check_text(field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("must be non-empty text", field=field, value=value, fix="give the text")
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
        return cls(default=data["default"], translations=data.get("translations", {}))


Text = str | LocalizedText
"""Anywhere a :class:`LocalizedText` is taken, a plain ``str`` is accepted as its default."""


def to_text(value: Text) -> LocalizedText:
    """Converter: wrap a ``str`` into a :class:`LocalizedText`."""
    return LocalizedText(default=value) if isinstance(value, str) else value


def to_optional_text(value: Text | None) -> LocalizedText | None:
    """Converter for optional texts."""
    return None if value is None else to_text(value)
