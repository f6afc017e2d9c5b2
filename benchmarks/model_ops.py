"""What one stored transition costs in the model: issue, add_stamps(1), redeem, and the JSON of events
and vouchers (timeit, best of 5; issue 17).

    .venv/bin/python benchmarks/model_ops.py

The programs are ``benchmarks/store.py``'s: the coffee card (goal 10) and the marathon (a goal never hit).
"""

from __future__ import annotations

import json
import sys
import timeit
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import store as bench
from walletvoucher import SelfRedeem, StampCard, Voucher, replay
from walletvoucher.model._events import event_from_text
from walletvoucher.store import _snapshot
from walletvoucher.store._programs import ProgramRegistry
from walletvoucher.store._wallet import _dumps


def _time(label: str, action: Callable[[], Any], number: int = 20000) -> None:
    best = min(timeit.repeat(action, number=number, repeat=5)) / number
    print(f"{label:40s} {best * 1e6:7.2f} us")


def main() -> None:
    coffee, marathon = bench.PROGRAMS[0], bench.PROGRAMS[1]
    now = bench.NOW
    card, _ = StampCard.issue(marathon, serial="FL0", member_id="m", at=now)
    full, _ = StampCard.issue(coffee, serial="R-0", member_id="m", at=now)
    for i in range(10):
        full = full.add_stamps(1, at=now + timedelta(minutes=i), source="till-1").card
    at = now + timedelta(hours=1)
    _time("issue", lambda: StampCard.issue(coffee, serial="I1", member_id="m-I1", at=now))
    _time("add_stamps(1) marathon", lambda: card.add_stamps(1, at=now, source="bench"))
    _time("redeem", lambda: full.redeem("R-0-1", SelfRedeem(), at=at))
    stamped = card.add_stamps(1, at=now, source="bench")
    _time("event.to_json+dumps (stamp)", lambda: _dumps(stamped.events[0].to_json()))
    redeemed = full.redeem("R-0-1", SelfRedeem(), at=at)
    _time("event.to_json+dumps (redeem)", lambda: [_dumps(e.to_json()) for e in redeemed.events])
    _time("voucher to_json+dumps", lambda: _dumps(redeemed.voucher.to_json()))
    raw = json.loads(_dumps(full.vouchers[0].to_json()))
    _time("Voucher._from_mapping(raw, reward)", lambda: Voucher._from_mapping(raw, coffee.reward))
    issued, log = StampCard.issue(coffee, serial="R-1", member_id="m", at=now)
    log = list(log)
    for i in range(10):  # ten visits, one stamp each: the till's cold redemption replays this log
        result = issued.add_stamps(1, at=now + timedelta(minutes=i), source="till-1")
        issued, log = result.card, log + list(result.events)
    texts = [_dumps(e.to_json()) for e in log]
    _time(f"replay {len(texts)} events from text",
          lambda: replay([event_from_text(t) for t in texts], [coffee]), number=2000)
    registry = ProgramRegistry(bench.PROGRAMS)
    coverage = _snapshot.Coverage(marks=(14,), digest="ab" * 32)
    text = _snapshot.dump(full, coverage)
    _time("snapshot.dump", lambda: _snapshot.dump(full, coverage))
    _time("snapshot.read", lambda: _snapshot.read(text, registry, 14))
    _time("json.loads snapshot", lambda: json.loads(text))
    fields = {name: getattr(full, name) for name in (
        "serial", "member_id", "program", "issued_at", "stamps", "cycle", "lifetime_stamps",
        "vouchers_issued", "last_stamp_at", "stamp_day", "stamps_on_day", "next_program", "expired",
        "amount_carried", "last_redeemed_at", "punches_used", "milestones_reached", "version")}
    fields["vouchers"] = tuple(full.vouchers)
    _time("StampCard(...) (a snapshot's card)", lambda: StampCard(**fields))
    try:
        from walletvoucher.model._card import card_from_values  # issue 17
    except ImportError:
        return
    _time("card_from_values(...)", lambda: card_from_values(**fields))


if __name__ == "__main__":
    main()
