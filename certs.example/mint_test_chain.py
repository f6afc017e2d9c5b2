"""Mint a throwaway Apple-shaped test chain: root, WWDR-like intermediate, pass-type cert + key.

    python certs.example/mint_test_chain.py --out certs.example/test-chain \
        --pass-type-id pass.com.example.loyalty --team-id ABCDE12345

Writes root-ca.pem, wwdr.pem, pass.pem and pass.key (PKCS#8 PEM). To encrypt the key, put the
password in the environment variable named by --password-env (never on the command line).
Wallet on an iPhone will not accept passes signed with this chain; openssl and
``walletvoucher verify --ca root-ca.pem`` will.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from walletvoucher.apple import mint_test_chain


def main(argv: list[str] | None = None) -> int:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--out", type=Path, default=Path("certs.example/test-chain"))
    parser.add_argument("--pass-type-id", default="pass.com.example.walletvoucher")
    parser.add_argument("--team-id", default="TEAMID1234")
    parser.add_argument("--days", type=int, default=365, help="validity from now")
    parser.add_argument("--wwdr-generation", default="G4", help="OU of the intermediate (G4 like Apple's)")
    parser.add_argument("--password-env", default=None, help="name of an env var holding a key password")
    args = parser.parse_args(argv)
    password = os.environ[args.password_env].encode() if args.password_env else None
    chain = mint_test_chain(pass_type_identifier=args.pass_type_id, team_identifier=args.team_id,
                            at=datetime.now(timezone.utc), valid_for=timedelta(days=args.days),
                            wwdr_generation=args.wwdr_generation)
    for role, path in chain.write(args.out, password=password).items():
        print(f"{role:12} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
