"""The words on a preview's status band (void, expired, redeemed ...), in the languages walletvoucher ships.

A pass that is no longer usable is drawn dimmed, with a band saying why. The band speaks the language
the preview is drawn in: the same eleven the Apple renderer ships its labels in
(:data:`walletvoucher.apple._labels.LABEL_LANGUAGES`: English, Simplified and Traditional Chinese,
Hindi, Thai, Uzbek, Russian, German, French, Spanish, Arabic); any other language shows English.
"""

from __future__ import annotations

from types import MappingProxyType

_WORDS: dict[str, dict[str, str]] = {
    "voided": {
        "en": "Void", "zh-Hans": "已作废", "zh-Hant": "已作廢", "hi": "रद्द", "th": "ยกเลิกแล้ว",
        "uz": "Bekor qilingan", "ru": "Аннулировано", "de": "Ungültig", "fr": "Annulé", "es": "Anulado",
        "ar": "ملغى",
    },
    "expired": {
        "en": "Expired", "zh-Hans": "已过期", "zh-Hant": "已過期", "hi": "समाप्त", "th": "หมดอายุแล้ว",
        "uz": "Muddati o'tgan", "ru": "Срок истёк", "de": "Abgelaufen", "fr": "Expiré", "es": "Caducado",
        "ar": "منتهي الصلاحية",
    },
    "redeemed": {
        "en": "Redeemed", "zh-Hans": "已兑换", "zh-Hant": "已兌換", "hi": "रिडीम किया गया", "th": "แลกแล้ว",
        "uz": "Ishlatilgan", "ru": "Использовано", "de": "Eingelöst", "fr": "Utilisé", "es": "Canjeado",
        "ar": "تم الاستبدال",
    },
    "completed": {
        "en": "Completed", "zh-Hans": "已完成", "zh-Hant": "已完成", "hi": "पूर्ण", "th": "เสร็จสิ้น",
        "uz": "Yakunlangan", "ru": "Завершено", "de": "Abgeschlossen", "fr": "Terminé", "es": "Completado",
        "ar": "مكتمل",
    },
    "inactive": {
        "en": "Inactive", "zh-Hans": "已停用", "zh-Hant": "已停用", "hi": "निष्क्रिय", "th": "ไม่ใช้งาน",
        "uz": "Faol emas", "ru": "Неактивно", "de": "Inaktiv", "fr": "Inactif", "es": "Inactivo",
        "ar": "غير نشط",
    },
}
_BACK_WORDS: dict[str, dict[str, str]] = {
    "valid_until": {  # a Google pass's validTimeInterval on its back (the Apple renderer's own label)
        "en": "Valid until", "zh-Hans": "有效期至", "zh-Hant": "有效期至", "hi": "मान्य तिथि", "th": "ใช้ได้ถึง",
        "uz": "Amal qilish muddati", "ru": "Действует до", "de": "Gültig bis", "fr": "Valable jusqu'au",
        "es": "Válido hasta", "ar": "صالح حتى",
    },
}
STATUS_WORDS = MappingProxyType({name: MappingProxyType(table) for name, table in _WORDS.items()})
"""``{status: {language: word}}`` for the band."""
BAND_LANGUAGES = frozenset(_WORDS["voided"])
"""The languages the band speaks."""
_NEAREST = {"zh-hk": "zh-Hant", "zh-tw": "zh-Hant", "zh-mo": "zh-Hant", "zh": "zh-Hans"}
_BY_LOWER = {lang.lower(): lang for lang in BAND_LANGUAGES}


def band_language(language: str | None) -> str:
    """The band's language for a language tag: itself, its nearest, its base language, else English.

    >>> band_language("zh-HK"), band_language("fr-CA"), band_language("zh_Hant"), band_language("sw")
    ('zh-Hant', 'fr', 'zh-Hant', 'en')
    """
    tag = (language or "en").replace("_", "-").lower()
    for candidate in (tag, "-".join(tag.split("-")[:2])):
        if candidate in _BY_LOWER:
            return _BY_LOWER[candidate]
        if candidate in _NEAREST:
            return _NEAREST[candidate]
    base = tag.split("-")[0]
    return _BY_LOWER.get(base) or _NEAREST.get(base, "en")


def status_word(status: str, language: str | None) -> str:
    """The band's word for ``status`` (a key of :data:`STATUS_WORDS`) in ``language``.

    >>> status_word("redeemed", "hi"), status_word("expired", "de-AT"), status_word("voided", None)
    ('रिडीम किया गया', 'Abgelaufen', 'Void')
    """
    return _WORDS[status][band_language(language)]


def back_word(name: str, language: str | None) -> str:
    """A caption the preview itself writes on a pass's back (``valid_until``), in ``language``.

    >>> back_word("valid_until", "uz"), back_word("valid_until", "sw")
    ('Amal qilish muddati', 'Valid until')
    """
    return _BACK_WORDS[name][band_language(language)]
