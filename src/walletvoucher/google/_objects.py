"""Model -> Google Wallet JSON: LoyaltyClass, LoyaltyObject, OfferClass, OfferObject.

The Google vocabulary (barcode types, object states, field names) lives here and nowhere
else. Every builder returns a plain dict that validates against the walletobjects v1
discovery document: no unknown fields, int64 as strings, no empty lists, no ``*_UNSPECIFIED``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from walletvoucher.codes import Symbology, issue_scan_token
from walletvoucher.codes._rotating import rotating_barcode
from walletvoucher.errors import GoogleOptionsError
from walletvoucher.google._ids import make_id
from walletvoucher.google._labels import with_built_in_words
from walletvoucher.google._options import GoogleOptions, ReviewStatus, ScanDisplay, VoucherDisplay
from walletvoucher.model import (
    Channel,
    LocalizedText,
    Program,
    RedemptionContext,
    RedemptionMethod,
    StampCard,
    Voucher,
    VoucherStatus,
)

__all__ = [
    "BARCODE_TYPES",
    "CLASS_FIELDS",
    "OBJECT_STATES",
    "card_object_id",
    "check_objects_allowed",
    "localized_string",
    "loyalty_class",
    "loyalty_class_id",
    "loyalty_object",
    "offer_class",
    "offer_class_id",
    "offer_object",
    "offer_object_id",
    "stamp_balance",
]

BARCODE_TYPES: dict[Symbology, str] = {
    Symbology.QR: "QR_CODE",
    Symbology.CODE_128: "CODE_128",
    Symbology.EAN_13: "EAN_13",
    Symbology.UPC_A: "UPC_A",
    Symbology.PDF417: "PDF_417",
    Symbology.AZTEC: "AZTEC",
    Symbology.TEXT: "TEXT_ONLY",
}
"""walletvoucher symbology -> Google ``Barcode.type``."""

OBJECT_STATES: dict[VoucherStatus, str] = {
    VoucherStatus.ISSUED: "ACTIVE",
    VoucherStatus.ACTIVE: "ACTIVE",
    VoucherStatus.REDEEMED: "COMPLETED",
    VoucherStatus.VOIDED: "INACTIVE",
    VoucherStatus.EXPIRED: "EXPIRED",
}
"""Voucher status -> Google object ``state`` (``ISSUED`` shows with a future ``validTimeInterval``)."""

_MAX_BALANCE = 7

CLASS_FIELDS = frozenset({
    "id", "hexBackgroundColor", "reviewStatus", "issuerName", "localizedIssuerName", "homepageUri",
    "programName", "localizedProgramName", "programLogo", "textModulesData",
    "title", "localizedTitle", "provider", "localizedProvider", "details", "localizedDetails",
    "finePrint", "localizedFinePrint", "titleImage", "redemptionChannel",
})
"""Every field :func:`loyalty_class` and :func:`offer_class` may write.

Bringing a class up to date (a new program version) replaces these: one the new class lacks is
removed (:meth:`~walletvoucher.google.WalletRestClient.replace_class`); any other field of the
stored class (messages, settings made in the Wallet console) is kept."""


# --- ids ---------------------------------------------------------------------------------------


def loyalty_class_id(program: Program, options: GoogleOptions) -> str:
    """``<issuer>.<program id>``: one class per program, replaced when the program is revised."""
    return make_id(options.issuer_id, program.id)


def card_object_id(card_serial: str, program_id: str, options: GoogleOptions) -> str:
    """``<issuer>.<program id>.card.<serial>``: stable for the card's whole life."""
    return make_id(options.issuer_id, program_id, "card", card_serial)


def offer_class_id(voucher: Voucher, options: GoogleOptions) -> str:
    """``<issuer>.<program id>.reward.v<version>``: one offer class per program version (a milestone's
    reward has its own: ``...reward.v<version>-m<stamps>``)."""
    version = f"v{voucher.program_version}" + (f"-m{voucher.milestone}" if voucher.milestone else "")
    return make_id(options.issuer_id, voucher.program_id, "reward", version)


def offer_object_id(voucher: Voucher, options: GoogleOptions) -> str:
    """``<issuer>.<program id>.voucher.<serial>``."""
    return make_id(options.issuer_id, voucher.program_id, "voucher", voucher.serial)


# --- localisation ------------------------------------------------------------------------------


def localized_string(text: LocalizedText, program: Program) -> dict[str, Any] | None:
    """A ``LocalizedString`` listing only the languages ``text`` really has a translation for.

    A language the program speaks but this text was never translated into is left out, so
    Google shows the default there instead of an English text labelled as Thai. ``None`` when
    the text has no translation at all (the plain field says it all).

    >>> from walletvoucher.model import Brand, Program, RedemptionMethod, Reward
    >>> program = Program(id="p", name=LocalizedText(default="Card", translations={"th": "บัตร"}),
    ...     brand=Brand(name="B", foreground="#FFFFFF", background="#000000", label="#FFFFFF"),
    ...     goal=5, reward=Reward(title="Tea", description="Any"), redemption=RedemptionMethod.SELF_REDEEM)
    >>> localized_string(program.name, program)["translatedValues"]
    [{'language': 'th', 'value': 'บัตร'}]
    >>> localized_string(program.reward.title, program) is None
    True
    """
    translated = text.as_dict()
    others = [lang for lang in program.languages if lang != program.default_language and lang in translated]
    if not others:
        return None
    return {
        "defaultValue": {"language": program.default_language, "value": text.default},
        "translatedValues": [{"language": lang, "value": translated[lang]} for lang in others],
    }


def _put_text(target: dict[str, Any], name: str, text: LocalizedText, program: Program) -> None:
    """Set ``name`` and, when the program has translations, ``localizedName``."""
    target[name] = text.default
    localized = localized_string(text, program)
    if localized is not None:
        target["localized" + name[0].upper() + name[1:]] = localized


def _image(url: str, description: LocalizedText, program: Program) -> dict[str, Any]:
    described = localized_string(description, program) or {
        "defaultValue": {"language": program.default_language, "value": description.default}
    }
    return {"sourceUri": {"uri": url}, "contentDescription": described}


def _text_module(
    module_id: str, header: LocalizedText, body: LocalizedText, program: Program
) -> dict[str, Any]:
    module: dict[str, Any] = {"id": module_id}
    _put_text(module, "header", header, program)
    _put_text(module, "body", body, program)
    return module


def check_objects_allowed(options: GoogleOptions) -> None:
    """Refuse to build objects under ``ReviewStatus.DRAFT``.

    walletobjects v1, ``LoyaltyClass.reviewStatus``: "A ``draft`` class cannot be used to
    create any object". A save link or an object insert made under a draft class would only
    fail later at Google, so it fails here, with the fix.
    """
    if options.review_status is ReviewStatus.DRAFT:
        raise GoogleOptionsError(
            "a draft class cannot be used to create any object (save link or object insert)",
            field="review_status",
            value=options.review_status.value,
            fix="use GoogleOptions(review_status=ReviewStatus.UNDER_REVIEW) (the default); keep DRAFT "
            "only for inserting a class you are still designing, with loyalty_class()/offer_class()",
        )


def _common_class(class_id: str, program: Program, options: GoogleOptions) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": class_id,
        "hexBackgroundColor": program.brand.background.hex,
        "reviewStatus": options.review_status.value,
    }
    _put_text(body, "issuerName", options.issuer_name or program.brand.name, program)
    if options.homepage_url is not None:
        body["homepageUri"] = {"uri": options.homepage_url}
    if options.callback_url is not None:  # Google's save/delete callbacks (verify_callback) go here
        body["callbackOptions"] = {"url": options.callback_url}
    return body


# --- loyalty -----------------------------------------------------------------------------------


def loyalty_class(program: Program, options: GoogleOptions) -> dict[str, Any]:
    """The ``LoyaltyClass`` for a program: name, logo, issuer, colour, reward description.

    >>> # loyalty_class(program, options)["programName"]  -> 'Coffee card'
    """
    body = _common_class(loyalty_class_id(program, options), program, options)
    _put_text(body, "programName", program.name, program)
    body["programLogo"] = _image(options.logo_url, program.brand.name, program)
    body["textModulesData"] = [
        _text_module("reward", program.reward.title, program.reward.description, program)
    ]
    return body


def stamp_balance(stamps: int, goal: int) -> str:
    """``"7/10"``, or just ``"7"`` when that would be over Google's 7 characters.

    >>> stamp_balance(7, 10), stamp_balance(123, 1000)
    ('7/10', '123')
    """
    text = f"{stamps}/{goal}"
    return text if len(text) <= _MAX_BALANCE else str(stamps)


def _open_vouchers(card: StampCard, at: datetime) -> list[Voucher]:
    live = (VoucherStatus.ISSUED, VoucherStatus.ACTIVE)
    return [v for v in card.vouchers if v.status_at(at) in live]


def loyalty_object(
    card: StampCard, options: GoogleOptions, *, at: datetime, link_offers: bool = False
) -> dict[str, Any]:
    """The ``LoyaltyObject`` for a card at time ``at``: stamps, rewards, barcode.

    The barcode identifies the card (its serial) for stamping; with
    ``VoucherDisplay.ON_CARD`` and an active voucher it shows the redeem code instead.
    ``link_offers=True`` lists the card's vouchers in ``linkedOfferIds`` (they must have been
    inserted as offer objects first, through the REST API).
    """
    check_objects_allowed(options)
    program = card.program
    body: dict[str, Any] = {
        "id": card_object_id(card.serial, program.id, options),
        "classId": loyalty_class_id(program, options),
        "state": "EXPIRED" if card.expires_at is not None and at >= card.expires_at else "ACTIVE",
        "accountId": card.member_id,
        "loyaltyPoints": _card_points(card),
        "barcode": _card_barcode(card),
    }
    if options.hero_image_url_template is not None:
        url = options.hero_image_url_template.format(stamps=card.stamps, goal=card.goal, program=program.id)
        body["heroImage"] = {"sourceUri": {"uri": url}}  # decorative: the balance says it in words
    if card.expires_at is not None:
        body["validTimeInterval"] = _interval(card.issued_at, card.expires_at)
    modules = [*([_milestones_module(card)] if program.milestones else []), *_lapse_module(card, at),
               *_earn_modules(card)]
    if modules:
        body["textModulesData"] = modules
    earned = len(_open_vouchers(card, at))
    if earned:
        body["secondaryLoyaltyPoints"] = _int_points(options.rewards_label, earned, program)
    voucher = card.open_voucher(at) if options.voucher_display is VoucherDisplay.ON_CARD else None
    if voucher is not None:
        _show_voucher(body, voucher, program, options)
    offers = _open_vouchers(card, at)
    if link_offers and offers and options.voucher_display is VoucherDisplay.SEPARATE:
        body["linkedOfferIds"] = [offer_object_id(v, options) for v in offers]
    return body


def _earn_modules(card: StampCard) -> list[dict[str, Any]]:
    """Earning by amount: the amount per stamp, and what the card has kept towards the next one."""
    rule, program = card.program.earn_by_amount, card.program
    if rule is None:
        return []
    return [
        _text_module(module_id, with_built_in_words(LocalizedText(default=header), program),
                     LocalizedText(default=f"{amount} {rule.currency}"), program)
        for module_id, header, amount in (("stamp_per", "One stamp per", rule.step),
                                          ("carried", "Towards the next stamp", card.amount_carried))
    ]


def _lapse_module(card: StampCard, at: datetime) -> list[dict[str, Any]]:
    """When the card's stamps lapse: the date in the program's time zone (none when they do not); from
    ``warn_days`` ahead the header warns ("Your stamps expire on"); the Google sync sends the update
    then, with a message that notifies the holder within the budget."""
    lapse, warn = card.stamps_lapse_at, card.stamps_warn_at
    if lapse is None:
        return []
    program = card.program
    words = "Your stamps expire on" if warn is not None and warn <= at < lapse else "Stamps expire"
    header = with_built_in_words(LocalizedText(default=words), program)
    shown = lapse.astimezone(program.zone).strftime("%Y-%m-%d %H:%M")  # digits read in every language
    return [_text_module("stamps_lapse", header, LocalizedText(default=shown), program)]


def _card_points(card: StampCard) -> dict[str, Any]:
    """The stamps towards the goal, or what is left of a prepaid card's punches."""
    program, left = card.program, card.punches_left
    if left is None or program.punches is None:
        return _points(program.stamp_label, stamp_balance(card.stamps, card.goal), program)
    return _points(LocalizedText(default="Left"), stamp_balance(left, program.punches), program)


def _milestones_module(card: StampCard) -> dict[str, Any]:
    """The cycle's milestones, one a line: earned (✓) or ahead (○), the stamps and the reward."""
    program = card.program

    def lines(tag: str) -> str:
        return "\n".join(f"{'✓' if earned else '○'} {m.at}/{card.goal}: {m.reward.title.get(tag)}"
                         for m, earned in card.milestones)

    translated = {tag for m in program.milestones for tag in m.reward.title.languages}
    body = LocalizedText(default=lines(program.default_language),
                         translations={tag: lines(tag) for tag in program.languages[1:] if tag in translated})
    header = with_built_in_words(LocalizedText(default="Milestone rewards"), program)
    return _text_module("milestones", header, body, program)


def _points(label: LocalizedText, balance: str, program: Program) -> dict[str, Any]:
    points: dict[str, Any] = {"balance": {"string": balance}}
    _put_text(points, "label", with_built_in_words(label, program), program)
    return points


def _int_points(label: LocalizedText, count: int, program: Program) -> dict[str, Any]:
    points: dict[str, Any] = {"balance": {"int": count}}
    _put_text(points, "label", with_built_in_words(label, program), program)
    return points


def _card_barcode(card: StampCard) -> dict[str, Any]:
    return {"type": "QR_CODE", "value": card.serial, "alternateText": card.serial}


def _show_voucher(body: dict[str, Any], voucher: Voucher, program: Program, options: GoogleOptions) -> None:
    staff_scan = voucher.method is RedemptionMethod.STAFF_SCAN
    rotating = staff_scan and options.scan_display is not ScanDisplay.STATIC
    barcode = _voucher_barcode(voucher, options)
    if rotating:  # no static code beside it (not even the card's) unless the program asks for one
        body["rotatingBarcode"] = _rotating_barcode(voucher, options)
        body.pop("barcode", None)
    if barcode is not None and (not rotating or options.scan_display is ScanDisplay.ROTATING_WITH_STATIC):
        body["barcode"] = barcode
    links = _redeem_links(voucher, program, options)
    if links is not None:
        body["linksModuleData"] = links


# --- vouchers ----------------------------------------------------------------------------------


def _voucher_barcode(voucher: Voucher, options: GoogleOptions) -> dict[str, Any] | None:
    if voucher.method is RedemptionMethod.REDEEM_CODE and voucher.code is not None:
        code = voucher.code
        barcode = {"type": BARCODE_TYPES[code.symbology], "value": code.value}
        if code.symbology is not Symbology.TEXT:  # TEXT_ONLY shows the value itself: no alternateText
            barcode["alternateText"] = code.value
        return barcode
    if voucher.method is RedemptionMethod.STAFF_SCAN:
        if options.scan_key is None:
            raise GoogleOptionsError(
                "is needed to show a Staff-Scan voucher",
                field="scan_key",
                value=None,
                fix="pass GoogleOptions(scan_key=ScanKey(...)), the key your staff app verifies with",
            )
        token = issue_scan_token(voucher.serial, expires_at=voucher.expires_at, key=options.scan_key)
        return {"type": "QR_CODE", "value": token, "alternateText": voucher.serial}
    return None


def _rotating_barcode(voucher: Voucher, options: GoogleOptions) -> dict[str, Any]:
    """Google's ``rotatingBarcode``: a TOTP (RFC 6238, SHA-1) whose key is derived from the scan key and
    the voucher's serial, so a scanner holding the scan key checks it offline."""
    assert options.scan_key is not None  # _voucher_barcode raised otherwise
    shown = rotating_barcode(voucher.serial, key_id=options.scan_key.key_id, secret=options.scan_key.secret)
    return {
        "type": "QR_CODE",
        "renderEncoding": "UTF_8",
        "valuePattern": shown.value_pattern,
        "alternateText": voucher.serial,
        "totpDetails": {
            "algorithm": "TOTP_SHA1",
            "periodMillis": str(shown.period_seconds * 1000),
            "parameters": [{"key": shown.key_hex, "valueLength": shown.digits}],
        },
    }


def _redeem_links(voucher: Voucher, program: Program, options: GoogleOptions) -> dict[str, Any] | None:
    if voucher.method is not RedemptionMethod.SELF_REDEEM:
        return None
    if options.redeem_link_template is None:
        raise GoogleOptionsError(
            "is needed to show a Self-Redeem voucher",
            field="redeem_link_template",
            value=None,
            fix="pass GoogleOptions(redeem_link_template='https://shop.example.com/redeem/{serial}')",
        )
    url = options.redeem_link_template.format(
        serial=voucher.serial, card=voucher.card_serial, program=voucher.program_id
    )
    if options.redeem_link_key is not None:
        url = options.redeem_link_key.sign_link(url, voucher.serial)
    uri: dict[str, Any] = {"id": "redeem", "uri": url}
    _put_text(uri, "description", voucher.reward.title, program)
    return {"uris": [uri]}


def offer_class(voucher: Voucher, program: Program, options: GoogleOptions) -> dict[str, Any]:
    """The ``OfferClass`` for a voucher's reward (one per program version).

    ``program`` gives the brand, colours and languages; the reward is the voucher's own.
    """
    body = _common_class(offer_class_id(voucher, options), program, options)
    reward = voucher.reward
    _put_text(body, "title", reward.title, program)
    _put_text(body, "provider", program.brand.name, program)
    _put_text(body, "details", reward.description, program)
    if reward.terms is not None:
        _put_text(body, "finePrint", reward.terms, program)
    body["titleImage"] = _image(options.logo_url, program.brand.name, program)
    body["redemptionChannel"] = _redemption_channel(reward.context)
    context = reward.context
    if context is not None and context.describe():
        header = with_built_in_words(LocalizedText(default="When and where"), program)
        words = LocalizedText(default=context.describe(program.default_language),
                              translations={tag: context.describe(tag) for tag in program.languages[1:]})
        body["textModulesData"] = [_text_module("context", header, words, program)]
    return body


def _redemption_channel(context: RedemptionContext | None) -> str:
    """``INSTORE`` unless the reward's context says online (``ONLINE``) or both (``BOTH``)."""
    channels = set(context.channels) if context is not None else set()
    if channels == {Channel.ONLINE}:
        return "ONLINE"
    return "BOTH" if channels == set(Channel) else "INSTORE"


def offer_object(
    voucher: Voucher, program: Program, options: GoogleOptions, *, at: datetime
) -> dict[str, Any]:
    """The ``OfferObject`` for a voucher at time ``at``: state, validity, redeem code or link.

    Redeemed -> ``COMPLETED``, voided -> ``INACTIVE``, expired -> ``EXPIRED``; final vouchers
    carry no code or link. It is grouped with its card.
    """
    check_objects_allowed(options)
    status = voucher.status_at(at)
    body: dict[str, Any] = {
        "id": offer_object_id(voucher, options),
        "classId": offer_class_id(voucher, options),
        "state": OBJECT_STATES[status],
        "validTimeInterval": _interval(voucher.valid_from, voucher.expires_at),
        "groupingInfo": {"groupingId": card_object_id(voucher.card_serial, voucher.program_id, options)},
    }
    if not status.is_final:
        _show_voucher(body, voucher, program, options)
    return body


def _interval(start: datetime, end: datetime | None) -> dict[str, Any]:
    interval: dict[str, Any] = {"start": {"date": start.isoformat()}}
    if end is not None:
        interval["end"] = {"date": end.isoformat()}
    return interval


def payload_for(
    classes_key: str, objects_key: str, classes: Sequence[dict[str, Any]], objects: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """A save-link ``payload`` with non-empty lists only."""
    payload: dict[str, Any] = {}
    if classes:
        payload[classes_key] = list(classes)
    if objects:
        payload[objects_key] = list(objects)
    return payload
