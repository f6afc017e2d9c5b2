"""The library's words for the stamp card and its rules, shared by both renderers: the Apple pass's
labels (:mod:`walletvoucher.apple._labels`, keyed by these names) and the Google object's built-in
words (:mod:`walletvoucher.google._labels`, keyed by the English word). One table, so the two wallets
never word a rule differently. Every word a Google ``LoyaltyPoints.label`` can take ("Stamps",
"Left") is within its 9 characters."""

from __future__ import annotations

RULE_WORDS: dict[str, dict[str, str]] = {
    "stamps": {  # the model's default stamp label, where the program gives no translation
        "en": "Stamps", "zh-Hans": "印章", "hi": "स्टैम्प", "th": "แสตมป์", "uz": "Muhrlar", "zh-Hant": "印章",
        "ru": "Штампы", "de": "Stempel", "fr": "Tampons", "es": "Sellos", "ar": "الطوابع",
    },
    "milestones": {
        "en": "Milestone rewards", "zh-Hans": "阶段奖励", "hi": "पड़ाव इनाम", "th": "รางวัลระหว่างทาง",
        "uz": "Oraliq mukofotlar", "zh-Hant": "階段獎勵", "ru": "Промежуточные награды",
        "de": "Zwischenprämien", "fr": "Récompenses d'étape", "es": "Recompensas intermedias",
        "ar": "مكافآت المراحل",
    },
    "stamps_lapse": {
        "en": "Stamps expire", "zh-Hans": "印章到期", "hi": "स्टैम्प की समाप्ति", "th": "แสตมป์หมดอายุ",
        "uz": "Muhrlar muddati", "zh-Hant": "印章到期", "ru": "Штампы сгорают", "de": "Stempel verfallen",
        "fr": "Expiration des tampons", "es": "Los sellos caducan", "ar": "انتهاء الطوابع",
    },
    "stamps_warning": {  # the change message's words, before the date
        "en": "Your stamps expire on", "zh-Hans": "您的印章到期日：", "hi": "आपके स्टैम्प समाप्त होंगे:",
        "th": "แสตมป์ของคุณจะหมดอายุวันที่", "uz": "Muhrlaringiz muddati tugaydi:", "zh-Hant": "您的印章到期日：",
        "ru": "Ваши штампы сгорят", "de": "Ihre Stempel verfallen am", "fr": "Vos tampons expirent le",
        "es": "Sus sellos caducan el", "ar": "تنتهي طوابعك في",
    },
    "stamp_per": {
        "en": "One stamp per", "zh-Hans": "每次消费满", "hi": "एक स्टैम्प प्रति", "th": "รับแสตมป์ทุกยอด",
        "uz": "Bitta muhr har", "zh-Hant": "每次消費滿", "ru": "Один штамп за", "de": "Ein Stempel je",
        "fr": "Un tampon par tranche de", "es": "Un sello cada", "ar": "طابع واحد لكل",
    },
    "carried": {
        "en": "Towards the next stamp", "zh-Hans": "距下一个印章已累计", "hi": "अगले स्टैम्प के लिए जमा",
        "th": "ยอดสะสมสู่แสตมป์ถัดไป", "uz": "Keyingi muhr uchun", "zh-Hant": "距下一個印章已累計",
        "ru": "В счёт следующего штампа", "de": "Für den nächsten Stempel", "fr": "Vers le prochain tampon",
        "es": "Para el próximo sello", "ar": "نحو الطابع التالي",
    },
    "punches_left": {
        "en": "Left", "zh-Hans": "剩余", "hi": "शेष", "th": "คงเหลือ", "uz": "Qoldi", "zh-Hant": "剩餘",
        "ru": "Осталось", "de": "Übrig", "fr": "Restant", "es": "Quedan", "ar": "المتبقي",
    },
    "context": {
        "en": "When and where", "zh-Hans": "使用时间和地点", "hi": "कब और कहाँ", "th": "เวลาและสถานที่ใช้",
        "uz": "Qachon va qayerda", "zh-Hant": "使用時間和地點", "ru": "Когда и где", "de": "Wann und wo",
        "fr": "Quand et où", "es": "Cuándo y dónde", "ar": "متى وأين",
    },
}
