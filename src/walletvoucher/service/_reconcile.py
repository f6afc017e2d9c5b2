"""Zero-Integration reconciliation: a POS that redeems codes on its own tells us afterwards, by export.

:func:`reconcile` takes the codes a POS reports as used, finds the vouchers that carry them (by the
journal's ``voucher_issued`` events, read in pages so memory stays flat) and redeems each **once**
through the store, so passes follow through the outbox. It changes nothing for a code it does not
know, or whose voucher was already redeemed, voided or has expired here, and says which. Importing the
same export twice redeems nothing the second time (each is then "already redeemed").

>>> # report = reconcile(wallet, ["5901234123457", ...], by="pos-export.csv", at=now)
>>> # report.redeemed, report.already_redeemed, report.unknown
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from walletvoucher.errors import ValidationError, VoucherAlreadyRedeemed, VoucherNotRedeemable
from walletvoucher.model import CodeEntry, EventType
from walletvoucher.store import Wallet

MAX_CSV_BYTES = 64 << 20


@attrs.frozen(kw_only=True)
class ReconcileReport:
    """What one import did: vouchers redeemed now, codes already redeemed here (and when, by whom),
    codes no voucher carries, and codes whose voucher cannot be redeemed (voided, expired)."""

    redeemed: tuple[str, ...] = ()
    already_redeemed: tuple[tuple[str, str, str], ...] = ()
    unknown: tuple[str, ...] = ()
    not_redeemable: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the API's answer)."""
        return {
            "redeemed": list(self.redeemed),
            "already_redeemed": [
                {"code": c, "redeemed_at": at, "redeemed_by": by} for c, at, by in self.already_redeemed
            ],
            "unknown": list(self.unknown),
            "not_redeemable": [{"code": c, "reason": why} for c, why in self.not_redeemable],
        }


def _issued_codes(wallet: Wallet, wanted: set[str]) -> dict[str, str]:
    """code -> voucher serial, for the wanted codes, from the journal (paged)."""
    found: dict[str, str] = {}
    since = 0
    while True:
        page = wallet.journal(since, limit=1000)
        for entry in page:
            if entry.event.type is EventType.VOUCHER_ISSUED:
                raw = entry.event.data.get("voucher")
                code = raw.get("code") if isinstance(raw, dict) else None
                value = code.get("value") if isinstance(code, dict) else None
                if value in wanted:
                    found[str(value)] = str(raw["serial"])  # type: ignore[index]
        if len(page) < 1000:
            return found
        since = page[-1].position


def reconcile(wallet: Wallet, codes: Iterable[str], *, by: str, at: datetime) -> ReconcileReport:
    """Redeem, once each, the vouchers whose POS codes are in *codes* (as the POS exported them)."""
    ordered = list(dict.fromkeys(c.strip() for c in codes if isinstance(c, str) and c.strip()))
    serials = _issued_codes(wallet, set(ordered))
    redeemed: list[str] = []
    already: list[tuple[str, str, str]] = []
    refused: list[tuple[str, str]] = []
    for code in ordered:
        serial = serials.get(code)
        if serial is None:
            continue
        try:
            wallet.redeem(serial, CodeEntry(code=code, by=f"{by} (reconciled)"[:120]), at=at)
            redeemed.append(serial)
        except VoucherAlreadyRedeemed:
            stored = wallet.voucher(serial)
            already.append(
                (code, stored.redeemed_at.isoformat() if stored.redeemed_at else "", stored.redeemed_by or "")
            )
        except VoucherNotRedeemable as exc:
            refused.append((code, exc.message))
    unknown = tuple(c for c in ordered if c not in serials)
    return ReconcileReport(
        redeemed=tuple(redeemed),
        already_redeemed=tuple(already),
        unknown=unknown,
        not_redeemable=tuple(refused),
    )


def read_codes(path: Path, *, column: str) -> Iterator[str]:
    """The codes in *column* of a POS export (CSV with a header row; ``,`` or ``;`` separated)."""
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise ValidationError(
                f"is larger than {MAX_CSV_BYTES} bytes",
                field="export",
                value=str(path),
                fix="split the export into smaller files",
            )
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "is not UTF-8 text", field="export", value=str(path), fix="export the CSV as UTF-8"
        ) from exc
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if reader.fieldnames is None or column not in reader.fieldnames:
        raise ValidationError(
            "is not a column of the export",
            field="--column",
            value=column,
            fix=f"use one of: {', '.join(reader.fieldnames or [])}",
        )
    for row in reader:
        value = row.get(column)
        if value:
            yield value


__all__ = ["ReconcileReport", "read_codes", "reconcile"]
