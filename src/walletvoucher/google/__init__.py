"""Google Wallet: loyalty and offer classes/objects, "Add to Google Wallet" links, REST client.

The recipe is :func:`save_link`; the builders (:func:`loyalty_class`, :func:`loyalty_object`,
:func:`offer_class`, :func:`offer_object`) return the plain dicts it signs, and
:class:`WalletRestClient` keeps saved passes current.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from walletvoucher._lazy import lazy_attributes

if TYPE_CHECKING:  # imported on first use (see __getattr__): requests and google-auth only for REST
    from walletvoucher.google._callbacks import CALLBACK_KEYS_URL, GoogleCallback, verify_callback
    from walletvoucher.google._credentials import ServiceAccountCredentials
    from walletvoucher.google._ids import make_id, sanitize_suffix
    from walletvoucher.google._lengths import RECOMMENDED_LENGTHS, LengthRule, recommended_length_warnings
    from walletvoucher.google._objects import (
        BARCODE_TYPES,
        CLASS_FIELDS,
        OBJECT_STATES,
        card_object_id,
        check_objects_allowed,
        localized_string,
        loyalty_class,
        loyalty_class_id,
        loyalty_object,
        offer_class,
        offer_class_id,
        offer_object,
        offer_object_id,
        stamp_balance,
    )
    from walletvoucher.google._options import GoogleOptions, ReviewStatus, ScanDisplay, VoucherDisplay
    from walletvoucher.google._recipe import save_link
    from walletvoucher.google._resource import Resource
    from walletvoucher.google._rest import (
        DEFAULT_BASE_URL,
        NOTIFY_ON_UPDATE,
        WALLET_SCOPE,
        RefreshableTokenSource,
        ServiceAccountTokenSource,
        TokenSource,
        WalletRestClient,
        message_id_for,
    )
    from walletvoucher.google._savelink import (
        MAX_LINK_LENGTH,
        SAVE_URL_PREFIX,
        LinkMode,
        SaveLink,
        save_url,
        sign_save_jwt,
    )
    from walletvoucher.google._verify import LinkReport, verify_save_link

__all__ = [
    "BARCODE_TYPES",
    "CALLBACK_KEYS_URL",
    "CLASS_FIELDS",
    "DEFAULT_BASE_URL",
    "MAX_LINK_LENGTH",
    "NOTIFY_ON_UPDATE",
    "OBJECT_STATES",
    "RECOMMENDED_LENGTHS",
    "SAVE_URL_PREFIX",
    "WALLET_SCOPE",
    "GoogleCallback",
    "GoogleOptions",
    "LengthRule",
    "LinkMode",
    "LinkReport",
    "RefreshableTokenSource",
    "Resource",
    "ReviewStatus",
    "SaveLink",
    "ScanDisplay",
    "ServiceAccountCredentials",
    "ServiceAccountTokenSource",
    "TokenSource",
    "VoucherDisplay",
    "WalletRestClient",
    "card_object_id",
    "check_objects_allowed",
    "localized_string",
    "loyalty_class",
    "loyalty_class_id",
    "loyalty_object",
    "make_id",
    "message_id_for",
    "offer_class",
    "offer_class_id",
    "offer_object",
    "offer_object_id",
    "recommended_length_warnings",
    "sanitize_suffix",
    "save_link",
    "save_url",
    "sign_save_jwt",
    "stamp_balance",
    "verify_callback",
    "verify_save_link",
]

_HOMES = {
    "walletvoucher.google._callbacks": ("CALLBACK_KEYS_URL", "GoogleCallback", "verify_callback"),
    "walletvoucher.google._credentials": ("ServiceAccountCredentials",),
    "walletvoucher.google._ids": ("make_id", "sanitize_suffix"),
    "walletvoucher.google._lengths": ("RECOMMENDED_LENGTHS", "LengthRule", "recommended_length_warnings"),
    "walletvoucher.google._objects": (
        "BARCODE_TYPES", "CLASS_FIELDS", "OBJECT_STATES", "card_object_id", "check_objects_allowed",
        "localized_string", "loyalty_class", "loyalty_class_id", "loyalty_object", "offer_class",
        "offer_class_id", "offer_object", "offer_object_id", "stamp_balance"
    ),
    "walletvoucher.google._options": ("GoogleOptions", "ReviewStatus", "ScanDisplay", "VoucherDisplay"),
    "walletvoucher.google._recipe": ("save_link",),
    "walletvoucher.google._rest": (
        "DEFAULT_BASE_URL", "NOTIFY_ON_UPDATE", "WALLET_SCOPE", "RefreshableTokenSource",
        "ServiceAccountTokenSource", "TokenSource", "WalletRestClient", "message_id_for"
    ),
    "walletvoucher.google._resource": ("Resource",),
    "walletvoucher.google._savelink": (
        "MAX_LINK_LENGTH", "SAVE_URL_PREFIX", "LinkMode", "SaveLink", "save_url", "sign_save_jwt"
    ),
    "walletvoucher.google._verify": ("LinkReport", "verify_save_link"),
}
__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, globals())
