"""How long `walletvoucher build` takes on the largest inputs a program file may give (issue 18).

    .venv/bin/python benchmarks/build_hostile.py

Artwork of 4096 x 4096 pixels (the cap) as logo, icon and stamp icon, and texts of 10,000 characters
(the cap) as brand name, program name and reward description. Before the caps a 12000 x 12000 stamp
icon took 26 s and 1.2 GB, and a 1 MB brand name 37 s (measuring it for the front-length warning).
Peak memory is the process's high-water mark (ru_maxrss), so run it on its own.
"""

from __future__ import annotations

import io
import json
import resource
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image

from walletvoucher.apple import mint_test_chain
from walletvoucher.cli import main as cli

AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
PASS_TYPE, TEAM = "pass.com.example.bench", "BENCH00001"


def _art(side: int) -> bytes:
    image = Image.new("RGB", (side, side), "#F2C14E")
    image.paste(Image.new("RGB", (side // 2, side // 2), "#1E3A5F"), (side // 4, side // 4))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _program(root: Path, *, art: bool, text: int) -> Path:
    brand: dict[str, str] = {"name": "K" * text, "foreground": "#FFFFFF", "background": "#1E3A5F",
                             "label": "#F2C14E"}
    if art:
        (root / "art.png").write_bytes(_art(4096))
        brand.update(logo="art.png", icon="art.png", stamp_icon="art.png")
    doc = {
        "program": {"id": "bench", "name": "P" * text, "goal": 10, "redemption": "redeem_code"},
        "brand": brand,
        "reward": {"title": "Free coffee", "description": "D" * text},
        "apple": {"pass_type_identifier": PASS_TYPE, "team_identifier": TEAM, "certificate": "pass.pem",
                  "key": "pass.key", "wwdr": "wwdr.pem"},
    }
    path = root / "bench.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _time(path: Path) -> float:
    start = time.perf_counter()
    status = cli(["build", str(path), "--card", "B-1", "--stamps", "7", "--at", AT.isoformat(),
                  "--pkpass", str(path.parent / "out.pkpass"), "--force"])
    assert status == 0
    return time.perf_counter() - start


def main() -> None:
    import warnings

    warnings.simplefilter("ignore")  # the long texts warn that Wallet cuts them: expected here
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT).write(root)
        _time(_program(root, art=False, text=10))  # imports and fonts warm
        for label, art, text in (("plain", False, 10), ("10,000-character texts", False, 10_000),
                                 ("4096 px logo, icon and stamp icon", True, 10)):
            seconds = _time(_program(root, art=art, text=text))
            print(f"{label}: {seconds:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
