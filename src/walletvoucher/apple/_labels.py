"""The library's own words on a pass (labels, how-to texts), in the languages we ship.

The program's texts (name, reward, stamp label) come from the business with their own
translations; these are the few words walletvoucher adds (and the default stamp label
"Stamps", for each language the program does not translate it into), shipped in English, Simplified and
Traditional Chinese, Hindi, Thai, Uzbek, Russian, German, French, Spanish and Arabic. A
language missing here shows them in English unless the caller gives its own wording
(``AppleOptions(labels={"sw": {"reward": "Zawadi", ...}})``); the renderer warns
(:class:`~walletvoucher.errors.PassContentWarning`) about each such language.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from walletvoucher._words import RULE_WORDS

_LABELS: dict[str, dict[str, str]] = {
    "reward": {
        "en": "Reward", "zh-Hans": "奖励", "hi": "इनाम", "th": "รางวัล", "uz": "Mukofot",
        "zh-Hant": "獎勵", "ru": "Награда", "de": "Prämie", "fr": "Récompense", "es": "Recompensa",
        "ar": "المكافأة",
    },
    "reward_ready": {
        "en": "Reward ready", "zh-Hans": "奖励可兑换", "hi": "इनाम तैयार है", "th": "รับรางวัลได้แล้ว",
        "uz": "Mukofot tayyor", "zh-Hant": "獎勵可兌換", "ru": "Награда готова", "de": "Prämie bereit",
        "fr": "Récompense prête", "es": "Recompensa lista", "ar": "المكافأة جاهزة",
    },
    "member": {
        "en": "Member", "zh-Hans": "会员", "hi": "सदस्य", "th": "สมาชิก", "uz": "A'zo", "zh-Hant": "會員",
        "ru": "Участник", "de": "Mitglied", "fr": "Membre", "es": "Socio", "ar": "العضو",
    },
    "valid_until": {
        "en": "Valid until", "zh-Hans": "有效期至", "hi": "मान्य तिथि", "th": "ใช้ได้ถึง",
        "uz": "Amal qilish muddati", "zh-Hant": "有效期至", "ru": "Действует до", "de": "Gültig bis",
        "fr": "Valable jusqu'au", "es": "Válido hasta", "ar": "صالح حتى",
    },
    "valid_from": {
        "en": "Valid from", "zh-Hans": "生效日期", "hi": "से मान्य", "th": "เริ่มใช้ได้",
        "uz": "Boshlanish sanasi", "zh-Hant": "生效日期", "ru": "Действует с", "de": "Gültig ab",
        "fr": "Valable à partir du", "es": "Válido desde", "ar": "صالح من",
    },
    "terms": {
        "en": "Terms", "zh-Hans": "条款", "hi": "शर्तें", "th": "เงื่อนไข", "uz": "Shartlar",
        "zh-Hant": "條款", "ru": "Условия", "de": "Bedingungen", "fr": "Conditions", "es": "Condiciones",
        "ar": "الشروط",
    },
    "details": {
        "en": "Details", "zh-Hans": "详情", "hi": "विवरण", "th": "รายละเอียด", "uz": "Tafsilotlar",
        "zh-Hant": "詳情", "ru": "Подробности", "de": "Details", "fr": "Détails", "es": "Detalles",
        "ar": "التفاصيل",
    },
    "code": {
        "en": "Redeem code", "zh-Hans": "兑换码", "hi": "रिडीम कोड", "th": "รหัสแลกรับ", "uz": "Kod",
        "zh-Hant": "兌換碼", "ru": "Код", "de": "Einlösecode", "fr": "Code", "es": "Código",
        "ar": "رمز الاستبدال",
    },
    "value": {
        "en": "Value", "zh-Hans": "价值", "hi": "मूल्य", "th": "มูลค่า", "uz": "Qiymati",
        "zh-Hant": "價值", "ru": "Стоимость", "de": "Wert", "fr": "Valeur", "es": "Valor", "ar": "القيمة",
    },
    "status": {
        "en": "Status", "zh-Hans": "状态", "hi": "स्थिति", "th": "สถานะ", "uz": "Holati",
        "zh-Hant": "狀態", "ru": "Статус", "de": "Status", "fr": "Statut", "es": "Estado", "ar": "الحالة",
    },
    "redeemed": {
        "en": "Redeemed", "zh-Hans": "已兑换", "hi": "रिडीम किया गया", "th": "แลกแล้ว",
        "uz": "Ishlatilgan", "zh-Hant": "已兌換", "ru": "Использовано", "de": "Eingelöst",
        "fr": "Utilisé", "es": "Canjeado", "ar": "تم الاستبدال",
    },
    "voided": {
        "en": "Void", "zh-Hans": "已作废", "hi": "रद्द", "th": "ยกเลิกแล้ว", "uz": "Bekor qilingan",
        "zh-Hant": "已作廢", "ru": "Аннулировано", "de": "Ungültig", "fr": "Annulé", "es": "Anulado",
        "ar": "ملغى",
    },
    "how": {
        "en": "How to redeem", "zh-Hans": "兑换方式", "hi": "कैसे रिडीम करें", "th": "วิธีแลกรับ",
        "uz": "Qanday foydalanish", "zh-Hant": "兌換方式", "ru": "Как получить", "de": "So lösen Sie ein",
        "fr": "Comment l'utiliser", "es": "Cómo canjear", "ar": "طريقة الاستبدال",
    },
    "how_self_redeem": {
        "en": "Open the redeem link and show the screen at the till.",
        "zh-Hans": "打开兑换链接，并在收银台出示屏幕。",
        "hi": "रिडीम लिंक खोलें और काउंटर पर स्क्रीन दिखाएँ।",
        "th": "เปิดลิงก์แลกรับ แล้วแสดงหน้าจอที่เคาน์เตอร์",
        "uz": "Havolani oching va ekranni kassada ko'rsating.",
        "zh-Hant": "打開兌換連結，並在收銀台出示螢幕。",
        "ru": "Откройте ссылку и покажите экран на кассе.",
        "de": "Öffnen Sie den Einlöselink und zeigen Sie den Bildschirm an der Kasse.",
        "fr": "Ouvrez le lien et montrez l'écran à la caisse.",
        "es": "Abra el enlace y muestre la pantalla en caja.",
        "ar": "افتح رابط الاستبدال واعرض الشاشة عند الدفع.",
    },
    "how_staff_scan": {
        "en": "Show this pass to a team member, who scans its code.",
        "zh-Hans": "向店员出示此卡，由店员扫描二维码。",
        "hi": "यह पास किसी स्टाफ़ सदस्य को दिखाएँ, वे कोड स्कैन करेंगे।",
        "th": "แสดงบัตรนี้ให้พนักงานสแกนรหัส",
        "uz": "Ushbu kartani xodimga ko'rsating, u kodni skanerlaydi.",
        "zh-Hant": "向店員出示此卡，由店員掃描條碼。",
        "ru": "Покажите карту сотруднику, он отсканирует код.",
        "de": "Zeigen Sie diese Karte dem Personal, das den Code scannt.",
        "fr": "Montrez cette carte à un employé, qui scanne le code.",
        "es": "Muestre esta tarjeta al personal, que escaneará el código.",
        "ar": "اعرض هذه البطاقة على الموظف ليمسح الرمز.",
    },
    "how_redeem_code": {
        "en": "Show the code at the till or read it out.", "zh-Hans": "在收银台出示或读出兑换码。",
        "hi": "काउंटर पर कोड दिखाएँ या बोलकर बताएँ।", "th": "แสดงหรือแจ้งรหัสที่เคาน์เตอร์",
        "uz": "Kodni kassada ko'rsating yoki aytib bering.", "zh-Hant": "在收銀台出示或讀出兌換碼。",
        "ru": "Покажите или назовите код на кассе.",
        "de": "Zeigen oder nennen Sie den Code an der Kasse.",
        "fr": "Montrez ou dictez le code à la caisse.", "es": "Muestre o diga el código en caja.",
        "ar": "اعرض الرمز أو اذكره عند الدفع.",
    },
    "redeem_link": {
        "en": "Redeem", "zh-Hans": "兑换", "hi": "रिडीम करें", "th": "แลกรับ", "uz": "Foydalanish",
        "zh-Hant": "兌換", "ru": "Получить", "de": "Einlösen", "fr": "Utiliser", "es": "Canjear",
        "ar": "استبدال",
    },
    **RULE_WORDS,
    "lifetime": {
        "en": "Stamps collected", "zh-Hans": "累计印章", "hi": "कुल स्टाम्प", "th": "แสตมป์สะสมทั้งหมด",
        "uz": "Jami shtamplar", "zh-Hant": "累計印章", "ru": "Всего штампов", "de": "Gesammelte Stempel",
        "fr": "Tampons cumulés", "es": "Sellos acumulados", "ar": "مجموع الطوابع",
    },
}


LABEL_NAMES = frozenset(_LABELS)
"""The names of walletvoucher's own words (keys of ``AppleOptions(labels=...)``)."""
LABEL_LANGUAGES = frozenset(_LABELS["reward"])
"""The Apple localisations walletvoucher ships its own words in."""
_NEAREST = {"zh-HK": "zh-Hant"}


@functools.lru_cache(maxsize=256)  # a pure function of the name, asked for on every label
def _table_language(lproj: str) -> str | None:
    for candidate in (lproj, _NEAREST.get(lproj, ""), lproj.split("-")[0]):
        if candidate in LABEL_LANGUAGES:
            return candidate
    return None


def has_labels(lproj: str) -> bool:
    """Whether walletvoucher ships its words in the Apple localisation ``lproj``.

    >>> has_labels("en-GB"), has_labels("zh-HK"), has_labels("sw")
    (True, True, False)
    """
    return _table_language(lproj) is not None


def label(name: str, lproj: str, overrides: Mapping[tuple[str, str], str] | None = None) -> str:
    """The library's word ``name`` in the Apple localisation ``lproj`` (English when not translated).

    ``overrides`` maps ``(lproj, name)`` to the caller's own wording and wins over the table.

    >>> label("reward", "th"), label("reward", "sw"), label("reward", "sw", {("sw", "reward"): "Zawadi"})
    ('รางวัล', 'Reward', 'Zawadi')
    """
    if overrides and (lproj, name) in overrides:
        return overrides[(lproj, name)]
    table = _LABELS[name]
    return table[_table_language(lproj) or "en"]
