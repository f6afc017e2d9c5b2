"""Every pass style and state signs so that openssl verifies it and every manifest hash matches."""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import timedelta
from pathlib import Path

import pytest

from tests.apple.helpers import AT, card_with, make_program, openssl_verify, ready_card, unzip
from walletvoucher.apple import (
    AppleOptions,
    AppleSigner,
    TestChain,
    check_pass_json,
    render_pass,
    verify_pkpass,
)
from walletvoucher.apple._bundle import ZIP_TIMESTAMP
from walletvoucher.codes import Symbology
from walletvoucher.model import RedemptionMethod, SelfRedeem, StampCard, Voucher

LATER = AT + timedelta(minutes=5)


def _cases() -> list[tuple[str, StampCard | Voucher, StampCard]]:
    out: list[tuple[str, StampCard | Voucher, StampCard]] = []
    base = make_program()
    for stamps in (0, 7, 9):
        card = card_with(base, stamps)
        out.append((f"card-{stamps}", card, card))
    for method in RedemptionMethod:
        program = make_program(method)
        card, voucher = ready_card(program)
        out.append((f"ready-{method.value}", card, card))
        out.append((f"coupon-{method.value}", voucher, card))
    for symbology in Symbology:
        program = make_program(RedemptionMethod.REDEEM_CODE, symbology)
        card, voucher = ready_card(program)
        out.append((f"coupon-{symbology.value}", voucher, card))
    program = make_program(RedemptionMethod.SELF_REDEEM)
    card, voucher = ready_card(program)
    after = card.redeem(voucher.serial, SelfRedeem(), at=LATER)
    out.append(("card-after-redemption", after.card, after.card))
    out.append(("coupon-redeemed", after.voucher, card))
    voided = card.void_voucher(voucher.serial, "refund", at=LATER)
    out.append(("coupon-voided", voided.voucher, card))
    return out


CASES = _cases()


@pytest.mark.parametrize(("name", "item", "card"), CASES, ids=[c[0] for c in CASES])
def test_every_style_and_state_verifies_with_openssl(
    name: str, item: StampCard | Voucher, card: StampCard, signer: AppleSigner, options: AppleOptions,
    chain_files: dict[str, Path], chain: TestChain, tmp_path: Path,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rendered = render_pass(item, signer=signer, options=options, at=LATER, program=card.program)
    files = unzip(rendered.pkpass)
    result = openssl_verify(files, chain_files["root"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    manifest = json.loads(files["manifest.json"])
    listed = {n for n in files if n not in ("manifest.json", "signature")}
    assert set(manifest) == listed
    for file_name in listed:
        assert manifest[file_name] == hashlib.sha1(files[file_name]).hexdigest()
    assert check_pass_json(json.loads(files["pass.json"])) == []
    report = verify_pkpass(rendered.pkpass, ca=[chain.root], at=LATER)
    assert report.ok, str(report)


def test_same_input_and_clock_give_the_same_bytes_except_the_signature(
    signer: AppleSigner, options: AppleOptions
) -> None:
    card = card_with(make_program(), 7)
    one = unzip(render_pass(card, signer=signer, options=options, at=AT).pkpass)
    two = unzip(render_pass(card, signer=signer, options=options, at=AT).pkpass)
    one.pop("signature")
    two.pop("signature")
    assert one == two


def test_zip_entries_are_sorted_with_fixed_timestamps(signer: AppleSigner, options: AppleOptions) -> None:
    import io
    import zipfile

    data = render_pass(card_with(make_program(), 3), signer=signer, options=options, at=AT).pkpass
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {ZIP_TIMESTAMP}


def test_signature_is_detached_der_with_the_wwdr_certificate(
    signer: AppleSigner, options: AppleOptions, chain_files: dict[str, Path], tmp_path: Path
) -> None:
    import subprocess

    files = unzip(render_pass(card_with(make_program(), 1), signer=signer, options=options, at=AT).pkpass)
    assert files["signature"][:1] == b"\x30"  # DER, not PEM/S-MIME
    (tmp_path / "sig").write_bytes(files["signature"])
    sig = str(tmp_path / "sig")
    dump = subprocess.run(["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", sig],
                          capture_output=True, text=True, check=True).stdout
    assert "eContent: <ABSENT>" in dump  # detached
    assert "signingTime" in dump
    assert "sha256" in dump
    certs = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-print_certs", "-in", sig],
                           capture_output=True, text=True, check=True).stdout
    assert "Worldwide Developer Relations" in certs


def test_signer_repr_never_shows_the_key(signer: AppleSigner) -> None:
    text = repr(signer)
    assert "key" not in text.replace("pass_type_identifier", "")
    assert "PRIVATE" not in text


def test_signer_for_another_pass_type_is_refused(signer: AppleSigner) -> None:
    from walletvoucher.errors import AppleError

    other = AppleOptions(pass_type_identifier="pass.com.example.other", team_identifier="TEAMID1234")
    with pytest.raises(AppleError, match="pass_type_identifier"):
        render_pass(card_with(make_program(), 1), signer=signer, options=other, at=AT)
