"""``walletvoucher api-key``, ``staff`` and ``reconcile``: driven as a user would, checked through the
store and the till API."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.test_cli_build import run
from walletvoucher.service import ServiceRequest, TillApi
from walletvoucher.store import Wallet

PROGRAM = """
[program]
id = "coffee"
name = "Coffee card"
goal = 3
redemption = "redeem_code"

[brand]
name = "Kahve"
foreground = "#FFFFFF"
background = "#1E3A5F"
label = "#F2C14E"

[reward]
title = "Free coffee"
description = "Any size"
"""


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'wallet.db'}"


def _journal(db: str, key: str) -> int:
    with Wallet.open(db, programs=[]) as wallet:
        api = TillApi(wallet, random=secrets.token_bytes)
        request = ServiceRequest(
            method="GET", path="/api/v1/journal", headers={"authorization": f"Bearer {key}"}
        )
        return api.handle(request, at=datetime.now(timezone.utc)).status


def test_an_api_key_is_printed_once_on_the_last_line_then_revoked(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys, "api-key", "create", "--name", "till-1", "--scope", "stamp,redeem,read", "--db", db
    )
    key = out.strip().splitlines()[-1]
    assert status == 0 and key.startswith("wvk_") and _journal(db, key) == 200
    status, out, _ = run(capsys, "api-key", "list", "--db", db)
    assert "till-1" in out and "read,redeem,stamp" in out and key not in out
    assert run(capsys, "api-key", "revoke", "till-1", "--db", db)[0] == 0
    assert _journal(db, key) == 401
    status, _, err = run(capsys, "api-key", "revoke", "till-1", "--db", db)
    assert status == 1 and "nothing revoked" in err
    status, _, err = run(capsys, "api-key", "create", "--name", "x", "--scope", "admin", "--db", db)
    assert status == 2 and "scope" in err and "Traceback" not in err


def test_staff_add_prints_a_one_time_enrolment_link(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys,
        "staff",
        "add",
        "Aziza",
        "--location",
        "chilonzor",
        "--url",
        "https://shop.example",
        "--db",
        db,
    )
    link = out.strip().splitlines()[-1]
    assert status == 0 and link.startswith("https://shop.example/staff/enrol/wve_")
    code = link.rsplit("/", 1)[1]
    with Wallet.open(db, programs=[]) as wallet:
        device = wallet.access.enrol(code, at=datetime.now(timezone.utc), random=secrets.token_bytes)
        who = wallet.access.authenticate(device.secret, at=datetime.now(timezone.utc))
    assert who is not None and who.label == "staff:Aziza@chilonzor"
    assert "active" in run(capsys, "staff", "list", "--db", db)[1]
    status, _, err = run(capsys, "staff", "add", "Bob", "--url", "ftp://x", "--db", db)
    assert status == 2 and "url" in err


def test_reconcile_redeems_known_codes_once_and_reports_the_rest(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program_file = tmp_path / "coffee.toml"
    program_file.write_text(PROGRAM, encoding="utf-8")
    from walletvoucher.programfile import load_program_file

    program = load_program_file(program_file).program
    now = datetime.now(timezone.utc)
    with Wallet.open(db, programs=[program], random=secrets.token_bytes) as wallet:
        wallet.issue_card(program, serial="C-1", member_id="m-1", at=now)
        [voucher] = wallet.stamp("C-1", 3, at=now).vouchers
    assert voucher.code is not None
    export = tmp_path / "used.csv"
    export.write_text(
        f"date;code;till\n2026-12-07;{voucher.code.value};2\n2026-12-07;NOT-OURS;2\n", encoding="utf-8"
    )
    argv = ["reconcile", str(export), "--column", "code", "--db", db, "--program", str(program_file)]
    status, out, _ = run(capsys, *argv)
    assert status == 1 and "1 redeemed now" in out and "unknown: NOT-OURS" in out
    status, out, _ = run(capsys, *argv)
    assert (
        "0 redeemed now, 1 already redeemed here" in out and f"already redeemed: {voucher.code.value}" in out
    )
    with Wallet.open(db, programs=[program]) as wallet:
        assert wallet.voucher(voucher.serial).redeemed_by == "pos-export used.csv (reconciled)"
    status, _, err = run(
        capsys, "reconcile", str(export), "--column", "nope", "--db", db, "--program", str(program_file)
    )
    assert status == 2 and "--column" in err and json.dumps("code")[1:-1] in err
