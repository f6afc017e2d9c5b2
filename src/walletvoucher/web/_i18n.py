"""The customer pages' own words, in every language we ship, and language negotiation.

The program's texts (name, reward, terms) come from its translations; these are the words around
them. ``{placeholders}`` are filled by the template. Right-to-left languages get ``dir="rtl"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

RTL = frozenset({"ar", "he", "fa", "ur"})

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "collect": "Collect {goal} stamps and get:",
        "join": "Get my card",
        "no_personal": "No name, e-mail or phone number needed.",
        "optional": "Optional",
        "name": "Name",
        "email": "E-mail",
        "phone": "Phone number",
        "consent": "I agree:",
        "your_card": "Your card",
        "progress": "{stamps} of {goal} stamps",
        "add_apple": "Add to Apple Wallet",
        "add_google": "Add to Google Wallet",
        "reward": "Your reward",
        "valid_until": "Valid until {when}",
        "no_expiry": "No expiry date",
        "terms": "Terms",
        "hold": "Hold to redeem",
        "hold_hint": "Show this to staff, then hold the button.",
        "confirm": "Redeem now",
        "confirm_hint": "Redeem at the counter: a reward can be used once.",
        "redeemed": "Redeemed",
        "ago": "redeemed {n} seconds ago",
        "redeemed_at": "Redeemed at {when}",
        "already": "Already redeemed",
        "already_text": "This reward was already redeemed at {when}.",
        "not_yet": "Not valid yet",
        "not_yet_text": "This reward can be used from {when}.",
        "expired": "Expired",
        "expired_text": "This reward expired at {when}.",
        "voided": "Withdrawn",
        "voided_text": "The shop withdrew this reward.",
        "staff_only": "Show this at the counter",
        "staff_only_text": "Staff redeem this reward at the till.",
        "not_found": "Link not recognised",
        "not_found_text": "Open the full link from the reward in your wallet.",
        "too_many": "Too many attempts",
        "too_many_text": "Please wait a minute, then try again.",
        "stale": "This page has expired",
        "stale_text": "Reload the page and try again.",
        "check": "Please check this field:",
        "at": "{time} on {date}",
        "now": "Time now",
    },
    "zh-Hans": {
        "collect": "集满 {goal} 个印章即可获得：",
        "join": "领取我的卡",
        "no_personal": "无需姓名、电子邮件或电话号码。",
        "optional": "可选",
        "name": "姓名",
        "email": "电子邮件",
        "phone": "电话号码",
        "consent": "我同意：",
        "your_card": "您的卡",
        "progress": "已集 {stamps} / {goal} 个印章",
        "add_apple": "添加到 Apple 钱包",
        "add_google": "添加到 Google 钱包",
        "reward": "您的奖励",
        "valid_until": "有效期至 {when}",
        "no_expiry": "无有效期限制",
        "terms": "条款",
        "hold": "按住兑换",
        "hold_hint": "请向店员出示，然后按住按钮。",
        "confirm": "立即兑换",
        "confirm_hint": "请在柜台兑换：奖励只能使用一次。",
        "redeemed": "已兑换",
        "ago": "{n} 秒前兑换",
        "redeemed_at": "兑换时间：{when}",
        "already": "已经兑换过",
        "already_text": "此奖励已于 {when} 兑换。",
        "not_yet": "尚未生效",
        "not_yet_text": "此奖励自 {when} 起可用。",
        "expired": "已过期",
        "expired_text": "此奖励已于 {when} 过期。",
        "voided": "已撤销",
        "voided_text": "商家已撤销此奖励。",
        "staff_only": "请在柜台出示",
        "staff_only_text": "此奖励由店员在收银台兑换。",
        "not_found": "无法识别此链接",
        "not_found_text": "请从钱包中的奖励打开完整链接。",
        "too_many": "尝试次数过多",
        "too_many_text": "请稍等一分钟后再试。",
        "stale": "此页面已过期",
        "stale_text": "请刷新页面后重试。",
        "check": "请检查此项：",
        "at": "{date} {time}",
        "now": "当前时间",
    },
    "hi": {
        "collect": "{goal} मुहरें इकट्ठा करें और पाएँ:",
        "join": "मेरा कार्ड लें",
        "no_personal": "नाम, ई-मेल या फ़ोन नंबर की ज़रूरत नहीं।",
        "optional": "वैकल्पिक",
        "name": "नाम",
        "email": "ई-मेल",
        "phone": "फ़ोन नंबर",
        "consent": "मैं सहमत हूँ:",
        "your_card": "आपका कार्ड",
        "progress": "{goal} में से {stamps} मुहरें",
        "add_apple": "Apple Wallet में जोड़ें",
        "add_google": "Google Wallet में जोड़ें",
        "reward": "आपका इनाम",
        "valid_until": "{when} तक मान्य",
        "no_expiry": "कोई समाप्ति तिथि नहीं",
        "terms": "शर्तें",
        "hold": "रिडीम करने के लिए दबाए रखें",
        "hold_hint": "इसे कर्मचारी को दिखाएँ, फिर बटन दबाए रखें।",
        "confirm": "अभी रिडीम करें",
        "confirm_hint": "काउंटर पर रिडीम करें: इनाम एक ही बार इस्तेमाल होता है।",
        "redeemed": "रिडीम हो गया",
        "ago": "{n} सेकंड पहले रिडीम हुआ",
        "redeemed_at": "{when} को रिडीम हुआ",
        "already": "पहले ही रिडीम हो चुका है",
        "already_text": "यह इनाम {when} को रिडीम हो चुका है।",
        "not_yet": "अभी मान्य नहीं",
        "not_yet_text": "यह इनाम {when} से इस्तेमाल किया जा सकता है।",
        "expired": "समाप्त",
        "expired_text": "यह इनाम {when} को समाप्त हो गया।",
        "voided": "वापस लिया गया",
        "voided_text": "दुकान ने यह इनाम वापस ले लिया।",
        "staff_only": "इसे काउंटर पर दिखाएँ",
        "staff_only_text": "कर्मचारी इसे काउंटर पर रिडीम करते हैं।",
        "not_found": "लिंक पहचाना नहीं गया",
        "not_found_text": "अपने वॉलेट में इनाम से पूरा लिंक खोलें।",
        "too_many": "बहुत अधिक प्रयास",
        "too_many_text": "कृपया एक मिनट रुककर फिर कोशिश करें।",
        "stale": "यह पेज पुराना हो गया है",
        "stale_text": "पेज फिर से लोड करके कोशिश करें।",
        "check": "कृपया यह जाँचें:",
        "at": "{date}, {time}",
        "now": "अभी का समय",
    },
    "th": {
        "collect": "สะสมแสตมป์ {goal} ดวงเพื่อรับ:",
        "join": "รับบัตรของฉัน",
        "no_personal": "ไม่ต้องใช้ชื่อ อีเมล หรือเบอร์โทรศัพท์",
        "optional": "ไม่บังคับ",
        "name": "ชื่อ",
        "email": "อีเมล",
        "phone": "เบอร์โทรศัพท์",
        "consent": "ฉันยินยอม:",
        "your_card": "บัตรของคุณ",
        "progress": "{stamps} จาก {goal} ดวง",
        "add_apple": "เพิ่มไปยัง Apple Wallet",
        "add_google": "เพิ่มไปยัง Google Wallet",
        "reward": "รางวัลของคุณ",
        "valid_until": "ใช้ได้ถึง {when}",
        "no_expiry": "ไม่มีวันหมดอายุ",
        "terms": "เงื่อนไข",
        "hold": "กดค้างเพื่อแลก",
        "hold_hint": "แสดงหน้านี้ให้พนักงานดู แล้วกดปุ่มค้างไว้",
        "confirm": "แลกตอนนี้",
        "confirm_hint": "แลกที่เคาน์เตอร์: รางวัลใช้ได้ครั้งเดียว",
        "redeemed": "แลกแล้ว",
        "ago": "แลกเมื่อ {n} วินาทีที่แล้ว",
        "redeemed_at": "แลกเมื่อ {when}",
        "already": "แลกไปแล้ว",
        "already_text": "รางวัลนี้ถูกแลกไปแล้วเมื่อ {when}",
        "not_yet": "ยังใช้ไม่ได้",
        "not_yet_text": "รางวัลนี้ใช้ได้ตั้งแต่ {when}",
        "expired": "หมดอายุแล้ว",
        "expired_text": "รางวัลนี้หมดอายุเมื่อ {when}",
        "voided": "ถูกยกเลิก",
        "voided_text": "ร้านค้ายกเลิกรางวัลนี้แล้ว",
        "staff_only": "แสดงที่เคาน์เตอร์",
        "staff_only_text": "พนักงานจะแลกรางวัลนี้ที่จุดชำระเงิน",
        "not_found": "ไม่รู้จักลิงก์นี้",
        "not_found_text": "เปิดลิงก์เต็มจากรางวัลในวอลเล็ตของคุณ",
        "too_many": "ลองหลายครั้งเกินไป",
        "too_many_text": "โปรดรอหนึ่งนาทีแล้วลองอีกครั้ง",
        "stale": "หน้านี้หมดอายุแล้ว",
        "stale_text": "โหลดหน้าใหม่แล้วลองอีกครั้ง",
        "check": "โปรดตรวจสอบช่องนี้:",
        "at": "{date} {time}",
        "now": "เวลาขณะนี้",
    },
    "uz": {
        "collect": "{goal} ta muhr to‘plang va oling:",
        "join": "Kartamni olish",
        "no_personal": "Ism, e-pochta yoki telefon raqami kerak emas.",
        "optional": "Ixtiyoriy",
        "name": "Ism",
        "email": "E-pochta",
        "phone": "Telefon raqami",
        "consent": "Roziman:",
        "your_card": "Sizning kartangiz",
        "progress": "{goal} tadan {stamps} ta muhr",
        "add_apple": "Apple Wallet’ga qo‘shish",
        "add_google": "Google Wallet’ga qo‘shish",
        "reward": "Sovg‘angiz",
        "valid_until": "{when} gacha amal qiladi",
        "no_expiry": "Muddatsiz",
        "terms": "Shartlar",
        "hold": "Olish uchun bosib turing",
        "hold_hint": "Buni xodimga ko‘rsating, so‘ng tugmani bosib turing.",
        "confirm": "Hozir olish",
        "confirm_hint": "Kassada oling: sovg‘a faqat bir marta ishlatiladi.",
        "redeemed": "Olindi",
        "ago": "{n} soniya oldin olindi",
        "redeemed_at": "{when} da olindi",
        "already": "Allaqachon olingan",
        "already_text": "Bu sovg‘a {when} da olingan.",
        "not_yet": "Hali amal qilmaydi",
        "not_yet_text": "Bu sovg‘a {when} dan boshlab amal qiladi.",
        "expired": "Muddati o‘tgan",
        "expired_text": "Bu sovg‘aning muddati {when} da tugagan.",
        "voided": "Bekor qilingan",
        "voided_text": "Do‘kon bu sovg‘ani bekor qildi.",
        "staff_only": "Buni kassada ko‘rsating",
        "staff_only_text": "Bu sovg‘ani xodim kassada beradi.",
        "not_found": "Havola tanilmadi",
        "not_found_text": "Hamyoningizdagi sovg‘adan to‘liq havolani oching.",
        "too_many": "Urinishlar juda ko‘p",
        "too_many_text": "Bir daqiqa kutib, qayta urinib ko‘ring.",
        "stale": "Bu sahifa eskirgan",
        "stale_text": "Sahifani yangilab, qayta urinib ko‘ring.",
        "check": "Iltimos, tekshiring:",
        "at": "{date}, {time}",
        "now": "Hozirgi vaqt",
    },
    "ru": {
        "collect": "Соберите {goal} штампов и получите:",
        "join": "Получить карту",
        "no_personal": "Имя, e-mail и телефон не нужны.",
        "optional": "Необязательно",
        "name": "Имя",
        "email": "E-mail",
        "phone": "Телефон",
        "consent": "Я согласен:",
        "your_card": "Ваша карта",
        "progress": "{stamps} из {goal} штампов",
        "add_apple": "Добавить в Apple Wallet",
        "add_google": "Добавить в Google Wallet",
        "reward": "Ваша награда",
        "valid_until": "Действует до {when}",
        "no_expiry": "Бессрочно",
        "terms": "Условия",
        "hold": "Удерживайте, чтобы получить",
        "hold_hint": "Покажите это сотруднику и удерживайте кнопку.",
        "confirm": "Получить сейчас",
        "confirm_hint": "Получайте у кассы: награда используется один раз.",
        "redeemed": "Получено",
        "ago": "получено {n} с назад",
        "redeemed_at": "Получено {when}",
        "already": "Уже получено",
        "already_text": "Эта награда уже получена {when}.",
        "not_yet": "Ещё не действует",
        "not_yet_text": "Эту награду можно получить с {when}.",
        "expired": "Срок истёк",
        "expired_text": "Срок этой награды истёк {when}.",
        "voided": "Отменено",
        "voided_text": "Магазин отменил эту награду.",
        "staff_only": "Покажите на кассе",
        "staff_only_text": "Эту награду выдаёт сотрудник на кассе.",
        "not_found": "Ссылка не распознана",
        "not_found_text": "Откройте полную ссылку из награды в кошельке.",
        "too_many": "Слишком много попыток",
        "too_many_text": "Подождите минуту и попробуйте снова.",
        "stale": "Страница устарела",
        "stale_text": "Обновите страницу и попробуйте снова.",
        "check": "Проверьте поле:",
        "at": "{date}, {time}",
        "now": "Сейчас",
    },
    "ar": {
        "collect": "اجمع {goal} طوابع واحصل على:",
        "join": "احصل على بطاقتي",
        "no_personal": "لا حاجة إلى اسم أو بريد إلكتروني أو رقم هاتف.",
        "optional": "اختياري",
        "name": "الاسم",
        "email": "البريد الإلكتروني",
        "phone": "رقم الهاتف",
        "consent": "أوافق:",
        "your_card": "بطاقتك",
        "progress": "{stamps} من {goal} طوابع",
        "add_apple": "أضف إلى Apple Wallet",
        "add_google": "أضف إلى Google Wallet",
        "reward": "مكافأتك",
        "valid_until": "صالحة حتى {when}",
        "no_expiry": "بلا تاريخ انتهاء",
        "terms": "الشروط",
        "hold": "اضغط مطولاً للاستبدال",
        "hold_hint": "اعرض هذا على الموظف ثم اضغط الزر مطولاً.",
        "confirm": "استبدل الآن",
        "confirm_hint": "استبدل عند الصندوق: تُستخدم المكافأة مرة واحدة.",
        "redeemed": "تم الاستبدال",
        "ago": "تم الاستبدال منذ {n} ثانية",
        "redeemed_at": "تم الاستبدال في {when}",
        "already": "تم استبدالها من قبل",
        "already_text": "تم استبدال هذه المكافأة في {when}.",
        "not_yet": "غير صالحة بعد",
        "not_yet_text": "يمكن استخدام هذه المكافأة من {when}.",
        "expired": "منتهية",
        "expired_text": "انتهت صلاحية هذه المكافأة في {when}.",
        "voided": "ملغاة",
        "voided_text": "ألغى المتجر هذه المكافأة.",
        "staff_only": "اعرضها عند الصندوق",
        "staff_only_text": "يستبدل الموظف هذه المكافأة عند الصندوق.",
        "not_found": "الرابط غير معروف",
        "not_found_text": "افتح الرابط الكامل من المكافأة في محفظتك.",
        "too_many": "محاولات كثيرة جداً",
        "too_many_text": "انتظر دقيقة ثم حاول مرة أخرى.",
        "stale": "انتهت صلاحية هذه الصفحة",
        "stale_text": "أعد تحميل الصفحة وحاول مرة أخرى.",
        "check": "يرجى التحقق من هذا الحقل:",
        "at": "{date} {time}",
        "now": "الوقت الآن",
    },
}

_MONTHS = {
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "hi": "जन॰ फ़र॰ मार्च अप्रैल मई जून जुल॰ अग॰ सित॰ अक्तू॰ नव॰ दिस॰",
    "th": "ม.ค. ก.พ. มี.ค. เม.ย. พ.ค. มิ.ย. ก.ค. ส.ค. ก.ย. ต.ค. พ.ย. ธ.ค.",
    "uz": "yan fev mar apr may iyn iyl avg sen okt noy dek",
    "ru": "янв фев мар апр мая июн июл авг сен окт ноя дек",
    "ar": "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر",
}


def texts(language: str) -> dict[str, str]:
    """The page words in *language* (English for one we do not ship)."""
    return TEXTS.get(language, TEXTS["en"])


def direction(language: str) -> str:
    """``rtl`` for right-to-left languages, else ``ltr``."""
    return "rtl" if language.split("-")[0] in RTL else "ltr"


def format_moment(moment: datetime, language: str) -> str:
    """*moment* (already in the program's time zone) as "10:32 on 7 May" in *language*."""
    clock = moment.strftime("%H:%M")
    if language == "zh-Hans":
        day = f"{moment.month}月{moment.day}日"
    else:
        months = _MONTHS.get(language, _MONTHS["en"]).split(" ")
        day = f"{moment.day} {months[moment.month - 1]}"
    return texts(language)["at"].format(time=clock, date=day)


def negotiate(accept_language: str | None, offered: Sequence[str]) -> str:
    """The best of *offered* for an ``Accept-Language`` header (the first offered when none fits).

    >>> negotiate("zh-CN,zh;q=0.9,en;q=0.5", ["en", "zh-Hans", "th"])
    'zh-Hans'
    >>> negotiate("uz-Latn-UZ, ru;q=0.2", ["en", "ru", "uz"]), negotiate("de", ["en", "th"])
    ('uz', 'en')
    """
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "")[:1000].split(",")[:30]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((-quality, index, tag.strip().lower()))
    for _, _, tag in sorted(wanted):
        for candidate in _candidates(tag):
            match = next((lang for lang in offered if lang.lower() == candidate), None)
            if match is not None:
                return match
    return offered[0]


def _candidates(tag: str) -> list[str]:
    """``zh-cn`` -> zh-cn, zh-hans, zh; ``uz-latn-uz`` -> uz-latn-uz, uz-latn, uz."""
    parts = tag.split("-")
    found = ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]
    if parts[0] == "zh" and not any(p in ("hant", "tw", "hk", "mo") for p in parts[1:]):
        found.insert(1, "zh-hans")
    return found
