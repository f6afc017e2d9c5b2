"""render_many and ``walletvoucher batch``: in order, per-item failures, streaming, workers, zip output."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.apple.helpers import (
    AT,
    PASS_TYPE,
    TEAM,
    card_with,
    make_program,
    openssl_verify,
    ready_card,
    unzip,
)
from walletvoucher._zipstream import NameSet, ZipStream
from walletvoucher.apple import AppleOptions, AppleSigner, mint_test_chain, verify_pkpass
from walletvoucher.apple._testchain import TestChain
from walletvoucher.batch import BatchItem, _SignerMaterial, render_many
from walletvoucher.cli import main
from walletvoucher.errors import BatchError
from walletvoucher.model import RedemptionMethod, StampCard


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
    return AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                        redeem_link="https://example.com/redeem/{serial}")


def cards(count: int) -> Iterator[StampCard]:
    program = make_program(translated=False)
    for i in range(count):
        yield StampCard(serial=f"C-{i}", member_id=f"m-{i}", program=program, issued_at=AT, stamps=i % 10)


def test_every_pass_is_written_in_input_order(signer: AppleSigner, options: AppleOptions,
                                              chain: TestChain, tmp_path: Path) -> None:
    out = tmp_path / "passes"
    results = list(render_many(cards(40), signer=signer, options=options, at=AT, out=out, workers=1, chunk=7))
    assert [r.index for r in results] == list(range(40))
    assert all(r.ok for r in results) and [r.name for r in results[:2]] == ["C-0", "C-1"]
    for result in results[::13]:
        assert result.path is not None
        data = (out / result.path).read_bytes()
        assert len(data) == result.size
        assert verify_pkpass(data, ca=[chain.root], at=AT).ok
        verdict = openssl_verify(unzip(data), _root_file(chain, tmp_path), tmp_path)
        assert verdict.returncode == 0, verdict.stderr


def _root_file(chain: TestChain, tmp_path: Path) -> Path:
    return chain.write(tmp_path / "chain")["root"]


def test_one_items_failure_is_reported_and_the_batch_goes_on(signer: AppleSigner, options: AppleOptions,
                                                              tmp_path: Path) -> None:
    scan_program = make_program(RedemptionMethod.STAFF_SCAN)
    _, scan_voucher = ready_card(scan_program)
    items: list[object] = [
        *cards(2),
        BatchItem(item=scan_voucher, program=scan_program),           # no scan key in the options
        BatchItem(item=next(cards(1)), name="../escape"),             # unsafe file name
        BatchItem(item=None, name="line-5", problem="line 5: not JSON"),
        BatchItem(item=next(cards(1)), name="C-0"),                   # already written
        *cards(4),
    ]
    results = list(render_many(items, signer=signer, options=options, at=AT,  # type: ignore[arg-type]
                               out=tmp_path / "out", workers=1))
    assert [r.ok for r in results] == [True, True, False, False, False, False, False, False, True, True]
    assert "scan_key" in (results[2].error or "")
    assert "safe file name" in (results[3].error or "")
    assert "not JSON" in (results[4].error or "")
    assert results[5].error is not None and results[6].error is not None  # C-0, C-1 exist: never overwritten


def test_two_workers_write_the_same_bytes_as_one(signer: AppleSigner, options: AppleOptions,
                                                 tmp_path: Path) -> None:
    one = list(render_many(cards(30), signer=signer, options=options, at=AT, out=tmp_path / "one", workers=1))
    two = list(render_many(cards(30), signer=signer, options=options, at=AT, out=tmp_path / "two.zip",
                           workers=2, chunk=4))
    assert [r.index for r in two] == list(range(30)) and all(r.ok for r in two)
    with zipfile.ZipFile(tmp_path / "two.zip") as archive:
        assert archive.testzip() is None
        for result in one:
            assert archive.read(f"{result.name}.pkpass") == (tmp_path / "one" / str(result.path)).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two.zip"]  # the workers' spool is gone


def test_two_workers_write_a_directory_themselves_and_never_overwrite(
    signer: AppleSigner, options: AppleOptions, tmp_path: Path
) -> None:
    items = [*cards(5), *cards(1)]  # the last repeats C-0: its file exists, so it fails on its own
    results = list(render_many(items, signer=signer, options=options, at=AT, out=tmp_path / "d",
                               workers=2, chunk=2))
    assert [r.ok for r in results] == [True] * 5 + [False] and "exists" in (results[5].error or "")
    written = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert written == sorted(f"{r.name}.pkpass" for r in results[:5])


def test_a_failure_inside_a_worker_is_reported_on_its_item(signer: AppleSigner, options: AppleOptions,
                                                           tmp_path: Path) -> None:
    program = make_program()
    _, voucher = ready_card(program)
    items = [*cards(3), BatchItem(item=voucher), *cards(1)]  # a voucher without its program
    results = list(render_many(items, signer=signer, options=options, at=AT, out=tmp_path / "o.zip",
                               workers=2, chunk=2))
    assert [r.ok for r in results] == [True, True, True, False, False]  # last: C-0 again in the zip
    assert "program" in (results[3].error or "") and "already written" in (results[4].error or "")


def test_input_is_read_lazily_within_the_window(signer: AppleSigner, options: AppleOptions,
                                                tmp_path: Path) -> None:
    pulled = 0

    def source() -> Iterator[StampCard]:
        nonlocal pulled
        for card in cards(200):
            pulled += 1
            yield card

    results = render_many(source(), signer=signer, options=options, at=AT, out=tmp_path / "o",
                          workers=1, chunk=5)
    next(results)
    assert pulled == 5
    results.close()
    assert pulled == 5  # stopping early renders nothing more


def test_zip_output_switches_to_zip64_past_65535_members(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with path.open("wb") as f, ZipStream(f) as archive:
        for i in range(65_540):
            archive.add(f"{i}.pkpass", b"")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert len(names) == 65_540 and names[-1] == "65539.pkpass"


def test_zip64_records_are_read_by_zipfile() -> None:
    out = io.BytesIO()
    with ZipStream(out, force_zip64=True) as archive:
        archive.add("a.pkpass", b"x" * 100)
        archive.add("é.pkpass", b"y")
    with zipfile.ZipFile(out) as read:
        assert read.testzip() is None and read.read("é.pkpass") == b"y"


def test_signer_material_never_shows_the_key(signer: AppleSigner) -> None:
    material = _SignerMaterial.of(signer)
    assert "key=" not in repr(material) and material.key.hex()[:40] not in repr(material)
    assert material.load().key.private_numbers() == signer.key.private_numbers()


@pytest.mark.parametrize("bad", [{"workers": 0}, {"chunk": 0}, {"window": -1}])
def test_bad_counts_raise_batch_error(bad: dict[str, int], signer: AppleSigner, options: AppleOptions,
                                      tmp_path: Path) -> None:
    with pytest.raises(BatchError, match=next(iter(bad))):
        next(render_many(cards(1), signer=signer, options=options, at=AT, out=tmp_path, **bad))


def test_an_existing_zip_is_not_overwritten(signer: AppleSigner, options: AppleOptions,
                                            tmp_path: Path) -> None:
    (tmp_path / "old.zip").write_bytes(b"keep")
    with pytest.raises(BatchError, match="out="):
        next(render_many(cards(1), signer=signer, options=options, at=AT, out=tmp_path / "old.zip"))
    assert (tmp_path / "old.zip").read_bytes() == b"keep"


# --- the command line --------------------------------------------------------------------------

PROGRAMS_MODULE = '''
from tests.apple.helpers import make_program
ALL = [make_program(translated=False)]
'''


def test_batch_command_renders_json_lines(chain: TestChain, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    files = chain.write(tmp_path / "chain")
    (tmp_path / "shop_programs.py").write_text(PROGRAMS_MODULE)
    program = make_program(translated=False)
    card, voucher = ready_card(program)
    lines = [json.dumps(card_with(program, 3, serial="J-1").to_json()), "# a comment", "",
             json.dumps(card.to_json()), json.dumps(voucher.to_json()), "{not json",
             json.dumps({**card.to_json(), "program_id": "unknown"})]
    (tmp_path / "items.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    status = main(["batch", "items.jsonl", "--programs", "shop_programs:ALL", "--out", "out.zip",
                   "--certificate", str(files["certificate"]), "--key", str(files["key"]),
                   "--wwdr", str(files["wwdr"]), "--pass-type-identifier", PASS_TYPE,
                   "--team-identifier", TEAM, "--at", "2026-05-07T11:00:00+00:00", "--workers", "1"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "5 items, 3 passes written to out.zip, 2 failed" in out and "passes/s" in out
    assert "item 4 (line-4)" in err and "item 5 (line-5)" in err and "program_id" in err
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert sorted(archive.namelist()) == ["CARD-0001-1.pkpass", "CARD-0001.pkpass", "J-1.pkpass"]
        coupon = archive.read("CARD-0001-1.pkpass")
    assert verify_pkpass(coupon, ca=[chain.root], at=AT).ok
    assert json.loads(unzip(coupon)["pass.json"])["serialNumber"] == "CARD-0001-1"


def test_batch_command_says_what_to_fix_when_it_cannot_start(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "items.jsonl").write_text("")
    status = main(["batch", str(tmp_path / "items.jsonl"), "--programs", "nowhere",
                   "--out", str(tmp_path / "o"),
                   "--pass-type-identifier", PASS_TYPE, "--team-identifier", TEAM])
    assert status == 2
    assert "MODULE:NAME" in capsys.readouterr().err


def test_zip_name_set_finds_every_repeat_among_many_names() -> None:
    seen = NameSet()
    assert all(seen.add(f"CARD-{i:07d}.pkpass") for i in range(50_000))
    assert not any(seen.add(f"CARD-{i:07d}.pkpass") for i in range(0, 50_000, 997))
    assert len(seen) == 50_000


def test_barcode_fallback_warnings_are_kept_on_the_result(signer: AppleSigner, options: AppleOptions,
                                                          tmp_path: Path) -> None:
    import warnings

    from walletvoucher.codes import Symbology

    program = make_program(symbology=Symbology.EAN_13)
    _, voucher = ready_card(program)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes to the caller
        (result,) = render_many([BatchItem(item=voucher, program=program)], signer=signer, options=options,
                                at=AT, out=tmp_path / "o", workers=1)
    assert result.ok and any("Code 128" in text for text in result.warnings)
