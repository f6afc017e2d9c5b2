"""``walletvoucher verify-link``: check a Google Wallet save link offline."""

from __future__ import annotations

import argparse
import sys

from walletvoucher.errors import WalletVoucherError
from walletvoucher.google._verify import verify_save_link
from walletvoucher.keys import load_service_account

__all__ = ["add_commands"]


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``verify-link`` on the ``walletvoucher`` command line."""
    parser = subparsers.add_parser(
        "verify-link",
        help="check a Google Wallet save link offline",
        description="Check a Google Wallet save link offline: RS256 signature with the service "
        "account's public key, kid header, claims, payload against the walletobjects v1 discovery "
        "document, and Google's 1800-character limit.",
    )
    parser.add_argument("url", help="the https://pay.google.com/gp/v/save/<jwt> link (or the bare JWT)")
    parser.add_argument(
        "--service-account", required=True, metavar="KEY.json", help="the service-account JSON key"
    )
    parser.add_argument(
        "--discovery",
        metavar="PATH",
        help="walletobjects.v1.json discovery document (default: the copy in google-api-python-client)",
    )
    parser.set_defaults(run=run_verify_link)


def run_verify_link(args: argparse.Namespace) -> int:
    """Print the report; 0 when the link is good, 1 when it has problems, 2 when it cannot be checked."""
    try:
        credentials = load_service_account(args.service_account)
        report = verify_save_link(args.url.strip(), key=credentials, discovery=args.discovery)
    except (WalletVoucherError, OSError, ValueError) as exc:
        print(f"walletvoucher verify-link: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1
