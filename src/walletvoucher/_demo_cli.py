"""``walletvoucher demo``: write the demo, its index and its gallery, and say what went where."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from walletvoucher.demo import PageHook, RendererHook, write_demo
from walletvoucher.demo._apple import demo_hook as apple_demo_hook
from walletvoucher.demo._gallery import write_gallery
from walletvoucher.demo._google import write_demo as google_demo_hook
from walletvoucher.demo._poster import write_poster
from walletvoucher.demo._previews import write_previews

RENDERERS: tuple[RendererHook, ...] = (apple_demo_hook, google_demo_hook, write_previews, write_poster)
PAGES: tuple[PageHook, ...] = (write_gallery,)


def _run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"walletvoucher demo: {out} is a file; give --out a directory (it is created if missing)",
              file=sys.stderr)
        return 2
    index = write_demo(out, renderers=RENDERERS, pages=PAGES)
    print(
        "\n".join(textwrap.fill(line, width=100, subsequent_indent=" " * 13) for line in summary(out, index))
    )
    return 0


def summary(out: Path, index: dict[str, Any]) -> list[str]:
    """The closing words of ``walletvoucher demo``: what was written where, for a newcomer."""
    entries = index["entries"]
    passes = [e for e in entries if e.get("format") == "pkpass"]
    shown = [e for e in entries if e.get("kind") in ("stamp_card", "voucher") and e.get("format") == "json"]
    ready = [e for e in shown if e.get("google_save_url")]
    rest = [e for e in shown if e.get("google_rest_required")]
    codes = [e for e in entries if e.get("kind") == "code_image"]
    lines = [
        f"Wrote the walletvoucher demo into {out}/ ({len(shown)} cards and vouchers at the demo clock).",
        "",
    ]
    if index.get("gallery"):
        lines += [
            f"  Gallery:   open {out / index['gallery']} in a browser: every card and voucher as "
            "Apple Wallet and Google Wallet show them."
        ]
    if passes:
        root = out / index.get("apple_root_ca", "apple/root-ca.pem")
        lines += [
            f"  Apple:     {len(passes)} signed .pkpass files in {out / 'apple' / 'passes'}/. "
            "They are signed with a test certificate chain made for this demo, "
            "so an iPhone will not install them; "
            f"check one with: walletvoucher verify FILE.pkpass --ca {root}"
        ]
    if shown:
        lines += [
            f"  Google:    {len(ready)} 'Add to Google Wallet' link(s) ready in index.json "
            "(google_save_url), signed with the throwaway key "
            f"{out / index.get('google_service_account', '')}."
        ]
    if rest:
        lines += [
            f"  Google:    {len(rest)} need the REST path: a link carrying the pass's class in every "
            "language would be longer than Google's 1800-character limit, so the class and object are "
            f"written to {out / 'google'}/<item>.json to insert through the Wallet REST API first; "
            "then the short link in index.json (google_save_url_after_rest) adds the pass."
        ]
    lines += [
        f"  Previews:  PNG pictures in {out / 'previews'}/apple/ and {out / 'previews'}/google/.",
    ]
    if index.get("poster_pdf"):
        lines += [
            f"  Poster:    {out / index['poster_pdf']} (A5, print it) and {out / index['poster_png']}: "
            f"its QR code opens {index['poster_url']}, the join page of `walletvoucher serve`."
        ]
    lines += [
        f"  Codes:     {len(codes)} redeem-code images (PNG and SVG) in {out / 'codes'}/.",
        f"  Model:     the cards, vouchers and their events as JSON in {out / 'model'}/.",
        f"  Index:     {out / 'index.json'} lists every file with what it shows.",
    ]
    return lines


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``demo``."""
    demo = sub.add_parser(
        "demo",
        help="write a demo of cards, vouchers, code images, passes and a gallery",
        description="Walk a coffee shop's stamp card through its life (fixed clock, seeded randomness) and "
        "write every artefact: model JSON, code images, signed .pkpass files, Google save links, previews "
        "and a gallery page (index.html) to open in a browser.",
    )
    demo.add_argument("--out", required=True, help="directory to write into (created if missing)")
    demo.set_defaults(run=_run)
