"""``walletvoucher serve``: run the PassKit web service with uvicorn.

With no configuration it starts in demo mode (minted test chain, self-signed TLS certificate,
the demo's cards in a SQLite store in the state directory) so it runs with one command on a
fresh machine; demo mode never touches a database you name, so ``--db`` and ``--program``
without a configuration are refused. Settings come from ``--config FILE.toml`` and
``WALLETVOUCHER_*`` environment variables (see the ``_config`` module). ``--worker`` also drains
the store's outbox (pass-update pushes) in a background thread, as ``walletvoucher worker`` does.
The port is tried before anything is minted or opened, so a port in use fails at once.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import sys
import tempfile
import threading
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walletvoucher.errors import ServiceConfigError
from walletvoucher.service._worker_cli import add_apns_arguments

if TYPE_CHECKING:
    from collections.abc import Iterator

    from walletvoucher.programfile import ProgramFile
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
        "certificate, the demo's cards in a store of its own) so it runs with one command on a fresh\n"
        "machine. To serve your cards give --config FILE.toml (or WALLETVOUCHER_* variables) with --db\n"
        "and --program; without a configuration --db and --program are refused.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=port_number, default=8080, help="TCP port to listen on (default 8080)")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="wallet store, e.g. sqlite:///wallet.db (needs a configuration)")
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
    parser.add_argument("--config", type=Path, default=None, metavar="FILE.toml",
                        help="the [service] settings (pass type, team, public URL, certificates); "
                        "WALLETVOUCHER_* variables win")
    parser.add_argument("--tls-cert", type=Path, default=None, help="serve https with this certificate")
    parser.add_argument("--tls-key", type=Path, default=None, help="the private key of --tls-cert")
    parser.add_argument("--header-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="close a connection that has not sent a whole request head in time (10)")
    parser.add_argument("--body-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="answer 408 to a request whose body has not arrived in time (30)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where demo mode writes its minted chain, TLS certificate and store "
        "(default: a temporary directory, removed on exit)",
    )
    parser.set_defaults(run=run_serve)


def port_number(text: str) -> int:
    """``--port``: a TCP port, 1 to 65535 (0 would let the system choose one nobody is told)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}, e.g. 8080") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port; give 1 to 65535, e.g. 8080")
    return port


def check_port(host: str, port: int) -> None:
    """Bind *host*:*port* once and let go, so a port in use fails before anything is minted or opened."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ServiceConfigError("is not an address of this machine", field="--host", value=host,
                                 fix="give an IP address such as 127.0.0.1 or 0.0.0.0") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise ServiceConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}", field="--port", value=port,
                fix="stop what listens there, or give another --port (ports below 1024 need root)",
            ) from exc


def run_serve(args: argparse.Namespace) -> int:
    """Build the service from the configuration (or the demo) and serve it until interrupted."""
    try:
        import uvicorn

        from walletvoucher.programfile import load_program_file
        from walletvoucher.service._config import load_config
        from walletvoucher.service._serve import build_configured, build_demo
        from walletvoucher.service._server import check_seconds, server_limits
        from walletvoucher.service._till import TillApi
        from walletvoucher.web._site import pages_for, staff_pages_for
        from walletvoucher.web.app import create_site
    except ImportError as exc:
        print(
            f'error: {exc.name} is missing; install the server extra: pip install "walletvoucher[server]"',
            file=sys.stderr,
        )
        return EXIT_USAGE
    loaded = [load_program_file(path) for path in args.program]  # a missing file is always an error
    config = load_config(args.config, os.environ)
    if config.demo:
        _refuse_a_named_store(args)
    check_port(args.host, args.port)
    limits = server_limits(args.header_timeout)
    body_timeout = check_seconds(args.body_timeout, "--body-timeout")
    page_limits = _page_limits(args)
    now = datetime.now(timezone.utc)
    with ExitStack() as stack:
        _exit_on_sigterm(stack)  # until uvicorn takes the signal over: what was made is still removed
        if config.demo:
            state = args.state_dir or Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="walletvoucher-serve-")))
            served = build_demo(host=args.host, port=args.port, state_dir=state, at=now)
        else:
            hooks = config.webhooks(os.environ)  # [[webhooks]]: transitions queue signed deliveries
            served = build_configured(config, at=now, db=args.db, webhooks=hooks,
                                      **_program_setup(loaded, config))
        stack.callback(served.wallets.close)
        _check_worker(args, served)
        _report(args, served)
        cert = args.tls_cert or served.tls_cert
        key = args.tls_key or served.tls_key
        pages = pages_for(served, limits=page_limits)
        with _background_worker(args, served, loaded):
            till = TillApi(served.wallets, scan_keys=served.scan_keys, random=secrets.token_bytes)
            uvicorn.run(
                create_site(pages, passkit=served.service, body_timeout=body_timeout,
                            staff=staff_pages_for(served, pages), till=till,
                            google_callbacks=_google_callbacks(config, served, loaded)),
                host=args.host,
                port=args.port,
                log_level="info",
                access_log=args.access_log,
                ssl_certfile=None if cert is None else str(cert),
                ssl_keyfile=None if key is None else str(key),
                **limits,
            )
    return EXIT_OK


def _signed_links(served: Served) -> Any:
    from walletvoucher.service._serve import served_google_options

    key = served.link_key
    if key is None:
        return None
    return lambda options: served_google_options(options, public_url=served.public_url, link_key=key,
                                                 callbacks=served.google_callbacks)


def _google_callbacks(config: Any, served: Served, loaded: list[ProgramFile]) -> Any:
    """``/google/callbacks`` when ``google_callback_keys`` names Google's root keys (None otherwise)."""
    if config.google_callback_keys is None:
        return None
    from walletvoucher.service._google_callbacks import GoogleCallbackDesk, RootKeysFile

    keys = RootKeysFile(config.google_callback_keys)
    try:
        keys()  # a missing or unreadable file fails now, not at Google's first callback
    except (OSError, UnicodeDecodeError) as exc:
        raise ServiceConfigError("cannot be read", field="google_callback_keys",
                                 value=str(config.google_callback_keys),
                                 fix="download https://pay.google.com/gp/m/issuer/keys to that file") from exc
    issuers = [file.google.google_options().issuer_id for file in loaded if file.google is not None]
    if not issuers:
        raise ServiceConfigError("needs programs with a [google] table", field="google_callback_keys",
                                 fix="give --program files whose [google] table names the issuer id")
    return GoogleCallbackDesk(served.wallets, issuer_ids=issuers, programs=served.programs, root_keys=keys)


def _page_limits(args: argparse.Namespace) -> Any:
    from walletvoucher.service._limits import Rate
    from walletvoucher.web import PageLimits

    return PageLimits(join_per_address=Rate.parse(args.join_rate, field="--join-rate"),
                      redeem_per_address=Rate.parse(args.redeem_rate, field="--redeem-rate"),
                      per_card=Rate.parse(args.card_rate, field="--card-rate"))


def _program_setup(loaded: list[ProgramFile], config: Any) -> dict[str, Any]:
    """The programs of the files, what their join pages ask, and their Google save links (if set up)."""
    from walletvoucher.service._join import google_links

    setups = {file.program.id: file.google for file in loaded if file.google is not None}
    google = None
    if setups:
        from walletvoucher.keys import load_service_account
        from walletvoucher.service._serve import link_key_from, served_google_options

        account = next(iter(setups.values())).service_account
        options = {file.program.id: file.google.google_options(scan_key=file.scan_key(os.environ))
                   for file in loaded if file.google is not None}
        key = link_key_from(config)
        if key is not None and config.public_url:
            callbacks = config.google_callback_keys is not None
            options = {pid: served_google_options(chosen, public_url=config.public_url, link_key=key,
                                                  callbacks=callbacks) for pid, chosen in options.items()}
        google = google_links(load_service_account(account), lambda program: options.get(program.id))
    return {"programs": [file.program for file in loaded], "google": google,
            "scan_keys": [found for file in loaded if (found := file.scan_key(os.environ)) is not None],
            "join_settings": {file.program.id: file.join for file in loaded if file.join is not None}}


def _exit_on_sigterm(stack: ExitStack) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    stack.callback(signal.signal, signal.SIGTERM, previous)


def _refuse_a_named_store(args: argparse.Namespace) -> None:
    """Demo mode issues its own cards: never into a database (or for programs) the user named."""
    if args.db is None and not args.program:
        return
    field, value = ("--db", args.db) if args.db is not None else ("--program", str(args.program[0]))
    raise ServiceConfigError(
        "needs a configured service: without --config or WALLETVOUCHER_* settings serve runs the demo, "
        "which keeps its own store", field=field, value=value,
        fix="give --config FILE.toml (pass type, team, public URL, certificates) to serve your cards, "
        "or leave out --db and --program to run the demo",
    )


def _check_worker(args: argparse.Namespace, served: Served) -> None:
    if args.worker and served.demo and args.apns_url is None:
        raise ServiceConfigError(
            "cannot push demo passes through Apple's APNs (they are signed by a test chain)",
            field="--worker",
            fix="give --apns-url (and --apns-ca) of an APNs stand-in, or configure real certificates",
        )


@contextmanager
def _background_worker(args: argparse.Namespace, served: Served, loaded: list[ProgramFile]) -> Iterator[None]:
    """With ``--worker``: drain the outbox in a thread (its own wallet) while the server runs."""
    if not args.worker:
        yield
        return
    from walletvoucher.service._google_sync import GOOGLE_SYNC_TOPIC
    from walletvoucher.service._webhooks import WEBHOOK_TOPIC
    from walletvoucher.service._worker import Handler
    from walletvoucher.service._worker_cli import google_handler, push_handler, run_loop
    from walletvoucher.store import PASS_REFRESH_TOPIC

    stop = threading.Event()

    def work() -> None:
        wallet = served.wallets()
        handler = push_handler(wallet, served.signer, args, token_key=served.apns_key)
        handlers: dict[str, Handler] = {"apple.push": handler, PASS_REFRESH_TOPIC: wallet.passes.refresh}
        google = google_handler(wallet, loaded, api_url=None, adjust=_signed_links(served))  # [google] tables
        if google is not None:
            handlers[GOOGLE_SYNC_TOPIC] = google
        hooks = served.webhooks
        sender = hooks.sender() if hooks is not None else None
        if sender is not None:
            handlers[WEBHOOK_TOPIC] = sender
        try:
            run_loop(wallet, handlers, stop=stop, interval=1.0)
        finally:
            handler.close()
            if sender is not None:
                sender.close()

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
