"""``walletvoucher certs mint-test-chain --out DIR``: a throwaway Apple-shaped chain, for trying things.

Writes ``root-ca.pem``, ``wwdr.pem``, ``pass.pem`` and ``pass.key`` (the key readable by you only). Passes
signed with it verify with ``openssl cms -verify -CAfile DIR/root-ca.pem`` but will not open on an iPhone:
for real passes use the certificate from your Apple developer account (see certs.example/README.md).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

EXIT_OK, EXIT_USAGE = 0, 2
DESCRIPTION = """\
Write a throwaway certificate chain shaped like Apple's: root-ca.pem, wwdr.pem, pass.pem and
pass.key (the key readable by you only). Passes signed with it verify with
  openssl cms -verify -binary -inform DER -purpose any -CAfile DIR/root-ca.pem ...
but do not open on an iPhone: for real passes use your Apple developer certificate.
"""


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``certs`` and its subcommand ``mint-test-chain``."""
    certs = sub.add_parser("certs", help="certificates: mint a test chain",
                           description="Work with signing certificates.")
    inner = certs.add_subparsers(dest="certs_command", required=True)
    mint = inner.add_parser("mint-test-chain", help="write a throwaway Apple-shaped test chain",
                            description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    mint.add_argument("--out", type=Path, required=True, help="directory to write into (created if missing)")
    mint.add_argument("--pass-type-identifier", default="pass.com.example.walletvoucher")
    mint.add_argument("--team-identifier", default="TEAMID1234")
    mint.add_argument("--force", action="store_true", help="overwrite files that exist")
    mint.set_defaults(run=run_mint)


def run_mint(args: argparse.Namespace) -> int:
    """Mint and write the chain; refuse to overwrite existing files without ``--force``."""
    from walletvoucher.apple import mint_test_chain

    out: Path = args.out
    if out.exists() and not out.is_dir():
        print(f"walletvoucher certs: {out} is a file; give a directory for --out", file=sys.stderr)
        return EXIT_USAGE
    names = ("root-ca.pem", "wwdr.pem", "pass.pem", "pass.key")
    existing = [out / n for n in names if (out / n).exists()]
    if existing and not args.force:
        print(f"walletvoucher certs: {existing[0]} exists; pass --force to overwrite", file=sys.stderr)
        return EXIT_USAGE
    chain = mint_test_chain(pass_type_identifier=args.pass_type_identifier,
                            team_identifier=args.team_identifier, at=datetime.now(timezone.utc))
    paths = chain.write(out)
    print(f"wrote a test chain for {args.pass_type_identifier} into {out}:")
    for role, path in paths.items():
        print(f"  {role:12} {path}")
    print("passes signed with it verify with openssl but do not open on an iPhone")
    return EXIT_OK
