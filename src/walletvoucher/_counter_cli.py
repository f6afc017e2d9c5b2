"""The counter's credentials and the POS reconciliation on the command line.

``walletvoucher api-key create --name till-1 --scope stamp,redeem,read --db URL`` prints the new key once,
alone on the last line of standard output (scripts take it with ``tail -n 1``); only its SHA-256 is
stored. ``api-key revoke`` stops it at once; ``api-key list`` shows names, scopes and last use.

``walletvoucher staff add "Aziza" --location chilonzor --url https://shop.example --db URL`` prints a
one-time enrolment link (``--kiosk`` for a stamping-only kiosk); ``staff revoke`` and ``staff list``.

``walletvoucher reconcile EXPORT.csv --column code --db URL --program coffee.toml`` redeems, once each, the
vouchers whose POS codes the export lists, and reports codes it does not know or that were redeemed here.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ENROL_PATH = "/staff/enrol/"
"""Where an enrolment link points below the public URL (a public contract)."""


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``api-key``, ``staff`` and ``reconcile``."""
    _api_key(sub)
    _staff(sub)
    parser = sub.add_parser(
        "reconcile",
        help="mark as redeemed the vouchers whose POS codes a POS export lists",
        description="A POS that redeems codes on its own (Zero-Integration) reports them in an export. "
        "Each code is matched to the voucher that carries it and redeemed once through the store (passes "
        "follow); codes not known here, or already redeemed here, are reported and change nothing.",
    )
    parser.add_argument("export", type=Path, metavar="EXPORT.csv", help="the POS export (CSV with a header)")
    parser.add_argument("--column", required=True, help="the column holding the codes, e.g. code")
    _db(parser)
    parser.add_argument(
        "--program",
        type=Path,
        action="append",
        default=[],
        metavar="PROGRAM.toml",
        required=True,
        help="the program files of the cards (repeatable)",
    )
    parser.set_defaults(run=run_reconcile)


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", required=True, metavar="URL", help="the wallet store, e.g. sqlite:///wallet.db"
    )


def _api_key(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "api-key",
        help="create, revoke and list API keys for tills and backends",
        description="API keys authenticate tills and backends on /api/v1 "
        "(Authorization: Bearer <key>). A key is printed once and stored hashed.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create",
        help="create a key and print it once",
        description="Create a key; it is the last line of standard output.",
    )
    create.add_argument("--name", required=True, help="who uses it, e.g. till-1")
    create.add_argument(
        "--scope", required=True, help="comma-separated: issue, stamp, redeem, read, reconcile"
    )
    _db(create)
    create.set_defaults(run=run_api_key_create)
    _revoke_and_list(actions, "api_key", "key")


def _staff(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "staff",
        help="enrol, revoke and list staff phones and kiosks",
        description="Staff sign in without shared passwords: `staff add` prints a "
        "one-time enrolment link; the device that opens it keeps a long-lived token "
        "(stored hashed) until `staff revoke`.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add",
        help="print a one-time enrolment link for a staff device or kiosk",
        description="Create a staff device (or --kiosk) and print its enrolment link.",
    )
    add.add_argument("name", help="the person (or the kiosk), e.g. Aziza")
    add.add_argument("--location", default="", help="the branch, e.g. chilonzor")
    add.add_argument("--kiosk", action="store_true", help="a kiosk: it may only stamp cards")
    add.add_argument("--url", required=True, help="the public URL serve runs at, e.g. https://shop.example")
    _db(add)
    add.set_defaults(run=run_staff_add)
    _revoke_and_list(actions, "staff", "staff device or kiosk")


def _revoke_and_list(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], kind: str, what: str
) -> None:
    """The ``revoke NAME`` and ``list`` actions of one kind of credential."""
    revoke = actions.add_parser("revoke", help=f"revoke a {what} (it stops working at once)",
                                description=f"Revoke the {what} called NAME; it stops working at once.")
    revoke.add_argument("name", help=f"the {what}'s name")
    _db(revoke)
    revoke.set_defaults(run=lambda args: _revoke(args, kind))
    listing = actions.add_parser("list", help=f"list every {what}, with scopes and last use",
                                 description=f"List every {what} (never a key or token itself).")
    _db(listing)
    listing.set_defaults(run=lambda args: _list(args, "api_key" if kind == "api_key" else None))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def run_api_key_create(args: argparse.Namespace) -> int:
    """Create the key and print it, alone, on the last line."""
    from walletvoucher.store import Wallet

    scopes = [s.strip() for s in str(args.scope).split(",") if s.strip()]
    with Wallet.open(args.db, programs=[]) as wallet:
        issued = wallet.access.create_api_key(args.name, scopes=scopes, at=_now(), random=secrets.token_bytes)
    print(f"API key for {issued.name} (scopes {', '.join(sorted(set(scopes)))}); shown once, keep it secret:")
    print(issued.secret)
    return EXIT_OK


def run_staff_add(args: argparse.Namespace) -> int:
    """Create the device and print its one-time enrolment link."""
    from walletvoucher.poster import check_join_url
    from walletvoucher.store import Wallet

    base = check_join_url(str(args.url)).rstrip("/")
    with Wallet.open(args.db, programs=[]) as wallet:
        code = wallet.access.create_device(
            args.name, location=args.location, kiosk=args.kiosk, at=_now(), random=secrets.token_bytes
        )
    kind = "kiosk" if args.kiosk else "staff device"
    print(
        f"Open this link once on {args.name}'s {kind} "
        f"({'stamping only' if args.kiosk else 'stamp and redeem'}); it works once:"
    )
    print(f"{base}{ENROL_PATH}{code.secret}")
    return EXIT_OK


def _revoke(args: argparse.Namespace, kind: str) -> int:
    from walletvoucher.store import Wallet

    with Wallet.open(args.db, programs=[]) as wallet:
        done = wallet.access.revoke(kind, args.name, at=_now())
    if not done:
        print(
            f"walletvoucher: no {kind.replace('_', ' ')} called {args.name!r} is active; nothing revoked",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"revoked {args.name}: it stops working now")
    return EXIT_OK


def _list(args: argparse.Namespace, kind: str | None) -> int:
    from walletvoucher.store import Wallet

    with Wallet.open(args.db, programs=[]) as wallet:
        found = [c for c in wallet.access.list(kind) if kind is not None or c.kind != "api_key"]
    for c in found:
        used = c.last_used_at.isoformat() if c.last_used_at else "never"
        state = "revoked" if c.revoked_at else ("active" if c.enrolled else "awaiting enrolment")
        where = f" @{c.location}" if c.location else ""
        print(f"{c.kind}\t{c.name}{where}\t{','.join(c.scopes)}\t{state}\tlast used {used}")
    return EXIT_OK


def run_reconcile(args: argparse.Namespace) -> int:
    """Reconcile the export; 0 when every known code is now redeemed, 1 when some were unknown."""
    from walletvoucher.programfile import load_program_file
    from walletvoucher.service._reconcile import read_codes, reconcile
    from walletvoucher.store import Wallet

    programs = [load_program_file(path).program for path in args.program]
    codes = list(read_codes(args.export, column=args.column))
    with Wallet.open(args.db, programs=programs) as wallet:
        report = reconcile(wallet, codes, by=f"pos-export {args.export.name}"[:100], at=_now())
    print(
        f"{len(report.redeemed)} redeemed now, {len(report.already_redeemed)} already redeemed here, "
        f"{len(report.unknown)} unknown, {len(report.not_redeemable)} not redeemable "
        f"(from {len(codes)} codes in {args.export})"
    )
    for code, at, by in report.already_redeemed:
        print(f"already redeemed: {code} at {at} by {by}")
    for code in report.unknown:
        print(f"unknown: {code}")
    for code, why in report.not_redeemable:
        print(f"not redeemable: {code}: {why}")
    return EXIT_FAILED if report.unknown or report.not_redeemable else EXIT_OK
