"""How long ``verify_pkpass`` takes on a real pass, a large pass and hostile files, and its peak memory.

    python benchmarks/verify_hostile.py

Each input is built here (nothing downloaded). Before issue 7, a 65k-character entry name took
12 s, a long OID 27 s, a small zip bomb gigabytes; all of them are now refused within bounds.
"""

from __future__ import annotations

import io
import random
import statistics
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from datetime import datetime, timezone

from walletvoucher.apple import (
    AppleOptions,
    AppleSigner,
    build_manifest,
    mint_test_chain,
    render_pkpass,
    sign_manifest,
    verify_pkpass,
    zip_bundle,
)
from walletvoucher.model import Brand, Program, RedemptionMethod, Reward, StampCard

AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
PASS_TYPE, TEAM = "pass.com.example.bench", "BENCH00001"
MEGABYTE = 1 << 20


def raw_zip(name: bytes, stored: bytes, *, size: int, crc: int = 0, count: int = 1) -> bytes:
    """One deflated entry whose header says whatever the caller wants."""
    head = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(stored), size,
                       len(name), 0)
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(stored),
                          size, len(name), 0, 0, 0, 0, 0, 0)
    body = head + name + stored
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central) + len(name), len(body), 0)
    return body + central + name + end


def zeros_bomb(megabytes: int) -> bytes:
    """``megabytes`` MiB of zeros deflated, by repeating one fully flushed block."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(MEGABYTE)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    return first + again * (megabytes - 1) + packer.flush()


def der(tag: int, content: bytes) -> bytes:
    size = len(content).to_bytes(4, "big")
    return bytes([tag, 0x84]) + size + content


def inputs() -> dict[str, bytes]:
    chain = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT)
    signer = AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                         certificate=chain.certificate, key=chain.key, wwdr=chain.wwdr)
    program = Program(id="bench", name="Bench card",
                      brand=Brand(name="Bench", foreground="#FFFFFF", background="#000000", label="#FF0000"),
                      goal=10, reward=Reward(title="Free", description="Free"),
                      redemption=RedemptionMethod.SELF_REDEEM)
    card, _ = StampCard.issue(program, serial="B-1", member_id="m", at=AT)
    options = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM)
    good = render_pkpass(card.add_stamps(7, at=AT).card, signer=signer, options=options, at=AT)
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    noise = random.Random(7)
    content = {k: v for k, v in files.items() if k not in ("manifest.json", "signature")}
    content.update({f"extra{i}.bin": noise.randbytes(MEGABYTE) for i in range(4)})
    manifest = build_manifest(content)
    large = zip_bundle({**content, "manifest.json": manifest, "signature": sign_manifest(manifest, signer)})
    long_oid = der(0x30, der(0x06, b"\x81" * 200_000 + b"\x01") + der(0xA0, b""))
    return {
        "valid pass": good,
        "4 MB pass (valid)": large,
        "deflate bomb (2 GiB of zeros)": raw_zip(b"strip.png", zeros_bomb(2048), size=10),
        "65k-character entry name": raw_zip(b"a-" * 32_000 + b"!", zeros_bomb(1), size=MEGABYTE),
        "entry count 65535 in the end record": raw_zip(b"pass.json", b"\x03\x00", size=0, count=65_535),
        "pass.json nested 200k deep": zip_bundle({**files, "pass.json": b"[" * 200_000 + b"]" * 200_000}),
        "200 kB OID in the signature": zip_bundle({**files, "signature": long_oid}),
    }


def measure(call: Callable[[], object], rounds: int = 5) -> tuple[float, float]:
    """Median seconds over ``rounds`` and the peak traced memory of one run, in MB."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / MEGABYTE


def main() -> None:
    for label, data in inputs().items():
        seconds, peak = measure(lambda data=data: verify_pkpass(data, at=AT))
        print(f"{label:40s} {len(data) / 1024:9.0f} kB  {seconds * 1000:8.1f} ms  peak {peak:6.1f} MB")


if __name__ == "__main__":
    main()
