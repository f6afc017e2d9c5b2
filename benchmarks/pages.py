"""The customer pages under load: join-to-pass-download and redeem round trips against a real ``serve``.

python benchmarks/pages.py [--quick] [--clients 50] [--rounds 300]

Starts ``walletvoucher serve`` in demo mode (uvicorn, TLS, SQLite store) on 127.0.0.1 and drives it
with --clients concurrent HTTP clients (httpx, one connection each), each round trip a fresh browser:

- **join**: GET /join/{program} (cookie, CSRF token), POST the form, follow the 303, GET card.pkpass
  (a signed, updatable pass rendered for the new card);
- **redeem**: GET the voucher's signed /redeem/{serial} page, POST the confirmation, read the success
  screen (the vouchers are prepared first: a card joined, stamped to its goal through the store, its
  redeem link read from the updated pass).

Reported: round trips per second and p50/p99 latency of each, and beside them the store's direct rate
for the same transitions (``wallet.issue_card`` and ``wallet.redeem`` on a SQLite file) in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from walletvoucher import SelfRedeem
from walletvoucher.service._serve import DEMO_PASS_TYPE, demo_cards
from walletvoucher.store import Wallet

PROGRAM = "coffee-self-redeem"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
STATE = re.compile(r'<main[^>]*data-state="([^"]+)"')


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_serve(state: Path) -> tuple[subprocess.Popen[str], str, str]:
    port = free_port()
    db = f"sqlite:///{state / 'demo-wallet.db'}"  # demo mode keeps its store in its state directory
    code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--state-dir", str(state),
            "--join-rate", "100000/1", "--redeem-rate", "100000/1"]  # one address plays every client
    log = state / "serve.log"
    with log.open("w") as out:  # a file, not a pipe: the access log must never block the server
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=subprocess.STDOUT,
                                text=True)
    while "try: curl" not in log.read_text():
        if proc.poll() is not None:
            raise SystemExit("serve did not start:\n" + log.read_text())
        time.sleep(0.1)
    url = f"https://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(state / "tls" / "server.pem"))
    for _ in range(300):
        try:
            httpx.get(url + "/static/site.css", verify=context, timeout=5)
            break
        except httpx.ConnectError:
            time.sleep(0.1)
    return proc, url, db


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def join_once(client: httpx.AsyncClient) -> bytes:
    client.cookies.clear()
    page = await client.get(f"/join/{PROGRAM}")
    token = CSRF.search(page.text)
    assert page.status_code == 200 and token
    posted = await client.post(f"/join/{PROGRAM}", data={"csrf": token.group(1)})
    assert posted.status_code == 303, posted.status_code
    card = await client.get(posted.headers["location"])
    assert STATE.search(card.text).group(1) == "your-card"  # type: ignore[union-attr]
    pkpass = await client.get(f"/join/{PROGRAM}/card.pkpass")
    assert pkpass.status_code == 200 and pkpass.headers["content-type"] == "application/vnd.apple.pkpass"
    return pkpass.content


async def redeem_once(client: httpx.AsyncClient, link: str) -> None:
    client.cookies.clear()
    parts = urlsplit(link)
    page = await client.get(f"{parts.path}?{parts.query}")
    token = CSRF.search(page.text)
    assert page.status_code == 200 and token, page.status_code
    done = await client.post(parts.path, data={"csrf": token.group(1), "sig": parts.query.split("=", 1)[1]})
    assert STATE.search(done.text).group(1) == "redeemed"  # type: ignore[union-attr]


async def run_clients(url: str, context: ssl.SSLContext, clients: int, jobs: list[object],
                      work: object) -> tuple[float, list[float], list[object]]:
    queue: asyncio.Queue[object] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []
    results: list[object] = []

    async def one_client() -> None:
        async with httpx.AsyncClient(base_url=url, verify=context, timeout=60,
                                     limits=httpx.Limits(max_connections=1)) as client:
            while True:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                results.append(await work(client, job))  # type: ignore[operator]
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return time.perf_counter() - started, latencies, results


def report(name: str, count: int, seconds: float, latencies: list[float]) -> None:
    print(f"{name:<32} {count / seconds:8.1f}/s   p50 {statistics.median(latencies) * 1000:7.1f} ms"
          f"   p99 {percentile(latencies, 0.99) * 1000:7.1f} ms   ({count} in {seconds:.1f} s)")


def pass_doc(pkpass: bytes) -> dict[str, object]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as bundle:
        doc: dict[str, object] = json.loads(bundle.read("pass.json"))
    return doc


def direct_store_rates(rounds: int, programs: list[object]) -> None:
    """The same transitions straight on the store (one process, SQLite file): issue, then redeem."""
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as folder, \
            Wallet.open(f"sqlite:///{folder}/direct.db", programs=programs) as wallet:  # type: ignore[arg-type]
        started = time.perf_counter()
        serials = [f"D{n}" for n in range(rounds)]
        for serial in serials:
            wallet.issue_card(PROGRAM, serial=serial, member_id=serial, at=now,
                              idempotency_key=f"join/{serial}")
        issued = time.perf_counter() - started
        vouchers = [wallet.stamp(serial, 10, at=now).vouchers[0].serial for serial in serials]
        started = time.perf_counter()
        for voucher in vouchers:
            wallet.redeem(voucher, SelfRedeem(by="customer"), at=now)
        redeemed = time.perf_counter() - started
    print(f"{'store: issue_card (direct)':<32} {rounds / issued:8.1f}/s")
    print(f"{'store: redeem (direct)':<32} {rounds / redeemed:8.1f}/s")


async def main_async(args: argparse.Namespace) -> None:
    programs = list({(c.program.id, c.program.version): c.program for c in demo_cards().values()}.values())
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        proc, url, db = start_serve(state)
        context = ssl.create_default_context(cafile=str(state / "tls" / "server.pem"))
        try:
            print(f"serve on {url}, {args.clients} concurrent clients, {args.rounds} round trips each\n")
            await run_clients(url, context, 1, [0], lambda c, _: join_once(c))  # warm: artwork renders once
            seconds, latencies, passes = await run_clients(
                url, context, args.clients, list(range(args.rounds)), lambda c, _: join_once(c))
            report("join -> .pkpass download", args.rounds, seconds, latencies)
            links = prepare_vouchers(url, context, db, programs, passes)  # type: ignore[arg-type]
            seconds, latencies, _ = await run_clients(url, context, args.clients, links, redeem_once)
            report("redeem (page + confirm)", len(links), seconds, latencies)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    direct_store_rates(args.rounds, programs)


def prepare_vouchers(url: str, context: ssl.SSLContext, db: str, programs: list[object],
                     passes: list[bytes]) -> list[str]:
    """Stamp every joined card to its goal through the store; read each redeem link from its new pass."""
    now = datetime.now(timezone.utc)
    links = []
    with Wallet.open(db, programs=programs) as wallet, httpx.Client(verify=context, timeout=60) as http:  # type: ignore[arg-type]
        for pkpass in passes:
            doc = pass_doc(pkpass)
            serial, token = str(doc["serialNumber"]), str(doc["authenticationToken"])
            wallet.stamp(serial, 10, at=now, source="bench")
            fresh = http.get(f"{url}/v1/passes/{DEMO_PASS_TYPE}/{serial}",
                             headers={"Authorization": f"ApplePass {token}"})
            fields = pass_doc(fresh.content)["storeCard"]["backFields"]  # type: ignore[index]
            links.append(next(f["value"] for f in fields if f["key"] == "redeem_link"))
    return links


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="a short run (60 round trips)")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 60
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
