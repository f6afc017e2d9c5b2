"""The counter's desk, framework-neutral: what a staff phone or a kiosk did, and what to show for it.

A :class:`StaffDesk` acts for a :class:`~walletvoucher.store.Principal` (an enrolled device, found by
its token with :meth:`StaffDesk.device`) and answers a :class:`CounterView` whose ``state`` names
the outcome for people and machines alike (the pages put it in ``data-state``):

====================== ==================================================================
``redeemed``           this scan or code redeemed the voucher (green)
``already-redeemed``   redeemed before: when and by whom are on the view
``expired``            its validity ended (when is on the view)
``not-yet-valid``      its validity has not started
``voided``             the business withdrew (revoked) it
``other-program``      a voucher of a program this counter does not serve
``stale-scan``         a signed token or rotating code too old: a screenshot, or a replay
``scan-replayed``      this rotating code was accepted once already
``invalid-scan``       not a code we signed (forged, damaged, another key)
``wrong-code``         the typed code is not this voucher's
``wrong-method``       the voucher is redeemed another way (e.g. by the customer's own link)
``unknown-voucher``    no such voucher
``card``               a scanned card: show it and a stamp count to confirm
``stamped``            stamps added (the card's new count is on the view)
``earn-policy``        the program's earn policy refused the stamps (e.g. a double scan)
``unknown-card``       no card with that barcode
``unreadable``         the scanned text is neither a voucher code nor a card barcode
``forbidden``          this device may not do that (a kiosk only stamps)
``busy``               the store is busy; try again
====================== ==================================================================

Every stamp and redemption records the principal's label (``staff:Aziza@chilonzor``) as its source or
``by``, with the time given, so the journal says who, where, how and when.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime

import attrs

from walletvoucher.codes import RandomSource, ScanKey, verify_scan_token
from walletvoucher.errors import (
    AccessError,
    CardExpired,
    CheckCharacterError,
    DatabaseUnavailable,
    EarnPolicyViolation,
    OutsideRedemptionContext,
    ProofMismatch,
    ScanTokenError,
    ScanTokenExpired,
    StaleVersion,
    UnknownCard,
    UnknownVoucher,
    ValidationError,
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotYetValid,
    VoucherVoided,
    WalletVoucherError,
    WrongRedeemCode,
)
from walletvoucher.model import CodeEntry, Program, StaffScan, StampCard, Voucher
from walletvoucher.service._stored import WalletSource, _resolve
from walletvoucher.store import IssuedSecret, Principal

MAX_SCAN = 256
MAX_STAMPS = 20
"""The most stamps the staff page's picker adds at once."""
_SERIAL = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FAILURES: tuple[tuple[type[WalletVoucherError], str], ...] = (
    (VoucherAlreadyRedeemed, "already-redeemed"), (VoucherExpired, "expired"),
    (OutsideRedemptionContext, "outside-context"), (CardExpired, "card-expired"),
    (VoucherNotYetValid, "not-yet-valid"), (VoucherVoided, "voided"), (ScanTokenExpired, "stale-scan"),
    (ScanTokenError, "invalid-scan"), (WrongRedeemCode, "wrong-code"), (CheckCharacterError, "wrong-code"),
    (ProofMismatch, "wrong-method"), (UnknownVoucher, "unknown-voucher"), (UnknownCard, "unknown-card"),
    (EarnPolicyViolation, "earn-policy"), (StaleVersion, "busy"), (DatabaseUnavailable, "busy"),
    (AccessError, "forbidden"), (ValidationError, "unreadable"),
)  # fmt: skip
_STATUS = {
    "redeemed": 200, "stamped": 200, "card": 200, "already-redeemed": 409, "expired": 409,
    "not-yet-valid": 409, "voided": 409,
    "outside-context": 409, "card-expired": 409, "scan-replayed": 409, "other-program": 422,
    "stale-scan": 422,
    "invalid-scan": 422, "wrong-code": 422, "wrong-method": 422, "earn-policy": 422, "unreadable": 422,
    "unknown-voucher": 404, "unknown-card": 404, "forbidden": 403, "busy": 503,
}  # fmt: skip
STATES = tuple(_STATUS)


@attrs.frozen(kw_only=True)
class CounterView:
    """What the counter shows: the outcome's state, the voucher and card it concerns, and why.

    ``retry_at`` is when an earn policy lets the next stamp in (``earn-policy``).
    """

    state: str
    voucher: Voucher | None = None
    card: StampCard | None = None
    program: Program | None = None
    added: int = 0
    retry_at: datetime | None = None
    why: str = ""
    """For ``outside-context``: the rule the redemption broke and when it would be allowed."""

    @property
    def ok(self) -> bool:
        """Whether the action went through (or, for ``card``, can)."""
        return self.state in ("redeemed", "stamped", "card")

    @property
    def status(self) -> int:
        """The HTTP status the page is sent with."""
        return _STATUS[self.state]


def is_voucher_scan(value: str) -> bool:
    """Whether *value* is a signed scan token (``wv1.``) or a rotating code (``wvr1.``)."""
    return value.startswith(("wv1.", "wvr1."))


class StaffDesk:
    """Redeem and stamp at the counter, as an enrolled device (see the module's table).

    *scan_keys* verify Staff-Scan tokens and rotating codes; *programs* are the programs this counter
    serves (a voucher of another is refused as ``other-program``; empty: every program).

    >>> # desk = StaffDesk(wallets, scan_keys=[key], programs=[coffee])
    >>> # who = desk.device(token, at=now); desk.scan(who, "wv1....", at=now).state  -> 'redeemed'
    """

    def __init__(
        self, wallet: WalletSource, *, scan_keys: Iterable[ScanKey] = (), programs: Iterable[Program] = ()
    ) -> None:
        self._wallet = _resolve(wallet)
        self._keys = tuple(scan_keys)
        self._programs = {(p.id, p.version): p for p in programs}
        self._ids = {p.id for p in self._programs.values()}

    def __repr__(self) -> str:
        return f"StaffDesk({len(self._keys)} scan keys, {len(self._ids)} programs)"

    # --- devices ---------------------------------------------------------------------------------

    def enrol(self, code: str, *, at: datetime, random: RandomSource) -> IssuedSecret | None:
        """Trade a one-time enrolment code for the device's token; None for a spent, revoked or bad code."""
        try:
            return self._wallet().access.enrol(code, at=at, random=random)
        except AccessError:
            return None

    def device(self, token: str | None, *, at: datetime) -> Principal | None:
        """The enrolled staff device or kiosk holding *token*, or None (unknown, revoked, an API key)."""
        principal = self._wallet().access.authenticate(token, at=at) if token else None
        if principal is None or principal.kind not in ("staff", "kiosk"):
            return None
        return principal

    # --- actions ---------------------------------------------------------------------------------

    def scan(self, who: Principal, value: str, *, at: datetime) -> CounterView:
        """What the camera or a scanner read: a voucher code is redeemed, a card barcode shows the card."""
        text = value.strip() if isinstance(value, str) else ""
        if not text or len(text) > MAX_SCAN:
            return CounterView(state="unreadable")
        if is_voucher_scan(text):
            return self._guard(lambda: self._redeem_scan(who, text, at))
        if not _SERIAL.fullmatch(text):
            return CounterView(state="unreadable")
        if not who.may("stamp"):
            return CounterView(state="forbidden")
        return self._guard(lambda: self._view("card", card=self._wallet().card(text)))

    def stamp(self, who: Principal, serial: str, count: int, *, at: datetime) -> CounterView:
        """Add *count* stamps (1 to :data:`MAX_STAMPS`) to the card *serial*, recorded as *who*'s."""
        if not who.may("stamp"):
            return CounterView(state="forbidden")
        if not isinstance(serial, str) or not _SERIAL.fullmatch(serial.strip()):
            return CounterView(state="unreadable")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_STAMPS:
            return CounterView(state="unreadable")
        serial = serial.strip()
        try:
            result = self._wallet().stamp(serial, count, at=at, source=who.label[:120])
        except EarnPolicyViolation:
            card = self._wallet().card(serial)
            return self._view("earn-policy", card=card, retry_at=_retry_at(card))
        except WalletVoucherError as exc:
            return self._failed(exc)
        voucher = result.vouchers[-1] if result.vouchers else None
        return self._view("stamped", card=result.card, voucher=voucher, added=count)

    def redeem_code(self, who: Principal, voucher: str, code: str, *, at: datetime) -> CounterView:
        """Redeem a Redeem Code voucher by its typed code, so the code's state is tracked here."""
        if not who.may("redeem"):
            return CounterView(state="forbidden")
        serial = voucher.strip() if isinstance(voucher, str) else ""
        typed = code.strip() if isinstance(code, str) else ""
        if not _SERIAL.fullmatch(serial) or not typed or len(typed) > 64:
            return CounterView(state="unreadable")
        proof = CodeEntry(code=typed, by=who.label[:120])
        return self._guard(lambda: self._redeem(serial, proof, at, who.location))

    # --- inside ----------------------------------------------------------------------------------

    def _redeem_scan(self, who: Principal, text: str, at: datetime) -> CounterView:
        if not who.may("redeem"):
            return CounterView(state="forbidden")
        claims = verify_scan_token(text, keys=self._keys, at=at)
        serial = claims.voucher_serial
        if self._ids:
            found = self._wallet().voucher(serial)
            if found.program_id not in self._ids:
                return CounterView(state="other-program", voucher=found)
        if claims.step is not None and not self._wallet().access.use_scan_step(serial, claims.step, at=at):
            return self._view("scan-replayed", voucher=self._wallet().voucher(serial))
        proof = StaffScan(token=text, keys=self._keys, by=who.label[:120])
        return self._redeem(serial, proof, at, who.location)

    def _redeem(
        self, serial: str, proof: CodeEntry | StaffScan, at: datetime, where: str = ""
    ) -> CounterView:
        try:
            # the counter is in the shop: its location (the device's branch) and the in-store channel
            result = self._wallet().redeem(serial, proof, at=at, location=where or None, channel="in_store")
        except (VoucherAlreadyRedeemed, VoucherExpired, VoucherNotYetValid, VoucherVoided,
                WrongRedeemCode, CheckCharacterError, ProofMismatch, OutsideRedemptionContext,
                CardExpired) as exc:  # fmt: skip
            stored = self._wallet().voucher(serial)
            view = self._view(_state_of(exc), voucher=stored, card=self._card_or_none(stored.card_serial))
            if isinstance(exc, OutsideRedemptionContext):  # the rule broken, and when it would be allowed
                return attrs.evolve(view, why=str(exc)[:300])
            return view
        return self._view("redeemed", voucher=result.voucher, card=result.card)

    def _guard(self, action: Callable[[], CounterView]) -> CounterView:
        try:
            return action()
        except WalletVoucherError as exc:
            return self._failed(exc)

    def _failed(self, exc: WalletVoucherError) -> CounterView:
        return CounterView(state=_state_of(exc))

    def _card_or_none(self, serial: str) -> StampCard | None:
        try:
            return self._wallet().card(serial)
        except UnknownCard:
            return None

    def _view(
        self,
        state: str,
        *,
        voucher: Voucher | None = None,
        card: StampCard | None = None,
        added: int = 0,
        retry_at: datetime | None = None,
    ) -> CounterView:
        program = card.program if card is not None else None
        if voucher is not None:
            program = self._programs.get((voucher.program_id, voucher.program_version), program)
        return CounterView(state=state, voucher=voucher, card=card, program=program, added=added,
                           retry_at=retry_at)  # fmt: skip


def _state_of(exc: WalletVoucherError) -> str:
    return next((state for kind, state in _FAILURES if isinstance(exc, kind)), "unreadable")


def _retry_at(card: StampCard) -> datetime | None:
    policy = card.program.earn_policy
    if policy is None or policy.min_interval is None or card.last_stamp_at is None:
        return None
    return card.last_stamp_at + policy.min_interval


__all__ = ["MAX_STAMPS", "STATES", "CounterView", "StaffDesk", "is_voucher_scan"]
