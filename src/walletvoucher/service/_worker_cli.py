"""``walletvoucher worker``: drain the wallet store's outbox (pass-update pushes) until stopped.

It also performs ``pass.refresh``: a voucher that becomes valid later re-marks its passes then.

``--once`` drains what is due and exits (for cron or a test); otherwise it drains every
``--interval`` seconds. The APNs client authenticates with the Pass Type ID certificate from the
same configuration as ``serve`` (``--config FILE.toml`` and ``WALLETVOUCHER_*`` variables).
``serve --worker`` runs the same loop in a background thread.
"""

from __future__ import annotations

import argparse
import ssl
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from walletvoucher.errors import ServiceConfigError

if TYPE_CHECKING:
    from walletvoucher.apple import AppleSigner
    from walletvoucher.google import GoogleOptions
    from walletvoucher.programfile import ProgramFile
    from walletvoucher.service._config import ServiceConfig
    from walletvoucher.service._google_sync import GoogleSync
    from walletvoucher.service._worker import Handler
    from walletvoucher.service.apns import ApnsTokenKey, ApplePushHandler
    from walletvoucher.store import Wallet

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``worker`` on the ``walletvoucher`` command line."""
    parser = subparsers.add_parser(
        "worker",
        help="send what the wallet store queued (pass-update pushes) with retries",
        description="Drain the wallet store's outbox: pass-update pushes through APNs, retried with\n"
        "capped backoff. Signing material comes from --config FILE.toml and WALLETVOUCHER_* variables.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", required=True, metavar="URL", help="wallet store, e.g. sqlite:///wallet.db")
    parser.add_argument("--once", action="store_true", help="drain what is due now, then exit")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between drains (default 1)")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE.toml",
                        help="the [service] settings, as for serve; WALLETVOUCHER_* variables win")
    parser.add_argument("--program", type=Path, action="append", default=[], metavar="PROGRAM.toml",
                        help="a program file (repeatable); with a [google] table the worker also keeps "
                        "that program's Google objects in step (topic google.sync)")
    parser.add_argument("--google-api-url", default=None, help="talk to this Wallet API instead of Google's")
    add_apns_arguments(parser)
    parser.set_defaults(run=run_worker)


def add_apns_arguments(parser: argparse.ArgumentParser) -> None:
    """``--apns`` host choice, and ``--apns-url`` / ``--apns-ca`` for a stand-in (tests, demos)."""
    parser.add_argument("--apns", choices=("production", "sandbox"), default="production",
                        help="Apple's push host: production (passes on customers' phones, the default) "
                        "or sandbox (development devices)")
    parser.add_argument("--apns-url", default=None, help="push to this server instead of Apple's")
    parser.add_argument("--apns-ca", type=Path, default=None, help="trust this CA for --apns-url")


def push_handler(wallet: Callable[[], Wallet] | Wallet, signer: AppleSigner,
                 args: argparse.Namespace, *, token_key: ApnsTokenKey | None = None) -> ApplePushHandler:
    """The ``apple.push`` handler for these arguments (host, stand-in URL, CA); *token_key* adds the
    configuration's ``[apns]`` provider token to the certificate."""
    from walletvoucher.service._stored import StorePassUpdates
    from walletvoucher.service.apns import ApnsClient, ApplePushHandler

    verify = None
    if args.apns_ca is not None:
        verify = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(args.apns_ca))
    apns = ApnsClient(topic=signer.pass_type_identifier, signer=signer, token_key=token_key,
                      environment=args.apns, base_url=args.apns_url, verify=verify, max_attempts=3,
                      backoff_cap=5.0)
    return ApplePushHandler(StorePassUpdates(wallet), apns)


def google_handler(wallet: Wallet, loaded: list[ProgramFile], *, api_url: str | None,
                   adjust: Callable[[GoogleOptions], GoogleOptions] | None = None) -> GoogleSync | None:
    """The ``google.sync`` handler for the program files that have a ``[google]`` table (or None).

    *adjust* rewrites each program's options (``serve`` points Self-Redeem links at its own signed pages).

    One service account serves every program (Google issues one per issuer); the REST client makes
    one attempt per message, so a failure goes back to the outbox, which honours ``Retry-After``.
    """
    import os

    from walletvoucher.google import WalletRestClient
    from walletvoucher.keys import load_service_account
    from walletvoucher.service._google_sync import GoogleSync

    setups = {file.program.id: file.google for file in loaded if file.google is not None}
    if not setups:
        return None
    accounts = sorted({str(setup.service_account.resolve()) for setup in setups.values()})
    if len(accounts) > 1:
        raise ServiceConfigError("name different service accounts", field="[google] service_account",
                                 value=accounts, fix="use one issuer's service account for every program")
    credentials = load_service_account(accounts[0])
    rest = (WalletRestClient.from_service_account(credentials, max_attempts=1) if api_url is None else
            WalletRestClient.from_service_account(credentials, max_attempts=1, base_url=api_url))
    scan_keys = {file.program.id: file.scan_key(os.environ) for file in loaded}  # [scan] tables
    options = {program_id: setup.google_options(scan_key=scan_keys[program_id])
               for program_id, setup in setups.items()}
    if adjust is not None:
        options = {program_id: adjust(chosen) for program_id, chosen in options.items()}
    return GoogleSync(wallet, rest, lambda program: options[program.id])


def run_loop(wallet: Wallet, handlers: Mapping[str, Handler], *, stop: threading.Event,
             interval: float, once: bool = False) -> tuple[int, int]:
    """Drain every *interval* seconds until *stop* is set (or once); return (completed, failed) counts.

    Each failure is printed once, here: the worker's log record of it is kept off stderr.
    """
    import logging

    from walletvoucher.service._worker import drain_outbox

    logging.getLogger("walletvoucher.worker").addHandler(logging.NullHandler())  # no second copy
    completed = failed = 0
    while True:
        report = drain_outbox(wallet, handlers, at=datetime.now(timezone.utc))
        completed += report.completed
        failed += report.retried
        for error in report.errors:
            print(f"walletvoucher worker: will retry {error}", file=sys.stderr, flush=True)
        if once or stop.wait(interval):
            return completed, failed


def _pages_links(config: ServiceConfig) -> Callable[[GoogleOptions], GoogleOptions] | None:
    """With a token secret and public URL (as ``serve`` has): Self-Redeem links to serve's signed pages."""
    from walletvoucher.service._serve import link_key_from, served_google_options

    key, url = link_key_from(config), config.public_url
    if key is None or not url:
        return None
    return lambda options: served_google_options(options, public_url=url, link_key=key)


def run_worker(args: argparse.Namespace) -> int:
    """Open the store, build the APNs handler from the configuration, drain."""
    import os

    try:
        from walletvoucher.programfile import load_program_file
        from walletvoucher.service._config import load_config
        from walletvoucher.service._google_sync import GOOGLE_SYNC_TOPIC
        from walletvoucher.service._serve import load_signer
        from walletvoucher.service._webhooks import WEBHOOK_TOPIC
        from walletvoucher.store import PASS_REFRESH_TOPIC, Wallet
    except ImportError as exc:
        print(f'error: {exc.name} is missing; install the server extra: pip install "walletvoucher[server]"',
              file=sys.stderr)
        return EXIT_USAGE
    if args.interval <= 0:
        raise ServiceConfigError("must be above 0", field="--interval", value=args.interval,
                                 fix="give the seconds between drains, e.g. --interval 1")
    config = load_config(args.config, os.environ)
    signer = load_signer(config, at=datetime.now(timezone.utc))
    token_key = config.apns_token_key()  # the [apns] table's .p8, if given
    loaded = [load_program_file(path) for path in args.program]
    with Wallet.open(args.db, programs=[file.program for file in loaded]) as wallet:
        handler = push_handler(wallet, signer, args, token_key=token_key)
        handlers: dict[str, Handler] = {"apple.push": handler, PASS_REFRESH_TOPIC: wallet.passes.refresh}
        google = google_handler(wallet, loaded, api_url=args.google_api_url, adjust=_pages_links(config))
        if google is not None:
            handlers[GOOGLE_SYNC_TOPIC] = google
        hooks = config.webhooks(os.environ)  # [[webhooks]] in the config: signed POSTs to your backend
        sender = hooks.sender() if hooks is not None else None
        if sender is not None:
            handlers[WEBHOOK_TOPIC] = sender
        try:
            done, failed = run_loop(wallet, handlers, stop=threading.Event(), interval=args.interval,
                                    once=args.once)
        finally:
            handler.close()
            if sender is not None:
                sender.close()
        pending = wallet.outbox.pending()
    if args.once:
        retry = f"; {failed} failed, kept for a retry" if failed else ""
        print(f"sent {done} message(s); {pending} pending{retry}", flush=True)
    return EXIT_FAILED if failed else EXIT_OK
