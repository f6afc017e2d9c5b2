"""Fuzz ``verify_pkpass`` and ``walletvoucher verify`` with generated hostile files (issue 7).

Every input is made here: a real signed pass, then bit flips, truncations, spliced bytes, random
zips with lying headers, zip bombs, hostile JSON re-signed so it reaches every check, and bogus
DER signatures. For each: only a :class:`VerifyReport` comes back (never a foreign exception),
within a second, under a memory bound (tracemalloc), and its text is safe for a terminal.

Budget: about 20 s on two cores. ``WALLETVOUCHER_FUZZ_EXAMPLES=5000`` runs a longer campaign.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import zlib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apple.helpers import AT, PASS_TYPE, TEAM, card_with, make_program, unzip
from tests.apple.helpers import openssl_verify as openssl_run
from tests.apple.hostile import RawEntry, build_zip, deflated_zeros, der, measured
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
from walletvoucher.errors import WalletVoucherError


def openssl_verify(files: dict[str, bytes], root: Path, tmp: Path) -> bool:
    """The independent oracle: does ``openssl cms -verify`` accept this signature?"""
    return openssl_run(files, root, tmp).returncode == 0

EXAMPLES = int(os.environ.get("WALLETVOUCHER_FUZZ_EXAMPLES", "120"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
SECONDS = 1.0  # safety bound per input, not a speed claim
MEGABYTE = 1024 * 1024
PEAK_BYTES = 80 * MEGABYTE  # the largest allowed bundle is 50 MB; these inputs are far smaller


@pytest.fixture(scope="module")
def chain() -> TestChain:
    return mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT)


@pytest.fixture(scope="module")
def signer(chain: TestChain) -> AppleSigner:
    return AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                       certificate=chain.certificate, key=chain.key, wwdr=chain.wwdr)


class Pass(bytes):
    """The signed pass every mutation starts from; a short repr keeps Hypothesis reports readable."""

    def __repr__(self) -> str:
        return f"<signed pass, {len(self)} bytes>"


@pytest.fixture(scope="module")
def pkpass(signer: AppleSigner) -> bytes:
    options = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM)
    return Pass(render_pkpass(card_with(make_program(), 7), signer=signer, options=options, at=AT))


@pytest.fixture(scope="module")
def root_file(chain: TestChain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chain.write(tmp_path_factory.mktemp("chain"))["root"]


def check(data: bytes, chain: TestChain | None = None) -> VerifyReport:
    """verify_pkpass must return a report, in under a second and bounded memory, printable safely."""
    roots = [chain.root] if chain else []
    report, elapsed, peak = measured(lambda: verify_pkpass(data, ca=roots, at=AT))
    assert isinstance(report, VerifyReport)
    assert elapsed < SECONDS, f"{elapsed:.2f} s for a {len(data)}-byte input"
    assert peak < PEAK_BYTES, f"peak {peak / MEGABYTE:.0f} MB for a {len(data)}-byte input"
    text = str(report)
    assert all(c.isprintable() or c == "\n" for c in text), text
    json.dumps(report.as_dict(), ensure_ascii=False).encode("utf-8")  # no lone surrogate survives
    assert report.ok == (report.status != "invalid")
    assert not [p for p in report.problems if p.rule == "internal"], "a pass.json rule raised"
    return report


def test_the_unchanged_pass_is_valid(pkpass: bytes, chain: TestChain) -> None:
    assert check(pkpass, chain).status == "valid"


# --- byte-level mutations of a real pass -------------------------------------------------------------


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=16))
def test_bit_flips_anywhere(pkpass: bytes, chain: TestChain, flips: list[tuple[int, int]]) -> None:
    data = bytearray(pkpass)
    for position, value in flips:
        data[position % len(data)] ^= value or 1
    check(bytes(data), chain)


@FUZZ
@given(cut=st.integers(min_value=0), keep_tail=st.integers(0, 200))
def test_truncated_and_spliced(pkpass: bytes, chain: TestChain, cut: int, keep_tail: int) -> None:
    cut %= len(pkpass)
    check(pkpass[:cut], chain)
    check(pkpass[:cut] + pkpass[len(pkpass) - keep_tail:], chain)  # the end record kept, offsets wrong


@FUZZ
@given(start=st.integers(min_value=0), junk=st.binary(max_size=64))
def test_bytes_inserted(pkpass: bytes, chain: TestChain, start: int, junk: bytes) -> None:
    start %= len(pkpass)
    check(pkpass[:start] + junk + pkpass[start:], chain)


# --- zips built from lying headers ---------------------------------------------------------------------

NAMES = st.one_of(
    st.sampled_from([b"pass.json", b"manifest.json", b"signature", b"icon.png", b"strip@2x.png",
                     b"en.lproj/pass.strings", b"en.lproj/", b"../x", b"/etc/passwd", b"a/b/c",
                     b"\x1b[31m.png", b"x\r.png", b"\xed\xa0\x80.png", b"\xff\xfe", b""]),
    st.binary(max_size=40),
)
ENTRIES = st.builds(
    RawEntry,
    name=NAMES,
    content=st.binary(max_size=300),
    method=st.sampled_from([0, 8, 8, 1, 12, 14, 99]),
    flags=st.sampled_from([0, 0, 0x1, 0x8, 0x40, 0x800]),
    crc=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
    size=st.one_of(st.none(), st.integers(0, 2**32 - 2)),
    stored=st.one_of(st.none(), st.binary(max_size=64)),
)


@FUZZ
@given(entries=st.lists(ENTRIES, max_size=8), count=st.one_of(st.none(), st.integers(0, 0xFFFF)),
       offsets=st.lists(st.integers(0, 2**32 - 2), max_size=8))
def test_zips_with_lying_headers(entries: list[RawEntry], count: int | None, offsets: list[int]) -> None:
    check(build_zip(entries, count=count))
    if len(offsets) == len(entries) and entries:
        check(build_zip(entries, count=count, offsets=offsets))


@pytest.mark.parametrize("megabytes", [1, 12, 64, 4096])
def test_deflate_bombs(megabytes: int) -> None:
    size = megabytes * MEGABYTE
    crc = zlib.crc32(bytes(size)) if megabytes < 100 else 0
    payload, declared = deflated_zeros(megabytes), min(size, 2**32 - 2)
    entries = [RawEntry(name=f"b{i}.png".encode(), stored=payload, size=declared, crc=crc) for i in range(3)]
    report = check(build_zip(entries))
    assert any(p.rule == "zip" for p in report.problems) == (megabytes > 10)


# --- hostile content re-signed, so it reaches every check ---------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
PASS_KEYS = st.sampled_from([
    "formatVersion", "passTypeIdentifier", "teamIdentifier", "serialNumber", "description",
    "organizationName", "storeCard", "coupon", "generic", "barcodes", "barcode", "locations",
    "foregroundColor", "backgroundColor", "labelColor", "relevantDate", "expirationDate", "voided",
    "webServiceURL", "authenticationToken", "sharingProhibited", "logoText",
])


def _resigned(files: dict[str, bytes], signer: AppleSigner) -> bytes:
    content = {k: v for k, v in files.items() if k not in ("manifest.json", "signature")}
    manifest = build_manifest(content)
    return zip_bundle({**content, "manifest.json": manifest, "signature": sign_manifest(manifest, signer)})


@FUZZ
@given(changes=st.dictionaries(PASS_KEYS, JSON_VALUES, max_size=5), field_value=JSON_VALUES)
def test_hostile_pass_json_values(
    pkpass: bytes, chain: TestChain, signer: AppleSigner, changes: dict[str, Any], field_value: Any
) -> None:
    files = unzip(pkpass)
    doc = json.loads(files["pass.json"])
    doc["storeCard"]["secondaryFields"][0]["value"] = field_value
    doc.update(changes)
    files["pass.json"] = json.dumps(doc).encode()
    check(_resigned(files, signer), chain)


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


DOCUMENTS = st.one_of(
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
    st.integers(0, 100_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(0, 5_000).map(_nested),
    st.integers(1, 20_000).map(lambda digits: b'{"formatVersion": ' + b"7" * digits + b"}"),
    st.integers(1, 50).map(lambda n: b'{"description": "' + b"\\ud800\\u001b[2J" * n + b'"}'),
    st.text(max_size=60).map(lambda text: f'"{text}" = "{text}";\n'.encode("utf-16")),
)


@FUZZ
@given(body=DOCUMENTS, target=st.sampled_from(["pass.json", "manifest.json", "en.lproj/pass.strings"]))
def test_hostile_json_and_strings_documents(
    pkpass: bytes, chain: TestChain, signer: AppleSigner, body: bytes, target: str
) -> None:
    files = {**unzip(pkpass), target: body}
    check(_resigned(files, signer) if target != "manifest.json" else zip_bundle(files), chain)


# --- bogus signatures ------------------------------------------------------------------------------------

DER_TREES = st.recursive(
    st.builds(der, st.sampled_from([0x02, 0x04, 0x05, 0x06, 0x0C, 0x17, 0x18]), st.binary(max_size=24)),
    lambda inner: st.builds(lambda tag, kids: der(tag, b"".join(kids)),
                            st.sampled_from([0x30, 0x31, 0xA0, 0xA1]), st.lists(inner, max_size=6)),
    max_leaves=30,
)


@FUZZ
@given(signature=st.one_of(DER_TREES, st.binary(max_size=400)))
def test_bogus_der_signatures(pkpass: bytes, chain: TestChain, signature: bytes) -> None:
    files = unzip(pkpass)
    assert not check(zip_bundle({**files, "signature": signature}), chain).ok


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=6))
def test_flipped_signature_bytes(
    pkpass: bytes, chain: TestChain, root_file: Path, tmp_path_factory: pytest.TempPathFactory,
    flips: list[tuple[int, int]],
) -> None:
    files = unzip(pkpass)
    signature = bytearray(files["signature"])
    for position, value in flips:
        signature[position % len(signature)] ^= value
    report = check(zip_bundle({**files, "signature": bytes(signature)}), chain)
    if report.ok:  # a changed signature we accept must be one openssl accepts too: no forgery passes
        changed = {**files, "signature": bytes(signature)}
        assert openssl_verify(changed, root_file, tmp_path_factory.mktemp("oracle"))


def test_a_name_attribute_turned_bit_string_is_a_problem_not_a_type_error(
    pkpass: bytes, chain: TestChain,
) -> None:
    """cryptography raises TypeError (not ValueError) for a name attribute typed BIT STRING under an OID
    other than x500UniqueIdentifier; found by the flip test. Every string tag in the signature, turned
    into a BIT STRING tag, must give a report with a signature problem."""
    files = unzip(pkpass)
    signature = files["signature"]
    tried = 0
    for position, byte in enumerate(signature):
        if byte not in (0x0C, 0x13):  # UTF8String, PrintableString
            continue
        changed = bytearray(signature)
        changed[position] = 0x03
        report = check(zip_bundle({**files, "signature": bytes(changed)}), chain)
        assert not report.ok, position
        tried += 1
    assert tried >= 10


# --- the command line on the same inputs -------------------------------------------------------------------


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=8),
       as_json=st.booleans())
def test_the_command_line_never_shows_a_traceback(
    pkpass: bytes, tmp_path_factory: pytest.TempPathFactory, flips: list[tuple[int, int]], as_json: bool
) -> None:
    data = bytearray(pkpass)
    for position, value in flips:
        data[position % len(data)] ^= value
    path = tmp_path_factory.mktemp("fuzz") / "p.pkpass"
    path.write_bytes(bytes(data))
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", str(path), "--at", AT.isoformat(), *(["--json"] if as_json else [])])
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = args.run(args)
    assert status in (0, 1)
    assert "\x1b" not in out.getvalue() and not err.getvalue()
    if as_json:
        assert json.loads(out.getvalue())["files"][0]["status"] in ("unchecked", "invalid")


def test_a_library_error_is_the_only_exception_for_bad_arguments(pkpass: bytes, tmp_path: Path) -> None:
    for call in (lambda: verify_pkpass(tmp_path / "none"), lambda: verify_pkpass(3.5),  # type: ignore[arg-type]
                 lambda: verify_pkpass(pkpass, ca=[b"x"])):  # type: ignore[list-item]
        with pytest.raises(WalletVoucherError):
            call()
