"""Symbologies and the redeem code value object.

These are the business's words for how a code is shown; each wallet renderer maps them to its own
vocabulary (Apple's ``PKBarcodeFormat*``, Google's ``QR_CODE``...).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from walletvoucher.errors import ValidationError


class Symbology(enum.Enum):
    """How a code is drawn: a 2D or 1D barcode, or plain text."""

    QR = "qr"
    CODE_128 = "code128"
    EAN_13 = "ean13"
    UPC_A = "upca"
    PDF417 = "pdf417"
    AZTEC = "aztec"
    TEXT = "text"


class CodeOrigin(enum.Enum):
    """Where a redeem code came from."""

    GENERATED = "generated"
    """Made by walletvoucher (Crockford base32 with a check character)."""
    POS = "pos"
    """Created in the business's point-of-sale system (Zero-Integration): shown exactly as given."""


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError(
            "must be non-empty text", field=attribute.name, value=value, fix="give the code"
        )


def _member(kind: type[enum.Enum]) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise ValidationError(
                f"must be a {kind.__name__}", field=attribute.name, value=value,
                fix=f"use one of {', '.join(m.name for m in kind)}",
            )

    return check


@attrs.frozen(kw_only=True)
class RedeemCode:
    """A redeem code as it is shown on the voucher and typed or scanned at the till.

    Build one with :func:`walletvoucher.codes.generate_code` or :func:`walletvoucher.codes.pos_code`,
    which validate the value for its symbology.

    >>> RedeemCode(value="7K3M-9QXP-4", symbology=Symbology.QR, origin=CodeOrigin.GENERATED).value
    '7K3M-9QXP-4'
    """

    value: str = attrs.field(validator=_non_empty)
    symbology: Symbology = attrs.field(validator=_member(Symbology))
    origin: CodeOrigin = attrs.field(validator=_member(CodeOrigin))

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {"value": self.value, "symbology": self.symbology.value, "origin": self.origin.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> RedeemCode:
        """Rebuild from :meth:`to_dict` output; anything else raises :class:`ValidationError`."""
        if not isinstance(data, Mapping):
            raise ValidationError("must be an object", field="code", value=type(data).__name__,
                                  fix="pass what RedeemCode.to_dict() produced")
        try:
            symbology, origin = Symbology(data.get("symbology")), CodeOrigin(data.get("origin"))
        except (ValueError, TypeError):
            raise ValidationError(
                "names an unknown symbology or origin", field="code",
                value=(data.get("symbology"), data.get("origin")),
                fix="pass what RedeemCode.to_dict() produced",
            ) from None
        return cls(value=data.get("value", ""), symbology=symbology, origin=origin)
