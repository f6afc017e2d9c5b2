"""Save links for a class already inserted: the JWT carries only the object (which names its class),
so a five-language program's links fit in 1800 characters. Checked with PyJWT, the discovery
document and ``verify_save_link``; the demo's fifteen links measured."""

from __future__ import annotations

from typing import Any

import attrs
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.google.conftest import AT, ISSUER, make_card, make_options, make_program, make_voucher
from tests.google.discovery import schema_errors
from tests.google.fake_wallet_api import FakeWalletApi
from walletvoucher.demo import build_story
from walletvoucher.demo._google import DEMO_OPTIONS
from walletvoucher.errors import SaveLinkTooLong
from walletvoucher.google import (
    MAX_LINK_LENGTH,
    LinkMode,
    Resource,
    ScanDisplay,
    ServiceAccountCredentials,
    WalletRestClient,
    loyalty_class,
    save_link,
    verify_save_link,
)
from walletvoucher.google._recipe import render_pieces
from walletvoucher.model import RedemptionMethod


def _claims(token: str, credentials: ServiceAccountCredentials) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        credentials.public_key(),
        algorithms=["RS256"],
        audience="google",
        options={"verify_iat": False},
    )
    return claims


def test_five_language_card_link_fits_once_the_class_exists(credentials: ServiceAccountCredentials) -> None:
    card = make_card(make_program(), stamps=7)
    with pytest.raises(SaveLinkTooLong):
        save_link(card, credentials=credentials, options=make_options(), at=AT)
    link = save_link(card, credentials=credentials, options=make_options(), at=AT, class_exists=True)
    assert link.mode is LinkMode.OBJECT and link.length <= MAX_LINK_LENGTH
    payload = _claims(link.jwt, credentials)["payload"]
    assert set(payload) == {"loyaltyObjects"}
    [obj] = payload["loyaltyObjects"]
    assert obj["classId"] == f"{ISSUER}.coffee" and obj["loyaltyPoints"]["balance"] == {"string": "7/10"}
    assert schema_errors(obj, "LoyaltyObject") == []
    assert verify_save_link(link.url, key=credentials).ok


def test_voucher_link_carries_only_the_offer_object(credentials: ServiceAccountCredentials) -> None:
    program = make_program(RedemptionMethod.REDEEM_CODE)
    voucher = make_voucher(program)
    link = save_link(
        voucher, credentials=credentials, options=make_options(), at=AT, program=program, class_exists=True
    )
    payload = _claims(link.jwt, credentials)["payload"]
    assert set(payload) == {"offerObjects"} and link.mode is LinkMode.OBJECT
    assert schema_errors(payload["offerObjects"][0], "OfferObject") == []


def _long_options() -> Any:
    return make_options(
        hero_image_url_template="https://cdn.example.com/" + "s" * 1500 + "/{stamps}-{goal}.png"
    )


def test_an_object_too_long_alone_without_rest_says_so(credentials: ServiceAccountCredentials) -> None:
    card = make_card(make_program(), stamps=7)
    with pytest.raises(SaveLinkTooLong, match=r"card\.card-0001 is \d+ characters"):
        save_link(card, credentials=credentials, options=_long_options(), at=AT, class_exists=True)


def test_an_object_too_long_alone_falls_back_to_the_by_id_path(
    credentials: ServiceAccountCredentials, rest: WalletRestClient, fake_api: FakeWalletApi
) -> None:
    program = make_program()
    card = make_card(program, stamps=7)
    options = _long_options()
    rest.insert(Resource.LOYALTY_CLASS, loyalty_class(program, options))
    link = save_link(card, credentials=credentials, options=options, at=AT, rest=rest, class_exists=True)
    assert link.mode is LinkMode.BY_ID
    assert _claims(link.jwt, credentials)["payload"] == {
        "loyaltyObjects": [{"id": f"{ISSUER}.coffee.card.card-0001"}]
    }
    assert [m for m, p, _ in fake_api.requests if "loyaltyClass" in p] == ["POST"]  # the class left alone
    assert (
        schema_errors(fake_api.store["loyaltyObject"][f"{ISSUER}.coffee.card.card-0001"], "LoyaltyObject")
        == []
    )


def test_the_demos_links_all_fit_once_the_class_exists() -> None:
    """The figure for the issue: of the demo's 15 links, 1 fits with its class, all without it; the
    Staff-Scan voucher with its rotating code is the one that always goes by id (its key stays out)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    credentials = ServiceAccountCredentials(
        client_email="walletvoucher-demo@walletvoucher-demo.iam.gserviceaccount.com",
        private_key_id="0" * 40,
        private_key=key,
    )
    full, alone, by_id = [], [], 0
    for item in build_story().items:
        options = attrs.evolve(DEMO_OPTIONS, scan_key=item.scan_key)
        target = item.voucher if item.kind == "voucher" and item.voucher is not None else item.card
        pieces = render_pieces(target, options=options, at=item.at, program=item.card.program)
        if pieces.holds_secret:
            by_id += 1
            pieces = render_pieces(target, options=attrs.evolve(options, scan_display=ScanDisplay.STATIC),
                                   at=item.at, program=item.card.program)
        full.append(pieces.link(credentials, options, item.at, by_id=False).length)
        alone.append(pieces.link(credentials, options, item.at, by_id=False, with_class=False).length)
    assert len(full) == 15 and by_id == 1
    assert sum(n <= MAX_LINK_LENGTH for n in full) == 1
    assert sum(n <= MAX_LINK_LENGTH for n in alone) == 15
    assert max(alone) < 1800 < min(n for n in full if n > MAX_LINK_LENGTH)
