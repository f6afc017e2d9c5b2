"""``walletvoucher batch`` run again, interrupted, or fed bad lines: --force / --skip-existing, no
partial zip under the final name, and lines named in the input's words (run as the real command)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from tests.apple.helpers import AT, PASS_TYPE, TEAM, card_with, make_program
from tests.test_batch import cards
from walletvoucher.apple import AppleOptions, AppleSigner, mint_test_chain, verify_pkpass
from walletvoucher.apple._testchain import TestChain
from walletvoucher.batch import render_many
from walletvoucher.cli import main
from walletvoucher.errors import BatchError


@pytest.fixture(scope="module")
def chain() -> TestChain:
    return mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT,
                           backdate=timedelta(days=3650), valid_for=timedelta(days=3650))


@pytest.fixture(scope="module")
def signer(chain: TestChain) -> AppleSigner:
    return AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                       certificate=chain.certificate, key=chain.key, wwdr=chain.wwdr)


@pytest.fixture
def options() -> AppleOptions:
    return AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM)


PROGRAMS_MODULE = '''
from tests.apple.helpers import make_program
ALL = [make_program(translated=False)]
'''


@pytest.fixture
def shop(tmp_path: Path, chain: TestChain, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A folder with signing files, a programs module and three cards as JSON lines; argv to batch them."""
    files = chain.write(tmp_path / "chain")
    (tmp_path / "shop_programs.py").write_text(PROGRAMS_MODULE)
    program = make_program(translated=False)
    lines = [json.dumps(card_with(program, n, serial=f"J-{n}").to_json()) for n in range(3)]
    (tmp_path / "items.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    return ["batch", "items.jsonl", "--programs", "shop_programs:ALL",
            "--certificate", str(files["certificate"]), "--key", str(files["key"]),
            "--wwdr", str(files["wwdr"]), "--pass-type-identifier", PASS_TYPE, "--team-identifier", TEAM,
            "--workers", "1", "--app-dir", str(tmp_path)]


def _passes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_rerun_into_the_same_folder_names_the_fix_once_per_pass(
    shop: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*shop, "--out", "out", "--at", AT.isoformat()]) == 0
    before = _passes(tmp_path / "out")
    capsys.readouterr()
    assert main([*shop, "--out", "out", "--at", AT.isoformat()]) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 3 and all("exists already" in line and "--force" in line for line in lines)
    assert "--skip-existing" in err and "FileExistsError" not in err and "Errno" not in err
    assert _passes(tmp_path / "out") == before


def test_skip_existing_renders_only_what_is_missing(
    shop: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*shop, "--out", "out", "--at", AT.isoformat()]) == 0
    (tmp_path / "out" / "J-1.pkpass").unlink()  # as if the first run was interrupted
    kept = (tmp_path / "out" / "J-0.pkpass").stat().st_ino
    capsys.readouterr()
    assert main([*shop, "--out", "out", "--at", AT.isoformat(), "--skip-existing"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "3 items, 1 passes written to out, 2 already there (skipped), 0 failed" in out
    assert sorted(_passes(tmp_path / "out")) == ["J-0.pkpass", "J-1.pkpass", "J-2.pkpass"]
    assert (tmp_path / "out" / "J-0.pkpass").stat().st_ino == kept


def test_force_replaces_the_passes_and_the_zip(
    shop: list[str], tmp_path: Path, chain: TestChain, capsys: pytest.CaptureFixture[str]
) -> None:
    later = AT.replace(hour=AT.hour + 1)
    for out in ("out", "out.zip"):
        assert main([*shop, "--out", out, "--at", AT.isoformat()]) == 0
        assert main([*shop, "--out", out, "--at", later.isoformat()]) in (1, 2)  # refused without --force
        assert main([*shop, "--out", out, "--at", later.isoformat(), "--force"]) == 0
    new = (tmp_path / "out" / "J-2.pkpass").read_bytes()
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert archive.read("J-2.pkpass") == new  # the zip was replaced too
    report = verify_pkpass(new, ca=[chain.root], at=later)
    assert report.ok and report.signing_time == later
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    err = capsys.readouterr().err
    assert "exists already" in err and "out.zip': is already there" in err


def test_bad_lines_are_named_in_the_inputs_words(
    shop: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = (tmp_path / "items.jsonl").read_text().splitlines()[0]
    no_program = json.dumps({k: v for k, v in json.loads(good).items() if k != "program_id"})
    (tmp_path / "items.jsonl").write_text("\n".join([no_program, "{not json", "[1]", good]) + "\n")
    assert main([*shop, "--out", "out", "--at", AT.isoformat()]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("item 1 (line-1): line 1: has no 'program_id' field. Fix:")
    assert err[1].startswith("item 2 (line-2): line 2: is not JSON (") and "Fix:" in err[1]
    assert err[2].startswith("item 3 (line-3): line 3: is a JSON list, not an object. Fix:")
    assert not any(name in line for line in err for name in ("KeyError", "JSONDecodeError", "TypeError"))


def test_an_interrupted_zip_batch_leaves_no_zip(shop: list[str], tmp_path: Path) -> None:
    program = make_program(translated=False)
    lines = [json.dumps(card_with(program, n % 10, serial=f"M-{n}").to_json()) for n in range(3000)]
    (tmp_path / "items.jsonl").write_text("\n".join(lines) + "\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join([str(Path.cwd()), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-m", "walletvoucher", *shop, "--out", "big.zip"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.endswith(".part") and p.stat().st_size > 100_000 for p in tmp_path.iterdir()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # Ctrl-C half way
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert not (tmp_path / "big.zip").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_stopping_early_writes_no_zip_and_existing_choices_work_in_workers(
    signer: AppleSigner, options: AppleOptions, tmp_path: Path
) -> None:
    results = render_many(cards(5), signer=signer, options=options, at=AT, out=tmp_path / "a.zip",
                          workers=1)
    next(results)
    results.close()  # the caller stopped: no zip under the final name, no temporary file
    assert list(tmp_path.iterdir()) == []
    first = list(render_many(cards(4), signer=signer, options=options, at=AT, out=tmp_path / "d",
                             workers=2))
    (tmp_path / "d" / "C-3.pkpass").unlink()
    skipped = list(render_many(cards(4), signer=signer, options=options, at=AT, out=tmp_path / "d", workers=2,
                               existing="skip"))
    assert [r.skipped for r in skipped] == [True, True, True, False]
    assert all(r.ok for r in first + skipped)
    replaced = list(render_many(cards(2), signer=signer, options=options, at=AT, out=tmp_path / "d",
                                workers=2, existing="replace"))
    assert [(r.ok, r.skipped) for r in replaced] == [(True, False)] * 2
    assert sorted(os.listdir(tmp_path / "d")) == [f"C-{i}.pkpass" for i in range(4)]
    with pytest.raises(BatchError, match="existing"):
        next(render_many(cards(1), signer=signer, options=options, at=AT, out=tmp_path / "z.zip",
                         existing="skip"))
