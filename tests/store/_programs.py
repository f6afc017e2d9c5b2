"""Programs shared by the store tests and their worker processes."""

from __future__ import annotations

from walletvoucher import Brand, Program, RedemptionMethod, Reward, Symbology, Validity

_BRAND = Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E")


def coffee() -> Program:
    """Self-redeem, goal 10, vouchers valid 30 days."""
    return Program(
        id="coffee",
        name="Coffee card",
        brand=_BRAND,
        goal=10,
        reward=Reward(title="Free coffee", description="Any size"),
        redemption=RedemptionMethod.SELF_REDEEM,
        validity=Validity.for_days(30),
    )


def tea() -> Program:
    """Redeem Code with generated codes, goal 3."""
    return Program(
        id="tea",
        name="Tea card",
        brand=_BRAND,
        goal=3,
        reward=Reward(title="Free tea", description="Any pot"),
        redemption=RedemptionMethod.REDEEM_CODE,
        validity=Validity.for_days(30),
    )


def pos_program() -> Program:
    """Redeem Code with POS codes (Code 128) from a pool, goal 1: every stamp takes a code."""
    return Program(
        id="pos",
        name="POS card",
        brand=_BRAND,
        goal=1,
        reward=Reward(title="Free cake", description="Any slice"),
        redemption=RedemptionMethod.REDEEM_CODE,
        code_symbology=Symbology.CODE_128,
    )


def all_programs() -> list[Program]:
    """What the worker processes open their wallets with."""
    return [coffee(), coffee().revise(goal=5), tea(), pos_program()]
