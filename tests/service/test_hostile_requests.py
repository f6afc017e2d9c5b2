"""Client input the web service must answer without a 500, on SQLite and on PostgreSQL (issue 18).

Lone surrogates and NUL characters cannot be stored by either engine (neither encodes a lone
surrogate as UTF-8; PostgreSQL text cannot hold NUL), and a tag above 2**63 - 1 overflows a 64-bit
integer column: each must be refused (or read as "no tag") before it reaches the database.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletvoucher.errors import ValidationError
from walletvoucher.service import PassTokens, PassWebService, ServiceRequest, StorePassUpdates
from walletvoucher.store import Wallet

from .conftest import NOW, PASS_TYPE, SECRET

TOKENS = PassTokens(SECRET)
REG = f"/v1/devices/{{device}}/registrations/{PASS_TYPE}"


def service(store: StorePassUpdates) -> PassWebService:
    return PassWebService(pass_type_identifier=PASS_TYPE, store=store, tokens=TOKENS,
                          render=lambda state: f"{state.serial}@{state.version}".encode())


def handle(store: StorePassUpdates, method: str, path: str, *, serial: str = "CARD-1", body: bytes = b"",
           query: dict[str, str] | None = None) -> int:
    headers = {"authorization": f"ApplePass {TOKENS.token_for(serial)}"}
    request = ServiceRequest(method=method, path=path, headers=headers, body=body, query=query or {})
    return service(store).handle(request, at=NOW).status


@pytest.fixture
def held(wallet: Wallet) -> Wallet:
    wallet.issue_card("coffee", serial="CARD-1", member_id="m-1", at=NOW)
    wallet.passes.register("phone-1", "CARD-1", "push-1", at=NOW)
    return wallet


@pytest.mark.parametrize(
    "body",
    [b'{"pushToken":"ab\\ud800"}', b'{"pushToken":"\\udfffab"}', b'{"pushToken":"ab\\u0000cd"}',
     b'{"pushToken":"ab\\ncd"}'],
    ids=["lone-high-surrogate", "lone-low-surrogate", "nul", "newline"],
)
def test_a_push_token_the_database_cannot_hold_is_400(
    engine: str, store: StorePassUpdates, held: Wallet, body: bytes
) -> None:
    path = REG.format(device="phone-2") + "/CARD-1"
    assert handle(store, "POST", path, body=body) == 400
    assert held.passes.push_tokens("CARD-1") == ("push-1",)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", REG.format(device="x%00y")),  # unauthenticated
        ("POST", REG.format(device="x%00y") + "/CARD-1"),
        ("DELETE", REG.format(device="x%00y") + "/CARD-1"),
        ("GET", f"/v1/passes/{PASS_TYPE}/CARD-1%00"),
        ("GET", REG.format(device="x%01y")),
        ("GET", REG.format(device="x\ud800y")),
    ],
)
def test_nul_and_control_characters_in_the_path_are_404(
    engine: str, store: StorePassUpdates, held: Wallet, method: str, path: str
) -> None:
    body = b'{"pushToken":"push-2"}' if method == "POST" else b""
    assert handle(store, method, path, body=body) == 404
    assert held.passes.registered("CARD-1") == 1


@pytest.mark.parametrize("tag", ["9999999999999999999", "9223372036854775808", "9223372036854775807"])
def test_a_tag_beyond_64_bits_lists_everything(
    engine: str, store: StorePassUpdates, held: Wallet, tag: str
) -> None:
    status = handle(store, "GET", REG.format(device="phone-1"), query={"passesUpdatedSince": tag})
    assert status == (204 if tag == str(2**63 - 1) else 200)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda w: w.passes.register("dev\x00", "CARD-1", "push", at=NOW), "device"),
        (lambda w: w.passes.register("dev", "CARD-1", "push\ud800", at=NOW), "push_token"),
        (lambda w: w.passes.unregister("dev", "CARD-1\x00", at=NOW), "serial"),
        (lambda w: w.passes.updated_since("dev\x00", None), "device"),
        (lambda w: w.passes.updated_since("dev", 2**63), "since"),
        (lambda w: w.passes.push_tokens("\ud800"), "serial"),
        (lambda w: w.passes.remove_push_token("\x00", at=NOW), "push_token"),
        (lambda w: w.passes.mark("\x00"), "serial"),
    ],
)
def test_the_store_refuses_text_it_cannot_hold_with_a_validation_error(
    engine: str, held: Wallet, call: object, field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        call(held)  # type: ignore[operator]
    assert info.value.field == field  # type: ignore[attr-defined]
    assert held.passes.registered("CARD-1") == 1


_text = st.text(st.characters(codec=None), max_size=12)  # every code point, lone surrogates included


@given(
    device=_text,
    serial=st.one_of(st.just("CARD-1"), _text),
    token=st.one_of(st.just("push-9"), _text),
    tag=st.one_of(st.none(), st.integers(min_value=-(2**70), max_value=2**70).map(str), _text),
    quoted=st.booleans(),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_request_built_from_any_text_is_a_500(
    engine: str, store: StorePassUpdates, held: Wallet, device: str, serial: str, token: str,
    tag: str | None, quoted: bool,
) -> None:
    def seg(text: str) -> str:
        return quote(text.encode("utf-8", "surrogatepass"), safe="") if quoted else text

    body = json.dumps({"pushToken": token}).encode()
    registration = REG.format(device=seg(device)) + "/" + seg(serial)
    query = {} if tag is None else {"passesUpdatedSince": tag}
    latest = f"/v1/passes/{PASS_TYPE}/{seg(serial)}"
    for method, path in (("POST", registration), ("DELETE", registration),
                         ("GET", REG.format(device=seg(device))), ("GET", latest)):
        status = handle(store, method, path, serial=serial if _storable(serial) else "CARD-1", body=body,
                        query=query)
        assert status < 500, (method, path)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
