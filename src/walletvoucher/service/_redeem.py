"""Self-Redeem: the customer opens the voucher's signed link and redeems it once, framework-neutral.

:class:`RedeemDesk` answers what a redeem page must show, as a :class:`RedeemView` whose ``state``
names the outcome for people and machines alike (the web page puts it in ``data-state``):

================== =========================================================================
``ready``          active and signed: show the reward and the gesture that redeems it
``redeemed``       this request redeemed it (the success screen, shown once)
``already-redeemed`` it was redeemed before (another phone, another tab, a replayed POST)
``not-yet-valid``  issued but its validity has not started
``expired``        its validity ended
``voided``         withdrawn by the business
``staff-only``     a Staff-Scan or Redeem Code voucher: staff redeem those at the till
``not-found``      no such voucher, or the link's signature is wrong (the two look the same)
================== =========================================================================

The signature is checked first, in constant time, so a guessed serial learns nothing; the
redemption itself is the store's single-use transition, so however many requests race, exactly one
sees ``redeemed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import attrs

from walletvoucher.codes import RedeemLinkKey
from walletvoucher.errors import (
    UnknownVoucher,
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotYetValid,
    VoucherVoided,
)
from walletvoucher.model import Program, RedemptionMethod, SelfRedeem, Voucher, VoucherStatus
from walletvoucher.service._stored import WalletSource, _resolve

STATES = (
    "ready",
    "redeemed",
    "already-redeemed",
    "not-yet-valid",
    "expired",
    "voided",
    "staff-only",
    "not-found",
)
_SERIAL = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BY_STATUS = {
    VoucherStatus.ACTIVE: "ready",
    VoucherStatus.ISSUED: "not-yet-valid",
    VoucherStatus.EXPIRED: "expired",
    VoucherStatus.VOIDED: "voided",
    VoucherStatus.REDEEMED: "already-redeemed",
}
_BY_ERROR: tuple[tuple[type[Exception], str], ...] = (
    (VoucherAlreadyRedeemed, "already-redeemed"),
    (VoucherExpired, "expired"),
    (VoucherVoided, "voided"),
    (VoucherNotYetValid, "not-yet-valid"),
)


@attrs.frozen(kw_only=True)
class RedeemView:
    """What a redeem page shows: its state, and the voucher and program (None when ``not-found``)."""

    state: str
    voucher: Voucher | None = None
    program: Program | None = None

    @property
    def status(self) -> int:
        """The HTTP status the page is sent with."""
        return 404 if self.state == "not-found" else 200


class RedeemDesk:
    """Look up and redeem Self-Redeem vouchers reached through signed links.

    >>> # desk = RedeemDesk(wallets, link_key=RedeemLinkKey(secret), programs=[coffee])
    >>> # desk.redeem("CARD-1-1", signature, at=now).state   -> 'redeemed', then 'already-redeemed'
    """

    def __init__(self, wallet: WalletSource, *, link_key: RedeemLinkKey, programs: Iterable[Program]) -> None:
        self._wallet = _resolve(wallet)
        self.link_key = link_key
        self._programs = {(p.id, p.version): p for p in programs}

    def __repr__(self) -> str:
        return "RedeemDesk(<link key>)"

    def look(self, serial: str, signature: str | None, *, at: datetime) -> RedeemView:
        """The page for *serial* as it stands at *at* (reading only)."""
        voucher = self._signed_voucher(serial, signature)
        if voucher is None:
            return RedeemView(state="not-found")
        state = _BY_STATUS[voucher.status_at(at)]
        if state == "ready" and voucher.method is not RedemptionMethod.SELF_REDEEM:
            state = "staff-only"
        return self._view(state, voucher)

    def redeem(self, serial: str, signature: str | None, *, at: datetime) -> RedeemView:
        """Redeem *serial* through the store: ``redeemed`` for exactly one caller, ever."""
        voucher = self._signed_voucher(serial, signature)
        if voucher is None:
            return RedeemView(state="not-found")
        if voucher.method is not RedemptionMethod.SELF_REDEEM:
            return self.look(serial, signature, at=at)
        try:
            result = self._wallet().redeem(serial, SelfRedeem(by="customer"), at=at)
        except tuple(error for error, _ in _BY_ERROR) as exc:
            state = next(name for error, name in _BY_ERROR if isinstance(exc, error))
            return self._view(state, self._wallet().voucher(serial))
        return self._view("redeemed", result.voucher)

    def _signed_voucher(self, serial: str, signature: str | None) -> Voucher | None:
        if not isinstance(serial, str) or not _SERIAL.fullmatch(serial):
            return None
        if not self.link_key.verify(serial, signature):
            return None
        try:
            return self._wallet().voucher(serial)
        except UnknownVoucher:
            return None

    def _view(self, state: str, voucher: Voucher) -> RedeemView:
        program = self._programs.get((voucher.program_id, voucher.program_version))
        return RedeemView(state=state, voucher=voucher, program=program)
