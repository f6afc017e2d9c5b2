"""`verify` catches tampering, bad chains, hostile zips and rule breaks; the CLI exits non-zero."""

from __future__ import annotations

import argparse
import io
import json
import random
import time
import zipfile
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.apple.helpers import AT, PASS_TYPE, TEAM, card_with, make_program, openssl_verify, unzip
from tests.apple.hostile import RawEntry, build_zip, deflate, deflated_zeros, der, local_header, measured
from walletvoucher.apple import (
    AppleOptions,
    AppleSigner,
    TestChain,
    VerifyReport,
    build_manifest,
    mint_test_chain,
    render_pkpass,
    sign_manifest,
    verify_pkpass,
    zip_bundle,
)
from walletvoucher.apple._cli import add_commands
from walletvoucher.apple._verify import MAX_BUNDLE_BYTES, MAX_ENTRIES, MAX_UNPACKED_BYTES
from walletvoucher.apple._zipread import is_bundle_name
from walletvoucher.errors import InvalidPkpassError, PkpassReadError, ValidationError


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


# --- hostile files (issue 7): every failure is a problem, work is bounded, output is escaped -------

ONE_SECOND = 1.0  # a safety bound for hostile input, not a speed claim (see benchmarks/verify_hostile.py)
MEGABYTE = 1024 * 1024


def _hostile(data: bytes | Path, **kw: object) -> VerifyReport:
    """verify_pkpass under a time and memory safety bound; only a report may come back."""
    report, elapsed, peak = measured(lambda: verify_pkpass(data, at=AT, **kw))  # type: ignore[arg-type]
    assert isinstance(report, VerifyReport)
    assert elapsed < ONE_SECOND, f"took {elapsed:.2f} s"
    assert peak < 120 * MEGABYTE, f"peak memory {peak / MEGABYTE:.0f} MB"
    return report


def _problems(report: VerifyReport, rule: str) -> list[str]:
    return [f"{p.where}: {p.why}" for p in report.problems if p.rule == rule]


def _resigned(files: dict[str, bytes], signer: AppleSigner) -> bytes:
    content = {k: v for k, v in files.items() if k not in ("manifest.json", "signature")}
    files = {**content, "manifest.json": build_manifest(content)}
    files["signature"] = sign_manifest(files["manifest.json"], signer)
    return zip_bundle(files)


def test_a_corrupt_deflate_stream_is_a_problem_not_a_zlib_error() -> None:
    data = build_zip([RawEntry(name=b"pass.json", content=b"{}", stored=b"\xff\xff\xff\xff garbage")])
    assert any("deflate data is corrupt" in p for p in _problems(_hostile(data), "zip"))


def test_a_truncated_deflate_stream_is_a_problem() -> None:
    whole = deflate(b"x" * 5000)
    data = build_zip([RawEntry(name=b"pass.json", content=b"x" * 5000, stored=whole[: len(whole) // 2])])
    assert any("truncated" in p for p in _problems(_hostile(data), "zip"))


def test_an_encrypted_entry_is_a_problem_not_a_runtime_error() -> None:
    data = build_zip([RawEntry(name=b"pass.json", content=b"{}", flags=0x1)])
    assert any("encrypted" in p for p in _problems(_hostile(data), "zip"))


@pytest.mark.parametrize("method", [1, 12, 14, 93, 99])
def test_an_unsupported_compression_is_a_problem_not_not_implemented(method: int) -> None:
    data = build_zip([RawEntry(name=b"pass.json", content=b"{}", method=method, stored=b"\x00" * 8)])
    assert any(f"compression method {method}" in p for p in _problems(_hostile(data), "zip"))


def test_a_wrong_crc_or_declared_size_is_a_problem() -> None:
    data = build_zip([RawEntry(name=b"a.png", content=b"abc", crc=1),
                      RawEntry(name=b"b.png", content=b"abc", size=7)])
    problems = _problems(_hostile(data), "zip")
    assert any(p.startswith("a.png: CRC-32") for p in problems)
    assert any(p.startswith("b.png: declares 7 bytes but holds 3") for p in problems)


def test_a_local_header_that_disagrees_with_the_central_directory_is_refused() -> None:
    good = RawEntry(name=b"pass.json", content=b"{}")
    data = build_zip([good]).replace(b"PK\x03\x04", b"PK\x03\x04", 1)
    data = data.replace(b"pass.json", b"evil.json", 1)  # the local header's copy of the name
    assert any("disagrees with the central directory" in p for p in _problems(_hostile(data), "zip"))


def test_a_deflate_bomb_is_stopped_at_the_entry_cap_without_trusting_the_declared_size() -> None:
    bomb = RawEntry(name=b"strip.png", content=b"", size=10, crc=0, stored=deflated_zeros(2048))
    report = _hostile(build_zip([bomb]))
    assert any(p.startswith("strip.png: unpacks to over") for p in _problems(report, "zip"))


def test_many_entries_are_capped_in_total_not_only_each() -> None:
    each = 15 * MEGABYTE  # under the per-entry cap; four of them are over the total cap
    payload = deflated_zeros(15)
    zeros_crc = zlib.crc32(bytes(each))
    entries = [RawEntry(name=f"{c}.png".encode(), size=each, crc=zeros_crc, stored=payload) for c in "abcd"]
    report = _hostile(build_zip(entries))
    assert any("in all" in p for p in _problems(report, "zip"))
    assert 4 * each > MAX_UNPACKED_BYTES


def test_entries_that_share_bytes_are_refused() -> None:
    inner = RawEntry(name=b"b.png", content=b"payload", method=0)
    inner_bytes = local_header(inner) + inner.data()
    outer = RawEntry(name=b"a.png", content=inner_bytes, method=0)
    data = build_zip([outer, inner], offsets=[0, 30 + len(b"a.png")])
    assert any("shares bytes" in p for p in _problems(_hostile(data), "zip"))


def test_the_entry_count_is_refused_from_the_end_record_before_the_directory_is_parsed() -> None:
    data = build_zip([RawEntry(name=b"pass.json", content=b"{}")], count=65_000)
    assert _problems(_hostile(data), "zip") == [f"/: the archive declares 65000 entries, over {MAX_ENTRIES}"]


@pytest.mark.parametrize("tail", [b"PK\x06\x07" + bytes(16), b""])
def test_zip64_and_multi_disk_archives_are_refused(tail: bytes) -> None:
    data = build_zip([RawEntry(name=b"pass.json", content=b"{}")])
    end = data.rindex(b"PK\x05\x06")
    multi_disk = data[:end + 4] + b"\x01\x00" + data[end + 6:]  # disk number 1
    data = data[:end] + tail + data[end:] if tail else multi_disk
    assert len(_problems(_hostile(data), "zip")) == 1


def test_a_huge_entry_name_is_refused_in_linear_time() -> None:
    name = ("a-" * 32_000).encode() + b"!"
    report = _hostile(build_zip([RawEntry(name=name, content=b"x")]))
    [problem] = _problems(report, "zip")
    assert "entry name of 64001 bytes" in problem and len(problem) < 400
    start = time.process_time()
    assert not is_bundle_name(name, max_bytes=10 * len(name))  # the pattern alone, no length cap
    assert time.process_time() - start < 0.1


def test_a_truncated_pass_is_a_problem(pkpass: bytes) -> None:
    for cut in (0, 1, 22, len(pkpass) // 2, len(pkpass) - 23, len(pkpass) - 1):
        assert not _hostile(pkpass[:cut]).ok


def test_deeply_nested_pass_json_is_a_problem_not_a_recursion_error(
    pkpass: bytes, signer: AppleSigner
) -> None:
    files = unzip(pkpass)
    files["pass.json"] = b"[" * 200_000 + b"]" * 200_000
    report = _hostile(_resigned(files, signer))
    assert _problems(report, "pass-json") == ["pass.json: cannot be read: nested deeper than 32 levels"]


@pytest.mark.parametrize("number", ["1" * 5000, "1." + "5" * 5000, "1e" + "9" * 5000, "NaN", "-Infinity"])
def test_huge_or_non_json_numbers_are_a_problem_not_a_value_error(
    pkpass: bytes, signer: AppleSigner, number: str
) -> None:
    files = unzip(pkpass)
    old, new = b'"formatVersion":1', f'"formatVersion":{number}'.encode()
    files["pass.json"] = files["pass.json"].replace(old, new)
    assert number.encode() in files["pass.json"]
    [problem] = _problems(_hostile(_resigned(files, signer)), "pass-json")
    assert "number" in problem


@pytest.mark.parametrize("key", ["locations", "barcodes", "storeCard"])
def test_a_pass_json_with_a_huge_list_is_refused_before_every_element_is_checked(
    pkpass: bytes, signer: AppleSigner, key: str
) -> None:
    files = unzip(pkpass)
    doc = json.loads(files["pass.json"])
    doc[key] = {"backFields": [{}] * 200_000} if key == "storeCard" else [1] * 300_000
    files["pass.json"] = json.dumps(doc).encode()
    report = _hostile(_resigned(files, signer))
    assert _problems(report, "pass-json") == ["pass.json: cannot be read: more than 10000 values"]


def test_a_hostile_manifest_is_a_problem(pkpass: bytes) -> None:
    files = unzip(pkpass)
    hostile = (b"[" * 100_000, b'{"a": ' + b"9" * 10_000 + b"}", b"\xff\xfe", b"[]", b'{"pass.json": 1}')
    for manifest in hostile:
        files["manifest.json"] = manifest
        assert _problems(_hostile(zip_bundle(files)), "manifest")


@pytest.mark.parametrize("value", [["PKBarcodeFormatQR"], {"a": 1}, 7, None])
def test_a_list_where_a_string_belongs_is_a_problem_not_a_type_error(
    pkpass: bytes, signer: AppleSigner, value: object
) -> None:
    files = unzip(pkpass)
    doc = json.loads(files["pass.json"])
    doc["barcodes"][0]["format"] = value
    doc["passTypeIdentifier"] = [value]
    files["pass.json"] = json.dumps(doc).encode()
    report = _hostile(_resigned(files, signer))
    assert _problems(report, "barcode") and _problems(report, "required-key")


ENCODINGS = ["utf-8\x00", "\x00", "\ud800", "rot13", "undefined", "idna", "x" * 5000]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_hostile_message_encoding_is_a_problem_not_an_exception(
    pkpass: bytes, signer: AppleSigner, encoding: str
) -> None:
    files = unzip(pkpass)
    doc = json.loads(files["pass.json"])
    doc["barcodes"][0]["messageEncoding"] = encoding
    doc["barcodes"][0]["message"] = "咖啡\ud800"
    files["pass.json"] = json.dumps(doc).encode()
    report = _hostile(_resigned(files, signer))
    assert not _problems(report, "internal")


def test_a_rule_that_raises_is_reported_not_raised(pkpass: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def choke(doc: object) -> list[object]:
        raise ValueError("embedded null character")

    monkeypatch.setattr("walletvoucher.apple._verify.check_pass_json", choke)
    assert _problems(_hostile(pkpass), "internal") == [
        "pass.json: a rule could not check this content (ValueError: embedded null character)"]


def _signature_with(certificates: list[bytes], oid: bytes = bytes.fromhex("2a864886f70d010702")) -> bytes:
    """A hand-made SignedData embedding ``certificates`` (DER, not checked) and one signer."""
    signer_info = der(0x30, der(0x02, b"\x01") + der(0x30, der(0x30, b"") + der(0x02, b"\x03"))
                      + der(0x30, der(0x06, bytes.fromhex("608648016503040201"))) + der(0xA0, b"")
                      + der(0x30, b"") + der(0x04, b"sig"))
    sha256 = der(0x30, der(0x06, bytes.fromhex("608648016503040201")))
    signed_data = der(0x30, der(0x02, b"\x01") + der(0x31, sha256)
                      + der(0x30, der(0x06, bytes.fromhex("2a864886f70d010701")))
                      + der(0xA0, b"".join(certificates)) + der(0x31, signer_info))
    return der(0x30, der(0x06, oid) + der(0xA0, signed_data))


def _with_signature(pkpass: bytes, signature: bytes) -> bytes:
    files = unzip(pkpass)
    files["signature"] = signature
    return zip_bundle(files)


def test_an_unparsable_certificate_is_a_problem(pkpass: bytes) -> None:
    report = _hostile(_with_signature(pkpass, _signature_with([der(0x30, der(0x02, b"\x00"))])))
    assert _problems(report, "signature")


def test_a_certificate_with_an_unreadable_key_is_a_problem_not_a_value_error(
    pkpass: bytes, chain: TestChain
) -> None:
    cert = chain.certificate.public_bytes(serialization.Encoding.DER)
    rsa_oid = bytes.fromhex("06092a864886f70d010101")
    assert cert.count(rsa_oid) == 1
    broken = cert.replace(rsa_oid, bytes.fromhex("06092a864886f70d01017f"))  # an unknown key algorithm
    files = unzip(pkpass)
    files["signature"] = files["signature"].replace(cert, broken)
    report = _hostile(zip_bundle(files), ca=[chain.root])
    assert any("cannot be read" in p for p in _problems(report, "signature"))


def test_a_signature_algorithm_that_does_not_fit_the_key_is_refused(pkpass: bytes, chain: TestChain) -> None:
    files = unzip(pkpass)
    rsa_algorithm = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + der(0x05, b""))
    dsa_sha256 = der(0x30, der(0x06, bytes.fromhex("608648016503040302")) + der(0x05, b""))
    head, found, tail = files["signature"].rpartition(rsa_algorithm)  # the signer info's, after the certs
    assert found and len(tail) == 4 + 256
    files["signature"] = head + dsa_sha256 + tail
    report = _hostile(zip_bundle(files), ca=[chain.root])
    assert [p.where for p in report.problems] == ["signatureAlgorithm"]


def test_a_signed_data_of_the_wrong_shape_is_refused_as_openssl_refuses_it(
    pkpass: bytes, chain: TestChain, chain_files: dict[str, Path], tmp_path: Path
) -> None:
    files = unzip(pkpass)
    signature = files["signature"]
    digest_set = signature.index(bytes.fromhex("310f300d0609608648016503040201"))  # digestAlgorithms
    signer_algorithm = signature.rindex(bytes.fromhex("300d06092a864886f70d0101010500"))
    for offset, new in ((digest_set, 0x30), (signer_algorithm, 0x31)):
        changed = {**files, "signature": signature[:offset] + bytes([new]) + signature[offset + 1:]}
        assert openssl_verify(changed, chain_files["root"], tmp_path).returncode != 0
        assert _problems(_hostile(zip_bundle(changed), ca=[chain.root]), "signature")


def test_a_certificate_of_an_unknown_x509_version_is_a_problem_not_invalid_version(
    pkpass: bytes, chain: TestChain
) -> None:
    cert = chain.wwdr.public_bytes(serialization.Encoding.DER)
    version_at = cert.index(bytes.fromhex("a003020102")) + 4  # [0] { INTEGER 2 }: X.509 v3
    files = unzip(pkpass)
    files["signature"] = files["signature"].replace(cert, cert[:version_at] + b"\x03" + cert[version_at + 1:])
    report = _hostile(zip_bundle(files), ca=[chain.root])
    assert any("not a valid X509 version" in p for p in _problems(report, "signature"))


def test_a_long_oid_is_refused_in_linear_time(pkpass: bytes) -> None:
    long_oid = b"\x81" * 200_000 + b"\x01"
    report = _hostile(_with_signature(pkpass, _signature_with([], oid=long_oid)))
    assert any("OID of 200001 bytes" in p for p in _problems(report, "signature"))


def test_too_many_embedded_certificates_are_refused(pkpass: bytes, chain: TestChain) -> None:
    cert = chain.certificate.public_bytes(serialization.Encoding.DER)
    report = _hostile(_with_signature(pkpass, _signature_with([cert] * 40)))
    assert any("40 certificates embedded, over 8" in p for p in _problems(report, "signature"))


def test_a_signature_with_thousands_of_tiny_elements_is_refused(pkpass: bytes) -> None:
    report = _hostile(_with_signature(pkpass, _signature_with([der(0x05, b"")] * 60_000)))
    assert _problems(report, "signature")


def test_an_oversized_bundle_is_refused_before_it_is_parsed() -> None:
    report = _hostile(b"PK" + bytes(MAX_BUNDLE_BYTES))
    assert _problems(report, "zip") == [f"/: bundle is {MAX_BUNDLE_BYTES + 2} bytes, over {MAX_BUNDLE_BYTES}"]


def test_a_pass_of_a_few_megabytes_verifies_well_under_a_second(
    pkpass: bytes, chain: TestChain, signer: AppleSigner
) -> None:
    files = unzip(pkpass)
    noise = random.Random(7)
    for index in range(4):
        files[f"extra{index}.bin"] = noise.randbytes(MEGABYTE)
    report = _hostile(_resigned(files, signer), ca=[chain.root])
    assert report.ok, str(report)
    assert report.status == "valid"


# --- output a terminal cannot be fooled by ----------------------------------------------------------

NASTY = ["\x1b[31mred.png", "icon.png\rpass.json", "bell\x07", "bidi\u202egnp.exe", "surrogate\ud800x"]


def _terminal_safe(text: str) -> bool:
    return "\x1b" not in text and "\r" not in text and all(c.isprintable() or c == "\n" for c in text)


def test_names_and_values_from_the_file_are_escaped_in_the_report(pkpass: bytes) -> None:
    files = unzip(pkpass)
    doc = json.loads(files["pass.json"])
    doc["passTypeIdentifier"] = "\x1b]0;pwned\x07\x1b[2J"
    files["pass.json"] = json.dumps(doc).encode()
    files["manifest.json"] = json.dumps({name: "00" for name in NASTY}).encode()
    entries = [RawEntry(name=n.encode("utf-8", "surrogatepass"), content=b"x", flags=0x800) for n in NASTY]
    entries += [RawEntry(name=name.encode(), content=data) for name, data in files.items()]
    report = _hostile(build_zip(entries))
    text = str(report)
    assert _terminal_safe(text), text
    text.encode("utf-8")  # no lone surrogate left to crash a printer
    assert "\\x1b[31mred.png" in text and "icon.png\\rpass.json" in text and "\\u202e" in text
    assert all(_terminal_safe(p.where) and _terminal_safe(p.why) for p in report.problems)
    with pytest.raises(InvalidPkpassError) as info:
        report.raise_for_problems()
    assert _terminal_safe(str(info.value))


def test_a_signer_subject_with_control_characters_is_escaped(pkpass: bytes) -> None:
    evil = mint_test_chain(pass_type_identifier="pass.\x1b[31mevil\r", team_identifier="EVIL\x07", at=AT)
    signer = AppleSigner(pass_type_identifier="pass.\x1b[31mevil\r", team_identifier="EVIL\x07",
                         certificate=evil.certificate, key=evil.key, wwdr=evil.wwdr)
    files = unzip(pkpass)
    files["signature"] = sign_manifest(files["manifest.json"], signer)
    report = _hostile(zip_bundle(files))
    assert report.signer is not None and _terminal_safe(report.signer)
    assert _terminal_safe(str(report))


# --- trust: the chain is checked only against a self-signed root ---------------------------------------


def test_without_a_root_the_report_says_the_chain_was_not_checked(pkpass: bytes) -> None:
    report = verify_pkpass(pkpass, at=AT)
    assert report.ok and not report.chain_checked and report.status == "unchecked"
    assert str(report).startswith("OK BUT CHAIN NOT CHECKED")
    assert "chain not checked against a trusted root" in str(report)


def test_a_pass_from_a_self_made_chain_is_not_reported_as_trusted(pkpass: bytes, chain: TestChain) -> None:
    stranger = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT)
    forged = AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                         certificate=stranger.certificate, key=stranger.key, wwdr=stranger.wwdr)
    files = unzip(pkpass)
    files["signature"] = sign_manifest(files["manifest.json"], forged)
    data = zip_bundle(files)
    assert verify_pkpass(data, at=AT).status == "unchecked"
    trusted = verify_pkpass(data, ca=[chain.root], at=AT)
    assert trusted.status == "invalid" and not trusted.chain_checked


def test_an_intermediate_given_as_the_root_is_not_a_trust_anchor(pkpass: bytes, chain: TestChain) -> None:
    report = verify_pkpass(pkpass, ca=[chain.wwdr], at=AT)
    assert not report.ok and not report.chain_checked
    assert any(p.rule == "trust" and "not a self-signed CA" in p.why for p in report.problems)
    assert verify_pkpass(pkpass, ca=chain.root, at=AT).status == "valid"  # one certificate is fine too


def test_a_leaf_certificate_cannot_issue_the_signer(pkpass: bytes, chain: TestChain) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.USER_ID, PASS_TYPE),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, TEAM)])
    leaf = (x509.CertificateBuilder().subject_name(name).issuer_name(chain.certificate.subject)
            .public_key(key.public_key()).serial_number(99)
            .not_valid_before(AT - timedelta(days=1)).not_valid_after(AT + timedelta(days=1))
            .sign(chain.key, hashes.SHA256()))
    signer = AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, certificate=leaf, key=key,
                         wwdr=chain.certificate)
    files = unzip(pkpass)
    files["signature"] = sign_manifest(files["manifest.json"], signer)
    report = verify_pkpass(zip_bundle(files), ca=[chain.root], at=AT)
    assert not report.chain_checked
    assert {p.rule for p in report.problems} == {"chain"}


# --- the arguments ------------------------------------------------------------------------------------


def test_a_path_is_accepted_as_well_as_bytes(pkpass: bytes, chain: TestChain, tmp_path: Path) -> None:
    path = tmp_path / "card.pkpass"
    path.write_bytes(pkpass)
    for source in (path, str(path), bytearray(pkpass), memoryview(pkpass)):
        assert verify_pkpass(source, ca=[chain.root], at=AT).status == "valid"


def test_a_path_that_cannot_be_read_is_a_library_error(tmp_path: Path) -> None:
    for source in (tmp_path / "missing.pkpass", tmp_path, 42):
        with pytest.raises(PkpassReadError):
            verify_pkpass(source, at=AT)  # type: ignore[arg-type]


def test_a_naive_at_or_a_wrong_ca_is_a_library_error(pkpass: bytes) -> None:
    with pytest.raises(ValidationError, match="at="):
        verify_pkpass(pkpass, at=datetime(2026, 5, 7))
    for ca in (["root.pem"], 5, b"-----BEGIN CERTIFICATE-----"):
        with pytest.raises(ValidationError, match="ca="):
            verify_pkpass(pkpass, ca=ca, at=AT)  # type: ignore[arg-type]


# --- the command line ------------------------------------------------------------------------------------


def test_cli_verifies_several_files_and_fails_if_any_fails(
    pkpass: bytes, chain_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.pkpass", tmp_path / "bad.pkpass"
    good.write_bytes(pkpass)
    bad.write_bytes(pkpass[:-40])
    ca = ["--ca", str(chain_files["root"]), "--at", AT.isoformat()]
    assert _cli(["verify", str(good), str(good), *ca]) == 0
    assert capsys.readouterr().out.count(": OK: ") == 2
    assert _cli(["verify", str(good), str(bad), *ca]) == 1
    out = capsys.readouterr().out
    assert "good.pkpass: OK: " in out and "bad.pkpass: INVALID" in out


def test_cli_without_ca_says_the_chain_was_not_checked(
    pkpass: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.pkpass").write_bytes(pkpass)
    assert _cli(["verify", str(tmp_path / "p.pkpass"), "--at", AT.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "chain not checked against a trusted root" in out and ": OK: " not in out


def test_cli_usage_errors_exit_2_with_one_line_and_no_traceback(
    pkpass: bytes, chain_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.pkpass").write_bytes(pkpass)
    assert _cli(["verify", str(tmp_path / "p.pkpass"), str(tmp_path / "missing.pkpass")]) == 2
    err = capsys.readouterr().err
    assert "missing.pkpass: error: cannot read" in err and "Traceback" not in err
    assert _cli(["verify", str(tmp_path / "p.pkpass"), "--ca", str(tmp_path / "nope.pem")]) == 2
    assert "--ca" in capsys.readouterr().err
    for at in ("2026-05-07T10:30:00", "yesterday"):
        with pytest.raises(SystemExit) as exit_info:
            _cli(["verify", str(tmp_path / "p.pkpass"), "--at", at])
        assert exit_info.value.code == 2
        assert "e.g. 2026-05-07T10:30:00+00:00" in capsys.readouterr().err


def test_cli_json_lists_every_file_with_its_status_and_problems(
    pkpass: bytes, chain_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.pkpass", tmp_path / "bad.pkpass"
    good.write_bytes(pkpass)
    files = unzip(pkpass)
    files["\x1b[31mred.png"] = b"x"
    bad.write_bytes(_raw_zip(files))
    argv = ["verify", "--json", str(good), str(bad), str(tmp_path / "missing.pkpass"), "--at", AT.isoformat()]
    assert _cli([*argv, "--ca", str(chain_files["root"])]) == 2
    out = capsys.readouterr().out
    assert "\x1b" not in out
    doc = json.loads(out)
    assert doc["format"] == "walletvoucher-verify/1" and not doc["ok"]
    assert [f["status"] for f in doc["files"]] == ["valid", "invalid", "error"]
    assert {"rule": "zip", "where": "\\x1b[31mred.png",
            "why": "entry name is not a plain file or xx.lproj/file path"} in doc["files"][1]["problems"]
    assert _cli(argv[:3] + argv[-2:]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["status"] == "unchecked"


def test_cli_prints_a_report_to_an_ascii_terminal(
    pkpass: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = unzip(pkpass)
    doc = json.loads(files["pass.json"])
    doc["teamIdentifier"] = "咖啡\ud800"
    files["pass.json"] = json.dumps(doc).encode()
    (tmp_path / "p.pkpass").write_bytes(zip_bundle(files))
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr("sys.stdout", stream)
    assert _cli(["verify", str(tmp_path / "p.pkpass"), "--at", AT.isoformat()]) == 1
    stream.flush()
    printed = stream.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert "\\u5496\\u5561" in printed and "\\ud800" in printed
