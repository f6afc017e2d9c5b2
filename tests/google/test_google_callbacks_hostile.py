"""Hostile callback bodies (issue 18): every one is refused with GoogleCallbackInvalid, never a foreign error.

The bodies are signed here with real keys (the way Google signs them, see test_google_callbacks), so the
odd values reach the checks that come after the signatures.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.google.callback_signing import MS, NOW, _lv, _sign, _spki
from tests.google.conftest import ISSUER
from walletvoucher.errors import GoogleCallbackInvalid
from walletvoucher.google import verify_callback

PROTOCOL = "ECv2SigningOnly"


class Signer:
    """Google's side, signing whatever signedKey and signedMessage text it is given."""

    def __init__(self) -> None:
        self.root = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = ec.generate_private_key(ec.SECP256R1())

    def keys(self) -> dict[str, Any]:
        return {"keys": [{"keyValue": _spki(self.root), "protocolVersion": PROTOCOL,
                          "keyExpiration": str(MS + 86_400_000)}]}

    def body(self, *, key: dict[str, Any] | None = None, message: dict[str, Any] | None = None) -> str:
        key = key or {"keyValue": _spki(self.intermediate), "keyExpiration": str(MS + 3_600_000)}
        signed_key = json.dumps(key)
        signed_message = json.dumps({
            "classId": f"{ISSUER}.coffee", "objectId": f"{ISSUER}.coffee.card.C1",
            "expTimeMillis": MS + 60_000, "eventType": "save", "nonce": "n-1", **(message or {}),
        })  # fmt: skip
        return json.dumps({
            "protocolVersion": PROTOCOL,
            "intermediateSigningKey": {
                "signedKey": signed_key,
                "signatures": [_sign(self.root, _lv("GooglePayPasses", PROTOCOL, signed_key))],
            },
            "signedMessage": signed_message,
            "signature": _sign(self.intermediate, _lv("GooglePayPasses", ISSUER, PROTOCOL, signed_message)),
        })  # fmt: skip


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


def _refused(signer: Signer, body: str, match: str) -> GoogleCallbackInvalid:
    with pytest.raises(GoogleCallbackInvalid, match=match) as caught:
        verify_callback(body, issuer_id=ISSUER, root_keys=signer.keys(), at=NOW)
    assert caught.value.fix and len(str(caught.value)) < 600
    return caught.value


def test_a_well_signed_body_still_verifies(signer: Signer) -> None:
    found = verify_callback(signer.body(), issuer_id=ISSUER, root_keys=signer.keys(), at=NOW)
    assert found.event == "card_saved"


@pytest.mark.parametrize("where", ["signedKey", "signedMessage"])
def test_a_lone_surrogate_in_a_signed_text_is_refused_before_any_signature_check(
    signer: Signer, where: str
) -> None:
    body = json.loads(signer.body())
    if where == "signedKey":
        body["intermediateSigningKey"]["signedKey"] = '{"keyValue": "\ud800"}'
    else:
        body["signedMessage"] = '{"nonce": "\udfff"}'
    _refused(signer, json.dumps(body), f"{where}: .*not valid UTF-8")


def test_a_lone_surrogate_in_a_signed_field_is_refused(signer: Signer) -> None:
    # json.dumps escapes it as \ud800, so the signed text is ASCII and its signature verifies
    _refused(signer, signer.body(message={"nonce": "n-\ud800"}), "nonce: .*not valid UTF-8")


@pytest.mark.parametrize(
    "expiry",
    ["²", "١٢٣٤٥٦٧٨٩٠١٢٣", "999999999999999", 999_999_999_999_999, "-1", " 1", "1e20", 1.5, True, None],
)
def test_an_odd_message_expiry_is_refused_even_when_signed(signer: Signer, expiry: object) -> None:
    _refused(signer, signer.body(message={"expTimeMillis": expiry}), "expTimeMillis")


@pytest.mark.parametrize("expiry", ["²", "999999999999999", 999_999_999_999_999])
def test_an_odd_key_expiry_is_refused_even_when_signed(signer: Signer, expiry: object) -> None:
    key = {"keyValue": _spki(signer.intermediate), "keyExpiration": expiry}
    _refused(signer, signer.body(key=key), "keyExpiration")


@pytest.mark.parametrize("kind", [["save"], {"save": 1}, 1, None, "SAVE"])
def test_an_event_type_that_is_not_save_or_del_is_refused(signer: Signer, kind: object) -> None:
    _refused(signer, signer.body(message={"eventType": kind}), "eventType.*must be 'save' or 'del'")


@pytest.mark.parametrize("issuer", ["\ud800", 338800000001, ""])
def test_an_issuer_id_that_is_no_text_is_refused(signer: Signer, issuer: Any) -> None:
    with pytest.raises(GoogleCallbackInvalid, match="issuer_id"):
        verify_callback(signer.body(), issuer_id=issuer, root_keys=signer.keys(), at=NOW)
