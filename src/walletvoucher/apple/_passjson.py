"""Model -> pass.json (a plain dict), plus the images and pass.strings that go with it.

A :class:`~walletvoucher.StampCard` becomes a ``storeCard``:

- collecting: header ``stamps`` = ``7/10`` (``changeMessage`` "Stamps: %@"; the default label
  "Stamps" is shown in walletvoucher's own words where the program has no translation), the strip
  draws the stamps, the barcode is a QR of the card's serial so a scanner or kiosk can stamp it;
- reward ready (the card holds an active voucher, ``options.voucher_on_card``): the primary
  field shows the reward (Wallet draws it over the strip, so the strip keeps its stamps above
  the field's band, as on every coupon), the barcode is the voucher's code; after redemption the same card
  (same serial number) returns to collecting;
- holding a voucher that is not valid yet: a "Valid from" date field and a
  :class:`PassContentWarning` (render and push again once it is valid).

A :class:`~walletvoucher.Voucher` shown as its own pass becomes a ``coupon`` with
``expirationDate`` and ``voided`` (redeemed or voided).

Barcodes by redemption method: Redeem Code -> the code in its symbology (EAN-13 / UPC-A fall
back to Code 128 with the same digits and a :class:`BarcodeFallbackWarning`; TEXT shows no
barcode; a Code 128 barcode is followed in ``barcodes[]`` by a QR code of the same
message, which Apple Watch shows since it cannot show Code 128); Staff-Scan -> QR of the
signed scan token; Self-Redeem -> no barcode, the redeem link on the back
(``<a href='...'>`` with the link HTML-escaped and its text translated per lproj).
``messageEncoding`` is ``iso-8859-1`` when the code fits it and ``utf-8`` otherwise, and the
format's capacity is counted in bytes of that encoding.

Texts: which key each shown text gets is :mod:`._texts`' job (every text its own translation);
``changeMessage`` texts have their ``%`` doubled so ``%@`` is the only placeholder. Amounts are
JSON numbers a double holds exactly (:func:`json_amount`). Content that reads badly (contrast,
length, labels without a translation) is reported by :mod:`._readability` as warnings.
"""

from __future__ import annotations

import html
import warnings
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from walletvoucher._fonts import missing_glyph_note
from walletvoucher.apple._images import StripDesign, icon_images, initials, logo_images, strip_images
from walletvoucher.apple._labels import has_labels, label
from walletvoucher.apple._options import AppleOptions
from walletvoucher.apple._readability import contrast_warnings, front_length_warnings
from walletvoucher.apple._strings import apple_language
from walletvoucher.apple._texts import PassTexts, escape_format, lproj_languages
from walletvoucher.codes import Symbology, issue_scan_token
from walletvoucher.codes._pos import AZTEC_MAX_BYTES, CODE_128_MAX_CHARS, PDF417_MAX_BYTES, QR_MAX_BYTES
from walletvoucher.errors import (
    AppleError,
    AppleWalletWarning,
    BarcodeFallbackWarning,
    MissingGlyphWarning,
    PassContentWarning,
)
from walletvoucher.model import Money, Program, RedemptionMethod, StampCard, Voucher, VoucherStatus

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
#: How much each Apple format carries, counted in bytes of the declared ``messageEncoding``
#: (Code 128: characters, and only ASCII).
BARCODE_CAPACITY: dict[str, int] = {
    "PKBarcodeFormatQR": QR_MAX_BYTES,
    "PKBarcodeFormatPDF417": PDF417_MAX_BYTES,
    "PKBarcodeFormatAztec": AZTEC_MAX_BYTES,
    "PKBarcodeFormatCode128": CODE_128_MAX_CHARS,
}
#: Formats Apple Watch does not show; a pass carrying one also lists a QR code of the same message.
WATCH_UNSUPPORTED = frozenset({"PKBarcodeFormatCode128"})
MAX_SAFE_INTEGER = 2**53
"""JSON readers that hold numbers as doubles (JavaScript, Swift's JSONSerialization) are exact below this."""
MAX_AMOUNT_DIGITS = 15
"""A decimal of at most 15 significant digits survives the trip through a double unchanged."""


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
        languages = lproj_languages(program.languages)
        base = options.language or apple_language(program.default_language)
        self.texts = PassTexts(base, languages)
        self.warnings: list[str] = []
        self.overrides = options.label_overrides
        self.stamp_words: dict[str, str] = {}

    # --- shared ------------------------------------------------------------------------

    def warn(self, note: str, category: type[AppleWalletWarning] = PassContentWarning) -> None:
        warnings.warn(note, category, stacklevel=6)
        self.warnings.append(note)

    def label(self, name: str) -> str:
        overrides = self.overrides
        return self.texts.add(f"label.{name}", lambda lproj: label(name, lproj, overrides))

    def field(self, key: str, label_text: str, value: Any, **extra: Any) -> dict[str, Any]:
        return {"key": key, "label": label_text, "value": value, **extra}

    def date_field(self, key: str, label_name: str, moment: datetime) -> dict[str, Any]:
        return self.field(key, self.label(label_name), w3c_date(moment, self.program.zone),
                          dateStyle="PKDateStyleMedium", timeStyle="PKDateStyleShort")

    def reserve_common(self, serial: str) -> None:
        """Untranslated values keep their exact keys: reserve them before any translated text."""
        self.texts.reserve("serialNumber", serial)
        if self.options.organization_name is not None:
            self.texts.reserve("organization_name", self.options.organization_name)

    def top(self, serial: str) -> dict[str, Any]:
        brand, opts = self.program.brand, self.options
        doc: dict[str, Any] = {
            "formatVersion": 1,
            "passTypeIdentifier": opts.pass_type_identifier,
            "teamIdentifier": opts.team_identifier,
            "serialNumber": serial,
            "organizationName": opts.organization_name or self.texts.text("brand.name", brand.name),
            "description": self.texts.text("program.name", self.program.name),
            "logoText": self.texts.text("brand.name", brand.name),
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
            doc["locations"] = [self.location(index, loc) for index, loc in enumerate(opts.locations)]
        return doc

    def branch_places(self, doc: dict[str, Any], voucher: Voucher | None) -> None:
        """A voucher bound to some branches (its reward's context) shows near those, not everywhere."""
        context = voucher.reward.context if voucher is not None else None
        places = self.options.branch_locations(context.locations) if context is not None else ()
        if places:
            doc["locations"] = [self.location(index, loc) for index, loc in enumerate(places)]

    def location(self, index: int, loc: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"latitude": float(loc.latitude), "longitude": float(loc.longitude)}
        if loc.relevant_text is not None:
            out["relevantText"] = self.texts.text(f"locations[{index}].relevant_text", loc.relevant_text)
        return out

    def reward_back(self, voucher: Voucher | None) -> list[dict[str, Any]]:
        reward = voucher.reward if voucher else self.program.reward
        details = self.texts.text("reward.description", reward.description)
        back = [self.field("details", self.label("details"), details)]
        if reward.terms is not None:
            terms = self.texts.text("reward.terms", reward.terms)
            back.append(self.field("terms", self.label("terms"), terms))
        context = reward.context
        if context is not None and context.describe():
            words = self.texts.add("reward.context", lambda lproj: context.describe(self.texts.tag(lproj)))
            back.append(self.field("context", self.label("context"), words))
        if voucher is not None:
            back.append(self.field("how", self.label("how"), self.label(f"how_{voucher.method.value}")))
            link = self.redeem_link(voucher)
            if link is not None:
                back.append(self.link_field(link))
        return back

    def redeem_link(self, voucher: Voucher) -> str | None:
        if voucher.method is not RedemptionMethod.SELF_REDEEM:
            return None
        link = self.options.link_for(voucher.serial)
        if link is None:
            raise AppleError("a Self-Redeem voucher needs a redeem link", field="redeem_link", value=None,
                             fix="set AppleOptions(redeem_link='https://example.com/redeem/{serial}')")
        return link

    def link_field(self, link: str) -> dict[str, Any]:
        overrides = self.overrides
        href = html.escape(link, quote=True)

        def anchor(lproj: str) -> str:
            return f"<a href='{href}'>{html.escape(label('redeem_link', lproj, overrides))}</a>"

        return self.field("redeem_link", self.label("redeem_link"), link,
                          attributedValue=self.texts.add("redeem_link.attributedValue", anchor))

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
            self.warn(f"Apple Wallet cannot show {symbology.name} barcodes; the code {value!r} is shown as "
                      "Code 128 carrying the same digits, with the digits as text below it (and as a QR "
                      "code on Apple Watch, which cannot show Code 128)",
                      BarcodeFallbackWarning)
            return _barcode("PKBarcodeFormatCode128", value, value)
        return None  # Symbology.TEXT: the code is shown as a field only

    def images(self, style: str, filled: int, *, primary_field: bool) -> dict[str, bytes]:
        brand = self.program.brand
        name, bg, fg = brand.name.default, brand.background.rgb, brand.foreground.rgb
        goal = self.program.punches or self.program.goal  # a prepaid card draws its punches
        design = StripDesign(goal=goal, background=bg, stamp=brand.label.rgb,
                             stamp_icon=brand.stamp_icon, primary_field=primary_field,
                             milestones=tuple(m.at for m in self.program.milestones) if style == "storeCard"
                             else ())
        return {**icon_images(name, fg, bg, brand.icon), **logo_images(name, bg, fg, brand.logo),
                **strip_images(design, filled, style)}

    def content(self, doc: dict[str, Any], style: str, filled: int) -> PassContent:
        for note in self.readability(doc, style):
            self.warn(note)
        self.monogram_glyphs()
        primary = bool(doc[style].get("primaryFields"))  # Wallet draws it over the strip: keep it clear
        files = {**self.images(style, filled, primary_field=primary), **self.texts.files()}
        return PassContent(pass_json=doc, files=files, warnings=tuple(self.warnings))

    def monogram_glyphs(self) -> None:
        """Warn when the brand's initials, drawn into a generated icon or logo, have a character no
        shipped font draws (it would be an empty box)."""
        brand = self.program.brand
        generated = [name for name, art in (("icon", brand.icon), ("logo", brand.logo)) if art is None]
        if not generated:
            return
        name = brand.name.default
        shown = name if len(name) <= 40 else name[:39] + "…"
        where = f"the generated {' and '.join(generated)} show the brand name {shown!r} as its initials"
        fix = f"give Brand({', '.join(part + '=...' for part in generated)}) artwork as PNG bytes"
        note = missing_glyph_note(initials(name), where, fix)
        if note is not None:
            self.warn(note, MissingGlyphWarning)

    def readability(self, doc: dict[str, Any], style: str) -> list[str]:
        brand = self.program.brand
        notes = contrast_warnings(foreground=brand.foreground.rgb, background=brand.background.rgb,
                                  label=brand.label.rgb)
        notes += front_length_warnings(doc, style, self.texts.table)
        overridden = {lproj for lproj, _, _ in self.options.labels}
        notes += [f"walletvoucher has no built-in labels in {lproj!r}; they show in English there. Fix: "
                  f"give AppleOptions(labels={{{lproj!r}: {{...}}}}) with your wording"
                  for lproj in self.texts.languages if not has_labels(lproj) and lproj not in overridden]
        return notes

    def reserve_voucher(self, voucher: Voucher) -> None:
        self.texts.reserve("voucher.serial", voucher.serial)
        if voucher.code is not None:
            self.texts.reserve("voucher.code", voucher.code.value)
        self_redeem = voucher.method is RedemptionMethod.SELF_REDEEM
        link = self.options.link_for(voucher.serial) if self_redeem else None
        if link is not None:
            self.texts.reserve("redeem_link", link)

    # --- store card ----------------------------------------------------------------------

    def card(self, card: StampCard) -> PassContent:
        voucher = card.open_voucher(self.at) if self.options.voucher_on_card else None
        pending = self.pending_voucher(card) if voucher is None else None
        self.reserve_card(card, voucher)
        stamps = self.field("stamps", self.texts.add("stamp_label", self.stamp_word), card.progress,
                            changeMessage=self.texts.add("stamp_label.changeMessage", lambda lproj: (
                                f"{escape_format(self.stamp_word(lproj))}: %@")))
        left = card.punches_left
        if left is not None:  # a prepaid punch card: what is left of what was paid for
            overrides = self.overrides
            message = self.texts.add("label.punches_left.changeMessage", lambda lproj: (
                f"{escape_format(label('punches_left', lproj, overrides))}: %@"))
            stamps = self.field("punches", self.label("punches_left"), f"{left}/{card.program.punches}",
                                changeMessage=message)
        member = self.field("member", self.label("member"), card.member_id)
        collected = (self.field("lifetime", self.label("lifetime"), card.lifetime_stamps) if left is None
                     else self.field("punches_left", self.label("punches_left"),
                                     f"{left}/{card.program.punches}"))  # a prepaid card collects none
        lifetime = [collected, *self.milestones_back(card), *self.lapse_back(card), *self.earn_back(card)]
        body: dict[str, Any] = {"headerFields": [stamps],
                                "auxiliaryFields": [member, *self.lapse_warning(card)]}
        barcode: dict[str, Any] | None = _barcode("PKBarcodeFormatQR", card.serial, card.serial)
        if voucher is None:
            reward_title = self.texts.text("reward.title", self.program.reward.title)
            body["secondaryFields"] = [self.field("reward", self.label("reward"), reward_title)]
            if pending is not None:
                from_field = self.date_field("valid_from", "valid_from", pending.valid_from)
                body["secondaryFields"].append(from_field)
            body["backFields"] = [*self.reward_back(None), *lifetime]
        else:
            overrides = self.overrides
            ready = self.texts.add("label.reward_ready.changeMessage", lambda lproj: (
                f"{escape_format(label('reward_ready', lproj, overrides))}: %@"))
            body["primaryFields"] = [self.field("reward", self.label("reward_ready"),
                                                self.texts.text("reward.title", voucher.reward.title),
                                                changeMessage=ready)]
            body["secondaryFields"] = self.voucher_fields(voucher)
            body["backFields"] = [*self.reward_back(voucher), *lifetime]
            barcode = self.voucher_barcode(voucher) or barcode
        doc = self.top(card.serial)
        self.branch_places(doc, voucher)
        doc["storeCard"] = body
        if card.expires_at is not None:  # Wallet shows the card expired from then
            doc["expirationDate"] = w3c_date(card.expires_at, self.program.zone)
            body["backFields"].append(self.date_field("card_expires", "valid_until", card.expires_at))
        if barcode is not None:
            doc["barcodes"] = _with_watch_fallback(barcode)
        return self.content(doc, "storeCard", card.stamps if left is None else left)

    def earn_back(self, card: StampCard) -> list[dict[str, Any]]:
        """Earning by amount: the amount per stamp, and what the card has kept towards the next one."""
        rule = card.program.earn_by_amount
        if rule is None:
            return []
        step = self.field("stamp_per", self.label("stamp_per"), json_amount(Money(amount=rule.step,
                          currency=rule.currency)), currencyCode=rule.currency)
        carried = self.field("carried", self.label("carried"), json_amount(Money(amount=card.amount_carried,
                             currency=rule.currency)), currencyCode=rule.currency)
        return [step, carried]

    def lapse_back(self, card: StampCard) -> list[dict[str, Any]]:
        """A back field saying when the card's stamps lapse (none when they do not)."""
        lapse = card.stamps_lapse_at
        if lapse is None:
            return []
        return [self.field("stamps_lapse", self.label("stamps_lapse"), w3c_date(lapse, self.program.zone),
                           dateStyle="PKDateStyleMedium", timeStyle="PKDateStyleShort")]

    def lapse_warning(self, card: StampCard) -> list[dict[str, Any]]:
        """From ``warn_days`` before the stamps lapse: a front field with the date, whose change message
        ("Your stamps expire on ...") Wallet shows when the update that adds it arrives (the store
        queues that update for the moment the warning starts)."""
        lapse, warn = card.stamps_lapse_at, card.stamps_warn_at
        if lapse is None or warn is None or not warn <= self.at < lapse:
            return []
        overrides = self.overrides
        message = self.texts.add("label.stamps_warning.changeMessage", lambda lproj: (
            f"{escape_format(label('stamps_warning', lproj, overrides))} %@"))
        return [self.field("stamps_warning", self.label("stamps_lapse"), w3c_date(lapse, self.program.zone),
                           dateStyle="PKDateStyleMedium", timeStyle="PKDateStyleShort",
                           changeMessage=message)]

    def milestones_back(self, card: StampCard) -> list[dict[str, Any]]:
        """A back field listing the cycle's milestones, one a line: earned (✓) or ahead (○), the stamps
        and the reward, in each language."""
        if not card.program.milestones:
            return []

        def lines(lproj: str) -> str:
            tag = self.texts.tag(lproj)
            return "\n".join(f"{'✓' if earned else '○'} {m.at}/{card.goal}: {m.reward.title.get(tag)}"
                             for m, earned in card.milestones)

        return [self.field("milestones", self.label("milestones"), self.texts.add("milestones", lines))]

    def stamp_word(self, lproj: str) -> str:
        """The stamp label in ``lproj``: the program's translation, else (for the model's default
        label "Stamps") walletvoucher's own word, so no English header sits among translated labels."""
        word = self.stamp_words.get(lproj)
        if word is None:
            text, tag = self.program.stamp_label, self.texts.tag(lproj)
            if text.default != label("stamps", "en") or tag in text.as_dict():
                word = text.get(tag)
            else:
                word = label("stamps", lproj, self.overrides)
            self.stamp_words[lproj] = word
        return word

    def reserve_card(self, card: StampCard, voucher: Voucher | None) -> None:
        self.reserve_common(card.serial)
        self.texts.reserve("member_id", card.member_id)
        self.texts.reserve("progress", card.progress)
        if card.punches_left is not None:
            self.texts.reserve("punches", f"{card.punches_left}/{card.program.punches}")
        if voucher is not None:
            self.reserve_voucher(voucher)

    def pending_voucher(self, card: StampCard) -> Voucher | None:
        """A voucher the card holds that is not valid yet: the pass says from when, and the caller is told."""
        pending = next((v for v in card.vouchers if v.status_at(self.at) is VoucherStatus.ISSUED), None)
        if pending is not None:
            self._not_yet_valid(pending)
        return pending

    def _not_yet_valid(self, voucher: Voucher) -> None:
        self.warn(f"voucher {voucher.serial!r} is not valid until {voucher.valid_from.isoformat()}; the pass "
                  "shows 'Valid from' with that date. Fix: render and push the pass again at that time so it "
                  "shows the code")

    def voucher_fields(self, voucher: Voucher) -> list[dict[str, Any]]:
        fields = []
        if voucher.code is not None:
            fields.append(self.field("code", self.label("code"), voucher.code.value))
        if voucher.status_at(self.at) is VoucherStatus.ISSUED:
            fields.append(self.date_field("valid_from", "valid_from", voucher.valid_from))
        if voucher.expires_at is not None:
            fields.append(self.date_field("expires", "valid_until", voucher.expires_at))
        return fields

    # --- coupon --------------------------------------------------------------------------

    def coupon(self, voucher: Voucher) -> PassContent:
        status = voucher.status_at(self.at)
        self.reserve_common(voucher.serial)
        self.reserve_voucher(voucher)
        if status is VoucherStatus.ISSUED:
            self._not_yet_valid(voucher)
        title = self.texts.text("reward.title", voucher.reward.title)
        body: dict[str, Any] = {
            "primaryFields": [self.field("reward", self.label("reward"), title)],
            "secondaryFields": self.voucher_fields(voucher),
            "backFields": self.reward_back(voucher),
        }
        if status in (VoucherStatus.REDEEMED, VoucherStatus.VOIDED):
            body["headerFields"] = [self.field("status", self.label("status"), self.label(status.value))]
        if voucher.reward.value is not None:
            money = voucher.reward.value
            body["auxiliaryFields"] = [self.field("value", self.label("value"), json_amount(money),
                                                  currencyCode=money.currency)]
        doc = self.top(voucher.serial)
        self.branch_places(doc, voucher)
        doc["coupon"] = body
        barcode = self.voucher_barcode(voucher)
        if barcode is not None:
            doc["barcodes"] = _with_watch_fallback(barcode)
        if voucher.expires_at is not None:
            doc["expirationDate"] = w3c_date(voucher.expires_at, self.program.zone)
        if status in (VoucherStatus.REDEEMED, VoucherStatus.VOIDED):
            doc["voided"] = True
        return self.content(doc, "coupon", self.program.goal)


def json_amount(money: Money) -> int | float:
    """A monetary amount as a JSON number that every reader holds exactly.

    Whole amounts become integers, others floats whose shortest form is the amount's own decimal
    digits. Amounts of more than 15 significant digits, or of 2**53 or more, are refused: a double
    (JavaScript, Swift) cannot hold them exactly.

    >>> json_amount(Money(amount="4.50", currency="EUR")), json_amount(Money(amount="12000", currency="UZS"))
    (4.5, 12000)
    """
    amount = money.amount
    digits = amount.normalize().as_tuple().digits
    if len(digits) > MAX_AMOUNT_DIGITS or abs(amount) >= MAX_SAFE_INTEGER:
        raise AppleError(f"has more than {MAX_AMOUNT_DIGITS} significant digits or is 2**53 or more, which "
                         "JSON readers cannot hold exactly", field="reward.value.amount", value=str(amount),
                         fix="give an amount such as '4.50' (at most 15 digits)")
    if amount == amount.to_integral_value():
        return int(amount)
    number = float(amount)
    assert Decimal(repr(number)) == amount  # guaranteed for 15 significant digits
    return number


def _barcode(fmt: str, message: str, alt: str) -> dict[str, Any]:
    """A barcode dict whose ``messageEncoding`` carries the message, within the format's capacity.

    ISO-8859-1 when every character fits it (what Wallet and scanners expect by default), UTF-8
    otherwise (Chinese, Cyrillic, emoji). The capacity is counted in bytes of that encoding.
    """
    encoding = "iso-8859-1" if _fits(message, "iso-8859-1") else "utf-8"
    if fmt == "PKBarcodeFormatCode128" and not message.isascii():
        raise AppleError("Code 128 carries only ASCII characters", field="code", value=message,
                         fix="use a QR, PDF417 or Aztec symbology for this code")
    size = len(message.encode(encoding, "surrogatepass"))
    if size > BARCODE_CAPACITY[fmt]:
        raise AppleError(f"is {size} bytes in {encoding}; {fmt} carries at most {BARCODE_CAPACITY[fmt]}",
                         field="code", value=message[:40], fix="shorten the code or use a QR code")
    if not _fits(message, "utf-8"):
        raise AppleError("contains a lone surrogate, which no barcode can carry", field="code",
                         value=message.encode("ascii", "backslashreplace").decode("ascii"),
                         fix="give well-formed Unicode text")
    return {"format": fmt, "message": message, "messageEncoding": encoding, "altText": alt}


def _with_watch_fallback(barcode: dict[str, Any]) -> list[dict[str, Any]]:
    """``barcodes[]``: the barcode, then a QR of the same message when Apple Watch cannot show it.

    Wallet shows the first entry of ``barcodes`` its device supports; watchOS does not support
    ``PKBarcodeFormatCode128`` (Apple's Wallet Developer Guide, revision of 2017-03-14), so
    without a second entry the watch shows no barcode at all. A QR code carries any Code 128
    message (ASCII, at most 80 characters) in the same encoding.
    """
    if barcode["format"] not in WATCH_UNSUPPORTED:
        return [barcode]
    return [barcode, _barcode("PKBarcodeFormatQR", barcode["message"], barcode["altText"])]


def _fits(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


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
