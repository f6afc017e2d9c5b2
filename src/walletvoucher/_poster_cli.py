"""``walletvoucher poster PROGRAM.toml --url https://shop.example/join/coffee -o poster.pdf``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_USAGE = 0, 2
DESCRIPTION = """\
Draw a printable poster for a program: the brand's colours, the program's name, a QR code that
opens the join page, and in each of the program's languages how to join and what the stamps earn.
The format follows the output's extension (.pdf or .png).

examples:
  walletvoucher poster coffee.toml --url https://shop.example/join/coffee -o poster.pdf
  walletvoucher poster coffee.toml --url https://shop.example/join/coffee -o poster.png --size a6
"""


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``poster``."""
    parser = sub.add_parser(
        "poster",
        help="draw a printable join poster (PDF or PNG) with the join page's QR code",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("program", type=Path, metavar="PROGRAM.toml", help="program file (TOML or JSON)")
    parser.add_argument(
        "--url",
        required=True,
        help="the join page the QR code opens, e.g. "
        "https://shop.example/join/coffee (what `walletvoucher serve` serves at /join/<id>)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="POSTER.pdf",
        help="where to write the poster: .pdf or .png",
    )
    parser.add_argument("--size", choices=("a4", "a5", "a6"), default="a5", help="paper size (default a5)")
    parser.add_argument("--dpi", type=int, default=300, help="dots per inch, 72 to 600 (default 300)")
    parser.add_argument(
        "--language",
        action="append",
        default=None,
        metavar="LANG",
        help="a language to print (repeat for several; default: all the program's)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    parser.set_defaults(run=run_poster)


def run_poster(args: argparse.Namespace) -> int:
    """Write the poster; 0 when written, 2 for a usage mistake (bad file, URL, size or output)."""
    from walletvoucher.poster import PaperSize, render_poster
    from walletvoucher.programfile import load_program_file

    output: Path = args.output
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        return _fail(f"{output}: a poster is written as .pdf or .png; name the output poster.pdf or .png")
    if output.exists() and not args.force:
        return _fail(f"{output} exists; pass --force to overwrite it")
    from walletvoucher.errors import PosterError

    program = load_program_file(args.program).program
    try:
        data = render_poster(
            program,
            url=args.url,
            size=PaperSize[args.size.upper()],
            fmt=fmt,
            dpi=args.dpi,
            languages=args.language,
        )
    except PosterError as exc:
        return _fail(str(exc))
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, output)
    print(f"wrote {output} ({args.size.upper()}, {len(data)} bytes): its QR code opens {args.url}")
    return EXIT_OK


def _fail(message: str) -> int:
    print(f"walletvoucher poster: {message}", file=sys.stderr)
    return EXIT_USAGE
