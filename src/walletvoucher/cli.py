"""The ``walletvoucher`` command line: the only code that prints or exits.

Every mistake a user can make ends in one line on stderr naming the problem and the fix, never a
traceback: exit status 2 for usage mistakes (a bad flag or value, a missing or unreadable file, a
malformed program or configuration file), 1 for failures (a pass that does not verify, a key that does
not fit, a refused request, a port already in use), 130 when interrupted. Library warnings (a barcode
shown as Code 128, a certificate about to expire) print as one ``warning:`` line each.

Only the module of the command asked for is imported, so ``walletvoucher --version`` and a command's
``--help`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

COMMANDS = {  # command -> the module whose add_commands registers it (imported on first use)
    "demo": "walletvoucher._demo_cli",
    "build": "walletvoucher._build_cli",
    "verify": "walletvoucher.apple._cli",
    "verify-link": "walletvoucher.google._cli",
    "preview": "walletvoucher._preview_cli",
    "batch": "walletvoucher._batch_cli",
    "certs": "walletvoucher._certs_cli",
    "serve": "walletvoucher.service._cli",
    "worker": "walletvoucher.service._worker_cli",
    "poster": "walletvoucher._poster_cli",
    "api-key": "walletvoucher._counter_cli",
    "staff": "walletvoucher._counter_cli",
    "reconcile": "walletvoucher._counter_cli",
    "import": "walletvoucher._import_cli",
    "expire": "walletvoucher._import_cli",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: with *command*, only that subcommand (its module alone is imported);
    with ``""``, none (for ``--version``); with None, every subcommand."""
    from walletvoucher import __version__

    parser = argparse.ArgumentParser(
        prog="walletvoucher", description="Stamp cards and Smart Vouchers for Apple Wallet and Google Wallet."
    )
    parser.add_argument("--version", action="version", version=f"walletvoucher {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    if command is None or (command and command not in COMMANDS):
        modules = list(dict.fromkeys(COMMANDS.values()))
    else:
        modules = [COMMANDS[command]] if command else []
    for name in modules:
        importlib.import_module(name).add_commands(sub)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named in *argv* (its first word that is not an option), or None."""
    return next((word for word in argv if not word.startswith("-")), None)


def exit_status(exc: BaseException) -> int:
    """2 for a usage mistake (a value that cannot be used, a file that cannot be read), else 1."""
    from walletvoucher._files import UnreadableFile
    from walletvoucher.errors import ValidationError

    cause: BaseException | None = exc
    for _ in range(5):  # a file that cannot be read, however deep in the chain of causes
        if isinstance(cause, (ValidationError, OSError, UnreadableFile)):
            return EXIT_USAGE
        cause = None if cause is None else cause.__cause__
    return EXIT_FAILED


@contextmanager
def one_line_warnings(command: str) -> Iterator[None]:
    """Show walletvoucher's warnings as ``walletvoucher COMMAND: warning: ...`` lines (no source line)."""
    from walletvoucher.errors import AppleWalletWarning, GoogleWalletWarning

    original = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if issubclass(category, (AppleWalletWarning, GoogleWalletWarning)):
            print(f"walletvoucher {command}: warning: {message}", file=sys.stderr, flush=True)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed, 2 usage mistake, 130 interrupted)."""
    from walletvoucher.errors import WalletVoucherError

    words = list(sys.argv[1:] if argv is None else argv)
    command = _command(words)
    if command is None and words and set(words) <= {"--version"}:
        command = ""  # nothing but --version: no subcommand module needs importing
    args = build_parser(command).parse_args(words)
    try:
        with one_line_warnings(args.command):
            status: int = args.run(args)
    except WalletVoucherError as exc:
        print(f"walletvoucher {args.command}: {exc}", file=sys.stderr)
        return exit_status(exc)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"walletvoucher {args.command}: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
