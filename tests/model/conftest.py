from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from walletvoucher import Brand, Program, RedemptionMethod, Reward

T0 = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)


def make_program(**changes: object) -> Program:
    fields: dict[str, object] = {
        "id": "coffee",
        "name": "Coffee card",
        "brand": Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        "goal": 10,
        "reward": Reward(title="Free coffee", description="Any size"),
        "redemption": RedemptionMethod.SELF_REDEEM,
    }
    fields.update(changes)
    return Program(**fields)  # type: ignore[arg-type]


def counting_random() -> Callable[[int], bytes]:
    counter = itertools.count(7)
    return lambda n: bytes(next(counter) % 256 for _ in range(n))


@pytest.fixture
def program() -> Program:
    return make_program()
