"""Render a stamp card at 7/10, its reward-ready state and the voucher as a coupon; verify each.

    .venv/bin/python examples/apple_stamp_card.py out/apple-example

Uses a freshly minted *test* chain (iPhones will not install these passes; openssl verifies
them). For real passes load your certificate with ``load_apple_signer`` (see certs.example/).
"""

from __future__ import annotations

import secrets
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from walletvoucher.apple import AppleOptions, AppleSigner, mint_test_chain, render_pass, verify_pkpass
from walletvoucher.codes import ScanKey
from walletvoucher.model import (
    Brand,
    LocalizedText,
    Program,
    RedemptionMethod,
    Reward,
    StampCard,
    Validity,
    Voucher,
)


def main(out: Path) -> int:
    now = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
    chain = mint_test_chain(pass_type_identifier="pass.com.example.coffee", team_identifier="ABCDE12345",
                            at=now, backdate=timedelta(days=3650), valid_for=timedelta(days=3650))
    signer = AppleSigner(pass_type_identifier="pass.com.example.coffee", team_identifier="ABCDE12345",
                         certificate=chain.certificate, key=chain.key, wwdr=chain.wwdr)
    options = AppleOptions(pass_type_identifier="pass.com.example.coffee", team_identifier="ABCDE12345",
                           scan_key=ScanKey(key_id="k1", secret=secrets.token_bytes(32)),
                           redeem_link="https://example.com/redeem/{serial}")
    program = Program(
        id="coffee", name=LocalizedText(default="Coffee card", translations={"zh-Hans": "咖啡卡"}),
        brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        goal=10, reward=Reward(title="Free coffee", description="Any size, one per visit"),
        redemption=RedemptionMethod.REDEEM_CODE, validity=Validity.for_days(30),
    )
    card, _ = StampCard.issue(program, serial="CARD-1", member_id="M-1", at=now)
    card = card.add_stamps(7, at=now, random=secrets.token_bytes).card
    full = card.add_stamps(3, at=now + timedelta(hours=1), random=secrets.token_bytes).card
    voucher = full.open_voucher(now + timedelta(hours=1))
    assert voucher is not None
    out.mkdir(parents=True, exist_ok=True)
    chain.write(out)
    passes: dict[str, StampCard | Voucher] = {
        "card-7.pkpass": card, "card-ready.pkpass": full, "coupon.pkpass": voucher,
    }
    for name, item in passes.items():
        rendered = render_pass(item, signer=signer, options=options, at=now + timedelta(hours=1),
                               program=program)
        (out / name).write_bytes(rendered.pkpass)
        print(name, verify_pkpass(rendered.pkpass, ca=[chain.root], at=now))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/apple-example")))
