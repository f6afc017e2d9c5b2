"""Google Wallet's save/delete callbacks end to end on loopback: a callback signed by keys this test mints
(Google's ECv2SigningOnly, written here from Google's guide, not with the library), POSTed to the served
``/google/callbacks``, recorded once by its nonce, and a ``card_saved`` / ``card_removed`` webhook
delivered to a loopback receiver and verified with the ``standardwebhooks`` package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.google.callback_signing import Google
from tests.google.discovery import discovery, schema_errors
from walletvoucher.apple import AppleSigner
from walletvoucher.errors import ServiceConfigError, ValidationError
from walletvoucher.google import GoogleOptions, loyalty_class
from walletvoucher.service import (
    WEBHOOK_TOPIC,
    PassTokens,
    WalletPerThread,
    WebhookEndpoint,
    Webhooks,
    drain_outbox,
)
from walletvoucher.service._config import load_config
from walletvoucher.service._google_callbacks import GoogleCallbackDesk, RootKeysFile
from walletvoucher.service._serve import link_key_from, served_google_options
from walletvoucher.service._webservice import ServiceRequest
from walletvoucher.store import Wallet
from walletvoucher.store._callbacks import record_google_callback
from walletvoucher.web.app import create_site

from .conftest import NOW, coffee_program
from .pages_setup import make_pages
from .servers import UvicornThread
from .test_webhooks import SECRET, Receiver

ISSUER = "3388000000022222222"
OTHER_ISSUER = "3388000000099999999"
MS = int(NOW.timestamp() * 1000)
PROTOCOL = "ECv2SigningOnly"


class Site:
    def __init__(self, wallets: WalletPerThread, url: str, hooks: Webhooks) -> None:
        self.wallets, self.url, self.hooks = wallets, url, hooks

    def post(self, body: bytes | str, **kw: Any) -> httpx.Response:
        return httpx.post(self.url + "/google/callbacks", content=body, verify=False, timeout=30, **kw)


@pytest.fixture(scope="module")
def google() -> Google:
    return Google(ISSUER)


@pytest.fixture
def site(tmp_path: Path, receiver: tuple[Receiver, str], server_cert: tuple[Path, Path], signer: AppleSigner,
         google: Google) -> Iterator[Site]:  # fmt: skip
    _, url = receiver
    hooks = Webhooks([WebhookEndpoint(url=url, secret=SECRET, events=["card_saved", "card_removed"])])
    wallets = WalletPerThread(f"sqlite:///{tmp_path / 'wallet.db'}", programs=[coffee_program()],
                              effects=[hooks.effect], activity_effects=[hooks.activity_effect])  # fmt: skip
    wallets().issue_card("coffee", serial="C1", member_id="m-1", at=NOW)
    desk = GoogleCallbackDesk(wallets, issuer_ids=[ISSUER], programs=[coffee_program()],
                              root_keys=lambda: google.keys())  # fmt: skip
    pages = make_pages(wallets, signer, PassTokens(b"g" * 32))
    app = create_site(pages, passkit=pages.passes, google_callbacks=desk, clock=lambda: NOW)
    try:
        with UvicornThread(app, certfile=server_cert[0], keyfile=server_cert[1]) as server:
            yield Site(wallets, server.url, hooks)
    finally:
        wallets.close()


@pytest.fixture
def receiver(server_cert: tuple[Path, Path]) -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    with UvicornThread(app, certfile=server_cert[0], keyfile=server_cert[1]) as server:
        yield app, server.url + "/hooks"


def _deliver(site: Site, tls_ca_file: Path) -> int:
    sender = site.hooks.sender(ca_file=tls_ca_file)
    try:
        clock = datetime.now(timezone.utc)  # standardwebhooks checks the timestamp against the real clock
        return drain_outbox(site.wallets(), {WEBHOOK_TOPIC: sender}, at=clock).completed
    finally:
        sender.close()


def test_a_signed_save_and_delete_become_verified_webhooks_once_each(
    site: Site, google: Google, receiver: tuple[Receiver, str], tls_ca_file: Path
) -> None:
    saved = site.post(google.callback("save", nonce="n-save"))
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"recorded": True, "event": "card_saved", "serial": "C1"}
    replay = site.post(google.callback("save", nonce="n-save"))  # Google delivers it again
    assert (replay.status_code, replay.json()["recorded"]) == (200, False)
    removed = site.post(google.callback("del", nonce="n-del"))
    assert removed.json() == {"recorded": True, "event": "card_removed", "serial": "C1"}
    assert _deliver(site, tls_ca_file) == 2  # the replay queued nothing

    app, _ = receiver
    verifier = standardwebhooks.Webhook(SECRET)
    payloads = [verifier.verify(body, headers) for headers, body in app.seen]
    assert [p["type"] for p in payloads] == ["card_saved", "card_removed"]
    assert all(p["data"]["card"] == "C1" and p["data"]["wallet"] == "google" for p in payloads)
    assert [p["data"]["reason"] for p in payloads] == ["", "google"]
    # the same payload shape as an Apple device's registration
    site.wallets().passes.register("device-1", "C1", "push-1", at=NOW)
    assert _deliver(site, tls_ca_file) == 1
    apple = verifier.verify(app.seen[-1][1], app.seen[-1][0])
    assert apple["data"]["wallet"] == "apple" and set(apple["data"]) == set(payloads[0]["data"])
    activity = site.wallets().passes.activity()
    assert [(a.type, a.serial) for a in activity] == [("card_saved", "C1"), ("card_removed", "C1"),
                                                      ("card_saved", "C1")]  # fmt: skip


def test_callbacks_not_from_google_or_not_for_us_get_4xx_and_record_nothing(
    site: Site, google: Google
) -> None:
    stranger = Google(ISSUER)  # keys Google never published
    cases = {
        "bad JSON": (b"{not json", 400),
        "not an object": (b"[1, 2]", 400),
        "a forged signature": (stranger.callback(nonce="n-forged"), 400),
        "another issuer's callback": (google.callback(recipient=OTHER_ISSUER, nonce="n-other"), 400),
        "an expired callback": (google.callback(expires=MS - 1, nonce="n-old"), 400),
        "a class not ours": (google.callback(class_id=f"{ISSUER}.tea", nonce="n-tea"), 404),
        "a card we do not hold": (google.callback(serial="NOPE", nonce="n-nope"), 404),
        "a control character in the id": (google.callback(serial="C1\u0000", nonce="n-nul"), 404),
        "invalid UTF-8": (b'{"protocolVersion": "\xff"}', 400),
    }
    for name, (body, status) in cases.items():
        answer = site.post(body)
        assert answer.status_code == status, (name, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", name
    assert site.post(b"x" * 70_000).status_code == 413
    assert httpx.get(site.url + "/google/callbacks", verify=False, timeout=30).status_code == 405
    assert site.wallets().passes.activity() == ()
    # a refused nonce was not spent: the genuine callback with it still counts
    assert site.post(google.callback(nonce="n-forged")).json()["recorded"] is True


def test_the_class_carries_the_callback_url_the_discovery_document_knows() -> None:
    options = GoogleOptions(issuer_id=ISSUER, origins=["https://shop.example.com"],
                            logo_url="https://cdn.example.com/logo.png")  # fmt: skip
    assert "callbackOptions" not in loyalty_class(coffee_program(), options)
    key = link_key_from(load_config(None, {"WALLETVOUCHER_TOKEN_SECRET": "t" * 40}))
    assert key is not None
    served = served_google_options(options, public_url="https://wallet.example.com", link_key=key,
                                   callbacks=True)  # fmt: skip
    body = loyalty_class(coffee_program(), served)
    assert body["callbackOptions"] == {"url": "https://wallet.example.com/google/callbacks"}
    assert schema_errors(body, "LoyaltyClass") == []
    assert "url" in discovery()["schemas"]["CallbackOptions"]["properties"]
    assert served_google_options(options, public_url="https://w.example", link_key=key).callback_url is None


def test_the_config_names_the_root_keys_file_beside_it(tmp_path: Path, google: Google) -> None:
    (tmp_path / "keys.json").write_text(json.dumps(google.keys()))
    config_file = tmp_path / "walletvoucher.toml"
    config_file.write_text('[service]\ngoogle_callback_keys = "keys.json"\n')
    config = load_config(config_file, {})
    assert config.google_callback_keys == tmp_path / "keys.json"
    keys = RootKeysFile(config.google_callback_keys)
    assert json.loads(keys())["keys"][0]["protocolVersion"] == PROTOCOL
    (tmp_path / "keys.json").write_text(json.dumps({"keys": []}) + "  ")  # a refreshed download
    assert json.loads(keys()) == {"keys": []}


PROGRAM_FILE = """
[program]
id = "coffee"
name = "Coffee card"
goal = 10
redemption = "self_redeem"
validity = { days = 30 }

[brand]
name = "Kahve"
foreground = "#FFFFFF"
background = "#1E3A5F"
label = "#F2C14E"

[reward]
title = "Free coffee"
description = "Any size"

[google]
issuer_id = "3388000000022222222"
service_account = "sa.json"
origins = ["https://shop.example.com"]
logo_url = "https://shop.example.com/logo.png"
"""


def test_serve_answers_callbacks_and_points_the_classes_there_when_configured(
    chain_files: dict[str, Path], tmp_path: Path, google: Google
) -> None:
    from walletvoucher.programfile import load_program_file
    from walletvoucher.service._cli import _google_callbacks, _signed_links
    from walletvoucher.service._serve import build_configured

    from .test_serve_cli import _configured_env

    (tmp_path / "sa.json").write_text("{}")
    (tmp_path / "coffee.toml").write_text(PROGRAM_FILE)
    loaded = [load_program_file(tmp_path / "coffee.toml")]
    config_file = tmp_path / "walletvoucher.toml"
    config_file.write_text('[service]\ngoogle_callback_keys = "keys.json"\n')
    config = load_config(config_file, _configured_env(chain_files))
    served = build_configured(config, at=NOW, db=f"sqlite:///{tmp_path / 'w.db'}",
                              programs=[f.program for f in loaded])  # fmt: skip
    try:
        with pytest.raises(ServiceConfigError, match="google_callback_keys"):  # no keys downloaded yet
            _google_callbacks(config, served, loaded)
        (tmp_path / "keys.json").write_text(json.dumps(google.keys()))
        desk = _google_callbacks(config, served, loaded)
        assert isinstance(desk, GoogleCallbackDesk) and desk.issuer_ids == (ISSUER,)
        adjusted = _signed_links(served)(loaded[0].google.google_options())  # type: ignore[union-attr]
        assert adjusted.callback_url == "https://wallet.example.com/passkit/google/callbacks"
        with pytest.raises(ServiceConfigError, match="google_callback_keys"):  # no [google] program
            _google_callbacks(config, served, [])
    finally:
        served.wallets.close()
    unset = build_configured(load_config(None, _configured_env(chain_files)), at=NOW,
                             db=f"sqlite:///{tmp_path / 'w2.db'}")  # fmt: skip
    try:
        assert _signed_links(unset)(loaded[0].google.google_options()).callback_url is None  # type: ignore[union-attr]
    finally:
        unset.wallets.close()


def test_a_nonce_is_recorded_once_on_both_engines(engine: str, wallet: Wallet) -> None:
    wallet.issue_card("coffee", serial="C1", member_id="m-1", at=NOW)
    fields = {"nonce": "n-1", "event": "card_saved", "class_id": f"{ISSUER}.coffee",
              "object_id": f"{ISSUER}.coffee.card.C1", "serial": "C1"}  # fmt: skip
    assert record_google_callback(wallet.passes, at=NOW, **fields) is True
    assert record_google_callback(wallet.passes, at=NOW + timedelta(seconds=5), **fields) is False
    removed = {**fields, "nonce": "n-2", "event": "card_removed"}
    assert record_google_callback(wallet.passes, at=NOW, **removed)
    activity = wallet.passes.activity()
    assert [(a.type, a.device, a.reason) for a in activity] == [
        ("card_saved", f"google/{ISSUER}.coffee.card.C1", ""),
        ("card_removed", f"google/{ISSUER}.coffee.card.C1", "google"),
    ]
    with pytest.raises(ValidationError):
        record_google_callback(wallet.passes, at=NOW, **{**fields, "nonce": "n\x00"})


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
_FIELD = st.text(max_size=30) | st.integers() | st.dictionaries(st.text(max_size=8), st.text(max_size=8))
_BODIES = st.one_of(
    st.binary(max_size=300),
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda k, v: json.dumps({"protocolVersion": PROTOCOL, k: v}).encode(),
              st.sampled_from(["signature", "intermediateSigningKey", "signedMessage"]), _FIELD),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_BODIES)
def test_hostile_bodies_never_get_a_5xx(body: bytes, tmp_path_factory: pytest.TempPathFactory,
                                        google: Google) -> None:  # fmt: skip
    desk = _in_process_desk(tmp_path_factory, google)
    request = ServiceRequest(method="POST", path="/google/callbacks", headers={}, query={}, body=body)
    answer = desk.handle(request, at=NOW)
    assert 400 <= answer.status < 500


_DESKS: dict[int, GoogleCallbackDesk] = {}


def _in_process_desk(tmp_path_factory: pytest.TempPathFactory, google: Google) -> GoogleCallbackDesk:
    if id(google) not in _DESKS:
        wallets = WalletPerThread(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'w.db'}",
                                  programs=[coffee_program()])  # fmt: skip
        wallets().issue_card("coffee", serial="C1", member_id="m-1", at=NOW)
        _DESKS[id(google)] = GoogleCallbackDesk(wallets, issuer_ids=[ISSUER], programs=[coffee_program()],
                                                root_keys=google.keys)  # fmt: skip
    return _DESKS[id(google)]


def test_unusable_root_keys_are_the_servers_problem_not_the_clients(tmp_path: Path, google: Google) -> None:
    wallets = WalletPerThread(f"sqlite:///{tmp_path / 'w.db'}", programs=[coffee_program()])
    try:
        request = ServiceRequest(method="POST", path="/google/callbacks", headers={}, query={},
                                 body=google.callback().encode())  # fmt: skip
        for keys in ("not json", '{"keys": []}'):
            desk = GoogleCallbackDesk(wallets, issuer_ids=[ISSUER], programs=[coffee_program()],
                                      root_keys=lambda keys=keys: keys)  # type: ignore[misc]  # fmt: skip
            assert desk.handle(request, at=NOW).status == 503
        missing = GoogleCallbackDesk(wallets, issuer_ids=[ISSUER], programs=[coffee_program()],
                                     root_keys=RootKeysFile(tmp_path / "absent.json"))  # fmt: skip
        assert missing.handle(request, at=NOW).status == 503
    finally:
        wallets.close()
