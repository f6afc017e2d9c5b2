"""Bulk jobs on the wallet store from the command line: ``import`` and ``expire``.

``walletvoucher import CARDS.csv --db URL --program coffee.toml`` stores existing cards (a merchant
moving from paper or another product) with the stamps they hold. The CSV has a header with the
columns ``serial``, ``member_id`` and ``stamps`` (and ``program``, a program id, when several
``--program`` files are given). The file is read as it goes and written 1,000 cards per transaction,
so memory stays flat; serials already stored are skipped, so an interrupted import can be run again.

``walletvoucher expire --db URL --program coffee.toml`` records the expiry of every voucher whose
validity has ended, 200 cards per transaction.

Both show a progress bar when standard error is a terminal, and nothing else until the summary.
"""

from __future__ import annotations

import argparse
import csv
import secrets
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from walletvoucher.model import Program
    from walletvoucher.store import CardToImport

EXIT_OK = 0
_COLUMNS = ("serial", "member_id", "stamps")
_MAX_FIELD = 10_000
"""The longest CSV field read (csv's default limit is 131,072 characters; nothing here needs more)."""


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``import`` and ``expire``."""
    parser = sub.add_parser(
        "import",
        help="store existing cards with their stamps from a CSV file",
        description="Store existing cards (paper, another product) with the stamps they hold. The CSV "
        "header names the columns serial, member_id, stamps (and program, a program id, with several "
        "--program files). Cards already stored are skipped, so an interrupted import can be run again.",
    )
    parser.add_argument("cards", type=Path, metavar="CARDS.csv", help="one card a line after the header")
    _store(parser)
    parser.add_argument("--batch", type=int, default=1000, help="cards per transaction (default 1000)")
    parser.set_defaults(run=run_import)

    parser = sub.add_parser(
        "expire",
        help="record the expiry of every voucher whose validity has ended",
        description="Expire every stored voucher whose validity ended by --at (default now), in batches "
        "of cards, each batch one transaction; passes follow as for any transition.",
    )
    _store(parser)
    parser.add_argument("--batch", type=int, default=200, help="cards per transaction (default 200)")
    parser.set_defaults(run=run_expire)


def _store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, metavar="URL", help="the wallet store, e.g. sqlite:///wallet.db")
    parser.add_argument("--program", type=Path, action="append", default=[], required=True,
                        metavar="PROGRAM.toml", help="the program files of the cards (repeatable)")
    parser.add_argument("--at", type=datetime.fromisoformat, default=None, metavar="ISO-TIME",
                        help="the time recorded (default: now)")  # fmt: skip


def run_import(args: argparse.Namespace) -> int:
    """Import the cards; 0 when every line was imported or already stored."""
    from tqdm import tqdm

    from walletvoucher.store import Wallet

    at, programs = _clock(args.at), _programs(args.program)
    total = _count_rows(args.cards)
    started = time.perf_counter()
    with (  # generated redeem codes for vouchers the stamps earn: the CLI is an edge, it may draw
        Wallet.open(args.db, programs=programs, random=secrets.token_bytes) as wallet,
        tqdm(total=total, unit="card", disable=not sys.stderr.isatty(), file=sys.stderr) as bar,
    ):
        report = wallet.import_cards(
            _read_cards(args.cards, several=len(programs) > 1), program=programs[0], at=at,
            batch=args.batch, progress=lambda read: bar.update(read - bar.n),
        )  # fmt: skip
    seconds = max(time.perf_counter() - started, 1e-9)
    print(f"{report.imported} cards imported, {report.skipped} already stored (skipped), "
          f"{report.imported / seconds:.0f} cards/s")  # fmt: skip
    return EXIT_OK


def run_expire(args: argparse.Namespace) -> int:
    """Expire what is due; prints how many vouchers expired."""
    from tqdm import tqdm

    from walletvoucher.store import Wallet

    at, programs = _clock(args.at), _programs(args.program)
    started = time.perf_counter()
    with (
        Wallet.open(args.db, programs=programs) as wallet,
        tqdm(unit="card", disable=not sys.stderr.isatty(), file=sys.stderr) as bar,
    ):
        expired = wallet.expire_due_count(
            at=at, batch=args.batch, progress=lambda done: bar.update(done - bar.n)
        )
    print(f"{expired} vouchers expired as at {at.isoformat()} in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def _clock(at: datetime | None) -> datetime:
    from walletvoucher.errors import ValidationError

    if at is None:
        return datetime.now(timezone.utc)  # the CLI is an edge: it may read the clock
    if at.tzinfo is None:
        raise ValidationError("needs a time zone", field="--at", value=at.isoformat(),
                              fix="write e.g. 2026-05-07T10:30:00+00:00")  # fmt: skip
    return at


def _programs(paths: list[Path]) -> list[Program]:
    from walletvoucher.programfile import load_program_file

    return [load_program_file(path).program for path in paths]


def _count_rows(path: Path) -> int:
    with _open(path) as file:
        return max(sum(1 for line in file if line.strip()) - 1, 0)


def _open(path: Path) -> TextIO:
    from walletvoucher.errors import ValidationError

    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ValidationError(f"cannot be read ({exc.strerror or type(exc).__name__})", field="CARDS.csv",
                              value=str(path), fix="give the path of a CSV file") from None  # fmt: skip


def _read_cards(path: Path, *, several: bool) -> Iterator[CardToImport]:
    """The CSV's cards, one at a time; a bad line raises a ValidationError naming its number."""
    from walletvoucher.errors import ValidationError
    from walletvoucher.store import CardToImport

    csv.field_size_limit(_MAX_FIELD)
    with _open(path) as file:
        reader = csv.reader(file)
        try:
            header = [name.strip() for name in next(reader, [])]
            missing = [c for c in (*_COLUMNS, *(("program",) if several else ())) if c not in header]
            if missing:
                raise ValidationError(
                    f"lacks the column(s) {', '.join(missing)}", field="CARDS.csv", value=header[:10],
                    fix="start the file with the header serial,member_id,stamps"
                    + (",program (several --program files)" if several else ""),
                )  # fmt: skip
            at = {name: header.index(name) for name in (*_COLUMNS, "program") if name in header}
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                yield _card(row, at, reader.line_num, several, CardToImport)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"is not a readable CSV file ({exc})", field="CARDS.csv",
                value=f"{path} line {reader.line_num}", fix="save it as UTF-8 CSV",
            ) from None  # fmt: skip


def _card(
    row: list[str], at: dict[str, int], line: int, several: bool, make: type[CardToImport]
) -> CardToImport:
    from walletvoucher.errors import ValidationError

    def cell(name: str) -> str:
        index = at[name]
        return row[index].strip() if index < len(row) else ""

    raw = cell("stamps") or "0"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise ValidationError(f"on line {line} is not a number of stamps", field="stamps", value=raw,
                              fix="write the stamps the card holds as a whole number, e.g. 7")  # fmt: skip
    serial, member = cell("serial"), cell("member_id")
    if not serial or not member:
        raise ValidationError(
            f"on line {line} is empty", field="serial" if not serial else "member_id",
            value=serial or member, fix="give every card a serial and a member id",
        )  # fmt: skip
    program = cell("program") if several and "program" in at else None
    return make(serial=serial, member_id=member, stamps=int(raw), program=program or None)
