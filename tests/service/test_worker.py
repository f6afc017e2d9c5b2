"""The outbox worker and its apple.push handler: failures, retries, crashes, the CLI.

APNs is the loopback stand-in (HTTP/2, TLS, client certificate required); crashes are real
SIGKILLs of a separate process.
"""

from __future__ import annotations

import itertools
import os
import signal
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from walletvoucher.apple import AppleSigner
from walletvoucher.errors import GoogleUnavailable, ValidationError
from walletvoucher.service import StorePassUpdates, drain_outbox
from walletvoucher.service.apns import ApnsClient, ApplePushHandler
from walletvoucher.store import PUSH_TOPIC, OutboxMessage, Wallet

from .conftest import NOW, PASS_TYPE
from .servers import ApnsStandIn, free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ab" * 32
LATER = NOW + timedelta(minutes=1)


async def _no_wait(seconds: float) -> None:
    del seconds


def handler_for(
    store: StorePassUpdates, signer: AppleSigner, url: str, trust: ssl.SSLContext
) -> ApplePushHandler:
    apns = ApnsClient(
        topic=PASS_TYPE, signer=signer, base_url=url, verify=trust, max_attempts=2, sleep=_no_wait
    )
    return ApplePushHandler(store, apns)


@pytest.fixture
def push(
    store: StorePassUpdates, signer: AppleSigner, apns_server: ApnsStandIn, trust: ssl.SSLContext
) -> Iterator[ApplePushHandler]:
    handler = handler_for(store, signer, apns_server.url, trust)
    yield handler
    handler.close()


def held_card(wallet: Wallet, serial: str = "CARD-1", token: str = TOKEN) -> None:
    wallet.issue_card("coffee", serial=serial, member_id="m-1", at=NOW)
    wallet.passes.register("phone-" + token[:4], serial, token, at=NOW)


def test_410_from_apns_removes_the_registration(
    engine: str, wallet: Wallet, push: ApplePushHandler, apns_server: ApnsStandIn
) -> None:
    gone = "cd" * 32
    held_card(wallet)
    held_card(wallet, "CARD-2", gone)
    wallet.passes.register("phone-2", "CARD-1", gone, at=NOW)
    apns_server.script = {gone: [(410, "Unregistered"), (410, "Unregistered")]}
    wallet.stamp("CARD-1", at=LATER)
    report = drain_outbox(wallet, {"apple.push": push}, at=LATER)
    assert (report.completed, report.retried) == (1, 0)
    assert wallet.passes.push_tokens("CARD-1") == (TOKEN,)
    assert wallet.passes.push_tokens("CARD-2") == ()
    removed = [(a.serial, a.reason) for a in wallet.passes.activity() if a.type == "card_removed"]
    assert sorted(removed) == [("CARD-1", "apns"), ("CARD-2", "apns")]


def test_apns_down_keeps_the_push_until_a_later_drain(
    engine: str,
    wallet: Wallet,
    store: StorePassUpdates,
    signer: AppleSigner,
    trust: ssl.SSLContext,
    apns_server: ApnsStandIn,
) -> None:
    held_card(wallet)
    wallet.stamp("CARD-1", at=LATER)
    down = handler_for(store, signer, f"https://127.0.0.1:{free_port()}", trust)
    try:
        report = drain_outbox(wallet, {"apple.push": down}, at=LATER, backoff=timedelta(seconds=30))
    finally:
        down.close()
    assert (report.completed, report.retried) == (0, 1)
    assert "PushNotDelivered" in report.errors[0] and TOKEN not in report.errors[0]
    assert wallet.outbox.pending() == 1
    up = handler_for(store, signer, apns_server.url, trust)
    try:
        too_soon = drain_outbox(wallet, {"apple.push": up}, at=LATER + timedelta(seconds=29))
        assert too_soon.completed == 0 and apns_server.seen == []
        again = drain_outbox(wallet, {"apple.push": up}, at=LATER + timedelta(seconds=30))
    finally:
        up.close()
    assert again.completed == 1 and wallet.outbox.pending() == 0
    assert [s.path for s in apns_server.seen] == [f"/3/device/{TOKEN}"]


def test_retries_back_off_and_stop_growing_at_the_cap(wallet: Wallet) -> None:
    held_card(wallet)
    wallet.stamp("CARD-1", at=LATER)
    tried: list[datetime] = []

    def failing(message: OutboxMessage, at: datetime) -> None:
        tried.append(at)
        raise RuntimeError("still down")

    at = LATER
    for _ in range(60):  # drain every second for a minute: only due attempts run
        drain_outbox(wallet, {"apple.push": failing}, at=at, backoff=timedelta(seconds=1),
                     backoff_cap=timedelta(seconds=8))
        at += timedelta(seconds=1)
    gaps = [(b - a).seconds for a, b in itertools.pairwise(tried)]
    assert gaps == [1, 2, 4, 8, 8, 8, 8, 8, 8]
    (message,) = wallet.outbox.claim(at=at + timedelta(seconds=8), limit=5)
    assert message.last_error == "RuntimeError: still down" and message.attempts == len(tried) + 1


@pytest.mark.parametrize(("retry_after", "gap"), [(20.0, 20), (86_400.0, 30)])
def test_a_server_asking_to_wait_is_honoured_up_to_the_cap(
    wallet: Wallet, retry_after: float, gap: int
) -> None:
    held_card(wallet)
    wallet.stamp("CARD-1", at=LATER)
    tried: list[datetime] = []

    def throttled(message: OutboxMessage, at: datetime) -> None:
        tried.append(at)
        raise GoogleUnavailable("429 Too Many Requests", status=429, retry_after=retry_after)

    at = LATER
    for _ in range(45):  # drain every second: the second attempt waits for Retry-After, capped
        drain_outbox(wallet, {"apple.push": throttled}, at=at, backoff=timedelta(seconds=1),
                     backoff_cap=timedelta(seconds=30))
        at += timedelta(seconds=1)
    assert (tried[1] - tried[0]).seconds == gap


def test_topics_without_a_handler_stay_pending(wallet: Wallet) -> None:
    held_card(wallet)
    wallet.stamp("CARD-1", at=LATER)
    report = drain_outbox(wallet, {"google.sync": lambda m, at: None}, at=LATER)
    assert report.completed == 0 and wallet.outbox.pending() == 1
    with pytest.raises(ValidationError, match="handlers"):
        drain_outbox(wallet, {}, at=LATER)


def test_a_message_without_a_serial_is_retried_not_lost(wallet: Wallet, push: ApplePushHandler) -> None:
    held_card(wallet)
    wallet.stamp("CARD-1", at=LATER)
    with wallet._db.write() as tx:  # a malformed row, as a bug elsewhere might write
        tx.run("UPDATE outbox SET payload = '{}'")
    report = drain_outbox(wallet, {PUSH_TOPIC: push}, at=LATER)
    assert report.retried == 1 and "payload.serial" in report.errors[0]
    assert wallet.outbox.pending() == 1


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from datetime import timedelta
    sys.path.insert(0, {root!r})
    from tests.service.conftest import NOW, coffee_program
    from walletvoucher.service import drain_outbox
    from walletvoucher.store import Wallet

    wallet = Wallet.open({url!r}, programs=[coffee_program()])
    if {mode!r} == "after-commit":
        wallet.stamp("CARD-1", 3, at=NOW + timedelta(minutes=1))
        print("committed", flush=True)
    else:
        def hang(message, at):
            print("claimed", flush=True)
            time.sleep(120)
        drain_outbox(wallet, {{"apple.push": hang}}, at=NOW + timedelta(minutes=1),
                     lease=timedelta(minutes=5))
    time.sleep(120)
    """
)


@pytest.mark.parametrize("mode", ["after-commit", "mid-push"])
def test_a_crash_between_commit_and_push_loses_nothing(
    engine: str, db_url: str, wallet: Wallet, push: ApplePushHandler, apns_server: ApnsStandIn, mode: str
) -> None:
    held_card(wallet)
    if mode == "mid-push":
        wallet.stamp("CARD-1", 3, at=LATER)
    script = CRASH_SCRIPT.format(root=str(ROOT), url=db_url, mode=mode)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == ("committed" if mode == "after-commit" else "claimed")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert wallet.card("CARD-1").stamps == 3
    first = drain_outbox(wallet, {"apple.push": push}, at=LATER)
    if mode == "mid-push":  # the dead worker's lease still holds the message
        assert first.completed == 0 and apns_server.seen == []
        first = drain_outbox(wallet, {"apple.push": push}, at=LATER + timedelta(minutes=5))
    assert first.completed == 1 and wallet.outbox.pending() == 0
    assert [s.path for s in apns_server.seen] == [f"/3/device/{TOKEN}"]


def test_worker_command_sends_the_queued_pushes(
    db_url: str,
    wallet: Wallet,
    apns_server: ApnsStandIn,
    chain_files: dict[str, Path],
    tls_ca_file: Path,
) -> None:
    held_card(wallet)
    wallet.stamp("CARD-1", at=LATER)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": ":".join(sys.path),
        "WALLETVOUCHER_PASS_TYPE_IDENTIFIER": PASS_TYPE,
        "WALLETVOUCHER_TEAM_IDENTIFIER": "ABCDE12345",
        "WALLETVOUCHER_CERTIFICATE": str(chain_files["certificate"]),
        "WALLETVOUCHER_KEY": str(chain_files["key"]),
        "WALLETVOUCHER_WWDR": str(chain_files["wwdr"]),
    }
    code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
    args = ["worker", "--db", db_url, "--once", "--apns-url", apns_server.url, "--apns-ca", str(tls_ca_file)]
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "sent 1 message(s); 0 pending" in done.stdout
    seen = [(s.path, s.headers["apns-topic"]) for s in apns_server.seen]
    assert seen == [(f"/3/device/{TOKEN}", PASS_TYPE)]
    assert wallet.outbox.pending() == 0


def test_worker_command_without_signing_material_says_what_is_missing(db_url: str) -> None:
    code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code, "worker", "--db", db_url, "--once"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "pass_type_identifier" in done.stderr and "Traceback" not in done.stderr


def test_worker_command_re_marks_a_voucher_that_became_valid_and_pushes_it(
    db_url: str, apns_server: ApnsStandIn, chain_files: dict[str, Path], tls_ca_file: Path
) -> None:
    from walletvoucher import Program, RedemptionMethod, Reward, Validity

    from .conftest import coffee_program

    later = Program(id="later", name="Later card", brand=coffee_program().brand, goal=1,
                    reward=Reward(title="Free tea", description="Any pot"),
                    redemption=RedemptionMethod.SELF_REDEEM,
                    validity=Validity.for_days(30, start_delay=timedelta(hours=2)))
    stamped = datetime.now(NOW.tzinfo) - timedelta(hours=3)  # the worker reads the real clock
    with Wallet.open(db_url, programs=[later]) as wallet:
        wallet.issue_card("later", serial="L-1", member_id="m-1", at=stamped)
        wallet.passes.register("phone-1", "L-1", TOKEN, at=stamped)
        wallet.stamp("L-1", at=stamped + timedelta(microseconds=1))
        before = wallet.passes.mark("L-1")
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": ":".join(sys.path),
        "WALLETVOUCHER_PASS_TYPE_IDENTIFIER": PASS_TYPE,
        "WALLETVOUCHER_TEAM_IDENTIFIER": "ABCDE12345",
        "WALLETVOUCHER_CERTIFICATE": str(chain_files["certificate"]),
        "WALLETVOUCHER_KEY": str(chain_files["key"]),
        "WALLETVOUCHER_WWDR": str(chain_files["wwdr"]),
    }
    code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
    args = ["worker", "--db", db_url, "--once", "--apns-url", apns_server.url, "--apns-ca", str(tls_ca_file)]
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    # the stamp's push, the refresh (the voucher became valid an hour ago), and the refresh's push
    assert "sent 3 message(s); 0 pending" in done.stdout
    assert [s.path for s in apns_server.seen] == [f"/3/device/{TOKEN}"] * 2
    with Wallet.open(db_url, programs=[later]) as wallet:
        after = wallet.passes.mark("L-1")
        (voucher,) = wallet.card("L-1").vouchers
    assert before is not None and after is not None
    assert after.position > before.position and after.last_modified >= voucher.valid_from
