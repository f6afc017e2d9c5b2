"""The optimised render path (issue 9): same bundle as the straightforward path, caches that are
bounded and keyed by content, a signature that is the builder's bytes."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

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
from tests.apple.wallet_strings import lproj_tables, parse_strings, resolve
from walletvoucher.apple import AppleOptions, AppleSigner, render_pass, verify_pkpass, zip_bundle
from walletvoucher.apple._bundle import ZIP_TIMESTAMP, assemble_zip, build_manifest, make_entry, manifest_of
from walletvoucher.apple._cms import builder_signature, cms_template, encode_time, sign_manifest_at
from walletvoucher.apple._passjson import build_pass_content
from walletvoucher.apple._pieces import EntryCache, memo_by_content
from walletvoucher.apple._render import pass_json_bytes
from walletvoucher.apple._rules import validate_pass_json
from walletvoucher.apple._strings import render_pass_strings
from walletvoucher.apple._testchain import TestChain
from walletvoucher.codes import Symbology
from walletvoucher.model import RedemptionMethod, StampCard, Voucher

_OID_SIGNING_TIME = bytes.fromhex("06092a864886f70d010905")


def reference_pkpass(item: StampCard | Voucher, *, signer: AppleSigner, options: AppleOptions,
                     at: datetime, program: Any = None) -> bytes:
    """The straightforward path, kept callable: dict -> files -> manifest -> signature -> zipfile.

    The one deliberate difference of the optimised path is kept here too: the files made per
    pass (pass.json, manifest.json, signature) are STORED. Everything else is the code path
    render_pass used before issue 9.
    """
    content = build_pass_content(item, options=options, at=at, program=program)
    validate_pass_json(content.pass_json)
    pass_json = json.dumps(content.pass_json, ensure_ascii=False, separators=(",", ":")).encode()
    files = {"pass.json": pass_json, **content.files}
    manifest = build_manifest(files)
    files["manifest.json"] = manifest
    signature = sign_manifest_at(manifest, signer, at=at)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted([*files, "signature"]):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            per_pass = name in ("pass.json", "manifest.json", "signature")
            info.compress_type = zipfile.ZIP_STORED if per_pass else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, signature if name == "signature" else files[name])
    return buffer.getvalue()


def _items() -> list[tuple[str, StampCard | Voucher, Any]]:
    program = make_program()
    card, voucher = ready_card(program)
    ean = make_program(symbology=Symbology.EAN_13)
    _, ean_voucher = ready_card(ean)
    self_redeem = make_program(RedemptionMethod.SELF_REDEEM, translated=False)
    return [
        ("card collecting, five languages", card_with(program, 7), None),
        ("card reward ready", card, None),
        ("coupon", voucher, program),
        ("EAN-13 fallback coupon", ean_voucher, ean),
        ("english-only self-redeem card", card_with(self_redeem, 3), None),
    ]


@pytest.mark.filterwarnings("ignore::walletvoucher.errors.BarcodeFallbackWarning")
@pytest.mark.parametrize("case", range(5))
def test_optimised_bundle_is_the_straightforward_bundle(case: int, signer: AppleSigner,
                                                        options: AppleOptions) -> None:
    name, item, program = _items()[case]
    fast = render_pass(item, signer=signer, options=options, at=AT, program=program).pkpass
    assert fast == reference_pkpass(item, signer=signer, options=options, at=AT, program=program), name


def test_signature_is_the_builders_bytes_at_the_same_signing_time(signer: AppleSigner) -> None:
    manifest = b'{"pass.json":"' + b"0" * 40 + b'"}'
    made = builder_signature(manifest, signer)
    at_time = made.index(_OID_SIGNING_TIME) + len(_OID_SIGNING_TIME) + 4
    when = datetime.strptime(made[at_time:at_time + 12].decode(), "%y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    assert sign_manifest_at(manifest, signer, at=when) == made


def test_signing_time_is_the_render_clock(signer: AppleSigner, options: AppleOptions,
                                          chain: TestChain) -> None:
    rendered = render_pass(card_with(make_program(), 4), signer=signer, options=options, at=AT)
    report = verify_pkpass(rendered.pkpass, ca=[chain.root], at=AT)
    assert report.ok, report
    assert report.signing_time == AT


def test_same_input_and_clock_give_the_same_bytes(signer: AppleSigner, options: AppleOptions) -> None:
    card = card_with(make_program(), 4)
    first = render_pass(card, signer=signer, options=options, at=AT).pkpass
    assert render_pass(card, signer=signer, options=options, at=AT, cache=EntryCache()).pkpass == first


def test_optimised_pass_verifies_with_openssl(signer: AppleSigner, options: AppleOptions,
                                              chain_files: dict[str, Path], tmp_path: Path) -> None:
    rendered = render_pass(card_with(make_program(), 7), signer=signer, options=options, at=AT)
    result = openssl_verify(unzip(rendered.pkpass), chain_files["root"], tmp_path)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(io.BytesIO(rendered.pkpass)) as archive:
        assert archive.testzip() is None
        assert archive.getinfo("signature").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("strip.png").compress_type == zipfile.ZIP_DEFLATED


def _ec_signer(tmp_path: Path) -> tuple[AppleSigner, Path]:
    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    start, end = AT - timedelta(days=3650), AT + timedelta(days=3650)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("EC test CA")).issuer_name(name("EC test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    subject = x509.Name([x509.NameAttribute(NameOID.USER_ID, PASS_TYPE),
                         x509.NameAttribute(NameOID.COMMON_NAME, "EC pass"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, TEAM)])
    leaf = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(start).not_valid_after(end)
            .sign(ca_key, hashes.SHA256()))
    root = tmp_path / "ec-root.pem"
    root.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return AppleSigner(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, certificate=leaf, key=key,
                       wwdr=ca), root


def test_ec_signer_signature_verifies_with_openssl(tmp_path: Path) -> None:
    signer, root = _ec_signer(tmp_path)
    manifest = b'{"a":"b"}'
    signature = sign_manifest_at(manifest, signer, at=AT)
    result = openssl_verify({"manifest.json": manifest, "signature": signature}, root, tmp_path)
    assert result.returncode == 0, result.stderr
    tampered = openssl_verify({"manifest.json": b'{"a":"c"}', "signature": signature}, root, tmp_path)
    assert tampered.returncode != 0


def test_templates_are_per_signer_and_hold_no_key(signer: AppleSigner, tmp_path: Path) -> None:
    other, _ = _ec_signer(tmp_path)
    assert cms_template(signer) is cms_template(signer)
    assert cms_template(other) != cms_template(signer)
    assert "PRIVATE" not in repr(cms_template(signer)) and "Key" not in repr(cms_template(signer))


def test_signing_time_past_2049_is_generalized_time() -> None:
    assert encode_time(datetime(2050, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == b"\x18\x0f20500102030405Z"
    minus_two = timezone(timedelta(hours=-2))  # 2049-12-31 23:00 at UTC-2 is 2050 in UTC
    assert encode_time(datetime(2049, 12, 31, 23, 0, tzinfo=minus_two)) == b"\x18\x0f20500101010000Z"
    assert encode_time(datetime(2049, 12, 31, 23, 0, tzinfo=timezone.utc)) == b"\x17\r491231230000Z"


# --- pass.json bytes and the zip writer ----------------------------------------------------

_json_scalars = (st.none() | st.booleans() | st.integers() | st.text()
                 | st.floats(allow_nan=False, allow_infinity=False))
_json = st.recursive(_json_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_pass_json_bytes_read_back_as_the_same_document(value: Any) -> None:
    data = pass_json_bytes({"v": value})
    assert json.loads(data.decode("utf-8")) == {"v": value}
    assert b"\n" not in data.replace(b"\\n", b"")  # compact: no layout whitespace


_names = st.text(alphabet="abcdéø印/._-@0123456789", min_size=1, max_size=20)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_names, st.binary(max_size=3000), min_size=1, max_size=8))
def test_assembled_zip_is_zip_bundle(files: dict[str, bytes]) -> None:
    entries = [make_entry(name, data) for name, data in files.items()]
    assert assemble_zip(entries) == zip_bundle(files)
    assert manifest_of(entries) == build_manifest(files)


# --- caches ------------------------------------------------------------------------------------

def test_entry_cache_is_keyed_by_content() -> None:
    cache = EntryCache()
    first = cache.entry("strip.png", bytes(b"abc" * 100))
    assert cache.entry("strip.png", bytes(bytearray(b"abc" * 100))) is first  # equal bytes, other object
    assert cache.entry("strip.png", b"abd" * 100) is not first  # other bytes, same name
    assert cache.entry("logo.png", b"abc" * 100).name == "logo.png"  # same bytes, other name
    assert cache.stats()["hits"] == 1


def test_entry_cache_stays_within_its_bounds() -> None:
    by_count = EntryCache(max_entries=3)
    for i in range(10):
        by_count.entry(f"f{i}", bytes([i]) * 10)
    assert by_count.stats()["entries"] == 3
    by_bytes = EntryCache(max_bytes=5000)
    for i in range(10):
        by_bytes.entry(f"f{i}", bytes([i]) * 1000)
    assert by_bytes.stats()["bytes"] <= 5000
    assert by_bytes.entry("huge", b"x" * 10000).name == "huge"  # too big to keep, still made
    assert by_bytes.stats()["bytes"] <= 5000


def test_entry_cache_is_safe_across_threads() -> None:
    cache = EntryCache(max_entries=8)
    datas = [bytes([i]) * 2000 for i in range(16)]
    wrong: list[str] = []

    def work(seed: int) -> None:
        for k in range(300):
            data = datas[(seed + k) % 16]
            if cache.entry("f", data) != make_entry("f", data):
                wrong.append(f"{seed}/{k}")

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == [] and cache.stats()["entries"] <= 8


def test_second_card_of_a_design_makes_entries_only_for_files_that_differ(signer: AppleSigner,
                                                                         options: AppleOptions) -> None:
    program = make_program()
    first, second = card_with(program, 7, serial="A-1"), card_with(program, 7, serial="A-2")
    before = build_pass_content(first, options=options, at=AT).files
    after = build_pass_content(second, options=options, at=AT).files
    changed = {name for name, data in after.items() if before.get(name) != data}
    assert not {name for name in changed if name.endswith(".png")}  # artwork is per design, not per card
    cache = EntryCache()
    render_pass(first, signer=signer, options=options, at=AT, cache=cache)
    misses = cache.stats()["misses"]
    render_pass(second, signer=signer, options=options, at=AT, cache=cache)
    assert cache.stats()["misses"] - misses == len(changed)  # every equal file was a hit


def test_pass_strings_are_rendered_once_per_text_content() -> None:
    assert render_pass_strings({"Stamps": "印章"}) is render_pass_strings({"Stamps": "印章"})
    direct = render_pass_strings.__wrapped__  # type: ignore[attr-defined]
    assert render_pass_strings({"Stamps": "Shtamplar"}) == direct({"Stamps": "Shtamplar"})


def test_memo_by_content_renders_unhashable_content_directly() -> None:
    seen: list[int] = []

    @memo_by_content(4)
    def render(entries: Any) -> bytes:
        seen.append(1)
        return b"ok"

    assert render({"a": ["unhashable"]}) == b"ok" and render({"a": ["unhashable"]}) == b"ok"
    assert len(seen) == 2


def test_a_forked_child_renders_with_the_inherited_caches(signer: AppleSigner, options: AppleOptions,
                                                          tmp_path: Path) -> None:
    import multiprocessing

    card = card_with(make_program(), 5)
    expected = render_pass(card, signer=signer, options=options, at=AT).pkpass
    out = tmp_path / "child.pkpass"

    def child() -> None:
        out.write_bytes(render_pass(card, signer=signer, options=options, at=AT).pkpass)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(60)
    assert process.exitcode == 0 and out.read_bytes() == expected


def test_memo_by_content_keys_on_further_options_too() -> None:
    @memo_by_content(4)
    def render(entries: Any, encoding: str = "utf-8") -> bytes:
        return "".join(entries.values()).encode(encoding)

    assert render({"a": "é"}) == "é".encode()
    assert render({"a": "é"}, encoding="utf-16") == "é".encode("utf-16")
    assert render({"a": "é"}, "utf-16") is render({"a": "é"}, "utf-16")


# --- issue 18: work per distinct text, not per card ------------------------------------------------


def test_a_second_card_of_a_design_measures_no_text_again(options: AppleOptions,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from walletvoucher.apple import _readability

    measured: list[str] = []
    real = _readability.text_width

    def counting(text: str, size: int, *, bold: bool = False) -> float:
        measured.append(text)
        return real(text, size, bold=bold)

    monkeypatch.setattr(_readability, "text_width", counting)
    _readability._width.cache_clear()
    _readability._widest_ascii.cache_clear()
    program = make_program()
    build_pass_content(card_with(program, 7, serial="A-1"), options=options, at=AT)
    assert measured  # the design's texts were measured once
    before = len(measured)
    second = attrs.evolve(card_with(program, 7, serial="A-2"), member_id="member-0000002")
    build_pass_content(second, options=options, at=AT)
    assert measured[before:] == []  # its own member id and serial needed no measuring
    assert _readability._width.cache_info().maxsize == 4096  # bounded


def test_pass_strings_are_the_same_bytes_for_every_card_of_a_design(options: AppleOptions) -> None:
    program = make_program()
    first = build_pass_content(card_with(program, 7, serial="A-1"), options=options, at=AT)
    second = build_pass_content(attrs.evolve(card_with(program, 7, serial="A-2"), member_id="member-2"),
                                options=options, at=AT)
    strings = [name for name in first.files if name.endswith("pass.strings")]
    assert strings and all(first.files[name] is second.files[name] for name in strings)
    # the per-card values are not in the files, and Wallet shows them as they are
    tables = lproj_tables(second.files)
    for lang in tables:
        shown = resolve(second.pass_json, tables, lang)
        assert shown["auxiliaryFields.member.value"] == "member-2"
        assert shown["headerFields.stamps.value"] == "7/10"
    assert all("member-2" not in table and "A-2" not in table for table in tables.values())


def test_pass_strings_lines_are_remembered_within_a_bound() -> None:
    from walletvoucher.apple import _strings

    assert _strings._remembered_line.cache_info().maxsize == 8192
    long = "x" * (_strings._MEMO_LINE + 1)
    before = _strings._remembered_line.cache_info().currsize
    assert parse_strings(render_pass_strings.__wrapped__({"k": long})) == {"k": long}  # type: ignore[attr-defined]
    assert _strings._remembered_line.cache_info().currsize == before  # a long text is not held
