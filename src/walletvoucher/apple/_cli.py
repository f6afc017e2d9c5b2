"""``walletvoucher verify FILE.pkpass [--ca ROOT.pem]``: check a pass and report every problem."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from walletvoucher.apple._verify import MAX_BUNDLE_BYTES, verify_pkpass
from walletvoucher.errors import KeyLoadError
from walletvoucher.keys import load_certificate

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``verify`` on the ``walletvoucher`` command line."""
    parser = subparsers.add_parser(
        "verify", help="check a .pkpass: zip, manifest, signature, chain, pass.json, images",
        description="Check a .pkpass file: zip layout, manifest hashes, signature and certificate chain, "
        "signer against pass.json, pass.json rules and images. Reports every problem; exits 1 if any.",
    )
    parser.add_argument("file", type=Path, metavar="FILE.pkpass")
    parser.add_argument("--ca", type=Path, action="append", default=[], metavar="ROOT.pem",
                        help="trusted root certificate (PEM or DER); may be repeated")
    parser.add_argument("--at", type=datetime.fromisoformat, default=None, metavar="ISO-TIME",
                        help="check certificate validity at this time (default: now)")
    parser.set_defaults(run=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    """Run ``verify``; print the report; 0 when valid, 1 when problems were found, 2 on bad input."""
    path: Path = args.file
    try:
        size = path.stat().st_size
        if size > MAX_BUNDLE_BYTES:
            print(f"{path}: {size} bytes, larger than any pass ({MAX_BUNDLE_BYTES})", file=sys.stderr)
            return EXIT_INVALID
        data = path.read_bytes()
        roots = [load_certificate(ca, field="--ca") for ca in args.ca]
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except KeyLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    at = args.at
    if at is not None and at.tzinfo is None:
        print("--at needs a time zone, e.g. 2026-05-07T10:30:00+00:00", file=sys.stderr)
        return EXIT_USAGE
    report = verify_pkpass(data, ca=roots, at=at)
    print(f"{path}: {report}")
    return EXIT_OK if report.ok else EXIT_INVALID
