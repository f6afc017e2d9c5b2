"""Google's save/delete callbacks: signed here the way Google signs them (ECv2SigningOnly, written
independently of the library from Google's payment-token cryptography guide), then verified."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.google.callback_signing import MS, NOW, Google
from tests.google.conftest import ISSUER
from walletvoucher.errors import GoogleCallbackInvalid
from walletvoucher.google import GoogleCallback, verify_callback


@pytest.fixture(scope="module")
def google() -> Google:
    return Google(ISSUER)


@pytest.mark.parametrize(("event", "expected"), [("save", "card_saved"), ("del", "card_removed")])
def test_a_signed_callback_says_which_card_was_saved_or_removed(
    google: Google, event: str, expected: str
) -> None:
    found = verify_callback(google.callback(event), issuer_id=ISSUER, root_keys=google.keys(), at=NOW)
    assert found == GoogleCallback(
        event=expected, class_id=f"{ISSUER}.coffee", object_id=f"{ISSUER}.coffee.card.C1", nonce="n-1",
        expires_at=NOW + timedelta(seconds=60),
    )  # fmt: skip


def test_root_keys_may_be_given_as_the_served_text(google: Google) -> None:
    body = google.callback().encode()
    assert (
        verify_callback(body, issuer_id=ISSUER, root_keys=json.dumps(google.keys()), at=NOW).event
        == "card_saved"
    )


def _refused(google: Google, body: str, match: str, **changes: Any) -> None:
    arguments: dict[str, Any] = {"issuer_id": ISSUER, "root_keys": google.keys(), "at": NOW, **changes}
    with pytest.raises(GoogleCallbackInvalid, match=match):
        verify_callback(body, **arguments)


def test_a_callback_for_another_issuer_is_refused(google: Google) -> None:
    _refused(google, google.callback(recipient="3388000000011111111"), "signature: does not verify")
    _refused(google, google.callback(), "signature: does not verify", issuer_id="3388000000011111111")


def test_a_tampered_message_is_refused(google: Google) -> None:
    body = json.loads(google.callback())
    body["signedMessage"] = body["signedMessage"].replace('"save"', '"del"')
    _refused(google, json.dumps(body), "signature: does not verify")


def test_an_intermediate_key_not_signed_by_a_google_root_is_refused(google: Google) -> None:
    forged = google.callback(root=ec.generate_private_key(ec.SECP256R1()))
    _refused(google, forged, "intermediateSigningKey: is not signed by any current Google root key")


@pytest.mark.parametrize(
    ("changes", "keys_expire", "match"),
    [
        ({"key_expiration": MS - 1}, MS + 1, "the intermediate key has expired"),
        ({"expires": MS}, MS + 1, "the callback has expired"),
        ({}, MS - 1, "hold no current ECv2SigningOnly key"),
    ],
)
def test_expired_keys_and_callbacks_are_refused(
    google: Google, changes: dict[str, int], keys_expire: int, match: str
) -> None:
    _refused(google, google.callback(**changes), match, root_keys=google.keys(expiration=keys_expire))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("not json", "body: is not JSON"),
        ("[1, 2]", "body=.list.: must be a JSON object"),
        ('{"protocolVersion": "ECv2"}', "protocolVersion='ECv2': must be 'ECv2SigningOnly'"),
        ("x" * 70_000, "is over 65536 bytes"),
        ("[" * 50_000 + "]" * 50_000, "over 65536 bytes|is not JSON"),
    ],
)
def test_malformed_bodies_are_refused_with_bounded_messages(google: Google, body: str, match: str) -> None:
    with pytest.raises(GoogleCallbackInvalid, match=match) as caught:
        verify_callback(body, issuer_id=ISSUER, root_keys=google.keys(), at=NOW)
    assert len(str(caught.value)) < 600


def test_a_signature_that_is_not_base64_is_refused(google: Google) -> None:
    body = json.loads(google.callback())
    body["signature"] = "not base64!" * 1000
    _refused(google, json.dumps(body), r"signature: is not base64")
