"""walletvoucher verify A.pkpass [B.pkpass ...]: check passes and report every problem.

Each file is checked for its zip layout, manifest hashes, signature, certificate chain, signer
against pass.json, pass.json rules, images and pass.strings. Files are read with size caps, so
untrusted uploads are safe to check; text taken from a file is printed escaped.

Give the root that must anchor the chain with --ca ROOT.pem (Apple Root CA for real passes, the
test root for passes signed with a minted test chain). Without --ca the chain is NOT checked
against a trusted root, and the output says so: anyone can make a chain that looks right.

Exit status: 0 when no file has a problem, 1 when any file has one, 2 for a usage error (a file
or --ca that cannot be read, an --at without a time zone).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509

from walletvoucher.apple._untrusted import shown
from walletvoucher.apple._verify import VerifyReport, verify_pkpass
from walletvoucher.errors import KeyLoadError, PkpassReadError
from walletvoucher.keys import load_certificate

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
JSON_FORMAT = "walletvoucher-verify/1"
NOT_CHECKED_NOTE = (
    "note: chain not checked against a trusted root: anyone can make a chain like this one. "
    "Give --ca ROOT.pem (Apple Root CA for real passes, the test root for passes from a test chain)"
)


@attrs.frozen
class _Result:
    path: Path
    report: VerifyReport | None
    error: str | None = None


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``verify`` on the ``walletvoucher`` command line."""
    parser = subparsers.add_parser(
        "verify", help="check .pkpass files: zip, manifest, signature, chain, pass.json, images",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE.pkpass")
    parser.add_argument("--ca", type=Path, action="append", default=[], metavar="ROOT.pem",
                        help="trusted self-signed root certificate (PEM or DER); may be repeated")
    parser.add_argument("--at", type=_aware_time, default=None, metavar="ISO-TIME",
                        help="check certificate validity at this time, e.g. 2026-05-07T10:30:00+00:00 "
                             "(default: now)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document with every file's status and problems")
    parser.set_defaults(run=run_verify)


_EXAMPLE_TIME = "e.g. 2026-05-07T10:30:00+00:00"


def _aware_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}, {_EXAMPLE_TIME}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, {_EXAMPLE_TIME}")
    return moment


def run_verify(args: argparse.Namespace) -> int:
    """Run ``verify``; print the reports; 0 when all valid, 1 when problems were found, 2 on bad input."""
    try:
        roots = [load_certificate(ca, field="--ca") for ca in args.ca]
    except KeyLoadError as exc:
        _emit(f"error: {exc}", sys.stderr)
        return EXIT_USAGE
    results = [_verify_one(path, roots, args.at) for path in args.files]
    if args.json:
        _emit(json.dumps(_document(results, roots), indent=2, ensure_ascii=True), sys.stdout)
    else:
        _print_text(results)
    if any(r.error for r in results):
        return EXIT_USAGE
    return EXIT_OK if all(r.report is not None and r.report.ok for r in results) else EXIT_INVALID


def _verify_one(path: Path, roots: list[x509.Certificate], at: datetime | None) -> _Result:
    try:
        return _Result(path, verify_pkpass(path, ca=roots, at=at))
    except PkpassReadError as exc:
        return _Result(path, None, f"cannot read: {exc.message}")


def _print_text(results: list[_Result]) -> None:
    for result in results:
        name = shown(str(result.path))
        if result.report is None:
            _emit(f"{name}: error: {result.error}. Fix: check the path", sys.stderr)
        else:
            _emit(f"{name}: {result.report.text(note=False)}", sys.stdout)
    if any(r.report is not None and not r.report.chain_checked for r in results):
        _emit(NOT_CHECKED_NOTE, sys.stdout)


def _document(results: list[_Result], roots: list[x509.Certificate]) -> dict[str, Any]:
    entries = []
    for result in results:
        entry: dict[str, Any] = {"path": str(result.path)}
        if result.report is None:
            entry.update(status="error", ok=False, error=result.error)
        else:
            entry.update(result.report.as_dict(), error=None)
        entries.append(entry)
    return {
        "format": JSON_FORMAT,
        "trusted_roots": [root.subject.rfc4514_string() for root in roots],
        "ok": all(e["ok"] for e in entries),
        "files": entries,
    }


def _emit(text: str, stream: Any) -> None:
    """Print ``text``; characters the stream cannot encode are written as backslash escapes."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)
