"""Save links: RS256 JWTs checked with PyJWT against the service account's public key, the
1800-character rule, the REST fallback and offline verification."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import attrs
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.google.conftest import AT, CLIENT_ID, ISSUER, make_card, make_options, make_program, make_voucher
from tests.google.discovery import schema_errors
from tests.google.fake_wallet_api import FakeWalletApi
from walletvoucher.errors import (
    GoogleOptionsError,
    RecommendedLengthWarning,
    SaveLinkInvalid,
    SaveLinkTooLong,
)
from walletvoucher.google import (
    MAX_LINK_LENGTH,
    SAVE_URL_PREFIX,
    LinkMode,
    ReviewStatus,
    ServiceAccountCredentials,
    WalletRestClient,
    _verify,
    save_link,
    sign_save_jwt,
    verify_save_link,
)
from walletvoucher.model import Brand, LocalizedText, RedemptionMethod, VoucherStatus


def _decode(url: str, credentials: ServiceAccountCredentials) -> dict[str, Any]:
    assert url.startswith(SAVE_URL_PREFIX)
    token = url[len(SAVE_URL_PREFIX) :]
    claims: dict[str, Any] = jwt.decode(
        token,
        credentials.public_key(),
        algorithms=["RS256"],
        audience="google",
        options={"verify_iat": False},
    )
    return claims


def _short_card() -> Any:
    return make_card(make_program(multilingual=False), stamps=3)


def test_short_link_carries_class_and_object_and_verifies_with_pyjwt(
    credentials: ServiceAccountCredentials,
) -> None:
    link = save_link(_short_card(), credentials=credentials, options=make_options(), at=AT)
    assert link.mode is LinkMode.FULL
    assert link.length == len(link.url) <= MAX_LINK_LENGTH
    claims = _decode(link.url, credentials)
    assert claims["iss"] == "wallet@wallet-demo.iam.gserviceaccount.com"
    assert claims["aud"] == "google"
    assert claims["typ"] == "savetowallet"
    assert claims["iat"] == int(AT.timestamp()) and type(claims["iat"]) is int
    assert claims["origins"] == ["https://shop.example.com"]
    assert schema_errors(claims["payload"], "Resources") == []
    assert claims["payload"]["loyaltyObjects"][0]["loyaltyPoints"]["balance"]["string"] == "3/10"
    assert claims["payload"]["loyaltyClasses"][0]["id"] == f"{ISSUER}.coffee"
    header = jwt.get_unverified_header(link.jwt)
    assert header == {"alg": "RS256", "kid": credentials.private_key_id, "typ": "JWT"}


def test_same_input_and_clock_give_the_same_token(credentials: ServiceAccountCredentials) -> None:
    first = save_link(_short_card(), credentials=credentials, options=make_options(), at=AT)
    again = save_link(_short_card(), credentials=credentials, options=make_options(), at=AT)
    assert first.jwt == again.jwt
    payload = first.jwt.split(".")[1]
    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8")
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_voucher_link_is_an_offer_pass(credentials: ServiceAccountCredentials) -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE, multilingual=False)
    link = save_link(
        make_voucher(program), program=program, credentials=credentials, options=make_options(), at=AT
    )
    claims = _decode(link.url, credentials)
    assert set(claims["payload"]) == {"offerClasses", "offerObjects"}
    assert schema_errors(claims["payload"], "Resources") == []


def test_voucher_link_needs_its_program(credentials: ServiceAccountCredentials) -> None:
    program = make_program(multilingual=False)
    with pytest.raises(GoogleOptionsError, match="program"):
        save_link(make_voucher(program), credentials=credentials, options=make_options(), at=AT)


def test_over_long_link_without_rest_raises_with_length_and_remedy(
    credentials: ServiceAccountCredentials,
) -> None:
    card = make_card(make_program(RedemptionMethod.STAFF_SCAN), stamps=7)
    with pytest.raises(SaveLinkTooLong) as caught:
        save_link(card, credentials=credentials, options=make_options(), at=AT)
    message = str(caught.value)
    assert "1800" in message and "characters" in message
    assert "rest=WalletRestClient" in message
    length = int(message.split(" is ")[1].split(" characters")[0])
    assert length > MAX_LINK_LENGTH


def test_over_long_link_with_rest_inserts_class_and_object_and_signs_only_the_id(
    credentials: ServiceAccountCredentials,
    rest: WalletRestClient,
    fake_api: FakeWalletApi,
) -> None:
    card = make_card(make_program(RedemptionMethod.STAFF_SCAN), stamps=7)
    link = save_link(card, credentials=credentials, options=make_options(), at=AT, rest=rest)
    assert link.mode is LinkMode.BY_ID
    assert link.length <= MAX_LINK_LENGTH
    object_id = f"{ISSUER}.coffee.card.card-0001"
    assert _decode(link.url, credentials)["payload"] == {"loyaltyObjects": [{"id": object_id}]}
    assert f"{ISSUER}.coffee" in fake_api.store["loyaltyClass"]
    assert fake_api.store["loyaltyObject"][object_id]["loyaltyPoints"]["balance"]["string"] == "7/10"
    again = save_link(card, credentials=credentials, options=make_options(), at=AT, rest=rest)
    assert again.jwt == link.jwt  # the second run updates instead of failing on 409


def test_rest_path_replaces_the_class_so_a_text_a_revision_dropped_leaves_it(
    credentials: ServiceAccountCredentials, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    # issue 18: the class was patched, so the zh-Hans name a revision removed was still shown
    program = make_program(RedemptionMethod.STAFF_SCAN)
    save_link(make_card(program), credentials=credentials, options=make_options(), at=AT, rest=rest)
    class_id = f"{ISSUER}.coffee"
    assert "localizedProgramName" in fake_api.store["loyaltyClass"][class_id]
    revised = program.revise(name="Coffee card")
    link = save_link(make_card(revised), credentials=credentials, options=make_options(), at=AT, rest=rest)
    assert link.mode is LinkMode.BY_ID
    stored = fake_api.store["loyaltyClass"][class_id]
    assert "localizedProgramName" not in stored and stored["programName"] == "Coffee card"
    assert "localizedIssuerName" in stored  # what the revision still translates stays


def test_rest_path_replaces_an_existing_object_with_the_current_state(
    credentials: ServiceAccountCredentials, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE)
    open_voucher = make_voucher(program)
    ready = make_card(program, stamps=2, vouchers=(open_voucher,))
    save_link(ready, credentials=credentials, options=make_options(), at=AT, rest=rest)
    object_id = f"{ISSUER}.coffee.card.card-0001"
    assert "secondaryLoyaltyPoints" in fake_api.store["loyaltyObject"][object_id]
    redeemed = make_card(program, stamps=2, vouchers=(make_voucher(program, status=VoucherStatus.REDEEMED),))
    save_link(redeemed, credentials=credentials, options=make_options(), at=AT, rest=rest)
    stored = fake_api.store["loyaltyObject"][object_id]
    assert "secondaryLoyaltyPoints" not in stored  # a patch would have kept the earned-rewards row
    assert stored["barcode"]["value"] == "card-0001"


def test_issuer_id_that_is_the_client_id_is_refused(credentials: ServiceAccountCredentials) -> None:
    with pytest.raises(GoogleOptionsError, match="client_id"):
        save_link(_short_card(), credentials=credentials, options=make_options(issuer_id=CLIENT_ID), at=AT)


def test_verify_accepts_a_good_link(credentials: ServiceAccountCredentials) -> None:
    link = save_link(_short_card(), credentials=credentials, options=make_options(), at=AT)
    report = verify_save_link(link.url, key=credentials)
    assert report.ok, report.problems
    assert report.schema_checked
    assert report.url_length == link.length
    assert report.lines()[0].startswith("OK")


def test_verify_rejects_another_key(credentials: ServiceAccountCredentials) -> None:
    link = save_link(_short_card(), credentials=credentials, options=make_options(), at=AT)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    report = verify_save_link(link.url, key=other)
    assert not report.ok
    assert "InvalidSignatureError" in report.problems[0]
    with pytest.raises(SaveLinkInvalid, match="InvalidSignatureError"):
        report.raise_for_problems()


def test_verify_rejects_a_tampered_payload(credentials: ServiceAccountCredentials) -> None:
    link = save_link(_short_card(), credentials=credentials, options=make_options(), at=AT)
    head, body, sig = link.jwt.split(".")
    forged = f"{SAVE_URL_PREFIX}{head}.{body[:-2]}AA.{sig}"
    assert not verify_save_link(forged, key=credentials).ok


def _forge(credentials: ServiceAccountCredentials, claims: dict[str, Any], kid: str | None = "k") -> str:
    headers = {"kid": kid} if kid else {}
    return SAVE_URL_PREFIX + jwt.encode(claims, credentials.private_key, algorithm="RS256", headers=headers)


def test_verify_reports_wrong_claims_and_unknown_fields(credentials: ServiceAccountCredentials) -> None:
    claims = {
        "iss": "someone@else.iam.gserviceaccount.com",
        "aud": "google",
        "typ": "jwt",
        "iat": 1.5,
        "origins": [],
        "payload": {"loyaltyObjects": [{"id": "1.a", "colour": "#fff", "version": 3}]},
    }
    report = verify_save_link(_forge(credentials, claims, kid=None), key=credentials)
    text = "\n".join(report.problems)
    for expected in (
        "header.kid",
        "claims.typ",
        "claims.iat",
        "claims.iss",
        "claims.origins",
        "colour: unknown field",
        "version: int64",
    ):
        assert expected in text


def test_verify_reports_over_long_links(credentials: ServiceAccountCredentials) -> None:
    claims = {
        "iss": credentials.client_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": 1,
        "origins": ["https://a.example"],
        "payload": {"loyaltyObjects": [{"id": "1." + "x" * 2000}]},
    }
    report = verify_save_link(_forge(credentials, claims, kid=credentials.private_key_id), key=credentials)
    assert any(p.startswith("length:") for p in report.problems)


def test_verify_says_when_the_schema_check_was_skipped(
    credentials: ServiceAccountCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_verify, "find_discovery_document", lambda: None)
    link = save_link(_short_card(), credentials=credentials, options=make_options(), at=AT)
    report = verify_save_link(link.url, key=credentials)
    assert report.ok and not report.schema_checked
    assert "not checked" in report.notes[0]


def test_draft_review_status_is_refused_in_save_links(credentials: ServiceAccountCredentials) -> None:
    with pytest.raises(GoogleOptionsError, match="draft class") as caught:
        draft = make_options(review_status=ReviewStatus.DRAFT)
        save_link(_short_card(), credentials=credentials, options=draft, at=AT)
    assert caught.value.field == "review_status" and "UNDER_REVIEW" in str(caught.value)


def test_short_texts_give_no_length_warning(credentials: ServiceAccountCredentials) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecommendedLengthWarning)
        link = save_link(_short_card(), credentials=credentials, options=make_options(), at=AT)
    assert link.warnings == ()


def test_texts_over_googles_recommended_lengths_warn_and_are_returned(
    credentials: ServiceAccountCredentials, rest: WalletRestClient
) -> None:
    program = make_program(
        multilingual=False,
        brand=Brand(
            name="The Grand Kahve Roastery", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"
        ),
        stamp_label=LocalizedText(default="Stamps", translations={"th": "แสตมป์สะสมแต้ม"}),
    )
    card = make_card(program, stamps=3)
    card = attrs.evolve(card, member_id="member-0000000000000042")
    with pytest.warns(RecommendedLengthWarning) as caught:
        link = save_link(card, credentials=credentials, options=make_options(), at=AT, rest=rest)
    assert [str(w.message) for w in caught] == list(link.warnings)
    text = "\n".join(link.warnings)
    assert "issuerName: 'The Grand Kahve Roastery' is 24 characters" in text and "at most 20" in text
    assert "loyaltyPoints.label (th): 'แสตมป์สะสมแต้ม' is 14 characters" in text
    assert "accountId: 'member-0000000000000042' is 23 characters" in text
    assert "programName" not in text  # 'Coffee card' fits
    voucher = make_voucher(program)
    with pytest.warns(RecommendedLengthWarning):
        offer = save_link(
            voucher, program=program, credentials=credentials, options=make_options(), at=AT, rest=rest
        )
    provider = [w for w in offer.warnings if w.startswith("provider: 'The Grand Kahve Roastery'")]
    assert len(provider) == 1 and "at most 12" in provider[0]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


HOSTILE_LINKS: list[Any] = [
    SAVE_URL_PREFIX + "\ud800",
    SAVE_URL_PREFIX + "eyJ\udfff.e30.x",
    "\ud83d",
    SAVE_URL_PREFIX + "é.a.b",
    SAVE_URL_PREFIX + "\x1b[2J\x1b[31m.a.b",
    SAVE_URL_PREFIX + _b64(b"[" * 100_000) + ".e30.x",
    SAVE_URL_PREFIX + _b64(b'{"alg":"RS256"}') + "." + _b64(b"[1]") + ".x",
    SAVE_URL_PREFIX + _b64(b'{"alg":"RS256","kid":[1]}') + "." + _b64(b'{"iss":1}') + ".AAAA",
    SAVE_URL_PREFIX + "x" * 5_000_000,
    "",
    b"https://pay.google.com/gp/v/save/abc",
    None,
    12,
]


@pytest.mark.parametrize("url", HOSTILE_LINKS, ids=range(len(HOSTILE_LINKS)))
def test_verify_reports_what_it_cannot_read_instead_of_raising(
    credentials: ServiceAccountCredentials, url: Any
) -> None:
    report = verify_save_link(url, key=credentials)
    assert not report.ok
    for line in report.lines():
        assert line.isprintable() and line.encode("utf-8")  # safe to print: no ESC, no lone surrogate
        assert len(line) < 400


def test_lone_surrogate_is_named_with_its_position(credentials: ServiceAccountCredentials) -> None:
    report = verify_save_link(SAVE_URL_PREFIX + "abc\ud800", key=credentials)
    assert report.problems == (
        "url: character '\\ud800' at position 36 is not ASCII (a save link is base64url text)",
    )


def test_unknown_fields_in_a_signed_payload_are_quoted_escaped(
    credentials: ServiceAccountCredentials,
) -> None:
    claims = {
        "iss": credentials.client_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": 1,
        "origins": ["https://a.example"],
        "payload": {"loyaltyObjects": [{"id": "1.a", "\x1b[31mevil\ud800": 1}]},
    }
    token = jwt.encode(claims, credentials.private_key, algorithm="RS256", headers={"kid": "k"})
    report = verify_save_link(SAVE_URL_PREFIX + token, key=credentials)
    assert any("unknown field" in p and "\\x1b" in p for p in report.problems)
    assert all(line.isprintable() for line in report.lines())


# --- origins: https://host[:port] and nothing else ----------------------------------------------


@pytest.mark.parametrize(
    ("origin", "fix"),
    [
        ("https://shop.example/path", "'https://shop.example'"),
        ("https://shop.example?x=1", "'https://shop.example'"),
        ("https://shop.example#top", "'https://shop.example'"),
        ("https://shop.example/", "'https://shop.example'"),
        ("https://u@shop.example", "'https://shop.example'"),
        ("https://u:pw@shop.example:8443/a", "'https://shop.example:8443'"),
        ("https://Shop.Example", "'https://shop.example'"),
        ("https://shop.example:443", "'https://shop.example'"),
        ("https://shop.example:0", "e.g. 'https://shop.example.com'"),
        ("https://shop.example:99999", "e.g. 'https://shop.example.com'"),
        (" https://shop.example", "'https://shop.example'"),
        ("http://shop.example", "'https://shop.example'"),
        ("https://", "e.g. 'https://shop.example.com'"),
        ("shop.example", "e.g. 'https://shop.example.com'"),
        ("https://bücher.example", "punycode"),
        ("https://" + "a" * 5000 + ".example", "e.g. 'https://shop.example.com'"),
    ],
)
def test_an_origin_that_can_never_match_a_page_is_refused_with_the_origin_to_use(
    credentials: ServiceAccountCredentials, origin: str, fix: str
) -> None:
    # issue 18: such origins were accepted, and the save button silently did not show
    with pytest.raises(GoogleOptionsError) as caught:
        make_options(origins=("https://ok.example", origin))
    error = caught.value
    assert error.field == "origins" and error.fix is not None and fix in error.fix
    assert str(error).startswith(f"origins={origin!r}"[:150]) and len(str(error)) < 700   # long ones cut
    assert "web origin" in str(error)
    with pytest.raises(GoogleOptionsError, match="web origin"):
        sign_save_jwt({"loyaltyObjects": [{"id": f"{ISSUER}.c"}]}, credentials=credentials, origins=[origin],
                      at=AT)


@pytest.mark.parametrize("origin", ["https://shop.example.com", "https://shop.example.com:8443",
                                    "https://localhost:8443", "https://127.0.0.1", "https://[::1]:8443",
                                    "https://xn--bcher-kva.example"])
def test_web_origins_are_accepted(credentials: ServiceAccountCredentials, origin: str) -> None:
    assert make_options(origins=[origin]).origins == (origin,)
    token = sign_save_jwt({"loyaltyObjects": [{"id": f"{ISSUER}.c"}]}, credentials=credentials,
                          origins=[origin], at=AT)
    assert _decode(SAVE_URL_PREFIX + token, credentials)["origins"] == [origin]


@pytest.mark.parametrize("value", [42, None, (), [3]])
def test_origins_that_are_not_a_list_of_texts_are_refused(value: Any) -> None:
    with pytest.raises(GoogleOptionsError, match="origins"):
        make_options(origins=value)
