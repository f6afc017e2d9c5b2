"""``walletvoucher serve``: run the PassKit web service with uvicorn.

With no configuration it starts in demo mode (minted test chain, self-signed TLS certificate,
the demo's cards in a SQLite store in the state directory, or in ``--db``) so it runs with one
command on a fresh machine. Settings come from ``--config FILE.toml`` and ``WALLETVOUCHER_*``
environment variables (see the ``_config`` module). ``--worker`` also drains the store's outbox
(pass-update pushes) in a background thread, as ``walletvoucher worker`` does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walletvoucher.errors import ServiceConfigError, WalletVoucherError
from walletvoucher.service._worker_cli import add_apns_arguments

if TYPE_CHECKING:
    from collections.abc import Iterator

    from walletvoucher.service._serve import Served

EXIT_OK, EXIT_USAGE = 0, 2


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``serve`` on the ``walletvoucher`` command line."""
    parser = subparsers.add_parser(
        "serve",
        help="run the Apple Wallet pass-update web service and the customer pages",
        description="Run the Apple Wallet pass-update web service (Apple's five endpoints) with uvicorn,\n"
        "and the customer pages beside it: /join/PROGRAM (the poster's target) and /redeem/VOUCHER.\n\n"
        "With no configuration it starts in demo mode (a freshly minted test chain, a self-signed TLS\n"
        "certificate, the demo's cards) so it runs with one command on a fresh machine. Settings come\n"
        "from --config FILE.toml and WALLETVOUCHER_* environment variables.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--db", default=None, metavar="URL", help="wallet store, e.g. sqlite:///wallet.db")
    parser.add_argument("--program", type=Path, action="append", default=[], metavar="FILE.toml",
                        help="a program file whose cards the store holds (repeat for each program)")
    parser.add_argument("--worker", action="store_true",
                        help="also send the queued pushes and Google updates (background)")
    add_apns_arguments(parser)
    parser.add_argument("--join-rate", default="30/600", metavar="COUNT/SECONDS",
                        help="card joins allowed per client address (default 30 every 600 s)")
    parser.add_argument("--redeem-rate", default="120/600", metavar="COUNT/SECONDS",
                        help="redeem pages allowed per client address (default 120 every 600 s)")
    parser.add_argument("--card-rate", default="20/60", metavar="COUNT/SECONDS",
                        help="pass downloads and redemptions allowed per card (default 20 every 60 s)")
    parser.add_argument("--access-log", action="store_true",
                        help="log every request (client addresses and paths: personal data; off by default)")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE.toml")
    parser.add_argument("--tls-cert", type=Path, default=None, help="serve https with this certificate")
    parser.add_argument("--tls-key", type=Path, default=None)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where demo mode writes its minted chain and TLS certificate (default: a temp dir)",
    )
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Build the service from the configuration (or the demo) and serve it until interrupted."""
    try:
        import uvicorn

        from walletvoucher.service._config import load_config
        from walletvoucher.service._serve import build_configured, build_demo
        from walletvoucher.web._site import pages_for
        from walletvoucher.web.app import create_site
    except ImportError as exc:
        print(
            f'error: {exc.name} is missing; install the server extra: pip install "walletvoucher[server]"',
            file=sys.stderr,
        )
        return EXIT_USAGE
    now = datetime.now(timezone.utc)
    try:
        config = load_config(args.config, os.environ)
        if config.demo:
            state = args.state_dir or Path(tempfile.mkdtemp(prefix="walletvoucher-serve-"))
            served = build_demo(host=args.host, port=args.port, state_dir=state, at=now, db=args.db)
        else:
            served = build_configured(config, at=now, db=args.db, **_program_setup(args.program, config))
    except WalletVoucherError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        _check_worker(args, served)
        limits = _page_limits(args)
    except WalletVoucherError as exc:
        served.wallets.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _report(args, served)
    cert = args.tls_cert or served.tls_cert
    key = args.tls_key or served.tls_key
    try:
        with _background_worker(args, served):
            uvicorn.run(
                create_site(pages_for(served, limits=limits), passkit=served.service),
                host=args.host,
                port=args.port,
                log_level="info",
                access_log=args.access_log,
                ssl_certfile=None if cert is None else str(cert),
                ssl_keyfile=None if key is None else str(key),
            )
    finally:
        served.wallets.close()
    return EXIT_OK


def _signed_links(served: Served) -> Any:
    from walletvoucher.service._serve import served_google_options

    key = served.link_key
    if key is None:
        return None
    return lambda options: served_google_options(options, public_url=served.public_url, link_key=key)


def _page_limits(args: argparse.Namespace) -> Any:
    from walletvoucher.service._limits import Rate
    from walletvoucher.web import PageLimits

    return PageLimits(join_per_address=Rate.parse(args.join_rate, field="--join-rate"),
                      redeem_per_address=Rate.parse(args.redeem_rate, field="--redeem-rate"),
                      per_card=Rate.parse(args.card_rate, field="--card-rate"))


def _program_setup(paths: list[Path], config: Any) -> dict[str, Any]:
    """The programs of the files, what their join pages ask, and their Google save links (if set up)."""
    from walletvoucher.programfile import load_program_file
    from walletvoucher.service._join import google_links

    loaded = [load_program_file(path) for path in paths]
    setups = {file.program.id: file.google for file in loaded if file.google is not None}
    google = None
    if setups:
        from walletvoucher.keys import load_service_account
        from walletvoucher.service._serve import link_key_from, served_google_options

        account = next(iter(setups.values())).service_account
        options = {program_id: setup.google_options() for program_id, setup in setups.items()}
        key = link_key_from(config)
        if key is not None and config.public_url:
            options = {pid: served_google_options(chosen, public_url=config.public_url, link_key=key)
                       for pid, chosen in options.items()}
        google = google_links(load_service_account(account), lambda program: options.get(program.id))
    return {"programs": [file.program for file in loaded], "google": google,
            "join_settings": {file.program.id: file.join for file in loaded if file.join is not None}}


def _check_worker(args: argparse.Namespace, served: Served) -> None:
    if args.worker and served.demo and args.apns_url is None:
        raise ServiceConfigError(
            "cannot push demo passes through Apple's APNs (they are signed by a test chain)",
            field="--worker",
            fix="give --apns-url (and --apns-ca) of an APNs stand-in, or configure real certificates",
        )


@contextmanager
def _background_worker(args: argparse.Namespace, served: Served) -> Iterator[None]:
    """With ``--worker``: drain the outbox in a thread (its own wallet) while the server runs."""
    if not args.worker:
        yield
        return
    from walletvoucher.programfile import load_program_file
    from walletvoucher.service._google_sync import GOOGLE_SYNC_TOPIC
    from walletvoucher.service._worker import Handler
    from walletvoucher.service._worker_cli import google_handler, push_handler, run_loop

    stop = threading.Event()
    loaded = [load_program_file(path) for path in args.program]

    def work() -> None:
        wallet = served.wallets()
        handler = push_handler(wallet, served.signer, args)
        handlers: dict[str, Handler] = {"apple.push": handler}
        google = google_handler(wallet, loaded, api_url=None, adjust=_signed_links(served))  # [google] tables
        if google is not None:
            handlers[GOOGLE_SYNC_TOPIC] = google
        try:
            run_loop(wallet, handlers, stop=stop, interval=1.0)
        finally:
            handler.close()

    thread = threading.Thread(target=work, name="walletvoucher-worker", daemon=True)
    thread.start()
    print("worker: sending queued pushes in the background", flush=True)
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def _report(args: argparse.Namespace, served: object) -> None:
    from walletvoucher.service._serve import Served

    assert isinstance(served, Served)
    print(f"wallet store: {_shown_url(served.wallets.url)}")
    print(f"webServiceURL: {served.public_url}", flush=True)
    if served.demo:
        print(f"demo mode: test chain root {served.root_ca}, TLS certificate {served.tls_cert}")
        print(f"join page: {served.public_url}/join/coffee-self-redeem (open it on a phone)")
        serial = served.serials[0]
        token = served.service.tokens.token_for(serial)
        print(
            f"try: curl --cacert {served.tls_cert} -H 'Authorization: ApplePass {token}' "
            f"{served.public_url}/v1/passes/{served.service.pass_type_identifier}/{serial}"
            f" -o {serial}.pkpass",
            flush=True,
        )


def _shown_url(url: object) -> str:
    from walletvoucher.store._postgres import redact

    return redact(str(url))
