"""walletvoucher: stamp cards and Smart Vouchers for Apple Wallet and Google Wallet.

The model (programs, cards, vouchers) is re-exported here; wallet renderers live in
:mod:`walletvoucher.apple` and :mod:`walletvoucher.google`, redeem codes in :mod:`walletvoucher.codes`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from walletvoucher import errors
from walletvoucher.errors import WalletVoucherError

if TYPE_CHECKING:  # imported on first use (see __getattr__), so the command line starts fast
    from walletvoucher.codes import CodeOrigin, RedeemCode, ScanKey, Symbology
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
_CODES = frozenset({"CodeOrigin", "RedeemCode", "ScanKey", "Symbology"})


def __getattr__(name: str) -> Any:
    """The model's and the codes' names, imported on first use."""
    if name not in __all__:
        raise AttributeError(f"module 'walletvoucher' has no attribute {name!r}")
    home = "walletvoucher.codes" if name in _CODES else "walletvoucher.model"
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
