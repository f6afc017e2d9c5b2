"""The ``walletvoucher`` command line: the only code that prints or exits.

Every mistake a user can make ends in one line on stderr naming the problem and the fix, never a
traceback: exit status 2 for usage mistakes (a bad flag, a missing or unreadable file, a malformed
program file), 1 for failures (a pass that does not verify, a key that does not fit, a refused request).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    from walletvoucher import __version__

    parser = argparse.ArgumentParser(
        prog="walletvoucher", description="Stamp cards and Smart Vouchers for Apple Wallet and Google Wallet."
    )
    parser.add_argument("--version", action="version", version=f"walletvoucher {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    from walletvoucher import _batch_cli, _build_cli, _certs_cli, _demo_cli, _poster_cli, _preview_cli
    from walletvoucher.apple import _cli as apple_cli
    from walletvoucher.google import _cli as google_cli
    from walletvoucher.service import _cli as service_cli
    from walletvoucher.service import _worker_cli as worker_cli

    for module in (
        _demo_cli, _build_cli, apple_cli, google_cli, _preview_cli, _batch_cli, _certs_cli, service_cli,
        worker_cli, _poster_cli,
    ):
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed, 2 usage mistake)."""
    from walletvoucher.errors import ProgramFileError, WalletVoucherError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except ProgramFileError as exc:
        print(f"walletvoucher {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WalletVoucherError as exc:
        print(f"walletvoucher {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"walletvoucher {args.command}: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
