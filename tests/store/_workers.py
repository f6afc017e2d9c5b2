"""Functions run in separate OS processes (multiprocessing, spawn) by the concurrency tests.

Each opens its own wallet (one connection per process), waits at a barrier so all start together,
and reports through a queue.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import Any

from tests.store._programs import all_programs
from walletvoucher import SelfRedeem
from walletvoucher.errors import CodePoolEmpty, VoucherAlreadyRedeemed
from walletvoucher.store import Change, Message, Wallet

NOW = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)


def redeem_once(url: str, voucher_serial: str, barrier: Any, queue: Any) -> None:
    """Try to redeem the voucher; report 'redeemed', 'already' or the unexpected error."""
    with Wallet.open(url, programs=all_programs()) as wallet:
        barrier.wait()
        try:
            wallet.redeem(voucher_serial, SelfRedeem(), at=NOW)
            queue.put(("redeemed", wallet.conflicts))
        except VoucherAlreadyRedeemed:
            queue.put(("already", wallet.conflicts))
        except Exception as exc:
            queue.put((f"error {type(exc).__name__}: {exc}", wallet.conflicts))


def stamp_many(url: str, serial: str, count: int, source: str, barrier: Any, queue: Any) -> None:
    """Add *count* single stamps to one card; report how many succeeded and the retries it took."""
    done = 0
    with Wallet.open(url, programs=all_programs(), retries=200) as wallet:
        barrier.wait()
        try:
            for _ in range(count):
                wallet.stamp(serial, 1, at=NOW, source=source)
                done += 1
            queue.put(("ok", done, wallet.conflicts))
        except Exception as exc:
            queue.put((f"error {type(exc).__name__}: {exc}", done, wallet.conflicts))


def draw_until_empty(url: str, serial: str, pool: str, barrier: Any, queue: Any) -> None:
    """Stamp a goal-1 card until the pool runs dry; report the codes its vouchers got."""
    codes: list[str] = []
    with Wallet.open(url, programs=all_programs()) as wallet:
        wallet.issue_card("pos", serial=serial, member_id=f"m-{serial}", at=NOW)
        barrier.wait()
        try:
            while True:
                result = wallet.stamp(serial, 1, at=NOW, source="till", pool=pool)
                codes += [v.code.value for v in result.vouchers if v.code is not None]
        except CodePoolEmpty as exc:
            queue.put(("empty", exc.value, codes))
        except Exception as exc:
            queue.put((f"error {type(exc).__name__}: {exc}", None, codes))


def stall_inside_transition(url: str, serial: str, pool: str, queue: Any) -> None:
    """Stamp with an effect hook that stops inside the transaction until the process is killed."""

    def stall(change: Change) -> list[Message]:
        queue.put(("inside", os.getpid()))
        time.sleep(120)
        return [Message(topic="never", payload={})]

    with Wallet.open(url, programs=all_programs(), effects=[stall]) as wallet:
        wallet.stamp(serial, 1, at=NOW, source="till", pool=pool)
    queue.put(("finished", os.getpid()))  # never reached: the test kills us inside the hook


def stamp_with_key(url: str, serial: str, key: str, barrier: Any, queue: Any) -> None:
    """Send the same stamp request, with the same idempotency key, as every other worker."""
    with Wallet.open(url, programs=all_programs(), retries=200) as wallet:
        barrier.wait()
        try:
            result = wallet.stamp(serial, 12, at=NOW, source="kiosk", idempotency_key=key)
            queue.put(("ok", result.card.lifetime_stamps, [v.serial for v in result.vouchers]))
        except Exception as exc:
            queue.put((f"error {type(exc).__name__}: {exc}", None, []))


def issue_with_key(url: str, rounds: int, barrier: Any, queue: Any) -> None:
    """Each round, issue card R<round> with the round's idempotency key, as every other worker does."""
    results = []
    with Wallet.open(url, programs=all_programs(), retries=200) as wallet:
        for n in range(rounds):
            barrier.wait()
            try:
                card = wallet.issue_card("coffee", serial=f"R{n}", member_id="m-1", at=NOW,
                                         idempotency_key=f"issue/{n}")
                results.append(("ok", card.serial, card.issued_at.isoformat()))
            except Exception as exc:
                results.append((f"error {type(exc).__name__}", str(exc), ""))
    queue.put(results)


def redeem_with_key(url: str, serials: list[str], barrier: Any, queue: Any) -> None:
    """Each round, redeem one voucher with the round's key and proof, as every other worker does."""
    results = []
    with Wallet.open(url, programs=all_programs(), retries=200) as wallet:
        for serial in serials:
            barrier.wait()
            try:
                r = wallet.redeem(serial, SelfRedeem(by="till"), at=NOW, idempotency_key=f"redeem/{serial}")
                results.append(("ok", r.voucher.serial, r.voucher.status_at(NOW).value))
            except Exception as exc:
                results.append((f"error {type(exc).__name__}", str(exc), ""))
    queue.put(results)
