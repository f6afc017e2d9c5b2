"""The web service over the wallet store: registrations and update marks from ``wallet.passes``.

The store writes the marks itself, in the transaction of every transition (see
:mod:`walletvoucher.store._passes`); this module only adapts ``wallet.passes`` to the service's
:class:`PassUpdateStore` Protocol and renders a pass from the card as it was at the marked version,
as at the mark's ``last_modified`` (which is at or after the change). A voucher that becomes valid
later is shown as "Valid from" until then; the store queues a ``pass.refresh`` for that moment, and
the worker's re-mark makes the next fetch draw it valid (its warning is therefore not repeated here).

A :class:`~walletvoucher.store.Wallet` holds one connection and is not shared between threads,
while an ASGI server runs the core in a thread pool: give :class:`StorePassUpdates` a
:class:`WalletPerThread` (one wallet per thread, opened on first use) rather than one wallet.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from walletvoucher.apple import AppleOptions, AppleSigner, render_pkpass
from walletvoucher.errors import AppleWalletWarning, UnknownVoucher
from walletvoucher.model import Program, StampCard, Voucher
from walletvoucher.service._protocol import PassState, UpdatedSerials
from walletvoucher.service._tokens import PassTokens, updatable_options
from walletvoucher.store import Wallet

WalletSource = Wallet | Callable[[], Wallet]
"""A wallet, or a callable giving the calling thread's wallet (e.g. :class:`WalletPerThread`)."""


class WalletPerThread:
    """Open one :class:`Wallet` per thread, on first use; :meth:`close` closes them all.

    >>> # wallets = WalletPerThread("sqlite:///wallet.db", programs=[coffee])
    >>> # store = StorePassUpdates(wallets)
    """

    def __init__(self, url: str | os.PathLike[str], *, programs: Iterable[Program], **options: Any) -> None:
        self.url = url
        self._programs = tuple(programs)
        self._options = options
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[Wallet] = []

    def __call__(self) -> Wallet:
        wallet: Wallet | None = getattr(self._local, "wallet", None)
        if wallet is None:
            wallet = Wallet.open(self.url, programs=self._programs, **self._options)
            self._local.wallet = wallet
            with self._lock:
                self._opened.append(wallet)
        return wallet

    def close(self) -> None:
        """Close every wallet opened so far (from any thread)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for wallet in opened:
            wallet.close()


def _resolve(source: WalletSource) -> Callable[[], Wallet]:
    return (lambda: source) if isinstance(source, Wallet) else source


class StorePassUpdates:
    """:class:`PassUpdateStore` over the wallet store (SQLite or PostgreSQL).

    >>> # service = PassWebService(..., store=StorePassUpdates(wallet), ...)
    """

    def __init__(self, wallet: WalletSource) -> None:
        self._wallet = _resolve(wallet)

    def register_device(self, device: str, serial: str, push_token: str, *, at: datetime) -> bool:
        """See :meth:`PassUpdateStore.register_device`; a new one is recorded as ``card_saved``."""
        return self._wallet().passes.register(device, serial, push_token, at=at)

    def unregister_device(self, device: str, serial: str, *, at: datetime) -> bool:
        """See :meth:`PassUpdateStore.unregister_device`; recorded as ``card_removed``."""
        return self._wallet().passes.unregister(device, serial, at=at)

    def serials_updated_since(self, device: str, since: int | None) -> UpdatedSerials:
        """See :meth:`PassUpdateStore.serials_updated_since`."""
        serials, last = self._wallet().passes.updated_since(device, since)
        return UpdatedSerials(serials=serials, last_updated=last)

    def push_tokens(self, serial: str) -> tuple[str, ...]:
        """See :meth:`PassUpdateStore.push_tokens`."""
        return self._wallet().passes.push_tokens(serial)

    def remove_push_token(self, push_token: str, *, at: datetime) -> int:
        """See :meth:`PassUpdateStore.remove_push_token`; each removal is recorded as ``card_removed``."""
        return self._wallet().passes.remove_push_token(push_token, at=at)

    def pass_state(self, serial: str) -> PassState | None:
        """See :meth:`PassUpdateStore.pass_state`."""
        mark = self._wallet().passes.mark(serial)
        if mark is None:
            return None
        return PassState(serial=mark.serial, version=mark.version, last_modified=mark.last_modified)


def stored_pass(wallet: Wallet, state: PassState) -> tuple[StampCard | Voucher, Program]:
    """What the pass of ``state.serial`` shows at ``state.version``: the card, or one of its vouchers.

    A card is rebuilt at exactly that version. A voucher comes from the card at that version while
    it is open, and from the stored voucher once final (redeemed, expired and voided are final).
    """
    mark = wallet.passes.mark(state.serial)
    card_serial = state.serial if mark is None else mark.card_serial
    card = wallet.card(card_serial, version=min(state.version, wallet.card_info(card_serial).version))
    if mark is None or mark.kind == "card":
        return card, card.program
    found = next((v for v in card.vouchers if v.serial == state.serial), None)
    if found is None:
        stored = wallet.vouchers(card_serial=card_serial, limit=10_000)
        found = next((v for v in stored if v.serial == state.serial), None)
    if found is None:
        raise UnknownVoucher(
            "is marked as a pass but is not stored",
            field="serial",
            value=state.serial,
            fix="the store is inconsistent: check the vouchers table",
        )
    return found, card.program


def store_renderer(
    wallet: WalletSource,
    *,
    signer: AppleSigner,
    options: AppleOptions,
    web_service_url: str,
    tokens: PassTokens,
) -> Callable[[PassState], bytes]:
    """A :data:`PassRenderer` drawing each pass from the store, with its webServiceURL and token."""
    source = _resolve(wallet)

    def render(state: PassState) -> bytes:
        item, program = stored_pass(source(), state)
        opts = updatable_options(options, state.serial, web_service_url=web_service_url, tokens=tokens)
        with warnings.catch_warnings():  # "not valid yet": the store's pass.refresh re-marks the pass
            warnings.simplefilter("ignore", AppleWalletWarning)
            return render_pkpass(item, signer=signer, options=opts, at=drawn_at(item, state), program=program)

    return render


def drawn_at(item: StampCard | Voucher, state: PassState) -> datetime:
    """The moment a stored pass is drawn at: its mark's ``last_modified``, never before the newest time
    the card or voucher holds (a mark cut to whole seconds by an older store must not hide a voucher
    issued, and valid, in that second's microseconds)."""
    times = [state.last_modified]
    if isinstance(item, StampCard):
        times += [v.issued_at for v in item.vouchers]
        times += [] if item.last_stamp_at is None else [item.last_stamp_at]
    else:
        times.append(item.issued_at)
    return max(times)
