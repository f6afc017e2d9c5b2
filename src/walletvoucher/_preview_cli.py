"""``walletvoucher preview FILE.pkpass -o card.png``: a picture of any pass, without an iPhone."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from walletvoucher.errors import PreviewError
from walletvoucher.preview import preview_bundle, read_bundle
from walletvoucher.preview._bundle import MAX_BUNDLE_BYTES

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``preview``."""
    parser = sub.add_parser(
        "preview",
        help="draw the front of a .pkpass as Apple Wallet shows it (PNG)",
        description="Draw the front of any .pkpass (ours or not) as Apple Wallet lays it out: logo, "
        "fields, strip, barcode, colours, and the voided or expired look. The texts come from the "
        "pass's xx.lproj folder for --language (default English when the pass has it).",
    )
    parser.add_argument("file", type=Path, metavar="FILE.pkpass", help="the pass to draw")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="CARD.png",
        help="where to write the PNG ('-' for standard output)",
    )
    parser.add_argument("--language", metavar="LANG", help="language to show, e.g. zh-Hans, hi, th")
    parser.add_argument(
        "--at",
        type=datetime.fromisoformat,
        default=None,
        metavar="ISO-TIME",
        help="judge expiry at this time, with a zone (default: now)",
    )
    parser.add_argument(
        "--back",
        action="store_true",
        help="draw the back instead: the pass's back fields, as Wallet lists them behind the front",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=2,
        choices=(1, 2, 3, 4),
        help="pixels per point (default 2, a phone's @2x screen)",
    )
    parser.set_defaults(run=run_preview)


def run_preview(args: argparse.Namespace) -> int:
    """Write the PNG; 0 when written, 1 when the file is no pass, 2 for a usage mistake."""
    path: Path = args.file
    at: datetime | None = args.at
    if at is not None and at.tzinfo is None:
        return _fail("--at needs a time zone, e.g. 2026-05-07T10:30:00+00:00", EXIT_USAGE)
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            return _fail(f"{path}: larger than any pass ({MAX_BUNDLE_BYTES} bytes)", EXIT_FAILED)
        data = path.read_bytes()
    except OSError as exc:
        return _fail(f"{path}: cannot read: {exc.strerror}. Fix: give the path of a .pkpass file", EXIT_USAGE)
    try:
        bundle = read_bundle(data)
        picture = preview_bundle(
            bundle, language=args.language, at=at or datetime.now(timezone.utc), scale=args.scale,
            side="back" if args.back else "front",
        )
    except PreviewError as exc:
        return _fail(f"{path}: {exc}", EXIT_FAILED)
    _note_language(args.language, bundle.pick_language(args.language), bundle.languages)
    _note_problems(bundle.problems)
    return _write(args.output, picture.png, picture.size)


MAX_NOTES = 10


def _note_problems(problems: tuple[str, ...]) -> None:
    """Say on stderr what was left out of the picture and why (at most ``MAX_NOTES`` lines)."""
    for problem in problems[:MAX_NOTES]:
        print(f"note: left out {problem}", file=sys.stderr)
    if len(problems) > MAX_NOTES:
        print(f"note: ... and {len(problems) - MAX_NOTES} more (walletvoucher verify lists them all)",
              file=sys.stderr)


def _note_language(wanted: str | None, shown: str | None, carried: tuple[str, ...]) -> None:
    """Say so on stderr when the pass has no texts in the language asked for."""
    if wanted is None or (shown is not None and shown.split("-")[0].lower() == wanted.split("-")[0].lower()):
        return
    print(
        f"note: the pass has no {wanted} texts (it carries: {', '.join(carried) or 'none'}); "
        f"showing {shown or 'its pass.json texts'}",
        file=sys.stderr,
    )


def _write(output: str, png: bytes, size: tuple[int, int]) -> int:
    if output == "-":
        sys.stdout.buffer.write(png)
        sys.stdout.buffer.flush()
        return EXIT_OK
    target = Path(output)
    try:
        target.write_bytes(png)
    except OSError as exc:
        return _fail(
            f"{target}: cannot write: {exc.strerror}. Fix: give a file path in a folder that exists",
            EXIT_USAGE,
        )
    print(f"wrote {target} ({size[0]}x{size[1]} pixels)")
    return EXIT_OK


def _fail(message: str, status: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status
