"""An AppleSigner built directly gets the checks load_apple_signer makes (issue 7, section 2).

Every certificate here is minted by the tests (mint_test_chain); the render clock decides validity.
"""

from __future__ import annotations

import ast
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.apple.helpers import AT, PASS_TYPE, SCAN_KEY, TEAM, card_with, make_program, ready_card
from walletvoucher._signers import check_dates
from walletvoucher.apple import AppleOptions, AppleSigner, TestChain, mint_test_chain, render_pass
from walletvoucher.apple._sign import sign_manifest
from walletvoucher.errors import (
    CertificateExpiredError,
    CertificateFormatError,
    CertificateNotYetValidError,
    KeyMismatchError,
    PassTypeMismatchError,
    ServiceAccountKeyError,
    ValidationError,
    WrongWWDRError,
)
from walletvoucher.keys import load_apple_signer, load_service_account
from walletvoucher.model import RedemptionMethod

SRC = Path(__file__).resolve().parents[2] / "src" / "walletvoucher"


def _signer(chain: TestChain, **changes: object) -> AppleSigner:
    kw: dict[str, object] = {
        "pass_type_identifier": PASS_TYPE, "team_identifier": TEAM,
        "certificate": chain.certificate, "key": chain.key, "wwdr": chain.wwdr,
    }
    kw.update(changes)
    return AppleSigner(**kw)  # type: ignore[arg-type]


def _options() -> AppleOptions:
    return AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM)


def test_direct_signer_with_the_g1_intermediate_is_refused(chain: TestChain) -> None:
    g1 = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT, wwdr_generation="G1")
    with pytest.raises(WrongWWDRError, match="WWDR G1 given, G4 needed"):
        _signer(chain, wwdr=g1.wwdr)


def test_direct_signer_with_a_same_name_wwdr_that_did_not_sign_is_refused(chain: TestChain) -> None:
    impostor = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT)
    with pytest.raises(WrongWWDRError, match="did not sign"):
        _signer(chain, wwdr=impostor.wwdr)


def test_direct_signer_with_the_key_of_another_certificate_is_refused(chain: TestChain) -> None:
    other = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT)
    with pytest.raises(KeyMismatchError, match="does not belong"):
        _signer(chain, key=other.key)


@pytest.mark.parametrize(
    ("field", "value"),
    [("pass_type_identifier", "pass.com.example.other"), ("team_identifier", "OTHER00001")],
)
def test_direct_signer_for_another_pass_type_or_team_is_refused(
    chain: TestChain, field: str, value: str
) -> None:
    with pytest.raises(PassTypeMismatchError, match=field):
        _signer(chain, **{field: value})


@pytest.mark.parametrize("field", ["certificate", "key", "wwdr"])
def test_direct_signer_with_something_that_is_not_key_material_is_refused(
    chain: TestChain, field: str
) -> None:
    with pytest.raises(CertificateFormatError, match=field):
        _signer(chain, **{field: b"-----BEGIN CERTIFICATE-----"})


def test_render_with_an_expired_certificate_is_refused_at_render_time() -> None:
    old = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                          at=AT - timedelta(days=400), valid_for=timedelta(days=365))
    signer = _signer(old)  # fits together: built without a clock
    with pytest.raises(CertificateExpiredError, match="expired on") as info:
        render_pass(card_with(make_program(), 1), signer=signer, options=_options(), at=AT)
    assert info.value.field == "certificate"
    assert not isinstance(info.value, CertificateNotYetValidError)


def test_render_before_the_certificate_is_valid_is_not_yet_valid_not_expired() -> None:
    future = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                             at=AT + timedelta(days=10), backdate=timedelta(days=1))
    with pytest.raises(CertificateNotYetValidError, match="not valid before") as info:
        render_pass(card_with(make_program(), 1), signer=_signer(future), options=_options(), at=AT)
    assert not isinstance(info.value, CertificateExpiredError)


def test_an_expired_wwdr_is_named(chain: TestChain) -> None:
    late = chain.wwdr.not_valid_after_utc + timedelta(seconds=1)
    with pytest.raises(CertificateExpiredError):  # the certificate ends first; both are checked
        _signer(chain).check_valid_at(late)
    with pytest.raises(CertificateExpiredError, match="wwdr"):
        check_dates(chain.wwdr, "wwdr", late)


def test_the_validity_check_uses_the_render_clock(chain: TestChain) -> None:
    signer = _signer(chain)
    render_pass(card_with(make_program(), 1), signer=signer, options=_options(), at=AT)
    with pytest.raises(CertificateExpiredError):
        sign_manifest(b"{}", signer, at=chain.certificate.not_valid_after_utc)


def test_naive_datetimes_in_keys_are_library_errors(chain: TestChain, chain_files: dict[str, Path]) -> None:
    naive = datetime(2026, 5, 7, 10, 30)
    with pytest.raises(ValidationError, match="at"):
        load_apple_signer(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=naive,
                          certificate=chain_files["certificate"], key=chain_files["key"],
                          wwdr=chain_files["wwdr"])
    with pytest.raises(ValidationError, match="timezone-aware"):
        _signer(chain).check_valid_at(naive)
    with pytest.raises(ValidationError):
        sign_manifest(b"{}", _signer(chain), at=naive)


def test_wrong_types_given_to_the_loaders_are_library_errors(chain_files: dict[str, Path]) -> None:
    with pytest.raises(CertificateFormatError, match="certificate"):
        load_apple_signer(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT,
                          certificate=12345, key=chain_files["key"], wwdr=chain_files["wwdr"])  # type: ignore[arg-type]
    with pytest.raises(CertificateFormatError, match="NUL"):
        load_apple_signer(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT,
                          certificate="a\0b", key=chain_files["key"], wwdr=chain_files["wwdr"])
    with pytest.raises(CertificateFormatError, match="password"):
        load_apple_signer(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT,
                          certificate=chain_files["certificate"], key=chain_files["key"],
                          wwdr=chain_files["wwdr"], password=1234)  # type: ignore[arg-type]
    with pytest.raises(ServiceAccountKeyError, match="service_account"):
        load_service_account(42)  # type: ignore[arg-type]


def test_service_account_file_that_is_not_utf8_or_too_deep(tmp_path: Path) -> None:
    bad = tmp_path / "sa.json"
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(ServiceAccountKeyError, match="cannot be read"):
        load_service_account(bad)
    bad.write_text("[" * 100_000)
    with pytest.raises(ServiceAccountKeyError, match="not JSON"):
        load_service_account(bad)


def test_rendered_pass_repr_hides_the_authentication_token_and_scan_token(chain: TestChain) -> None:
    token = "AUTH-TOKEN-0123456789abcdef"
    options = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, scan_key=SCAN_KEY,
                           web_service_url="https://example.com/passes", authentication_token=token)
    card, voucher = ready_card(make_program(RedemptionMethod.STAFF_SCAN))
    rendered = render_pass(voucher, signer=_signer(chain), options=options, at=AT + timedelta(minutes=3),
                           program=card.program)
    scan_token = rendered.pass_json["barcodes"][0]["message"]
    assert scan_token.startswith("wv1.")
    assert rendered.pass_json["authenticationToken"] == token
    text = repr(rendered)
    assert token not in text and scan_token not in text and "wv1." not in text
    assert voucher.serial in text


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("module", ["keys.py", "_signers.py"])
def test_key_loading_never_imports_a_renderer(module: str) -> None:
    found = {name for name in _imports(SRC / module) if name.startswith("walletvoucher.")}
    assert not {n for n in found if n.split(".")[1] in ("apple", "google", "demo")}, found


def test_key_holding_types_keep_their_public_import_paths() -> None:
    import walletvoucher._signers as signers
    import walletvoucher.apple as apple
    import walletvoucher.apple._sign as apple_sign
    import walletvoucher.google as google
    import walletvoucher.google._credentials as google_credentials

    assert apple.AppleSigner is apple_sign.AppleSigner is signers.AppleSigner
    assert google.ServiceAccountCredentials is google_credentials.ServiceAccountCredentials
    assert google_credentials.ServiceAccountCredentials is signers.ServiceAccountCredentials
    assert google_credentials.GOOGLE_TOKEN_URI == "https://oauth2.googleapis.com/token"
