"""How long add_stamps and replay take, from a typical call to the per-call limit (goal 1, 10,000 stamps).

    .venv/bin/python benchmarks/model_stamps.py

Every goal reached issues a voucher and three events, and replay checks each derived event, so the
worst case is a goal of 1 with the default per-call limit of 10,000 stamps.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone

from walletvoucher import Brand, Program, RedemptionMethod, Reward, StampCard, replay
from walletvoucher.codes import CodePool, Symbology

AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)


def _program(goal: int, method: RedemptionMethod, symbology: Symbology = Symbology.QR) -> Program:
    return Program(id="bench", name="Bench card", goal=goal, redemption=method, code_symbology=symbology,
                   brand=Brand(name="Bench", foreground="#FFFFFF", background="#000000", label="#FF0000"),
                   reward=Reward(title="Free", description="Free"))


def _time(label: str, program: Program, count: int, **kw: object) -> None:
    card, issued = StampCard.issue(program, serial="B-1", member_id="m", at=AT)
    start = time.perf_counter()
    result = card.add_stamps(count, at=AT, **kw)  # type: ignore[arg-type]
    added = time.perf_counter() - start
    start = time.perf_counter()
    replay((*issued, *result.events), [program])
    replayed = time.perf_counter() - start
    print(f"{label:42} {len(result.vouchers):6} vouchers: add_stamps {added * 1000:8.1f} ms,"
          f" replay {replayed * 1000:8.1f} ms")


def main() -> None:
    _time("goal 10, 7 stamps", _program(10, RedemptionMethod.SELF_REDEEM), 7)
    _time("goal 10, 25 stamps, generated codes", _program(10, RedemptionMethod.REDEEM_CODE), 25,
          random=secrets.token_bytes)
    pool = CodePool([f"P{i}" for i in range(1000)], Symbology.CODE_128)
    _time("goal 10, 10,000 stamps, POS pool (dry run)", _program(10, RedemptionMethod.REDEEM_CODE,
                                                                  Symbology.CODE_128), 10_000, codes=pool)
    _time("goal 1, 1,000 stamps", _program(1, RedemptionMethod.SELF_REDEEM), 1_000)
    _time("goal 1, 10,000 stamps (the per-call limit)", _program(1, RedemptionMethod.SELF_REDEEM), 10_000)


if __name__ == "__main__":
    main()
