"""Everything Google needs that the model does not say: issuer id, origins, image URLs."""

from __future__ import annotations

import enum
import string
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from walletvoucher.codes import RedeemLinkKey, ScanKey
from walletvoucher.errors import GoogleOptionsError
from walletvoucher.google._ids import check_issuer_id
from walletvoucher.google._savelink import check_origin
from walletvoucher.model import LocalizedText

__all__ = ["GoogleOptions", "ReviewStatus", "VoucherDisplay"]


class ReviewStatus(enum.Enum):
    """The ``reviewStatus`` a class is inserted with (Google requires one of these two)."""

    DRAFT = "DRAFT"
    UNDER_REVIEW = "UNDER_REVIEW"


class VoucherDisplay(enum.Enum):
    """Where a card's open voucher is shown."""

    ON_CARD = "on_card"
    """The card's barcode becomes the redeem code until the voucher is redeemed."""
    SEPARATE = "separate"
    """The card keeps its own barcode; each voucher is its own offer pass."""


class ScanDisplay(enum.Enum):
    """How a Staff-Scan voucher's code is shown in Google Wallet."""

    ROTATING = "rotating"
    """A ``rotatingBarcode`` (TOTP, a new value every 30 s): a screenshot is stale within a minute.
    The object carries its TOTP key, so it goes through the REST API and the link carries its id."""
    ROTATING_WITH_STATIC = "rotating_with_static"
    """Rotating, plus the signed static token as ``barcode`` for Google Wallet versions that cannot
    rotate (a screenshot of that one stays valid until redeemed)."""
    STATIC = "static"
    """The signed static token only (the object may travel inside a save link)."""


_Check = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _template(fields: frozenset[str]) -> _Check:
    def check(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
        if value is None:
            return
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        if not value.startswith("https://") or not names <= fields:
            raise GoogleOptionsError(
                f"must be an https URL using only the placeholders {sorted(fields)}",
                field=attribute.name,
                value=value,
                fix="e.g. 'https://cdn.example.com/stamps/{stamps}.png'",
            )

    return check


def _https(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not (isinstance(value, str) and value.startswith("https://")):
        raise GoogleOptionsError(
            "must be an https URL",
            field=attribute.name,
            value=value,
            fix="Google only loads images and links over https",
        )


def _origins(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, Iterable) else value  # not a list: the validator says so


def _check_origins(instance: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not isinstance(value, tuple) or not value:
        raise GoogleOptionsError(
            "must list at least one https origin",
            field="origins",
            value=value,
            fix="give the web origins that show the save button, e.g. ('https://shop.example.com',)",
        )
    for origin in value:
        check_origin(origin)  # https://host[:port]: anything else never matches a page


def _optional_text(value: LocalizedText | str | None) -> LocalizedText | None:
    return LocalizedText(default=value) if isinstance(value, str) else value


def _text(value: LocalizedText | str) -> LocalizedText:
    return LocalizedText(default=value) if isinstance(value, str) else value


@attrs.frozen(kw_only=True)
class GoogleOptions:
    """How programs, cards and vouchers are shown in Google Wallet.

    >>> options = GoogleOptions(issuer_id="3388000000022222222", origins=["https://shop.example.com"],
    ...     logo_url="https://cdn.example.com/logo.png",
    ...     hero_image_url_template="https://cdn.example.com/stamps/{stamps}-of-{goal}.png")
    >>> options.review_status
    <ReviewStatus.UNDER_REVIEW: 'UNDER_REVIEW'>
    """

    issuer_id: str = attrs.field(validator=lambda _i, _a, v: check_issuer_id(v))
    origins: tuple[str, ...] = attrs.field(converter=_origins, validator=_check_origins)
    logo_url: str = attrs.field(validator=_https)
    """The program logo (Google requires one on every loyalty class)."""
    issuer_name: LocalizedText | None = attrs.field(default=None, converter=_optional_text)
    """Defaults to the program's brand name."""
    hero_image_url_template: str | None = attrs.field(
        default=None, validator=_template(frozenset({"stamps", "goal", "program"}))
    )
    redeem_link_template: str | None = attrs.field(
        default=None, validator=_template(frozenset({"serial", "card", "program"}))
    )
    """Where a Self-Redeem voucher is redeemed, e.g. ``https://shop.example.com/redeem/{serial}``."""
    redeem_link_key: RedeemLinkKey | None = attrs.field(default=None, repr=False)
    """Signs every redeem link (``?sig=...``), so the redeem page can refuse guessed serials."""
    homepage_url: str | None = attrs.field(default=None, validator=_https)
    callback_url: str | None = attrs.field(default=None, validator=_https)
    """Where Google POSTs its signed save/delete callbacks (the classes' ``callbackOptions.url``), e.g.
    ``https://wallet.example.com/google/callbacks``, which ``walletvoucher serve`` answers."""
    scan_key: ScanKey | None = attrs.field(default=None, repr=False)
    """Signs the Staff-Scan tokens shown as QR codes, and derives each voucher's rotating-code key."""
    scan_display: ScanDisplay = attrs.field(default=ScanDisplay.ROTATING,
                                            validator=attrs.validators.instance_of(ScanDisplay))
    """Rotating codes for Staff-Scan vouchers by default (see :class:`ScanDisplay`)."""
    review_status: ReviewStatus = ReviewStatus.UNDER_REVIEW
    voucher_display: VoucherDisplay = VoucherDisplay.ON_CARD
    rewards_label: LocalizedText = attrs.field(default=LocalizedText(default="Rewards"), converter=_text)
    """Label of ``secondaryLoyaltyPoints`` (earned, unredeemed rewards); at most 9 characters shown."""
