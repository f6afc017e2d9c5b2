"""Signed Self-Redeem links: appended by both renderers, and by ``serve`` only for links to its own pages.

Also the program file's ``[join]`` table. The signature is checked with :mod:`hmac` directly (an
independent computation of the documented construction), not with the key object that made it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import attrs
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from walletvoucher import StampCard
from walletvoucher.apple import AppleOptions, AppleSigner, render_pkpass
from walletvoucher.codes import RedeemLinkKey
from walletvoucher.errors import ProgramFileError, ServiceConfigError
from walletvoucher.google import GoogleOptions, ServiceAccountCredentials, offer_object
from walletvoucher.programfile import load_program_file
from walletvoucher.service._config import load_config
from walletvoucher.service._join import JoinSettings, google_links
from walletvoucher.service._serve import build_configured

from .conftest import NOW, PASS_TYPE, TEAM, coffee_program

SECRET = b"a-link-key-secret-of-32-bytes-or-more"


def expected_signature(serial: str) -> str:
    digest = hmac.new(SECRET, b"walletvoucher/redeem-link/1\x00" + serial.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def reward_card() -> StampCard:
    program = attrs.evolve(coffee_program(), goal=1)
    card, _ = StampCard.issue(program, serial="CARD-7", member_id="m-7", at=NOW)
    return card.add_stamps(1, at=NOW).card


def test_apple_passes_carry_the_signed_redeem_link(signer: AppleSigner) -> None:
    options = AppleOptions(
        pass_type_identifier=PASS_TYPE,
        team_identifier=TEAM,
        redeem_link="https://shop.example/redeem/{serial}",
        redeem_link_key=RedeemLinkKey(SECRET),
    )
    card = reward_card()
    voucher = card.vouchers[0]
    with zipfile.ZipFile(io.BytesIO(render_pkpass(card, signer=signer, options=options, at=NOW))) as bundle:
        text = bundle.read("pass.json").decode()
    assert f"https://shop.example/redeem/{voucher.serial}?sig={expected_signature(voucher.serial)}" in text
    assert repr(RedeemLinkKey(SECRET)) == "RedeemLinkKey(<secret>)" and "link-key" not in repr(options)


def test_google_offers_carry_the_signed_redeem_link() -> None:
    card = reward_card()
    voucher = card.vouchers[0]
    options = GoogleOptions(
        issuer_id="3388000000012345678",
        origins=["https://shop.example"],
        logo_url="https://shop.example/logo.png",
        redeem_link_template="https://shop.example/redeem/{serial}",
        redeem_link_key=RedeemLinkKey(SECRET),
    )
    body = offer_object(voucher, card.program, options, at=NOW)
    uri = body["linksModuleData"]["uris"][0]["uri"]
    assert parse_qs(urlsplit(uri).query) == {"sig": [expected_signature(voucher.serial)]}


def test_a_guessed_signature_is_refused() -> None:
    key = RedeemLinkKey(SECRET)
    good = expected_signature("CARD-7-1")
    assert key.verify("CARD-7-1", good)
    assert not key.verify("CARD-7-2", good)
    assert not key.verify("CARD-7-1", good[:-1] + ("A" if good[-1] != "A" else "B"))
    assert not key.verify("CARD-7-1", None) and not key.verify("CARD-7-1", "x" * 10_000)


def _env(chain_files: dict[str, Path], **extra: str) -> dict[str, str]:
    return {
        "WALLETVOUCHER_PASS_TYPE_IDENTIFIER": PASS_TYPE,
        "WALLETVOUCHER_TEAM_IDENTIFIER": TEAM,
        "WALLETVOUCHER_PUBLIC_URL": "https://wallet.example.com",
        "WALLETVOUCHER_TOKEN_SECRET": "s" * 40,
        "WALLETVOUCHER_CERTIFICATE": str(chain_files["certificate"]),
        "WALLETVOUCHER_KEY": str(chain_files["key"]),
        "WALLETVOUCHER_WWDR": str(chain_files["wwdr"]),
        **extra,
    }


@pytest.mark.parametrize(
    ("redeem_link", "signed"),
    [
        (None, True),  # serve's own page by default
        ("https://wallet.example.com/redeem/{serial}", True),
        ("https://elsewhere.example/r/{serial}", False),  # not ours: no signature of ours
    ],
)
def test_serve_signs_only_links_to_its_own_pages(
    chain_files: dict[str, Path], tmp_path: Path, redeem_link: str | None, signed: bool
) -> None:
    extra = {"WALLETVOUCHER_REDEEM_LINK": redeem_link} if redeem_link else {}
    served = build_configured(
        load_config(None, _env(chain_files, **extra)),
        at=NOW,
        db=f"sqlite:///{tmp_path / 'w.db'}",
        programs=[coffee_program()],
    )
    try:
        assert served.link_key is not None and len(served.page_secret) == 32
        link = _rendered_link(served)
        assert ("?sig=" + served.link_key.signature("CARD-1-1") in link) is signed, link
        assert link.startswith(
            redeem_link.split("{")[0] if redeem_link else "https://wallet.example.com/redeem/"
        )
    finally:
        served.wallets.close()


def _rendered_link(served: object) -> str:
    from walletvoucher.service import PassTokens, ServiceRequest

    wallet = served.wallets()  # type: ignore[attr-defined]
    wallet.issue_card("coffee", serial="CARD-1", member_id="m-1", at=NOW)
    voucher = wallet.stamp("CARD-1", 10, at=NOW).vouchers[0]
    token = PassTokens(b"s" * 40).token_for(voucher.serial)
    answer = served.service.handle(
        ServiceRequest(  # type: ignore[attr-defined]
            method="GET",
            path=f"/v1/passes/{PASS_TYPE}/{voucher.serial}",
            headers={"authorization": f"ApplePass {token}"},
        ),
        at=NOW,
    )
    with zipfile.ZipFile(io.BytesIO(answer.body)) as bundle:
        doc = json.loads(bundle.read("pass.json"))
    return next(f["value"] for f in doc["coupon"]["backFields"] if f["key"] == "redeem_link")


def test_google_links_fall_back_to_the_object_alone_when_the_class_does_not_fit() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    credentials = ServiceAccountCredentials(
        client_email="w@p.iam.gserviceaccount.com", private_key=key, private_key_id="k1"
    )
    options = GoogleOptions(
        issuer_id="3388000000012345678",
        origins=["https://shop.example"],
        logo_url="https://shop.example/" + "l" * 1500 + ".png",
    )
    card, _ = StampCard.issue(coffee_program(), serial="CARD-8", member_id="m-8", at=NOW)
    url = google_links(credentials, lambda program: options)(card, NOW)
    assert url is not None
    claims = jwt.decode(url.rsplit("/", 1)[1], key.public_key(), algorithms=["RS256"], audience="google")
    assert "loyaltyClasses" not in claims["payload"] and claims["payload"]["loyaltyObjects"][0][
        "id"
    ].endswith("CARD-8")


# --- the program file's [join] table ----------------------------------------------------------------

PROGRAM = """
[program]
id = "coffee"
name = "Coffee card"
goal = 10
redemption = "self_redeem"

[brand]
name = "Kahve"
foreground = "#FFFFFF"
background = "#1E3A5F"
label = "#F2C14E"

[reward]
title = "Free coffee"
description = "Any size"
"""


def test_a_program_file_says_what_the_join_page_asks(tmp_path: Path) -> None:
    path = tmp_path / "coffee.toml"
    path.write_text(
        PROGRAM + '\n[join]\nask = ["name", "email"]\nconsent = { default = "We e-mail you.", '
        'zh-Hans = "我们会给您发邮件。" }\n',
        encoding="utf-8",
    )
    join = load_program_file(path).join
    assert join is not None and join.ask == ("name", "email") and join.consent is not None
    assert join.consent.get("zh-Hans") == "我们会给您发邮件。"
    path.write_text(PROGRAM, encoding="utf-8")
    assert load_program_file(path).join is None  # nothing asked by default


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ('ask = ["address"]\nconsent = "x"', "ask"),
        ('ask = ["email"]', "consent"),
        ('ask = "email"', "ask"),
        ('asks = ["email"]', "asks"),
    ],
)
def test_a_bad_join_table_names_the_key(tmp_path: Path, table: str, match: str) -> None:
    path = tmp_path / "coffee.toml"
    path.write_text(PROGRAM + "\n[join]\n" + table + "\n", encoding="utf-8")
    with pytest.raises(ProgramFileError, match=match):
        load_program_file(path)


def test_join_settings_need_a_consent_line_when_they_ask() -> None:
    with pytest.raises(ServiceConfigError, match="consent"):
        JoinSettings(ask=("phone",))


@pytest.mark.parametrize("text", ["30", "0/60", "30/0", "a/b", "1000000/1", " 3 / 4 "])
def test_a_bad_rate_names_the_option(text: str) -> None:
    from walletvoucher.service._limits import Rate

    with pytest.raises(ServiceConfigError, match="--join-rate"):
        Rate.parse(text, field="--join-rate")


def test_serve_refuses_a_bad_rate_before_serving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from walletvoucher.cli import main

    status = main(["serve", "--state-dir", str(tmp_path), "--join-rate", "lots"])
    assert status == 2 and "--join-rate='lots'" in capsys.readouterr().err


def test_google_redeem_links_point_at_the_servers_signed_pages() -> None:
    from walletvoucher.service._serve import served_google_options

    key = RedeemLinkKey(SECRET)
    base = GoogleOptions(issuer_id="3388000000012345678", origins=["https://shop.example"],
                         logo_url="https://shop.example/logo.png")
    served = served_google_options(base, public_url="https://wallet.example.com/", link_key=key)
    assert served.redeem_link_template == "https://wallet.example.com/redeem/{serial}"
    assert served.redeem_link_key is key
    elsewhere = attrs.evolve(base, redeem_link_template="https://other.example/r/{serial}")
    assert served_google_options(elsewhere, public_url="https://wallet.example.com", link_key=key) \
        .redeem_link_key is None
