"""The library's own words on a pass (labels, how-to texts), in the languages we ship.

The program's texts (name, reward, stamp label) come from the business with their own
translations; these are the few words walletvoucher adds. A language missing here falls
back to English.
"""

from __future__ import annotations

_LABELS: dict[str, dict[str, str]] = {
    "reward": {"en": "Reward", "zh-Hans": "奖励", "hi": "इनाम", "th": "รางวัล", "uz": "Mukofot"},
    "reward_ready": {
        "en": "Reward ready", "zh-Hans": "奖励可兑换", "hi": "इनाम तैयार है", "th": "รับรางวัลได้แล้ว",
        "uz": "Mukofot tayyor",
    },
    "member": {"en": "Member", "zh-Hans": "会员", "hi": "सदस्य", "th": "สมาชิก", "uz": "A'zo"},
    "valid_until": {
        "en": "Valid until", "zh-Hans": "有效期至", "hi": "मान्य तिथि", "th": "ใช้ได้ถึง",
        "uz": "Amal qilish muddati",
    },
    "valid_from": {
        "en": "Valid from", "zh-Hans": "生效日期", "hi": "से मान्य", "th": "เริ่มใช้ได้", "uz": "Boshlanish sanasi",
    },
    "terms": {"en": "Terms", "zh-Hans": "条款", "hi": "शर्तें", "th": "เงื่อนไข", "uz": "Shartlar"},
    "details": {"en": "Details", "zh-Hans": "详情", "hi": "विवरण", "th": "รายละเอียด", "uz": "Tafsilotlar"},
    "code": {"en": "Redeem code", "zh-Hans": "兑换码", "hi": "रिडीम कोड", "th": "รหัสแลกรับ", "uz": "Kod"},
    "value": {"en": "Value", "zh-Hans": "价值", "hi": "मूल्य", "th": "มูลค่า", "uz": "Qiymati"},
    "status": {"en": "Status", "zh-Hans": "状态", "hi": "स्थिति", "th": "สถานะ", "uz": "Holati"},
    "redeemed": {
        "en": "Redeemed", "zh-Hans": "已兑换", "hi": "रिडीम किया गया", "th": "แลกแล้ว", "uz": "Ishlatilgan",
    },
    "voided": {"en": "Void", "zh-Hans": "已作废", "hi": "रद्द", "th": "ยกเลิกแล้ว", "uz": "Bekor qilingan"},
    "how": {
        "en": "How to redeem", "zh-Hans": "兑换方式", "hi": "कैसे रिडीम करें", "th": "วิธีแลกรับ",
        "uz": "Qanday foydalanish",
    },
    "how_self_redeem": {
        "en": "Open the redeem link and show the screen at the till.",
        "zh-Hans": "打开兑换链接，并在收银台出示屏幕。",
        "hi": "रिडीम लिंक खोलें और काउंटर पर स्क्रीन दिखाएँ।",
        "th": "เปิดลิงก์แลกรับ แล้วแสดงหน้าจอที่เคาน์เตอร์",
        "uz": "Havolani oching va ekranni kassada ko'rsating.",
    },
    "how_staff_scan": {
        "en": "Show this pass to a team member, who scans its code.",
        "zh-Hans": "向店员出示此卡，由店员扫描二维码。",
        "hi": "यह पास किसी स्टाफ़ सदस्य को दिखाएँ, वे कोड स्कैन करेंगे।",
        "th": "แสดงบัตรนี้ให้พนักงานสแกนรหัส",
        "uz": "Ushbu kartani xodimga ko'rsating, u kodni skanerlaydi.",
    },
    "how_redeem_code": {
        "en": "Show the code at the till or read it out.",
        "zh-Hans": "在收银台出示或读出兑换码。",
        "hi": "काउंटर पर कोड दिखाएँ या बोलकर बताएँ।",
        "th": "แสดงหรือแจ้งรหัสที่เคาน์เตอร์",
        "uz": "Kodni kassada ko'rsating yoki aytib bering.",
    },
    "redeem_link": {
        "en": "Redeem", "zh-Hans": "兑换", "hi": "रिडीम करें", "th": "แลกรับ", "uz": "Foydalanish",
    },
    "lifetime": {
        "en": "Stamps collected", "zh-Hans": "累计印章", "hi": "कुल स्टाम्प", "th": "แสตมป์สะสมทั้งหมด",
        "uz": "Jami shtamplar",
    },
}


def label(name: str, language: str) -> str:
    """The library's word ``name`` in ``language`` (English when not translated).

    >>> label("reward", "th"), label("reward", "de")
    ('รางวัล', 'Reward')
    """
    table = _LABELS[name]
    return table.get(language) or table.get(language.split("-")[0]) or table["en"]
