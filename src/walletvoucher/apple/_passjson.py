"""Model -> pass.json (a plain dict), plus the images and pass.strings that go with it.

A :class:`~walletvoucher.StampCard` becomes a ``storeCard``:

- collecting: header ``stamps`` = ``7/10`` (``changeMessage`` "Stamps: %@"), the strip draws
  the stamps, the barcode is a QR of the card's serial so a scanner or kiosk can stamp it;
- reward ready (the card holds an active voucher, ``options.voucher_on_card``): the primary
  field shows the reward, the barcode is the voucher's code; after redemption the same card
  (same serial number) returns to collecting.

A :class:`~walletvoucher.Voucher` shown as its own pass becomes a ``coupon`` with
``expirationDate`` and ``voided`` (redeemed or voided).

Barcodes by redemption method: Redeem Code -> the code in its symbology (EAN-13 / UPC-A fall
back to Code 128 with the same digits and a :class:`BarcodeFallbackWarning`; TEXT shows no
barcode); Staff-Scan -> QR of the signed scan token; Self-Redeem -> no barcode, the redeem
link on the back.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from walletvoucher.apple._images import StripDesign, icon_images, logo_images, strip_images
from walletvoucher.apple._labels import label
from walletvoucher.apple._options import AppleOptions
from walletvoucher.apple._strings import lproj_name, render_pass_strings
from walletvoucher.codes import Symbology, issue_scan_token
from walletvoucher.errors import AppleError, BarcodeFallbackWarning
from walletvoucher.model import LocalizedText, Program, RedemptionMethod, StampCard, Voucher, VoucherStatus

#: The business's symbology -> Apple's barcode format (None: Apple cannot draw it natively).
BARCODE_FORMATS: dict[Symbology, str | None] = {
    Symbology.QR: "PKBarcodeFormatQR",
    Symbology.PDF417: "PKBarcodeFormatPDF417",
    Symbology.AZTEC: "PKBarcodeFormatAztec",
    Symbology.CODE_128: "PKBarcodeFormatCode128",
    Symbology.EAN_13: None,
    Symbology.UPC_A: None,
    Symbology.TEXT: None,
}
#: Symbologies Apple cannot draw, shown as Code 128 carrying the same digits.
FALLBACK_TO_CODE128 = frozenset({Symbology.EAN_13, Symbology.UPC_A})
_ENCODING = "iso-8859-1"


def w3c_date(moment: datetime, zone: Any = None) -> str:
    """A W3C date Wallet accepts: seconds precision, always a zone, ``Z`` for UTC.

    >>> from datetime import timezone
    >>> w3c_date(datetime(2026, 5, 7, 8, 30, 0, 123456, tzinfo=timezone.utc))
    '2026-05-07T08:30:00Z'
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise AppleError("must be timezone-aware", field="date", value=moment.isoformat(),
                         fix="pass datetimes with a tzinfo, e.g. datetime.now(timezone.utc)")
    local = moment.astimezone(zone) if zone is not None else moment
    text = local.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class _Texts:
    """Collects every shown text: pass.json gets the base language, pass.strings the rest."""

    def __init__(self, base: str, languages: tuple[str, ...]) -> None:
        self.base = base
        self.languages = languages
        self.table: dict[str, dict[str, str]] = {}

    def add(self, make: Callable[[str], str]) -> str:
        key = make(self.base)
        self.table.setdefault(key, {lang: make(lang) for lang in self.languages})
        return key

    def text(self, text: LocalizedText) -> str:
        return self.add(text.get)

    def label(self, name: str) -> str:
        return self.add(lambda lang: label(name, lang))

    def files(self) -> dict[str, bytes]:
        return {
            lproj_name(lang): render_pass_strings({k: v[lang] for k, v in self.table.items()})
            for lang in self.languages
        }


@attrs.frozen(kw_only=True)
class PassContent:
    """Everything of a pass except manifest and signature: pass.json, files and warnings."""

    pass_json: dict[str, Any]
    files: dict[str, bytes] = attrs.field(repr=False)
    warnings: tuple[str, ...] = ()


class _Build:
    def __init__(self, program: Program, options: AppleOptions, at: datetime) -> None:
        self.program = program
        self.options = options
        self.at = at
        self.texts = _Texts(options.language or program.default_language, program.languages)
        self.warnings: list[str] = []

    # --- shared ------------------------------------------------------------------------

    def field(self, key: str, label_text: str, value: Any, **extra: Any) -> dict[str, Any]:
        return {"key": key, "label": label_text, "value": value, **extra}

    def date_field(self, key: str, label_name: str, moment: datetime) -> dict[str, Any]:
        return self.field(key, self.texts.label(label_name), w3c_date(moment, self.program.zone),
                          dateStyle="PKDateStyleMedium", timeStyle="PKDateStyleShort")

    def top(self, serial: str) -> dict[str, Any]:
        brand, opts = self.program.brand, self.options
        doc: dict[str, Any] = {
            "formatVersion": 1,
            "passTypeIdentifier": opts.pass_type_identifier,
            "teamIdentifier": opts.team_identifier,
            "serialNumber": serial,
            "organizationName": opts.organization_name or self.texts.text(brand.name),
            "description": self.texts.text(self.program.name),
            "logoText": self.texts.text(brand.name),
            "foregroundColor": brand.foreground.css_rgb,
            "backgroundColor": brand.background.css_rgb,
            "labelColor": brand.label.css_rgb,
        }
        if opts.sharing_prohibited:
            doc["sharingProhibited"] = True
        if opts.web_service_url is not None:
            doc["webServiceURL"] = opts.web_service_url
            doc["authenticationToken"] = opts.authentication_token
        if opts.locations:
            doc["locations"] = [self.location(loc) for loc in opts.locations]
        return doc

    def location(self, loc: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"latitude": float(loc.latitude), "longitude": float(loc.longitude)}
        if loc.relevant_text is not None:
            out["relevantText"] = self.texts.text(loc.relevant_text)
        return out

    def reward_back(self, voucher: Voucher | None) -> list[dict[str, Any]]:
        reward = voucher.reward if voucher else self.program.reward
        back = [self.field("details", self.texts.label("details"), self.texts.text(reward.description))]
        if reward.terms is not None:
            back.append(self.field("terms", self.texts.label("terms"), self.texts.text(reward.terms)))
        if voucher is not None:
            back.append(self.field("how", self.texts.label("how"),
                                   self.texts.label(f"how_{voucher.method.value}")))
            self_redeem = voucher.method is RedemptionMethod.SELF_REDEEM
            link = self.options.link_for(voucher.serial) if self_redeem else None
            if self_redeem and link is None:
                raise AppleError("a Self-Redeem voucher needs a redeem link", field="redeem_link", value=None,
                                 fix="set AppleOptions(redeem_link='https://example.com/redeem/{serial}')")
            if link is not None:
                text = self.texts.label("redeem_link")
                anchor = f"<a href='{link}'>{text}</a>"
                back.append(self.field("redeem_link", text, link, attributedValue=anchor))
        return back

    def voucher_barcode(self, voucher: Voucher) -> dict[str, Any] | None:
        if voucher.method is RedemptionMethod.STAFF_SCAN:
            if self.options.scan_key is None:
                raise AppleError("a Staff-Scan voucher needs a scan key to sign its token", field="scan_key",
                                 value=None, fix="set AppleOptions(scan_key=ScanKey(...))")
            token = issue_scan_token(voucher.serial, expires_at=voucher.expires_at, key=self.options.scan_key)
            return _barcode("PKBarcodeFormatQR", token, voucher.serial)
        if voucher.method is RedemptionMethod.REDEEM_CODE and voucher.code is not None:
            return self.code_barcode(voucher.code.value, voucher.code.symbology)
        return None

    def code_barcode(self, value: str, symbology: Symbology) -> dict[str, Any] | None:
        apple = BARCODE_FORMATS[symbology]
        if apple is not None:
            return _barcode(apple, value, value)
        if symbology in FALLBACK_TO_CODE128:
            note = (f"Apple Wallet cannot show {symbology.name} barcodes; the code {value!r} is shown as "
                    "Code 128 carrying the same digits, with the digits as text below it")
            warnings.warn(note, BarcodeFallbackWarning, stacklevel=6)
            self.warnings.append(note)
            return _barcode("PKBarcodeFormatCode128", value, value)
        return None  # Symbology.TEXT: the code is shown as a field only

    def images(self, style: str, filled: int) -> dict[str, bytes]:
        brand = self.program.brand
        name, bg, fg = brand.name.default, brand.background.rgb, brand.foreground.rgb
        design = StripDesign(goal=self.program.goal, background=bg, stamp=brand.label.rgb,
                             stamp_icon=brand.stamp_icon)
        return {**icon_images(name, fg, bg, brand.icon), **logo_images(name, bg, fg, brand.logo),
                **strip_images(design, filled, style)}

    def content(self, doc: dict[str, Any], style: str, filled: int) -> PassContent:
        files = {**self.images(style, filled), **self.texts.files()}
        return PassContent(pass_json=doc, files=files, warnings=tuple(self.warnings))

    # --- store card ----------------------------------------------------------------------

    def card(self, card: StampCard) -> PassContent:
        voucher = card.open_voucher(self.at) if self.options.voucher_on_card else None
        stamp_label = self.program.stamp_label
        stamps = self.field("stamps", self.texts.text(stamp_label), card.progress,
                            changeMessage=self.texts.add(lambda lang: f"{stamp_label.get(lang)}: %@"))
        reward_title = self.texts.text(self.program.reward.title)
        member = self.field("member", self.texts.label("member"), card.member_id)
        lifetime = self.field("lifetime", self.texts.label("lifetime"), card.lifetime_stamps)
        body: dict[str, Any] = {"headerFields": [stamps], "auxiliaryFields": [member]}
        barcode: dict[str, Any] | None = _barcode("PKBarcodeFormatQR", card.serial, card.serial)
        if voucher is None:
            body["secondaryFields"] = [self.field("reward", self.texts.label("reward"), reward_title)]
            body["backFields"] = [*self.reward_back(None), lifetime]
        else:
            ready = self.texts.add(lambda lang: f"{label('reward_ready', lang)}: %@")
            body["primaryFields"] = [self.field("reward", self.texts.label("reward_ready"),
                                                self.texts.text(voucher.reward.title), changeMessage=ready)]
            body["secondaryFields"] = self.voucher_fields(voucher)
            body["backFields"] = [*self.reward_back(voucher), lifetime]
            barcode = self.voucher_barcode(voucher) or barcode
        doc = self.top(card.serial)
        doc["storeCard"] = body
        if barcode is not None:
            doc["barcodes"] = [barcode]
        return self.content(doc, "storeCard", card.stamps)

    def voucher_fields(self, voucher: Voucher) -> list[dict[str, Any]]:
        fields = []
        if voucher.code is not None:
            fields.append(self.field("code", self.texts.label("code"), voucher.code.value))
        if voucher.expires_at is not None:
            fields.append(self.date_field("expires", "valid_until", voucher.expires_at))
        return fields

    # --- coupon --------------------------------------------------------------------------

    def coupon(self, voucher: Voucher) -> PassContent:
        status = voucher.status_at(self.at)
        title = self.texts.text(voucher.reward.title)
        body: dict[str, Any] = {
            "primaryFields": [self.field("reward", self.texts.label("reward"), title)],
            "secondaryFields": self.voucher_fields(voucher),
            "backFields": self.reward_back(voucher),
        }
        if status in (VoucherStatus.REDEEMED, VoucherStatus.VOIDED):
            body["headerFields"] = [self.field("status", self.texts.label("status"),
                                               self.texts.label(status.value))]
        if voucher.reward.value is not None:
            money = voucher.reward.value
            body["auxiliaryFields"] = [self.field("value", self.texts.label("value"), float(money.amount),
                                                  currencyCode=money.currency)]
        doc = self.top(voucher.serial)
        doc["coupon"] = body
        barcode = self.voucher_barcode(voucher)
        if barcode is not None:
            doc["barcodes"] = [barcode]
        if voucher.expires_at is not None:
            doc["expirationDate"] = w3c_date(voucher.expires_at, self.program.zone)
        if status in (VoucherStatus.REDEEMED, VoucherStatus.VOIDED):
            doc["voided"] = True
        return self.content(doc, "coupon", self.program.goal)


def _barcode(fmt: str, message: str, alt: str) -> dict[str, Any]:
    return {"format": fmt, "message": message, "messageEncoding": _ENCODING, "altText": alt}


def build_pass_content(
    item: StampCard | Voucher, *, options: AppleOptions, at: datetime, program: Program | None = None
) -> PassContent:
    """Build pass.json, images and pass.strings for a card (storeCard) or a voucher (coupon).

    ``program`` is needed for a voucher (its brand and texts); a card brings its own.
    Warnings (e.g. a barcode fallback) are raised with :mod:`warnings` and kept in
    ``.warnings``.
    """
    w3c_date(at)  # checks the clock is timezone-aware
    if isinstance(item, StampCard):
        return _Build(item.program, options, at).card(item)
    if program is None:
        raise AppleError("a voucher needs its program to be rendered", field="program", value=None,
                         fix="pass program=card.program")
    return _Build(program, options, at).coupon(item)


def build_pass_json(
    item: StampCard | Voucher, *, options: AppleOptions, at: datetime, program: Program | None = None
) -> dict[str, Any]:
    """The pass.json dict for a card or voucher (nothing signed, nothing zipped).

    >>> # doc = build_pass_json(card, options=options, at=now); doc["storeCard"]["headerFields"][0]["value"]
    >>> # '7/10'
    """
    return build_pass_content(item, options=options, at=at, program=program).pass_json
