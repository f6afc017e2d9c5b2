"""``walletvoucher batch CARDS.jsonl --programs MODULE:NAME --out DIR|FILE.zip ...``: passes in bulk.

Input: a JSON-lines file, one card or voucher per line, exactly as their ``to_json()``
writes them (a card has ``member_id``; a voucher has ``card_serial``). Blank lines and lines
starting with ``#`` are skipped. Programs are Python objects, not JSON: ``--programs
shop.programs:ALL`` imports ``ALL`` from ``shop/programs.py`` (a Program or a list of them;
``--app-dir`` says where to import from, default the current directory), and each line is
matched to its program by ``program_id`` and ``program_version``. A line that cannot be read
is reported as that item's failure; the batch goes on.

Output: one ``<serial>.pkpass`` per line into a directory, or into a zip when ``--out`` ends
in ``.zip``. A pass already there fails its line unless ``--force`` (replace it) or
``--skip-existing`` (keep it: rerun an interrupted batch); an existing zip needs ``--force``.
Every file appears whole: a zip is written under a temporary name and renamed when the batch
ends, so an interrupted batch leaves no zip. A progress bar goes to stderr when it is a
terminal; the summary (count,
failures, passes/s) to stdout; each failure to stderr. Exit status 0 when every pass was
written, 1 when some failed, 2 when the batch could not start.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tqdm import tqdm

from walletvoucher._build_cli import key_password, need_table
from walletvoucher._signers import AppleSigner
from walletvoucher.apple import AppleOptions, load_apple_signer
from walletvoucher.batch import BatchItem, BatchResult, render_many
from walletvoucher.errors import BatchError, WalletVoucherError
from walletvoucher.model import Program, StampCard, Voucher
from walletvoucher.programfile import load_program_file

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
DESCRIPTION = """\
Render and sign many Apple Wallet passes: one line of ITEMS.jsonl in, one .pkpass out.

Each line is a card or a voucher exactly as its to_json() writes it (blank lines and lines
starting with # are skipped). The program and the signing material come from a program file
(--program coffee.toml, as for build), or programs are Python objects: --programs shop.programs:ALL
imports ALL (a Program or a list of them) from shop/programs.py under --app-dir, and each
line is matched to its program by program_id and program_version. A line that cannot be
read fails on its own; the batch goes on.

Passes go into a directory or, when --out ends in .zip, into a new zip (written under a
temporary name and renamed at the end: an interrupted batch leaves no zip). A pass already in
the directory fails its line unless --force (replace it) or --skip-existing (keep it, e.g. to
finish an interrupted batch); an existing zip needs --force. A progress bar shows on a
terminal; the summary (count, skipped, failures, passes/s) goes to stdout and each failure to
stderr. Exit status: 0 all written, 1 some failed, 2 the batch could not start.

examples:
  walletvoucher batch members.jsonl --program coffee.toml --out passes/
  walletvoucher batch members.jsonl --program coffee.toml --out passes/ --skip-existing
  walletvoucher batch members.jsonl --programs shop.programs:ALL --out passes.zip \\
      --p12 Certificates.p12 --password-env P12_PASSWORD --wwdr AppleWWDRCAG4.cer \\
      --pass-type-identifier pass.com.example.coffee --team-identifier ABCDE12345
"""
ProgramIndex = Mapping[tuple[str, int], Program]


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``batch``."""
    parser = sub.add_parser("batch", help="render and sign many Apple passes (JSON lines in, .pkpass out)",
                            description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", type=Path, metavar="ITEMS.jsonl")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--program", type=Path, metavar="PROGRAM.toml",
                        help="a program file; its [apple] table gives the signing material")
    source.add_argument("--programs", metavar="MODULE:NAME", help="a Program or a list of Programs to import")
    parser.add_argument("--app-dir", type=Path, default=Path("."), help="where MODULE is imported from")
    parser.add_argument("--out", required=True, type=Path, help="a directory, or a file name ending in .zip")
    parser.add_argument("--pass-type-identifier", help="with --programs")
    parser.add_argument("--team-identifier", help="with --programs")
    parser.add_argument("--certificate", type=Path, help="pass-type certificate (PEM/DER)")
    parser.add_argument("--key", type=Path, help="its private key (PEM/DER)")
    parser.add_argument("--p12", type=Path, help="or both in a Keychain .p12")
    parser.add_argument("--password-env", metavar="VAR", help="environment variable holding the key password")
    parser.add_argument("--wwdr", type=Path, help="Apple WWDR intermediate certificate")
    parser.add_argument("--redeem-link", help="redeem link template for Self-Redeem vouchers, with {serial}")
    parser.add_argument("--at", type=datetime.fromisoformat, default=None, metavar="ISO-TIME",
                        help="render clock (default: now)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--force", action="store_const", dest="existing", const="replace", default="fail",
                          help="replace passes (or the zip) already there")
    existing.add_argument("--skip-existing", action="store_const", dest="existing", const="skip",
                          help="keep the passes already in the directory and render only the others")
    parser.set_defaults(run=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    """Run ``batch``: 0 all written, 1 some failed, 2 could not start."""
    try:
        at = _clock(args.at)
        programs, signer, options = (_from_program_file if args.program else _from_flags)(args, at)
        total = _count_lines(args.input)
        results = render_many(read_items(_lines(args.input), programs), signer=signer, options=options,
                              at=at, out=args.out, workers=args.workers, existing=args.existing)
        return _report(results, total, args.out)
    except WalletVoucherError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE


def _from_program_file(
    args: argparse.Namespace, at: datetime
) -> tuple[ProgramIndex, AppleSigner, AppleOptions]:
    loaded = load_program_file(args.program)
    signing = need_table(loaded.apple, loaded, "apple")
    signer = signing.load_signer(at=at, password=key_password(signing, ask=False))
    return {(loaded.program.id, loaded.program.version): loaded.program}, signer, signing.apple_options()


def _from_flags(args: argparse.Namespace, at: datetime) -> tuple[ProgramIndex, AppleSigner, AppleOptions]:
    if not args.pass_type_identifier or not args.team_identifier:
        raise BatchError("needs --pass-type-identifier and --team-identifier", field="--programs",
                         value=args.programs, fix="give both, or use --program PROGRAM.toml")
    programs = load_programs(args.programs, args.app_dir)
    signer = load_apple_signer(
        pass_type_identifier=args.pass_type_identifier, team_identifier=args.team_identifier, at=at,
        wwdr=args.wwdr, certificate=args.certificate, key=args.key, p12=args.p12,
        password=os.environ.get(args.password_env) if args.password_env else None,
    )
    options = AppleOptions(pass_type_identifier=args.pass_type_identifier,
                           team_identifier=args.team_identifier, redeem_link=args.redeem_link)
    return programs, signer, options


def _clock(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(timezone.utc)  # the CLI is an edge: it may read the clock
    if at.tzinfo is None:
        raise BatchError("needs a time zone", field="--at", value=at.isoformat(),
                         fix="write e.g. 2026-05-07T10:30:00+00:00")
    return at


def _report(results: Iterable[BatchResult], total: int, out: Path) -> int:
    start, count, failed, skipped = time.perf_counter(), 0, 0, 0
    with tqdm(total=total, unit="pass", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
        for result in results:
            count += 1
            skipped += result.skipped
            if not result.ok:
                failed += 1
                bar.write(f"item {result.index + 1} ({result.name}): {result.error}", file=sys.stderr)
            bar.update(1)
    seconds = max(time.perf_counter() - start, 1e-9)
    written = count - failed - skipped
    kept = f", {skipped} already there (skipped)" if skipped else ""
    print(f"{count} items, {written} passes written to {out}{kept}, {failed} failed, "
          f"{written / seconds:.0f} passes/s")
    return EXIT_FAILURES if failed else EXIT_OK


def load_programs(spec: str, app_dir: Path) -> dict[tuple[str, int], Program]:
    """Import ``MODULE:NAME`` (a Program or an iterable of them), indexed by (id, version)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise BatchError("must be MODULE:NAME", field="--programs", value=spec,
                         fix="e.g. --programs shop.programs:ALL")
    sys.path.insert(0, str(app_dir.resolve()))
    try:
        found: Any = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise BatchError(f"cannot be imported: {exc}", field="--programs", value=spec,
                         fix="check the module path, the name and --app-dir") from exc
    finally:
        sys.path.pop(0)
    programs = [found] if isinstance(found, Program) else list(found)
    if not programs or not all(isinstance(p, Program) for p in programs):
        raise BatchError("is not a Program or a list of Programs", field="--programs", value=spec,
                         fix="point at a Program object or a list of them")
    return {(p.id, p.version): p for p in programs}


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip() and not line.startswith(b"#"))


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                yield line


def read_items(lines: Iterable[str], programs: ProgramIndex) -> Iterator[BatchItem]:
    """One :class:`BatchItem` per line; a line that cannot be read becomes an item with a problem."""
    for number, line in enumerate(lines, start=1):
        try:
            yield item_from_json(json.loads(line), programs)
        except (ValueError, KeyError, TypeError, AttributeError, WalletVoucherError) as exc:
            problem = f"line {number}: {_line_problem(exc)}"
            yield BatchItem(item=None, name=f"line-{number}", problem=problem)


def _line_problem(exc: Exception) -> str:
    """What is wrong with a line, in the words of the input (no Python exception names)."""
    like = "a card or a voucher as its to_json() writes it"
    if isinstance(exc, json.JSONDecodeError):
        return f"is not JSON ({exc.msg} at column {exc.colno}). Fix: write one JSON object per line"
    if isinstance(exc, KeyError):
        return f"has no {exc.args[0]!r} field. Fix: give {like}"
    if isinstance(exc, WalletVoucherError):
        return str(exc)
    if isinstance(exc, (TypeError, AttributeError)):
        return f"is not {like} (a value has the wrong type). Fix: give {like}"
    return f"has a value that cannot be used ({exc}). Fix: give {like}"


def item_from_json(raw: dict[str, Any], programs: ProgramIndex) -> BatchItem:
    """A card (``StampCard.to_json()``) or a voucher (``Voucher.to_json()``) with its program."""
    if not isinstance(raw, dict):
        raise BatchError(f"is a JSON {type(raw).__name__}, not an object",
                         fix="give one card or voucher per line, as its to_json() writes it")
    program = _program(raw, programs)
    if "card_serial" in raw:
        return BatchItem(item=Voucher.from_json(raw), program=program)
    vouchers = [Voucher.from_json(v) for v in raw.get("vouchers", [])]
    card = StampCard(
        serial=raw["serial"], member_id=raw["member_id"], program=program,
        issued_at=datetime.fromisoformat(raw["issued_at"]), stamps=raw["stamps"], cycle=raw["cycle"],
        lifetime_stamps=raw["lifetime_stamps"], vouchers_issued=len(vouchers), vouchers=vouchers,
    )
    return BatchItem(item=card)


def _program(raw: dict[str, Any], programs: ProgramIndex) -> Program:
    key = (raw["program_id"], raw["program_version"])
    if key not in programs:
        raise BatchError("names a program that --programs does not hold", field="program_id",
                         value=f"{key[0]} v{key[1]}", fix="add that program (and version) to --programs")
    return programs[key]
