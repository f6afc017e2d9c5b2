"""``walletvoucher build PROGRAM.toml --card SERIAL | --voucher SERIAL``: a signed pass and/or a save link.

The program (brand, colours, artwork, goal, reward, redemption, validity, languages) comes from a TOML or
JSON file (see :mod:`walletvoucher.programfile`); the card's state from the flags. The key's password
comes from the environment variable the file names (``WALLETVOUCHER_KEY_PASSWORD`` by default) or,
with ``--ask-password``, from a prompt: never from the command line, where other users could read it.
Staff-Scan vouchers sign their token with the ``[scan]`` table's key (its secret from the environment).
``--google-link --insert-class`` inserts the class through the Wallet REST API with the ``[google]``
service account, so the link carries only the object (or only its id), whatever the class's size.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import attrs

from walletvoucher.codes import CodePool
from walletvoucher.errors import ProgramFileError, SaveLinkTooLong, ValidationError
from walletvoucher.model import RedemptionMethod, StampCard, Voucher
from walletvoucher.programfile import AppleSigning, ProgramFile, load_program_file

if TYPE_CHECKING:
    from walletvoucher.apple import AppleOptions
    from walletvoucher.google import ServiceAccountCredentials, WalletRestClient

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DESCRIPTION = """\
Build a signed Apple Wallet pass and/or an "Add to Google Wallet" link from a program file.

The program (brand, colours, artwork, goal, reward, redemption, validity, languages) comes from a
TOML or JSON file; the card's state from the flags. The key's password comes from the environment
variable the file names (WALLETVOUCHER_KEY_PASSWORD by default) or, with --ask-password, from a
prompt; never from the command line.

A link that carries the class too is limited to 1800 characters: a translated program rarely fits.
--insert-class inserts (or updates) the class through the Wallet REST API with the [google] service
account, and the link then carries only the object (or only its id). Staff-Scan vouchers need a
[scan] table (key_id, and secret_env naming the variable that holds the secret).

examples:
  walletvoucher build coffee.toml --card CARD-1 --stamps 7 --pkpass card.pkpass
  walletvoucher build coffee.toml --voucher CARD-1 --code 5901234123457 --google-link
  walletvoucher build coffee.toml --card CARD-1 --google-link --insert-class
"""
T = TypeVar("T")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``build``."""
    parser = sub.add_parser(
        "build", help="build a signed .pkpass and/or a Google save link from a program file",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("program", type=Path, metavar="PROGRAM.toml", help="program file (TOML or JSON)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--card", metavar="SERIAL", help="build the stamp card with this serial")
    which.add_argument("--voucher", metavar="SERIAL",
                       help="build the voucher the card SERIAL earns on reaching its goal (as its own pass)")
    parser.add_argument("--member", default="member", help="member id of the card's holder")
    parser.add_argument("--stamps", type=int, default=0, help="stamps on the card (default 0)")
    parser.add_argument("--code", help="the voucher's POS code (Zero-Integration); generated when left out")
    parser.add_argument("--at", type=datetime.fromisoformat, default=None, metavar="ISO-TIME",
                        help="the clock (default: now), e.g. 2026-05-07T10:30:00+00:00")
    parser.add_argument("--pkpass", type=Path, metavar="OUT.pkpass", help="write the signed Apple pass here")
    parser.add_argument("--web-service-url", default=None, metavar="URL",
                        help="make the pass updatable: its webServiceURL (where `walletvoucher serve` runs) "
                        "and its token, derived from $WALLETVOUCHER_TOKEN_SECRET as serve derives it")
    parser.add_argument("--google-link", action="store_true", help="print an 'Add to Google Wallet' link")
    parser.add_argument("--insert-class", action="store_true",
                        help="with --google-link: insert the class through the Wallet REST API first, so "
                        "the link carries only the object (needs the service account's API access)")
    parser.add_argument("--google-api-url", default=None, metavar="URL",
                        help="talk to this Wallet REST API instead of Google's (a stand-in for tests)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --pkpass file")
    parser.add_argument("--ask-password", action="store_true", help="prompt for the key's password")
    parser.set_defaults(run=run_build)


def run_build(args: argparse.Namespace) -> int:
    """Run ``build``: 0 when everything asked for was written, 1 on a failure, 2 on a usage mistake."""
    usage = _usage_problem(args)
    if usage:
        print(f"walletvoucher build: {usage}", file=sys.stderr)
        return EXIT_USAGE
    loaded = load_program_file(args.program)
    _check_scan_table(loaded)
    at = args.at or datetime.now(timezone.utc)
    item = _item(loaded, args, at)
    if args.pkpass is not None:
        _write_pkpass(loaded, item, args, at)
        print(f"wrote {args.pkpass}: signed Apple Wallet pass for {item.serial}")
    if args.google_link:
        print(_google_link(loaded, item, at, args))
    return EXIT_OK


def _check_scan_table(loaded: ProgramFile) -> None:
    if loaded.program.redemption is RedemptionMethod.STAFF_SCAN and loaded.scan is None:
        raise ProgramFileError(
            "is missing: Staff-Scan vouchers carry a token signed with the scanners' key",
            field=f"{loaded.path}: [scan]", value=None,
            fix='add [scan] with key_id = "till-2026" and secret_env = "WALLETVOUCHER_SCAN_KEY_SECRET", '
            "and export that variable with the secret your staff app verifies with",
        )


def _usage_problem(args: argparse.Namespace) -> str | None:
    if args.pkpass is None and not args.google_link:
        return "say what to build: --pkpass OUT.pkpass and/or --google-link"
    if (args.insert_class or args.google_api_url) and not args.google_link:
        return "--insert-class and --google-api-url go with --google-link"
    if args.at is not None and args.at.tzinfo is None:
        return "--at needs a time zone, e.g. 2026-05-07T10:30:00+00:00"
    if args.stamps < 0:
        return "--stamps must be 0 or more"
    if args.pkpass is not None and args.pkpass.exists() and not args.force:
        return f"{args.pkpass} exists; pass --force to overwrite it or choose another path"
    if not args.program.is_file():
        return f"{args.program}: no such program file"
    return None


def _item(loaded: ProgramFile, args: argparse.Namespace, at: datetime) -> StampCard | Voucher:
    program = loaded.program
    serial = args.card or args.voucher
    card, _ = StampCard.issue(program, serial=serial, member_id=args.member, at=at)
    stamps = args.stamps if args.card else max(args.stamps, program.goal)
    if stamps == 0:
        return card
    pool = CodePool([args.code] * (stamps // program.goal), program.code_symbology) if args.code else None
    result = card.add_stamps(stamps, at=at, source="cli", codes=pool, random=secrets.token_bytes)
    return result.card if args.card else result.vouchers[0]


def key_password(signing: AppleSigning, *, ask: bool) -> str | None:
    """The key's password: prompted for with *ask*, else from the environment variable the file names."""
    if ask:
        return ask_password(f"password for {signing.key or signing.p12}: ", env=signing.password_env)
    return os.environ.get(signing.password_env)


def ask_password(prompt: str, *, env: str) -> str:
    """Prompt on the terminal; with no terminal to hide the typing, a usage mistake naming *env*."""
    import warnings

    refused = ValidationError(
        "needs a terminal to type the password on (input is not a terminal here)", field="--ask-password",
        fix=f"set the key's password in the environment variable {env} instead",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", getpass.GetPassWarning)  # would echo the password, or read a pipe
            return getpass.getpass(prompt)
    except (getpass.GetPassWarning, EOFError) as exc:
        raise refused from exc


def _write_pkpass(
    loaded: ProgramFile, item: StampCard | Voucher, args: argparse.Namespace, at: datetime
) -> None:
    from walletvoucher.apple import render_pkpass

    signing = need_table(loaded.apple, loaded, "apple")
    options = attrs.evolve(signing.apple_options(path=loaded.path), scan_key=loaded.scan_key(os.environ))
    source = "--ask-password" if args.ask_password else f"the environment variable {signing.password_env}"
    password = key_password(signing, ask=args.ask_password)
    signer = signing.load_signer(at=at, password=password, password_from=source)
    if args.web_service_url is not None:
        options = _updatable(options, item.serial, args.web_service_url)
    data = render_pkpass(item, signer=signer, options=options, at=at, program=loaded.program)
    args.pkpass.parent.mkdir(parents=True, exist_ok=True)
    args.pkpass.write_bytes(data)


def _updatable(options: AppleOptions, serial: str, url: str) -> AppleOptions:
    """*options* with the webServiceURL and the pass's token from the server's secret (as serve has it)."""
    from walletvoucher.service._tokens import PassTokens, updatable_options

    secret = os.environ.get("WALLETVOUCHER_TOKEN_SECRET")
    if not secret:
        raise ValidationError(
            "needs the web service's token secret", field="--web-service-url", value=url,
            fix="export WALLETVOUCHER_TOKEN_SECRET with the secret `walletvoucher serve` runs with",
        )
    return updatable_options(options, serial, web_service_url=url, tokens=PassTokens(secret.encode("utf-8")))


def _google_link(
    loaded: ProgramFile, item: StampCard | Voucher, at: datetime, args: argparse.Namespace
) -> str:
    from walletvoucher.google import save_link
    from walletvoucher.google._recipe import render_pieces
    from walletvoucher.keys import load_service_account

    setup = need_table(loaded.google, loaded, "google")
    credentials = load_service_account(setup.service_account)
    options = setup.google_options(scan_key=loaded.scan_key(os.environ))
    if not args.insert_class:
        try:
            link = save_link(item, credentials=credentials, options=options, at=at, program=loaded.program)
            return link.url
        except SaveLinkTooLong as exc:
            raise SaveLinkTooLong(exc.message, field="--google-link", value=None, fix=_TOO_LONG_FIX) from None
    rest = _rest_client(credentials, args.google_api_url)
    pieces = render_pieces(item, options=options, at=at, program=loaded.program)
    rest.upsert(pieces.kinds[0], pieces.class_body)  # insert, or patch the class inserted before
    link = save_link(item, credentials=credentials, options=options, at=at, program=loaded.program,
                     rest=rest, class_exists=True)
    return link.url


_TOO_LONG_FIX = ("pass --insert-class: the class is then inserted through the Wallet REST API with the "
                 "[google] service account, and the link carries only the object (or only its id)")


def _rest_client(credentials: ServiceAccountCredentials, api_url: str | None) -> WalletRestClient:
    from walletvoucher.google import WalletRestClient

    if api_url is None:
        return WalletRestClient.from_service_account(credentials)
    return WalletRestClient.from_service_account(credentials, base_url=api_url)


def need_table(part: T | None, loaded: ProgramFile, table: str) -> T:
    """*part* of the program file, or a :class:`ProgramFileError` saying which table to add."""
    if part is None:
        raise ProgramFileError(
            "has no such table", field=f"{loaded.path}: [{table}]",
            fix=f"add an [{table}] table to the program file (see walletvoucher.programfile)",
        )
    return part
