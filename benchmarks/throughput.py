"""Throughput (issue 9): walletvoucher against the raw signing floor, in one process and run.

    python benchmarks/throughput.py            # everything, batches at 1k, 10k and 100k passes
    python benchmarks/throughput.py --quick    # batches at 1k and 10k only
    python benchmarks/throughput.py --profile  # also: where a render's time goes
    python benchmarks/throughput.py --no-batches --rounds 100   # per-core ratios only, ~10 s

1. Apple, per core: the raw floor is ``cryptography``'s PKCS#7 builder signing a manifest of
   the same size with the same key; walletvoucher is ``render_pass`` of a complete 7/10 stamp
   card (icon, logo and strip at @1x/@2x/@3x, two languages), signed and zipped. The two are
   timed in alternating blocks and the medians compared, three ways: one card rendered again
   and again; distinct 7/10 cards (each its own serial and member id, as in a batch) held in
   memory; and the same with each pass written to a file (the floor then writes its
   signature to a file too; the ratio to the in-memory floor is given beside it).
2. Google: PyJWT's RS256 ``jwt.encode`` of the same claims with the same key object, against
   ``save_link`` (building the class and object included).
3. Batches: ``render_many`` into a zip with 1 and 2 workers; each run is a child process so
   its peak RSS (``ru_maxrss`` of the batch process and of its largest worker) is its own.
   A sample of every batch's passes is checked with ``openssl cms -verify``.

Measured 2026-11-23 on the 2-core development machine, shared with other sessions (load
average 3-9 during the run; per-core figures are CPU time, so the load does not skew them):

| what | rate | notes |
| --- | --- | --- |
| Apple, 1 core: raw PKCS#7 sign (697-byte manifest) | 4,053 /s | |
| Apple, 1 core: render_pass 7/10 card (14 files, 42,607 B) | 3,070 /s | 0.76 of the floor |
| Google, 1 core: PyJWT RS256 encode (same claims) | 4,317 /s | |
| Google, 1 core: save_link (build + sign) | 3,969 /s | 0.92 of PyJWT |
| batch 1,000, 1 / 2 workers | 832 / 160 /s | wall time incl. start-up (2 spawned workers ~2 s) |
| batch 10,000, 1 / 2 workers | 698 / 641 /s | peak RSS 69 / 67 MiB (workers 69 MiB) |
| batch 100,000, 1 / 2 workers | 1,049 / 1,442 /s | peak RSS 69 / 124 MiB (see below), 0 failed |

Issue 18 (2026-12-07, same machine, load average 5-7; ``--no-batches --rounds 100``, three
runs each, before -> after): distinct cards in memory 0.27-0.36 -> 0.58-0.66 of the floor; one
card again and again 0.51-0.57 -> 0.60-0.70; each pass written to a file 0.52-0.58 -> 0.59-0.63
of the floor writing its signature (0.27-0.29 -> 0.28-0.38 of the floor in memory: writing
the ~83 kB file costs more CPU here than the signature). The change: a distinct card no longer
measures its own texts (a printable ASCII text that fits even if every character were the
widest is not measured; the rest is measured once per text and size, in a bounded LRU), and
pass.strings no longer carry the per-card values (so each language's file is made, compressed
and hashed once per design, its lines escaped once per distinct text).

Batch wall rates depend on what else runs. CPU per pass at 100k: 428 µs with 1 worker;
80 µs (batch process) + 419 µs (workers) with 2, i.e. the same total, so two free cores
give close to 2x. A calmer rerun of 100k (load ~3): 1 worker 1,563 /s (64.0 s, 69 MiB),
2 workers 2,707 /s (36.9 s, 66 MiB): 1.73x. The 124 MiB peak of the batch process with
2 workers appeared in both heavily loaded runs and not in the calm one.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from walletvoucher.apple import AppleOptions, AppleSigner, mint_test_chain, render_pass, verify_pkpass
from walletvoucher.batch import render_many
from walletvoucher.google import GoogleOptions, ServiceAccountCredentials, save_link
from walletvoucher.model import Brand, LocalizedText, Program, RedemptionMethod, Reward, StampCard

AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
PASS_TYPE, TEAM = "pass.com.example.bench", "BENCH00001"


def program(*, german: bool = True) -> Program:
    """A program with a goal of 10 in English and (unless ``german=False``) German."""

    def text(english: str, deutsch: str) -> LocalizedText:
        return LocalizedText(default=english, translations={"de": deutsch} if german else {})

    return Program(
        id="bench", name=text("Coffee card", "Kaffeekarte"),
        brand=Brand(name="Kahve House", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        goal=10, reward=Reward(title=text("Free coffee", "Gratis Kaffee"),
                               description=text("Any size", "Jede Größe")),
        redemption=RedemptionMethod.SELF_REDEEM, stamp_label=text("Stamps", "Stempel"),
    )


def cards(count: int) -> Iterator[StampCard]:
    """``count`` cards of one program, 0-9 stamps (ten strip designs)."""
    prog = program()
    for i in range(count):
        yield StampCard(serial=f"CARD-{i:07d}", member_id=f"m-{i}", program=prog, issued_at=AT, stamps=i % 10,
                        lifetime_stamps=i % 10)


def setup(workdir: Path) -> tuple[AppleSigner, AppleOptions, Path]:
    chain = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT,
                            backdate=timedelta(days=3650), valid_for=timedelta(days=3650))
    signer = AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                         certificate=chain.certificate, key=chain.key, wwdr=chain.wwdr)
    options = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                           redeem_link="https://example.com/r/{serial}")
    return signer, options, chain.write(workdir / "chain")["root"]


def alternate(first: Callable[[], object], second: Callable[[], object], *, block: int,
              blocks: int) -> tuple[float, float]:
    """Median rates (calls per CPU-second) of two callables timed in alternating blocks.

    CPU time of this process (``time.process_time``), not wall time: the machine is shared,
    and time spent waiting for a core says nothing about either side.
    """
    rates: tuple[list[float], list[float]] = ([], [])
    for _ in range(blocks):
        for call, out in ((first, rates[0]), (second, rates[1])):
            start = time.process_time()
            for _ in range(block):
                call()
            out.append(block / (time.process_time() - start))
    return statistics.median(rates[0]), statistics.median(rates[1])


def openssl_ok(pkpass: bytes, root: Path, tmp: Path) -> bool:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        (tmp / "manifest.json").write_bytes(archive.read("manifest.json"))
        (tmp / "signature").write_bytes(archive.read("signature"))
    verdict = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-CAfile", str(root),
         "-in", str(tmp / "signature"), "-content", str(tmp / "manifest.json"), "-out", str(tmp / "out")],
        capture_output=True, check=False)
    return verdict.returncode == 0


def apple_per_core(signer: AppleSigner, options: AppleOptions, root: Path, tmp: Path,
                   rounds: int, blocks: int, profile: bool) -> list[str]:
    """The floor against ``render_pass`` of distinct 7/10 cards (each its own serial and member id),
    held in memory and, the second way, each written to a file (the floor writes its signature)."""
    distinct = [attrs.evolve(c, stamps=7, lifetime_stamps=7) for c in cards(rounds * blocks)]
    card = distinct[0]
    rendered = render_pass(card, signer=signer, options=options, at=AT)
    report = verify_pkpass(rendered.pkpass, ca=[x509.load_pem_x509_certificate(root.read_bytes())], at=AT)
    assert report.ok, report
    assert openssl_ok(rendered.pkpass, root, tmp), "the benchmark pass does not verify"
    with zipfile.ZipFile(io.BytesIO(rendered.pkpass)) as archive:
        manifest = archive.read("manifest.json")
        files = len(archive.namelist())
    turn = itertools.count()
    out = tmp / "written"
    out.mkdir()

    def raw() -> bytes:
        return (pkcs7.PKCS7SignatureBuilder().set_data(manifest)
                .add_signer(signer.certificate, signer.key, hashes.SHA256()).add_certificate(signer.wwdr)
                .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                   pkcs7.PKCS7Options.Binary]))

    def full() -> bytes:
        return render_pass(distinct[next(turn) % len(distinct)], signer=signer, options=options, at=AT).pkpass

    def raw_to_file() -> None:
        (out / f"{next(turn) % 64}.sig").write_bytes(raw())

    def full_to_file() -> None:
        (out / f"{next(turn) % 64}.pkpass").write_bytes(full())

    def same() -> bytes:
        return render_pass(card, signer=signer, options=options, at=AT).pkpass

    floor_same, ours_same = alternate(raw, same, block=rounds, blocks=blocks)
    floor, ours = alternate(raw, full, block=rounds, blocks=blocks)
    disk_floor, disk_ours = alternate(raw_to_file, full_to_file, block=rounds, blocks=blocks)
    if profile:
        _profile(full, rounds * 3)
    return [f"| Apple, 1 core: raw PKCS#7 sign ({len(manifest)}-byte manifest) | {floor:,.0f} /s | |",
            f"| Apple, 1 core: render_pass of one 7/10 card again and again | {ours_same:,.0f} /s "
            f"| **{ours_same / floor_same:.2f}** of the floor ({floor_same:,.0f} /s beside it) |",
            f"| Apple, 1 core: render_pass of distinct 7/10 cards ({files} files, "
            f"{len(rendered.pkpass):,} B), in memory | {ours:,.0f} /s "
            f"| **{ours / floor:.2f}** of the floor |",
            f"| Apple, 1 core: the same, each written to a file (the floor writes its signature: "
            f"{disk_floor:,.0f} /s) | {disk_ours:,.0f} /s | **{disk_ours / disk_floor:.2f}** of the floor "
            f"writing; {disk_ours / floor:.2f} of the floor in memory |"]


def google(rounds: int, blocks: int) -> list[str]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    credentials = ServiceAccountCredentials(client_email="bench@bench.iam.gserviceaccount.com",
                                            private_key_id="bench",
                                            private_key=rsa.generate_private_key(public_exponent=65537,
                                                                                 key_size=2048))
    options = GoogleOptions(issuer_id="3388000000022222222", origins=["https://shop.example.com"],
                            logo_url="https://cdn.example.com/logo.png")
    # English only: a two-language class does not fit a save link's 1800 characters.
    card = StampCard(serial="card-0001", member_id="member-42", program=program(german=False), issued_at=AT,
                     stamps=7)
    link = save_link(card, credentials=credentials, options=options, at=AT)
    claims = jwt.decode(link.jwt, credentials.public_key(), algorithms=["RS256"], audience="google")
    key = credentials.private_key

    def pyjwt() -> str:
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"})

    def ours() -> object:
        return save_link(card, credentials=credentials, options=options, at=AT)

    floor, rate = alternate(pyjwt, ours, block=rounds, blocks=blocks)
    return [f"| Google, 1 core: PyJWT RS256 encode (same claims, {len(link.jwt)}-char JWT) "
            f"| {floor:,.0f} /s | |",
            f"| Google, 1 core: save_link (build + sign) | {rate:,.0f} /s "
            f"| **{rate / floor:.2f}** of PyJWT |"]


def _profile(call: Callable[[], object], count: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
    print(out.getvalue(), file=sys.stderr)


def batch_child(count: int, workers: int, out: Path) -> None:
    """Run one batch in this (child) process and print its figures as JSON."""
    signer, options, _ = setup(out.parent)
    start = time.perf_counter()
    failed = sum(not r.ok for r in render_many(cards(count), signer=signer, options=options, at=AT, out=out,
                                                workers=workers))
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"count": count, "workers": workers, "seconds": seconds, "failed": failed,
                      "rss_kib": own.ru_maxrss, "worker_rss_kib": kids.ru_maxrss,
                      "cpu_s": own.ru_utime + own.ru_stime, "worker_cpu_s": kids.ru_utime + kids.ru_stime}))


def batches(sizes: list[int], workers: list[int], sample: int, kinds: list[str]) -> list[str]:
    rows = []
    for count, kind, w in ((c, k, w) for c in sizes for k in kinds for w in workers):
        with tempfile.TemporaryDirectory(prefix="wv-bench-") as tmp_name:
            tmp = Path(tmp_name)
            out = tmp / ("passes.zip" if kind == "zip" else "passes")
            command = [sys.executable, __file__, "--batch-child", str(count), str(w), str(out)]
            child = subprocess.run(command, capture_output=True, text=True, check=True)
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            checked = _check_sample(out, tmp / "chain" / "root-ca.pem", tmp, sample)
        rate = count / figures["seconds"]
        worker_rss = f"{figures['worker_rss_kib'] / 1024:.0f} MiB" if w > 1 else "-"
        rss = f"{figures['rss_kib'] / 1024:.0f} MiB"
        cpu = f"CPU µs/pass: batch process {figures['cpu_s'] / count * 1e6:.0f}"
        if w > 1:
            cpu += f", workers {figures['worker_cpu_s'] / count * 1e6:.0f}"
        rows.append(f"| batch {count:,} passes into a {kind}, {w} worker(s) | {rate:,.0f} /s "
                    f"| peak RSS {rss}, workers "
                    f"{worker_rss}; {cpu}; {figures['failed']} failed; openssl {checked}/{sample} ok |")
        print(rows[-1], file=sys.stderr)
    return rows


def _check_sample(out: Path, root: Path, tmp: Path, sample: int) -> int:
    if out.is_dir():
        files = sorted(out.iterdir())
        picked_files = random.Random(9).sample(files, min(sample, len(files)))
        return sum(openssl_ok(path.read_bytes(), root, tmp) for path in picked_files)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        picked = random.Random(9).sample(names, min(sample, len(names)))
        return sum(openssl_ok(archive.read(name), root, tmp) for name in picked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 100k batch")
    parser.add_argument("--rounds", type=int, default=300, help="calls per timed block")
    parser.add_argument("--blocks", type=int, default=7, help="timed blocks of each side")
    parser.add_argument("--sample", type=int, default=10, help="passes per batch checked with openssl")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--outputs", default="zip,dir", help="batch outputs to measure: zip, dir or both")
    parser.add_argument("--sizes", default=None, help="batch sizes, e.g. 1000,10000")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-batches", action="store_true", help="per-core figures only")
    parser.add_argument("--batch-child", nargs=3, metavar=("COUNT", "WORKERS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.batch_child:
        batch_child(int(args.batch_child[0]), int(args.batch_child[1]), Path(args.batch_child[2]))
        return
    sizes = [int(s) for s in (args.sizes or ("1000,10000" if args.quick else "1000,10000,100000")).split(",")]
    with tempfile.TemporaryDirectory(prefix="wv-bench-") as tmp_name:
        tmp = Path(tmp_name)
        signer, options, root = setup(tmp)
        rows = (apple_per_core(signer, options, root, tmp, args.rounds, args.blocks, args.profile)
                + google(args.rounds, args.blocks))
    for row in rows:
        print(row, file=sys.stderr)
    print("| what | rate | notes |\n| --- | --- | --- |")
    print("\n".join(rows))
    if not args.no_batches:
        rows += batches(sizes, [int(w) for w in args.workers.split(",")], args.sample,
                        args.outputs.split(","))
    print("\n".join(rows[6:]))


if __name__ == "__main__":
    main()
