"""How long building, signing and verifying a Google save link takes, and how long the links are.

python benchmarks/google_links.py [ROUNDS]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric import rsa

from walletvoucher.google import (
    GoogleOptions,
    ServiceAccountCredentials,
    loyalty_class,
    loyalty_object,
    save_link,
    verify_save_link,
)
from walletvoucher.model import Brand, Program, RedemptionMethod, Reward, StampCard

NOW = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)


def main(rounds: int) -> None:
    credentials = ServiceAccountCredentials(
        client_email="bench@bench.iam.gserviceaccount.com",
        private_key_id="bench",
        private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )
    options = GoogleOptions(
        issuer_id="3388000000022222222",
        origins=["https://shop.example.com"],
        logo_url="https://cdn.example.com/logo.png",
    )
    program = Program(
        id="coffee",
        name="Coffee card",
        goal=10,
        redemption=RedemptionMethod.STAFF_SCAN,
        brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        reward=Reward(title="Free coffee", description="Any size"),
    )
    card = StampCard(serial="card-0001", member_id="member-42", program=program, issued_at=NOW)
    timings = {
        "build class+object": _time(
            rounds, lambda: (loyalty_class(program, options), loyalty_object(card, options, at=NOW))
        ),
        "save_link (build+sign)": _time(
            rounds, lambda: save_link(card, credentials=credentials, options=options, at=NOW)
        ),
    }
    link = save_link(card, credentials=credentials, options=options, at=NOW)
    timings["verify_save_link"] = _time(rounds, lambda: verify_save_link(link.url, key=credentials))
    for name, seconds in timings.items():
        print(f"{name:28} {seconds * 1e3:8.3f} ms")
    print(f"{'link length':28} {link.length:8d} characters ({link.mode.value})")


def _time(rounds: int, call: Callable[[], object]) -> float:

    start = time.perf_counter()
    for _ in range(rounds):
        call()
    return (time.perf_counter() - start) / rounds


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
