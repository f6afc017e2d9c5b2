"""Promises that must hold under races (issue 17), on both engines.

- A request repeated with its idempotency key returns the first result, whatever the interleaving
  (8 processes, many rounds, all started together at a barrier).
- A code pool is empty only when it is: a draw does not give up while codes held by other draws in
  flight may still come back.
- A SQLite wallet in a folder we cannot write opens ``?mode=ro``.
"""

from __future__ import annotations

import multiprocessing
import os
import pwd
import shutil
import stat
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.store import _workers
from tests.store._programs import coffee
from tests.store.conftest import FIGURES, NOW
from walletvoucher.errors import DatabaseReadOnly
from walletvoucher.store import Change, Message, Wallet

PROCESSES = 8
ROUNDS = 10
_ctx = multiprocessing.get_context("spawn")


def _rounds(target: Any, args: tuple[Any, ...]) -> list[list[Any]]:
    barrier, queue = _ctx.Barrier(PROCESSES), _ctx.Queue()
    procs = [_ctx.Process(target=target, args=(*args, barrier, queue)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    reports = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return reports


def test_eight_processes_issuing_one_card_with_one_key_all_get_the_first_result(
    url: str, engine: str, programs: list[Any]
) -> None:
    Wallet.open(url, programs=programs).close()
    reports = _rounds(_workers.issue_with_key, (url, ROUNDS))
    for n in range(ROUNDS):
        outcomes = Counter(report[n] for report in reports)
        assert outcomes == {("ok", f"R{n}", NOW.isoformat()): PROCESSES}, (n, outcomes)
    with Wallet.open(url, programs=programs) as wallet:
        assert wallet.counts().cards == ROUNDS and wallet.counts().events == ROUNDS
    FIGURES.append(f"[{engine}] {PROCESSES} processes x {ROUNDS} rounds issue one card with one key: "
                   "every call got the first result")


def test_eight_processes_redeeming_with_one_key_all_get_the_first_result(
    url: str, engine: str, programs: list[Any]
) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        serials = []
        for n in range(ROUNDS):
            wallet.issue_card(coffee(), serial=f"C{n}", member_id="m-1", at=NOW)
            serials.append(wallet.stamp(f"C{n}", 10, at=NOW).vouchers[0].serial)
    reports = _rounds(_workers.redeem_with_key, (url, serials))
    for n, serial in enumerate(serials):
        outcomes = Counter(report[n] for report in reports)
        assert outcomes == {("ok", serial, "redeemed"): PROCESSES}, (serial, outcomes)
    with Wallet.open(url, programs=programs) as wallet:
        redeemed = [e for e in wallet.journal() if e.event.type.value == "voucher_redeemed"]
        assert len(redeemed) == ROUNDS
    FIGURES.append(f"[{engine}] {PROCESSES} processes x {ROUNDS} rounds redeem with one key and proof: "
                   "every call got the first result")


def test_a_draw_waits_for_a_code_held_by_a_draw_in_flight_before_saying_empty(
    url: str, programs: list[Any]
) -> None:
    """The last code is held by a stamp whose transaction then rolls back (a failing hook): a
    concurrent stamp must get that code, not CodePoolEmpty."""
    inside, release = threading.Event(), threading.Event()

    def hold_then_fail(change: Change) -> list[Message]:
        inside.set()
        release.wait(30)
        raise RuntimeError("the hook failed: roll back")

    with Wallet.open(url, programs=programs) as setup:
        setup.pools.import_codes("last", ["ONLY-1"], symbology="code128")
        setup.issue_card("pos", serial="A", member_id="m-a", at=NOW)
        setup.issue_card("pos", serial="B", member_id="m-b", at=NOW)
    outcome: dict[str, Any] = {}

    def first() -> None:
        with Wallet.open(url, programs=programs, effects=[hold_then_fail]) as a:
            try:
                a.stamp("A", 1, at=NOW, pool="last")
            except RuntimeError as exc:
                outcome["A"] = str(exc)

    def second() -> None:
        with Wallet.open(url, programs=programs) as b:
            try:
                outcome["B"] = [v.code.value for v in b.stamp("B", 1, at=NOW, pool="last").vouchers if v.code]
            except Exception as exc:
                outcome["B"] = f"{type(exc).__name__}: {exc}"

    a_thread = threading.Thread(target=first)
    a_thread.start()
    assert inside.wait(30)
    b_thread = threading.Thread(target=second)
    b_thread.start()
    time.sleep(0.5)  # B is now drawing while A holds the only code
    release.set()
    a_thread.join(30)
    b_thread.join(30)
    assert outcome == {"A": "the hook failed: roll back", "B": ["ONLY-1"]}, outcome
    with Wallet.open(url, programs=programs) as wallet:
        assert wallet.pools.remaining("last") == 0


def _in_child_without_write_access(folder: Path, action: Any) -> Any:
    """Run *action* in a forked child that cannot write *folder* (as 'nobody' when we are root)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            if os.geteuid() == 0:
                nobody = pwd.getpwnam("nobody")
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            assert not os.access(folder, os.W_OK)
            result = repr(action())
        except BaseException as exc:
            result = f"{type(exc).__name__}: {exc}"
        os.write(write, result.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return text


@pytest.fixture
def read_only_folder() -> Any:
    folder = Path(tempfile.mkdtemp(prefix="wv-ro-", dir="/tmp"))
    try:
        yield folder
    finally:
        folder.chmod(stat.S_IRWXU)
        shutil.rmtree(folder, ignore_errors=True)


def test_sqlite_wallet_in_a_read_only_folder_opens_read_only(
    read_only_folder: Path, programs: list[Any]
) -> None:
    db = read_only_folder / "wallet.db"
    with Wallet.open(f"sqlite:///{db}", programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 3, at=NOW)
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["wallet.db"]  # WAL checkpointed on close
    db.chmod(0o444)
    read_only_folder.chmod(0o555)

    def read_then_write() -> tuple[int, str]:
        with Wallet.open(f"sqlite:///{db}?mode=ro", programs=programs) as wallet:
            stamps = wallet.card("C1").stamps
            try:
                wallet.stamp("C1", 1, at=NOW)
            except DatabaseReadOnly as exc:
                return stamps, type(exc).__name__
            return stamps, "written"

    assert _in_child_without_write_access(read_only_folder, read_then_write) == repr((3, "DatabaseReadOnly"))


def test_sqlite_read_only_folder_with_a_wal_full_of_commits_is_refused_with_the_fix(
    read_only_folder: Path, programs: list[Any]
) -> None:
    db = read_only_folder / "wallet.db"
    keeper = Wallet.open(f"sqlite:///{db}", programs=programs)  # open: its WAL is not checkpointed away
    keeper.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    try:
        shutil.copy(db.with_name("wallet.db-wal"), read_only_folder / "copy.db-wal")
        shutil.copy(db, read_only_folder / "copy.db")
    finally:
        keeper.close()
    copy = read_only_folder / "copy.db"
    read_only_folder.chmod(0o555)

    def open_it() -> str:
        try:
            Wallet.open(f"sqlite:///{copy}?mode=ro", programs=programs).close()
        except DatabaseReadOnly as exc:
            return f"{exc.field} {exc.fix}"
        return "opened"

    text = _in_child_without_write_access(read_only_folder, open_it)
    assert text.startswith("'url open it once with write access"), text
