"""How long a signed .pkpass takes, with the strip cache cold and warm.

    .venv/bin/python benchmarks/apple_render.py
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from walletvoucher.apple import AppleOptions, AppleSigner, mint_test_chain, render_pkpass, strip_images
from walletvoucher.model import Brand, Program, RedemptionMethod, Reward, StampCard

AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
PASS_TYPE, TEAM = "pass.com.example.bench", "BENCH00001"


def main(rounds: int = 50) -> None:
    chain = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT)
    signer = AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                         certificate=chain.certificate, key=chain.key, wwdr=chain.wwdr)
    options = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                           redeem_link="https://example.com/r/{serial}")
    program = Program(id="bench", name="Bench card",
                      brand=Brand(name="Bench", foreground="#FFFFFF", background="#000000", label="#FF0000"),
                      goal=10, reward=Reward(title="Free", description="Free"),
                      redemption=RedemptionMethod.SELF_REDEEM)
    card, _ = StampCard.issue(program, serial="B-1", member_id="m", at=AT)
    card = card.add_stamps(7, at=AT).card
    strip_images.cache_clear()
    start = time.perf_counter()
    render_pkpass(card, signer=signer, options=options, at=AT + timedelta(minutes=1))
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(rounds):
        render_pkpass(card, signer=signer, options=options, at=AT + timedelta(minutes=1))
    warm = (time.perf_counter() - start) / rounds
    print(f"cold (strips drawn): {cold * 1000:.1f} ms; warm (strips cached): {warm * 1000:.1f} ms/pass")
    print(strip_images.cache_info())


if __name__ == "__main__":
    main()
