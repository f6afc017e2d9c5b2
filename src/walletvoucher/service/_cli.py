"""``walletvoucher serve``: run the PassKit web service with uvicorn.

With no configuration it starts in demo mode (minted test chain, self-signed TLS certificate,
the demo's cards in memory) so it runs with one command on a fresh machine. Settings come from
``--config FILE.toml`` and ``WALLETVOUCHER_*`` environment variables (see the ``_config`` module).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from walletvoucher.errors import WalletVoucherError

EXIT_OK, EXIT_USAGE = 0, 2
DB_PENDING = (
    "--db {db}: the wallet store is not wired into the service yet; registrations and "
    "update marks are kept in memory for this run"
)


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``serve`` on the ``walletvoucher`` command line."""
    parser = subparsers.add_parser(
        "serve",
        help="run the Apple Wallet pass-update web service",
        description="Run the Apple Wallet pass-update web service (Apple's five endpoints) with uvicorn.\n\n"
        "With no configuration it starts in demo mode (a freshly minted test chain, a self-signed TLS\n"
        "certificate, the demo's cards) so it runs with one command on a fresh machine. Settings come\n"
        "from --config FILE.toml and WALLETVOUCHER_* environment variables.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--db", default=None, metavar="URL", help="wallet store, e.g. sqlite:///wallet.db")
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
        from walletvoucher.service.asgi import create_app
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
            served = build_demo(host=args.host, port=args.port, state_dir=state, at=now)
        else:
            served = build_configured(config, at=now)
    except WalletVoucherError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _report(args, served)
    cert = args.tls_cert or served.tls_cert
    key = args.tls_key or served.tls_key
    uvicorn.run(
        create_app(served.service),
        host=args.host,
        port=args.port,
        log_level="info",
        ssl_certfile=None if cert is None else str(cert),
        ssl_keyfile=None if key is None else str(key),
    )
    return EXIT_OK


def _report(args: argparse.Namespace, served: object) -> None:
    from walletvoucher.service._serve import Served

    assert isinstance(served, Served)
    if args.db is not None:
        print(DB_PENDING.format(db=args.db))
    print(f"webServiceURL: {served.public_url}", flush=True)
    if served.demo:
        print(f"demo mode: test chain root {served.root_ca}, TLS certificate {served.tls_cert}")
        serial = served.serials[0]
        token = served.service.tokens.token_for(serial)
        print(
            f"try: curl --cacert {served.tls_cert} -H 'Authorization: ApplePass {token}' "
            f"{served.public_url}/v1/passes/{served.service.pass_type_identifier}/{serial}"
            f" -o {serial}.pkpass",
            flush=True,
        )
