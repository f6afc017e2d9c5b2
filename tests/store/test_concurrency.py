"""Exactly once across OS processes (multiprocessing, not threads), on both engines; and crash safety.

Each test records its figures in ``FIGURES``; pytest prints them in the terminal summary.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from typing import Any

from tests.store import _workers
from tests.store._programs import coffee
from tests.store.conftest import FIGURES, NOW
from walletvoucher import SelfRedeem
from walletvoucher.store import Wallet

PROCESSES = 8
_ctx = multiprocessing.get_context("spawn")


def _run(target: Any, args_for: Any, *, timeout: float = 120) -> tuple[list[Any], float]:
    """Start PROCESSES workers behind one barrier; return their reports and the wall time."""
    barrier, queue = _ctx.Barrier(PROCESSES + 1), _ctx.Queue()
    procs = [_ctx.Process(target=target, args=(*args_for(i), barrier, queue)) for i in range(PROCESSES)]
    for p in procs:
        p.start()
    barrier.wait(timeout=timeout)
    started = time.perf_counter()
    reports = [queue.get(timeout=timeout) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join(timeout=timeout)
        assert p.exitcode == 0
    return reports, elapsed


def test_eight_processes_redeem_one_voucher_exactly_once(url: str, engine: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        voucher = wallet.stamp("C1", 10, at=NOW).vouchers[0]
    reports, elapsed = _run(_workers.redeem_once, lambda i: (url, voucher.serial))
    outcomes = Counter(r[0] for r in reports)
    assert outcomes == {"redeemed": 1, "already": PROCESSES - 1}, outcomes
    with Wallet.open(url, programs=programs) as wallet:
        card = wallet.card("C1")
        assert card.vouchers == ()
        redeemed = [e for e in wallet.journal() if e.event.type.value == "voucher_redeemed"]
        assert len(redeemed) == 1
    FIGURES.append(
        f"[{engine}] {PROCESSES} processes redeem one voucher: {outcomes['redeemed']} redeemed, "
        f"{outcomes['already']} already redeemed, {sum(r[1] for r in reports)} retries, {elapsed:.2f} s"
    )


def test_eight_processes_stamp_one_card_without_losing_a_stamp(
    url: str, engine: str, programs: list[Any]
) -> None:
    per_process = 100
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    reports, elapsed = _run(_workers.stamp_many, lambda i: (url, "C1", per_process, f"till-{i}"))
    assert [r[:2] for r in reports] == [("ok", per_process)] * PROCESSES, reports
    total = PROCESSES * per_process
    with Wallet.open(url, programs=programs) as wallet:
        card = wallet.card("C1")
        assert card.lifetime_stamps == total
        assert card.vouchers_issued == total // 10 and len(card.vouchers) == total // 10
        assert (card.stamps, card.cycle) == (total % 10, total // 10 + 1)
        assert wallet.counts().vouchers == {"open": total // 10}
        assert wallet.card_info("C1").version == 1 + total + 3 * (total // 10)
    retries = sum(r[2] for r in reports)
    FIGURES.append(
        f"[{engine}] {PROCESSES} processes x {per_process} stamps on one card: "
        f"{card.lifetime_stamps} lifetime stamps, {card.vouchers_issued} vouchers, {retries} retries, "
        f"{elapsed:.2f} s ({total / elapsed:.0f} stamps/s)"
    )


def test_eight_processes_draw_a_pool_of_1000_codes_once_each(
    url: str, engine: str, programs: list[Any]
) -> None:
    codes = [f"POS-{n:04d}" for n in range(1000)]
    with Wallet.open(url, programs=programs) as wallet:
        assert wallet.pools.import_codes("pos-export", codes, symbology="code128") == 1000
    reports, elapsed = _run(_workers.draw_until_empty, lambda i: (url, f"P{i}", "pos-export"))
    assert [r[:2] for r in reports] == [("empty", "pos-export")] * PROCESSES, [r[:2] for r in reports]
    handed = [code for r in reports for code in r[2]]
    assert len(handed) == 1000 and sorted(handed) == codes
    with Wallet.open(url, programs=programs) as wallet:
        assert wallet.pools.remaining("pos-export") == 0
        stored = wallet.vouchers(card_serial=None, limit=5000)
        assert sorted(v.code.value for v in stored if v.code) == codes
    FIGURES.append(
        f"[{engine}] {PROCESSES} processes draw a pool of 1000 codes: {len(set(handed))} distinct codes "
        f"handed out, {sum(1 for r in reports if r[0] == 'empty')} processes then got CodePoolEmpty, "
        f"{elapsed:.2f} s"
    )


def test_sigkill_inside_a_transition_leaves_the_store_as_before(
    url: str, engine: str, programs: list[Any]
) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.pools.import_codes("pos-export", ["K-1", "K-2"], symbology="code128")
        wallet.issue_card("pos", serial="K1", member_id="m-1", at=NOW)
        before_info, before_counts = wallet.card_info("K1"), wallet.counts()
    queue = _ctx.Queue()
    proc = _ctx.Process(target=_workers.stall_inside_transition, args=(url, "K1", "pos-export", queue))
    proc.start()
    assert queue.get(timeout=60) == ("inside", proc.pid)  # events, voucher and code written, not committed
    os.kill(proc.pid or 0, signal.SIGKILL)
    proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL
    with Wallet.open(url, programs=programs) as wallet:
        assert wallet.card_info("K1") == before_info
        assert wallet.counts() == before_counts
        assert wallet.pools.remaining("pos-export") == 2  # the code taken in the killed transaction is back
        assert wallet.outbox.pending() == 0
        result = wallet.stamp("K1", 1, at=NOW, source="till", pool="pos-export")  # not locked out
        assert [v.code.value for v in result.vouchers if v.code] == ["K-1"]
        assert wallet.card("K1").lifetime_stamps == 1
    FIGURES.append(f"[{engine}] SIGKILL inside a transition: store unchanged, next stamp took code K-1")


def test_redeem_after_a_concurrent_redemption_says_already_redeemed(url: str, programs: list[Any]) -> None:
    # Two wallets (two connections) on one store: the second has the card cached with the voucher open.
    with Wallet.open(url, programs=programs) as a, Wallet.open(url, programs=programs) as b:
        a.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        voucher = a.stamp("C1", 10, at=NOW).vouchers[0]
        assert b.card("C1").vouchers[0].serial == voucher.serial
        a.redeem(voucher.serial, SelfRedeem(), at=NOW)
        try:
            b.redeem(voucher.serial, SelfRedeem(), at=NOW)
        except Exception as exc:
            assert type(exc).__name__ == "VoucherAlreadyRedeemed"
        else:
            raise AssertionError("a voucher was redeemed twice")


def test_eight_processes_retrying_one_request_stamp_once(url: str, engine: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    reports, elapsed = _run(_workers.stamp_with_key, lambda i: (url, "C1", "kiosk-7/request-42"))
    assert reports == [("ok", 12, ["C1-1"])] * PROCESSES, reports
    with Wallet.open(url, programs=programs) as wallet:
        assert wallet.card("C1").lifetime_stamps == 12
        assert wallet.counts().events == 1 + 4
    FIGURES.append(
        f"[{engine}] {PROCESSES} processes send one request with one idempotency key: stamped once, "
        f"{PROCESSES} identical results, {elapsed:.2f} s"
    )


def test_a_device_following_its_tag_sees_every_last_change_while_processes_commit(
    url: str, engine: str, programs: list[Any]
) -> None:
    """Positions commit in order: a device polling "changed since my tag" during concurrent commits
    never skips one (a slower commit with a lower position would otherwise be missed for good)."""
    per_process = 25
    with Wallet.open(url, programs=programs) as wallet:
        for i in range(PROCESSES):
            wallet.issue_card(coffee(), serial=f"C{i}", member_id="m", at=NOW)
            wallet.passes.register("phone", f"C{i}", "tok", at=NOW)
        barrier, queue = _ctx.Barrier(PROCESSES + 1), _ctx.Queue()
        procs = [
            _ctx.Process(target=_workers.stamp_many, args=(url, f"C{i}", per_process, "till", barrier, queue))
            for i in range(PROCESSES)
        ]
        for p in procs:
            p.start()
        polls: list[tuple[int, int, tuple[str, ...]]] = []  # (tag asked, lastUpdated, serials)
        tag, reports = 0, []
        barrier.wait(timeout=120)
        while len(reports) < PROCESSES:
            serials, last = wallet.passes.updated_since("phone", tag)
            polls.append((tag, last, serials))
            tag = last
            while not queue.empty():
                reports.append(queue.get())
        for p in procs:
            p.join(timeout=120)
        serials, last = wallet.passes.updated_since("phone", tag)  # after every commit
        polls.append((tag, last, serials))
        final = {f"C{i}": wallet.passes.mark(f"C{i}") for i in range(PROCESSES)}
    assert [r[:2] for r in reports] == [("ok", per_process)] * PROCESSES, reports
    for serial, mark in final.items():
        assert mark is not None
        assert any(low < mark.position <= high and serial in got for low, high, got in polls), serial
    FIGURES.append(f"[{engine}] a device polled its tag {len(polls)} times during {PROCESSES * per_process} "
                   f"concurrent stamps and saw every card's last change")
