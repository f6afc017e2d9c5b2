"""The framework-neutral core: render cache, log bounds, tags, methods, malformed bodies, tokens."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta

import pytest

from walletvoucher.errors import ServiceConfigError
from walletvoucher.service import (
    LogSink,
    PassCache,
    PassState,
    PassTokens,
    PassWebService,
    ServiceRequest,
    StorePassUpdates,
)
from walletvoucher.store import Wallet

from .conftest import NOW, PASS_TYPE, SECRET


def issue(wallet: Wallet, serial: str = "CARD-1") -> None:
    wallet.issue_card("coffee", serial=serial, member_id="m-1", at=NOW)


def slow_render(calls: list[PassState]):  # type: ignore[no-untyped-def]
    def render(state: PassState) -> bytes:
        calls.append(state)
        time.sleep(0.05)
        return f"{state.serial}@{state.version}".encode()

    return render


def make_service(store: StorePassUpdates, calls: list[PassState], **kw: object) -> PassWebService:
    return PassWebService(
        pass_type_identifier=PASS_TYPE,
        store=store,
        tokens=PassTokens(SECRET),
        render=slow_render(calls),
        **kw,
    )  # type: ignore[arg-type]


def get_pass(service: PassWebService, serial: str) -> bytes:
    headers = {"authorization": f"ApplePass {PassTokens(SECRET).token_for(serial)}"}
    response = service.handle(
        ServiceRequest(method="GET", path=f"/v1/passes/{PASS_TYPE}/{serial}", headers=headers), at=NOW
    )
    assert response.status == 200
    return response.body


def test_a_thousand_concurrent_fetches_render_a_version_once(store: StorePassUpdates, wallet: Wallet) -> None:
    calls: list[PassState] = []
    issue(wallet)
    service = make_service(store, calls)
    bodies: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: bodies.append(get_pass(service, "CARD-1"))) for _ in range(1000)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    version = wallet.card_info("CARD-1").version
    assert len(calls) == 1 and set(bodies) == {f"CARD-1@{version}".encode()}
    wallet.stamp("CARD-1", at=NOW)
    assert get_pass(service, "CARD-1") == f"CARD-1@{version + 1}".encode() and len(calls) == 2


def test_without_cache_every_fetch_renders(store: StorePassUpdates, wallet: Wallet) -> None:
    calls: list[PassState] = []
    issue(wallet)
    service = make_service(store, calls, cache_entries=0)
    for _ in range(3):
        get_pass(service, "CARD-1")
    assert len(calls) == 3


def test_cache_is_bounded_least_recently_used() -> None:
    calls: list[PassState] = []
    cache = PassCache(lambda s: calls.append(s) or b"x" * 10, max_entries=2)
    states = [PassState(serial=f"S{i}", version=1, last_modified=NOW) for i in range(3)]
    for state in (*states, states[2], states[0]):
        cache.get(state)
    assert len(cache) == 2
    assert [s.serial for s in calls] == ["S0", "S1", "S2", "S0"]
    with pytest.raises(ServiceConfigError, match="cache size"):
        PassCache(lambda s: b"", max_entries=-1)


def test_log_messages_are_bounded_in_size_and_count(
    caplog: pytest.LogCaptureFixture, store: StorePassUpdates
) -> None:
    sink = LogSink(max_chars=50, per_request=3, per_window=5, window_seconds=60)
    service = make_service(store, [], log=sink)
    body = json.dumps({"logs": ["a" * 500 + "\nFORGED line", "two", "three", "four"]}).encode()
    with caplog.at_level(logging.WARNING, logger="walletvoucher.service"):
        for _ in range(3):
            assert (
                service.handle(ServiceRequest(method="POST", path="/v1/log", body=body), at=NOW).status == 200
            )
        later = NOW + timedelta(seconds=61)
        service.handle(ServiceRequest(method="POST", path="/v1/log", body=body), at=later)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 5 + 3
    assert all(len(m) < 120 for m in messages)
    assert not any("FORGED" in m for m in messages)
    assert sink.dropped == 1 + 2 + 4 + 1  # over per-request, over the window twice, then per-request


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"pushToken": 5}', b'{"pushToken": ""}', b"\xff"])
def test_malformed_registration_body_is_400(body: bytes, store: StorePassUpdates, wallet: Wallet) -> None:
    issue(wallet)
    service = make_service(store, [])
    headers = {"authorization": f"ApplePass {PassTokens(SECRET).token_for('CARD-1')}"}
    path = f"/v1/devices/dev/registrations/{PASS_TYPE}/CARD-1"
    request = ServiceRequest(method="POST", path=path, headers=headers, body=body)
    assert service.handle(request, at=NOW).status == 400
    assert store.push_tokens("CARD-1") == ()


def test_wrong_method_on_a_known_path_is_405(store: StorePassUpdates) -> None:
    service = make_service(store, [])
    response = service.handle(ServiceRequest(method="PUT", path="/v1/log"), at=NOW)
    assert response.status == 405 and response.header("Allow") == "POST"


@pytest.mark.parametrize("tag", ["abc", "-1", "9" * 40, "１２"])
def test_a_tag_we_did_not_issue_lists_everything(tag: str, store: StorePassUpdates, wallet: Wallet) -> None:
    issue(wallet)
    store.register_device("dev", "CARD-1", "push", at=NOW)
    service = make_service(store, [])
    path = f"/v1/devices/dev/registrations/{PASS_TYPE}"
    response = service.handle(
        ServiceRequest(method="GET", path=path, query={"passesUpdatedSince": tag}), at=NOW
    )
    assert json.loads(response.body)["serialNumbers"] == ["CARD-1"]


def test_unknown_device_gets_204(store: StorePassUpdates, wallet: Wallet) -> None:
    issue(wallet)
    response = make_service(store, []).handle(
        ServiceRequest(method="GET", path=f"/v1/devices/nobody/registrations/{PASS_TYPE}"), at=NOW
    )
    assert response.status == 204


def test_two_changes_in_one_second_still_look_modified(store: StorePassUpdates, wallet: Wallet) -> None:
    issue(wallet)
    first = store.pass_state("CARD-1")
    wallet.stamp("CARD-1", at=NOW + timedelta(milliseconds=300))
    second = store.pass_state("CARD-1")
    assert first is not None and second is not None
    assert second.last_modified - first.last_modified == timedelta(seconds=1)


def test_token_secret_must_be_long_and_is_never_shown() -> None:
    with pytest.raises(ServiceConfigError, match="32") as info:
        PassTokens(b"short-secret")
    assert "short-secret" not in str(info.value)
    assert "secret" not in repr(PassTokens(SECRET)).replace("<secret>", "")


def test_tokens_differ_per_serial_and_per_secret() -> None:
    one, other = PassTokens(SECRET), PassTokens(SECRET[::-1])
    assert one.token_for("A") != one.token_for("B")
    assert one.token_for("A") != other.token_for("A")
    assert not one.check_header("A", f"ApplePass {other.token_for('A')}")
    assert one.check_header("A", f"ApplePass {one.token_for('A')}")
    assert not one.check_header("A", None) and not one.check_header("A", "ApplePass ")


def test_log_messages_cannot_forge_log_lines(
    caplog: pytest.LogCaptureFixture, store: StorePassUpdates
) -> None:
    service = make_service(store, [])
    body = json.dumps({"logs": ["bad\nINFO admin logged in\x1b[31m"]}).encode()
    with caplog.at_level(logging.WARNING, logger="walletvoucher.service"):
        service.handle(ServiceRequest(method="POST", path="/v1/log", body=body), at=NOW)
    (message,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in message and "\x1b" not in message
    assert "bad\\nINFO admin logged in\\x1b[31m" in message


def test_app_mounted_under_a_prefix_serves_apple_paths(store: StorePassUpdates, wallet: Wallet) -> None:
    import asyncio

    import httpx
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from walletvoucher.service.asgi import create_app

    issue(wallet)
    outer = Starlette(routes=[Mount("/passkit", create_app(make_service(store, []), clock=lambda: NOW))])
    headers = {"Authorization": f"ApplePass {PassTokens(SECRET).token_for('CARD-1')}"}

    async def fetch(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=outer)
        async with httpx.AsyncClient(transport=transport, base_url="https://wallet.example") as client:
            return await client.get(path, headers=headers)

    expected = f"CARD-1@{wallet.card_info('CARD-1').version}".encode()
    assert asyncio.run(fetch(f"/passkit/v1/passes/{PASS_TYPE}/CARD-1")).content == expected
    assert asyncio.run(fetch(f"/v1/passes/{PASS_TYPE}/CARD-1")).status_code == 404
