"""The business model: programs, stamp cards, Smart Vouchers, policies and events.

Everything here is a frozen attrs object; transitions return new objects plus the events that
record them. No wallet vocabulary lives here.
"""

from walletvoucher.codes import CodeSource
from walletvoucher.model._brand import Brand, Color
from walletvoucher.model._card import StampCard, StampResult, VoucherResult, fold, replay
from walletvoucher.model._context import Channel, PerCard, RedemptionContext, TimeWindow
from walletvoucher.model._events import Event, EventType, events_from_json, events_to_json
from walletvoucher.model._i18n import LocalizedText, Text
from walletvoucher.model._program import (
    CardValidity,
    EarnByAmount,
    EarnPolicy,
    Milestone,
    Money,
    Overflow,
    Program,
    ProgramKind,
    RedemptionMethod,
    Remainder,
    Reward,
    StampExpiry,
    StampExpiryKind,
    Validity,
)
from walletvoucher.model._voucher import CodeEntry, Proof, SelfRedeem, StaffScan, Voucher, VoucherStatus

__all__ = [
    "Brand",
    "CardValidity",
    "Channel",
    "CodeEntry",
    "CodeSource",
    "Color",
    "EarnByAmount",
    "EarnPolicy",
    "Event",
    "EventType",
    "LocalizedText",
    "Milestone",
    "Money",
    "Overflow",
    "PerCard",
    "Program",
    "ProgramKind",
    "Proof",
    "RedemptionContext",
    "RedemptionMethod",
    "Remainder",
    "Reward",
    "SelfRedeem",
    "StaffScan",
    "StampCard",
    "StampExpiry",
    "StampExpiryKind",
    "StampResult",
    "Text",
    "TimeWindow",
    "Validity",
    "Voucher",
    "VoucherResult",
    "VoucherStatus",
    "events_from_json",
    "events_to_json",
    "fold",
    "replay",
]
