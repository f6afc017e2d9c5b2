"""``walletvoucher demo``: write the demo and its index."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from walletvoucher.demo import DemoItem, RendererHook, write_demo


def _apple_hook(items: Sequence[DemoItem], out_dir: Path, entries: list[dict[str, Any]]) -> dict[str, str]:
    apple_demo = importlib.import_module("walletvoucher.apple._demo")
    new_entries, keys = apple_demo.write_demo(items, out_dir)
    entries.extend(new_entries)
    return dict(keys)


def _google_hook(items: Sequence[DemoItem], out_dir: Path, entries: list[dict[str, Any]]) -> dict[str, str]:
    google_demo = importlib.import_module("walletvoucher.google._demo")
    return dict(google_demo.write_demo(items, out_dir, entries))


RENDERERS: tuple[RendererHook, ...] = (_apple_hook, _google_hook)


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
