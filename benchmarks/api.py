"""The till API's speed: stamps/s and redemptions/s through HTTPS at 32 concurrent clients, with p50/p99
latency, beside the store's direct rate for the same calls in the same run (SQLite).

python benchmarks/api.py [--count 2000] [--clients 32] [--plain] [--client lean|httpx]
                         [--http auto|httptools|h11] [--loop auto|asyncio|uvloop]

The server runs in its own process on 127.0.0.1 as ``walletvoucher serve`` runs it: uvicorn with
:func:`~walletvoucher.service._server.server_limits` (httptools when installed, else h11; uvloop when
installed), TLS with a certificate minted by trustme (``--plain``: plain HTTP, what the app does
behind a TLS-terminating proxy). Each of the 32 clients holds one kept-alive HTTP/1.1 connection and
writes its requests by hand over asyncio streams, so the client costs the shared CPU little
(``--client httpx``: an httpx pool instead, which on two cores costs about as much as the server).
The direct rate is one process calling ``wallet.stamp`` / ``wallet.redeem`` in a loop on a fresh
database of the same shape, the better of two rounds (one before the API's run, one after).
Besides the rates, each line shows the CPU time per call of the server process and of the client
(from /proc): on a busy machine those move less than the rates do.
Target (issue 15): the API reaches at least half the store's direct rate on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import resource
import secrets
import socket
import ssl
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import httpx
import trustme

from walletvoucher import Brand, Program, RedemptionMethod, Reward
from walletvoucher.model import CodeEntry
from walletvoucher.store import Wallet

_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *([0-9]+)")
NOW = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
PROGRAM = Program(
    id="coffee",
    name="Coffee",
    goal=1,
    redemption=RedemptionMethod.REDEEM_CODE,
    brand=Brand(name="Bench", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
    reward=Reward(title="Free coffee", description="Any size"),
)


def _prepare(url: str, cards: int) -> list[tuple[str, str, str]]:
    """Cards C-n, each with one open voucher: (card serial, voucher serial, code)."""
    out = []
    with Wallet.open(url, programs=[PROGRAM], random=secrets.token_bytes) as wallet:
        for n in range(cards):
            wallet.issue_card(PROGRAM, serial=f"C-{n}", member_id=f"m-{n}", at=NOW)
            [voucher] = wallet.stamp(f"C-{n}", 1, at=NOW).vouchers
            assert voucher.code is not None
            out.append((f"C-{n}", voucher.serial, voucher.code.value))
    return out


def _serve(url: str, port: int, tls: tuple[str, str] | None, http: str, loop: str, ready: Any) -> None:
    import uvicorn

    from walletvoucher.service import (
        PassTokens,
        PassWebService,
        RateLimit,
        StorePassUpdates,
        TillApi,
        WalletPerThread,
    )
    from walletvoucher.service._server import server_limits
    from walletvoucher.service.asgi import create_app

    wallets = WalletPerThread(url, programs=[PROGRAM], random=secrets.token_bytes)
    service = PassWebService(
        pass_type_identifier="pass.example",
        store=StorePassUpdates(wallets),
        tokens=PassTokens(b"x" * 32),
        render=lambda state: b"",
    )
    till = TillApi(wallets, random=secrets.token_bytes, rate=RateLimit(per_second=1e9, burst=1e9))
    config = uvicorn.Config(
        create_app(service, till=till),
        host="127.0.0.1",
        port=port,
        log_level="error",
        ssl_certfile=tls and tls[0],
        ssl_keyfile=tls and tls[1],
        lifespan="off",
        loop=loop,
        **server_limits(http=http),
    )
    server = uvicorn.Server(config)
    ready.set()
    server.run()


async def _drive_lean(
    port: int, ca: ssl.SSLContext | None, key: str, requests: list[tuple[str, dict[str, Any]]], clients: int
) -> tuple[float, list[float], int]:
    """Each client one kept-alive HTTP/1.1 connection (asyncio streams), requests written by hand."""
    queue: list[bytes] = []
    for path, body in reversed(requests):
        payload = json.dumps(body).encode()
        queue.append(
            (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
             f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode()
            + payload
        )
    latencies: list[float] = []
    failures = 0

    async def worker() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ca, server_hostname="127.0.0.1" if ca else None
        )
        try:
            while queue:
                request = queue.pop()
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(_LENGTH.search(head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                failures += not head.startswith(b"HTTP/1.1 200 ")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started, latencies, failures


async def _drive(
    base: str, ca: ssl.SSLContext, key: str, requests: list[tuple[str, dict[str, Any]]], clients: int
) -> tuple[float, list[float], int]:
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, verify=ca, limits=limits, timeout=60, headers={"authorization": f"Bearer {key}"}
    ) as client:

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                path, body = queue.get_nowait()
                started = time.perf_counter()
                answer = await client.post(path, json=body)
                latencies.append(time.perf_counter() - started)
                failures += answer.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - started, latencies, failures


def _direct(count: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/direct.db"
        vouchers = _prepare(url, count)
        with Wallet.open(url, programs=[PROGRAM], random=secrets.token_bytes) as wallet:
            started = time.perf_counter()
            for card, _, _ in vouchers:
                wallet.stamp(card, 1, at=NOW, source="bench")
            stamps = time.perf_counter() - started
            started = time.perf_counter()
            for _, voucher, code in vouchers:
                wallet.redeem(voucher, CodeEntry(code=code, by="bench"), at=NOW)
            redeems = time.perf_counter() - started
    return count / stamps, count / redeems


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process *pid* so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run(drive: Any, server_pid: int) -> Run:
    server_cpu, client_cpu = _cpu_seconds(server_pid), _own_cpu()
    seconds, latencies, failures = asyncio.run(drive)
    return Run(seconds, latencies, failures, _cpu_seconds(server_pid) - server_cpu, _own_cpu() - client_cpu)


@attrs.frozen
class Run:
    """One phase through the API: wall time, latencies, non-200 answers, CPU of server and client."""

    seconds: float
    latencies: list[float]
    failures: int
    server_cpu: float
    client_cpu: float


def _report(name: str, count: int, run: Run, direct: float) -> None:
    ordered = sorted(run.latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    rate = count / run.seconds
    print(
        f"{name:12} API {rate:6.0f}/s  p50 {statistics.median(ordered) * 1000:6.1f} ms"
        f"  p99 {p99 * 1000:6.1f} ms | direct {direct:6.0f}/s | ratio {rate / direct:4.2f}"
        f" | CPU/call server {run.server_cpu / count * 1000:4.2f} ms"
        f" client {run.client_cpu / count * 1000:4.2f} ms direct {1000 / direct:4.2f} ms"
        f" | failures {run.failures}"
    )


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--client", choices=["lean", "httpx"], default="lean")
    parser.add_argument("--plain", action="store_true", help="plain HTTP (as behind a TLS proxy)")
    parser.add_argument("--http", choices=["auto", "httptools", "h11"], default="auto")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto")
    args = parser.parse_args()
    ca = trustme.CA()
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        issued = ca.issue_cert("127.0.0.1")
        issued.cert_chain_pems[0].write_to_path(str(cert))
        issued.private_key_pem.write_to_path(str(key))
        url = f"sqlite:///{folder}/api.db"
        rounds = [_direct(args.count)]  # one round before the API's run, one after: the better counts
        vouchers = _prepare(url, args.count)
        with Wallet.open(url, programs=[PROGRAM]) as wallet:
            api_key = wallet.access.create_api_key(
                "bench", scopes=["stamp", "redeem"], at=NOW, random=secrets.token_bytes
            ).secret
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        ready = multiprocessing.Event()
        tls = None if args.plain else (str(cert), str(key))
        server = multiprocessing.Process(
            target=_serve, args=(url, port, tls, args.http, args.loop, ready), daemon=True
        )
        server.start()
        ready.wait(30)
        time.sleep(1.0)
        context = ssl.create_default_context()
        ca.configure_trust(context)
        base = f"{'http' if args.plain else 'https'}://127.0.0.1:{port}"
        stamps = [(f"/api/v1/cards/{card}/stamps", {"count": 1}) for card, _, _ in vouchers]
        redemptions = [("/api/v1/redemptions", {"voucher": v, "code": c}) for _, v, c in vouchers]
        runs = []
        for requests in (stamps, redemptions):
            if args.client == "lean":
                drive = _drive_lean(port, None if args.plain else context, api_key, requests, args.clients)
            else:
                drive = _drive(base, context, api_key, requests, args.clients)
            assert server.pid is not None
            runs.append(_run(drive, server.pid))
        server.terminate()
        server.join(10)
    rounds.append(_direct(args.count))
    direct_stamps, direct_redeems = max(r[0] for r in rounds), max(r[1] for r in rounds)
    print(
        f"till API over {'plain HTTP' if args.plain else 'HTTPS'} on loopback, SQLite, {args.count} calls,"
        f" {args.clients} concurrent clients ({args.client} client)"
    )
    _report("stamps", args.count, runs[0], direct_stamps)
    _report("redemptions", args.count, runs[1], direct_redeems)
    return 0


if __name__ == "__main__":
    sys.exit(main())
