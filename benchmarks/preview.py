"""How long a preview takes: an Apple pass from its .pkpass, a Google card from its objects.

    .venv/bin/python benchmarks/preview.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import attrs

from walletvoucher.demo import build_story
from walletvoucher.demo._apple import write_demo
from walletvoucher.demo._google import DEMO_OPTIONS
from walletvoucher.google import loyalty_class, loyalty_object
from walletvoucher.preview import preview_google, preview_pkpass


def main(rounds: int = 20) -> None:
    items = {item.name: item for item in build_story().items}
    with tempfile.TemporaryDirectory() as folder:
        entries, _ = write_demo(list(items.values()), Path(folder))
        passes = {e["item"]: (Path(folder) / e["path"]).read_bytes() for e in entries}
    for name in ("card-7-stamps", "card-7-stamps-zh-Hans", "voucher-staff-scan"):
        start = time.perf_counter()
        for _ in range(rounds):
            preview_pkpass(passes[name], language=items[name].language)
        print(f"apple  {name:28} {(time.perf_counter() - start) / rounds * 1000:6.1f} ms/preview")
    card = items["card-7-stamps-th"]
    options = attrs.evolve(DEMO_OPTIONS, scan_key=card.scan_key)
    bodies = loyalty_class(card.card.program, options), loyalty_object(card.card, options, at=card.at)
    start = time.perf_counter()
    for _ in range(rounds):
        preview_google(*bodies, language="th")
    print(f"google {'card-7-stamps-th':28} {(time.perf_counter() - start) / rounds * 1000:6.1f} ms/preview")


if __name__ == "__main__":
    main()
