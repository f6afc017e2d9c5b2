"""The ``walletvoucher`` command line: the only code that prints or exits."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="walletvoucher", description="Stamp cards and Smart Vouchers for Apple Wallet and Google Wallet."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    from walletvoucher import _batch_cli, _demo_cli
    from walletvoucher.apple import _cli as apple_cli
    from walletvoucher.google import _cli as google_cli

    for module in (_demo_cli, apple_cli, google_cli, _batch_cli):
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
