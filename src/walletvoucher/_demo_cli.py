"""``walletvoucher demo``: write the demo and its index."""

from __future__ import annotations

import argparse
from pathlib import Path

from walletvoucher.demo._apple import demo_hook as apple_demo_hook
from walletvoucher.demo import RendererHook, write_demo
from walletvoucher.demo._google import write_demo as google_demo_hook

RENDERERS: tuple[RendererHook, ...] = (apple_demo_hook, google_demo_hook)


def _run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    index = write_demo(out, renderers=RENDERERS)
    kinds: dict[str, int] = {}
    for entry in index["entries"]:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    print(f"wrote {out / 'index.json'}: {summary}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``demo``."""
    demo = sub.add_parser("demo", help="write a demo of cards, vouchers, code images and passes")
    demo.add_argument("--out", required=True, help="directory to write into (created if missing)")
    demo.set_defaults(run=_run)
