"""`verify` catches tampering, bad chains, hostile zips and rule breaks; the CLI exits non-zero."""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.apple.helpers import AT, card_with, make_program, unzip
from walletvoucher.apple import (
    AppleOptions,
    AppleSigner,
    TestChain,
    build_manifest,
    mint_test_chain,
    render_pkpass,
    sign_manifest,
    verify_pkpass,
    zip_bundle,
)
from walletvoucher.apple._cli import add_commands
from walletvoucher.errors import InvalidPkpassError


@pytest.fixture
def pkpass(signer: AppleSigner, options: AppleOptions) -> bytes:
    return render_pkpass(card_with(make_program(), 7), signer=signer, options=options, at=AT)


def _rules(data: bytes, chain: TestChain) -> set[str]:
    return {p.rule for p in verify_pkpass(data, ca=[chain.root], at=AT).problems}


def test_an_untouched_pass_is_ok(pkpass: bytes, chain: TestChain) -> None:
    report = verify_pkpass(pkpass, ca=[chain.root], at=AT)
    assert report.ok, str(report)
    assert report.signing_time is not None
    assert "UID=pass.com.example.walletvoucher" in (report.signer or "")
    report.raise_for_problems()


def test_a_changed_file_is_caught(pkpass: bytes, chain: TestChain) -> None:
    files = unzip(pkpass)
    files["pass.json"] = files["pass.json"].replace(b"7/10", b"9/10")
    report = verify_pkpass(zip_bundle(files), ca=[chain.root], at=AT)
    assert [(p.rule, p.where) for p in report.problems] == [("manifest", "pass.json")]
    with pytest.raises(InvalidPkpassError) as info:
        report.raise_for_problems()
    assert info.value.problems[0][0] == "manifest"


def test_changed_image_added_file_and_removed_file(pkpass: bytes, chain: TestChain) -> None:
    files = unzip(pkpass)
    files["strip.png"] = files["strip@2x.png"]
    files["extra.png"] = files["icon.png"]
    del files["logo.png"]
    problems = verify_pkpass(zip_bundle(files), ca=[chain.root], at=AT).problems
    where = {(p.rule, p.where) for p in problems}
    assert {("manifest", "strip.png"), ("manifest", "extra.png"), ("manifest", "logo.png")} <= where
    assert ("image-size", "strip.png") in where


def test_a_re_hashed_manifest_breaks_the_signature(pkpass: bytes, chain: TestChain) -> None:
    files = unzip(pkpass)
    files["pass.json"] = files["pass.json"].replace(b"7/10", b"9/10")
    content = {k: v for k, v in files.items() if k not in ("manifest.json", "signature")}
    files["manifest.json"] = build_manifest(content)
    report = verify_pkpass(zip_bundle(files), ca=[chain.root], at=AT)
    assert any(p.rule == "signature" and "does not cover" in p.why for p in report.problems)


def test_flipped_signature_bytes_are_caught(pkpass: bytes, chain: TestChain) -> None:
    files = unzip(pkpass)
    sig = bytearray(files["signature"])
    sig[-5] ^= 0xFF
    files["signature"] = bytes(sig)
    assert "signature" in _rules(zip_bundle(files), chain)
    files["signature"] = b"\x30\x03\x02\x01"
    assert "signature" in _rules(zip_bundle(files), chain)


def test_a_pass_signed_by_someone_else(pkpass: bytes, chain: TestChain) -> None:
    stranger = mint_test_chain(pass_type_identifier="pass.com.evil", team_identifier="EVIL000001", at=AT)
    files = unzip(pkpass)
    evil = AppleSigner(pass_type_identifier="pass.com.evil", team_identifier="EVIL000001",
                       certificate=stranger.certificate, key=stranger.key, wwdr=stranger.wwdr)
    files["signature"] = sign_manifest(files["manifest.json"], evil)
    rules = {(p.rule, p.where) for p in verify_pkpass(zip_bundle(files), ca=[chain.root], at=AT).problems}
    assert ("signer-identity", "passTypeIdentifier") in rules
    assert ("signer-identity", "teamIdentifier") in rules
    assert any(rule == "chain" for rule, _ in rules)  # not anchored in our root


def test_expired_chain_is_reported(pkpass: bytes, chain: TestChain) -> None:
    late = chain.certificate.not_valid_after_utc.replace(year=chain.certificate.not_valid_after_utc.year + 1)
    assert any(p.rule == "chain" for p in verify_pkpass(pkpass, ca=[chain.root], at=late).problems)


def _raw_zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("name", ["../evil.png", "/etc/passwd", "a/b/c.png", "..\\x.png", "en.lproj/../../x"])
def test_paths_outside_the_bundle_are_refused(pkpass: bytes, chain: TestChain, name: str) -> None:
    files = unzip(pkpass)
    files[name] = b"x"
    report = verify_pkpass(_raw_zip(files), ca=[chain.root], at=AT)
    assert any(p.rule == "zip" and name in p.where for p in report.problems)


def test_not_a_zip_and_missing_files() -> None:
    assert [p.rule for p in verify_pkpass(b"PK\x03\x04 broken").problems] == ["zip"]
    report = verify_pkpass(_raw_zip({"readme.txt": b"hi"}))
    assert {p.where for p in report.problems if p.rule == "layout"} == {
        "pass.json", "manifest.json", "signature", "icon.png"}


def test_pass_json_rule_breaks_are_reported_with_their_rule(
    pkpass: bytes, chain: TestChain, signer: AppleSigner
) -> None:
    files = unzip(pkpass)
    doc = json.loads(files["pass.json"])
    doc["backgroundColor"] = "#1E3A5F"
    doc["relevantDate"] = "2026-05-07T10:30:00.123Z"
    files["pass.json"] = json.dumps(doc).encode()
    content = {k: v for k, v in files.items() if k not in ("manifest.json", "signature")}
    files["manifest.json"] = build_manifest(content)
    files["signature"] = sign_manifest(files["manifest.json"], signer)
    rules = _rules(zip_bundle(files), chain)
    assert rules == {"color", "w3c-date", "no-relevant-date"}


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


def test_cli_verify_exit_codes(
    pkpass: bytes, chain_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.pkpass"
    good.write_bytes(pkpass)
    at = ["--at", AT.isoformat()]
    assert _cli(["verify", str(good), "--ca", str(chain_files["root"]), *at]) == 0
    assert "OK" in capsys.readouterr().out
    files = unzip(pkpass)
    files["icon.png"] = files["icon@2x.png"]
    bad = tmp_path / "bad.pkpass"
    bad.write_bytes(zip_bundle(files))
    assert _cli(["verify", str(bad), "--ca", str(chain_files["root"]), *at]) == 1
    out = capsys.readouterr().out
    assert "[manifest] icon.png" in out and "[image-size] icon.png" in out
    assert _cli(["verify", str(tmp_path / "missing.pkpass")]) == 2


def test_cli_verify_with_a_der_root(pkpass: bytes, chain: TestChain, tmp_path: Path) -> None:
    (tmp_path / "p.pkpass").write_bytes(pkpass)
    (tmp_path / "root.cer").write_bytes(chain.root.public_bytes(serialization.Encoding.DER))
    assert _cli(["verify", str(tmp_path / "p.pkpass"), "--ca", str(tmp_path / "root.cer"),
                 "--at", AT.isoformat()]) == 0
