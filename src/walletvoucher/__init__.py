"""walletvoucher: stamp cards and Smart Vouchers for Apple Wallet and Google Wallet.

The model (programs, cards, vouchers) is re-exported here; wallet renderers live in
:mod:`walletvoucher.apple` and :mod:`walletvoucher.google`, redeem codes in :mod:`walletvoucher.codes`.
"""

from walletvoucher import errors
from walletvoucher.codes import CodeOrigin, RedeemCode, ScanKey, Symbology
from walletvoucher.errors import WalletVoucherError
from walletvoucher.model import (
    Brand,
    CodeEntry,
    Color,
    EarnPolicy,
    Event,
    EventType,
    LocalizedText,
    Money,
    Overflow,
    Program,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StaffScan,
    StampCard,
    StampResult,
    Validity,
    Voucher,
    VoucherResult,
    VoucherStatus,
    events_from_json,
    events_to_json,
    replay,
)

__all__ = [
    "Brand",
    "CodeEntry",
    "CodeOrigin",
    "Color",
    "EarnPolicy",
    "Event",
    "EventType",
    "LocalizedText",
    "Money",
    "Overflow",
    "Program",
    "RedeemCode",
    "RedemptionMethod",
    "Reward",
    "ScanKey",
    "SelfRedeem",
    "StaffScan",
    "StampCard",
    "StampResult",
    "Symbology",
    "Validity",
    "Voucher",
    "VoucherResult",
    "VoucherStatus",
    "WalletVoucherError",
    "errors",
    "events_from_json",
    "events_to_json",
    "replay",
]
__version__ = "0.1.0"
