"""Bulk paths (issue 17): importing existing cards from a CSV and expiring what is due, in batches of
one transaction each, reading as they go (flat memory), with the command line's progress and summary."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.store.conftest import NOW
from walletvoucher.cli import main
from walletvoucher.errors import ValidationError
from walletvoucher.programfile import load_program_file
from walletvoucher.store import CardToImport, Wallet

PROGRAM = """
[program]
id = "paper"
name = "Paper card"
goal = 10
redemption = "self_redeem"
validity = { days = 30 }

[brand]
name = "Kahve"
foreground = "#FFFFFF"
background = "#1E3A5F"
label = "#F2C14E"

[reward]
title = "Free coffee"
description = "Any size"
"""
CARDS = 2_500


@pytest.fixture
def program_file(tmp_path: Path) -> Path:
    path = tmp_path / "paper.toml"
    path.write_text(PROGRAM, encoding="utf-8")
    return path


def _csv(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as file:
        file.write("member_id,serial,stamps,note\n")  # columns in any order, extra ones ignored
        for n in range(count):
            file.write(f"m-{n},P-{n:05d},{n % 23},from paper\n")
    return path


def test_import_command_stores_cards_with_their_stamps_then_skips_them(
    url: str, tmp_path: Path, program_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = _csv(tmp_path / "cards.csv", CARDS)
    argv = ["import", str(cards), "--db", url, "--program", str(program_file), "--at", NOW.isoformat()]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{CARDS} cards imported, 0 already stored (skipped)"), out
    assert err == ""  # no progress bar when standard error is not a terminal
    program = load_program_file(program_file).program
    with Wallet.open(url, programs=[program]) as wallet:
        assert wallet.counts().cards == CARDS
        vouchers = sum((n % 23) // 10 for n in range(CARDS))
        assert wallet.counts().vouchers == {"open": vouchers}
        for n in (0, 9, 10, 22, CARDS - 1):
            card = wallet.card(f"P-{n:05d}")
            assert (card.member_id, card.lifetime_stamps, card.stamps) == (f"m-{n}", n % 23, n % 23 % 10)
            assert card.issued_at == NOW
        assert wallet.passes.mark("P-00022") is not None  # passes follow, as for any issue
    assert main(argv) == 0  # run again (an interrupted import): everything already there
    assert capsys.readouterr().out.startswith(f"0 cards imported, {CARDS} already stored (skipped)")


def test_import_command_names_a_bad_line(
    url: str, tmp_path: Path, program_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = tmp_path / "cards.csv"
    cards.write_text("serial,member_id,stamps\nP-1,m-1,3\nP-2,m-2,lots\n", encoding="utf-8")
    assert main(["import", str(cards), "--db", url, "--program", str(program_file)]) == 2
    err = capsys.readouterr().err
    assert "stamps='lots': on line 3 is not a number of stamps" in err, err
    assert main(["import", str(tmp_path / "none.csv"), "--db", url, "--program", str(program_file)]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_import_reads_as_it_goes_one_transaction_per_batch(url: str, program_file: Path) -> None:
    program = load_program_file(program_file).program
    pulled = [0]
    seen: list[tuple[int, int]] = []  # (cards read so far, cards the source had yielded then)

    def source() -> Iterator[CardToImport]:
        for n in range(2_050):
            pulled[0] += 1
            yield CardToImport(serial=f"S{n}", member_id="m", stamps=1)

    with Wallet.open(url, programs=[program]) as wallet:
        report = wallet.import_cards(source(), program="paper", at=NOW, batch=500,
                                     progress=lambda read: seen.append((read, pulled[0])))  # fmt: skip
        assert (report.imported, report.skipped) == (2_050, 0)
        assert seen == [(500, 500), (1000, 1000), (1500, 1500), (2000, 2000), (2050, 2050)]
        with pytest.raises(ValidationError) as err:
            wallet.import_cards([CardToImport(serial="S\x00", member_id="m")], program="paper", at=NOW)
        assert err.value.field == "serial"


def test_expire_due_in_batches_with_progress_and_the_command(
    url: str, program_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = load_program_file(program_file).program
    with Wallet.open(url, programs=[program]) as wallet:
        wallet.import_cards((CardToImport(serial=f"E{n:03d}", member_id="m", stamps=10) for n in range(450)),
                            program=program, at=NOW)  # fmt: skip
        wallet.import_cards([CardToImport(serial="LATER", member_id="m", stamps=10)], program=program,
                            at=NOW + timedelta(days=20))  # fmt: skip
        later = NOW + timedelta(days=31)
        done: list[int] = []
        events = wallet.expire_due(at=later, batch=100, progress=done.append)
        assert done == [100, 200, 300, 400, 450]
        assert sum(1 for e in events if e.type.value == "voucher_expired") == 450
        assert wallet.counts().vouchers == {"expired": 450, "open": 1}
        assert wallet.expire_due(at=later) == ()
    at = (NOW + timedelta(days=60)).isoformat()
    argv = ["expire", "--db", url, "--program", str(program_file), "--at", at]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("1 vouchers expired as at")
    with Wallet.open(url, programs=[program]) as wallet:
        assert wallet.counts().vouchers == {"expired": 451}
