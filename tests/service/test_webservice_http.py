"""The web service over real HTTP: uvicorn on 127.0.0.1 (TLS, test-minted cert), httpx playing an iPhone."""

from __future__ import annotations

import io
import json
import ssl
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from walletvoucher.service import PassTokens, PassWebService, StorePassUpdates
from walletvoucher.service.asgi import create_app

from .conftest import NOW, PASS_TYPE, Cards
from .servers import UvicornThread

DEVICE = "a1b2c3d4e5f6device"
PUSH = "f" * 64
REG = f"/v1/devices/{DEVICE}/registrations/{PASS_TYPE}"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def served(
    store: StorePassUpdates, tokens: PassTokens, cards: Cards, clock: Clock, server_cert: tuple[Path, Path]
) -> Iterator[UvicornThread]:
    service = PassWebService(pass_type_identifier=PASS_TYPE, store=store, tokens=tokens, render=cards.render)
    certfile, keyfile = server_cert
    with UvicornThread(create_app(service, clock=clock), certfile=certfile, keyfile=keyfile) as server:
        yield server


@pytest.fixture
def iphone(served: UvicornThread, trust: ssl.SSLContext) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, verify=trust, timeout=10) as client:
        yield client


def auth(tokens: PassTokens, serial: str) -> dict[str, str]:
    return {"Authorization": f"ApplePass {tokens.token_for(serial)}"}


def pass_json(pkpass: bytes) -> dict[str, object]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as bundle:
        doc: dict[str, object] = json.loads(bundle.read("pass.json"))
        return doc


def openssl_verify(pkpass: bytes, root: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as bundle:
        bundle.extract("manifest.json", tmp_path)
        bundle.extract("signature", tmp_path)
    subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-purpose",
            "any",
            "-CAfile",
            str(root),
            "-in",
            str(tmp_path / "signature"),
            "-content",
            str(tmp_path / "manifest.json"),
            "-out",
            "/dev/null",
        ],
        check=True,
        capture_output=True,
    )


def test_iphone_registers_lists_fetches_and_unregisters(
    iphone: httpx.Client,
    store: StorePassUpdates,
    cards: Cards,
    tokens: PassTokens,
    clock: Clock,
    chain_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    cards.issue("CARD-1")
    first = iphone.post(f"{REG}/CARD-1", headers=auth(tokens, "CARD-1"), json={"pushToken": PUSH})
    assert first.status_code == 201
    again = iphone.post(f"{REG}/CARD-1", headers=auth(tokens, "CARD-1"), json={"pushToken": PUSH})
    assert again.status_code == 200
    assert store.push_tokens("CARD-1") == (PUSH,)

    listed = iphone.get(REG)
    assert listed.status_code == 200
    assert listed.json()["serialNumbers"] == ["CARD-1"]
    tag = listed.json()["lastUpdated"]
    assert iphone.get(REG, params={"passesUpdatedSince": tag}).status_code == 204

    got = iphone.get(f"/v1/passes/{PASS_TYPE}/CARD-1", headers=auth(tokens, "CARD-1"))
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/vnd.apple.pkpass"
    modified = got.headers["last-modified"]
    assert modified == "Thu, 07 May 2026 10:30:00 GMT"
    doc = pass_json(got.content)
    assert doc["authenticationToken"] == tokens.token_for("CARD-1")
    assert doc["webServiceURL"] == cards.base_url
    not_modified = iphone.get(
        f"/v1/passes/{PASS_TYPE}/CARD-1", headers={**auth(tokens, "CARD-1"), "If-Modified-Since": modified}
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""

    later = NOW + timedelta(minutes=5)
    clock.now = later
    cards.stamp("CARD-1", 3, at=later)
    changed = iphone.get(REG, params={"passesUpdatedSince": tag})
    assert changed.status_code == 200 and changed.json()["serialNumbers"] == ["CARD-1"]
    assert int(changed.json()["lastUpdated"]) > int(tag)
    fresh = iphone.get(
        f"/v1/passes/{PASS_TYPE}/CARD-1", headers={**auth(tokens, "CARD-1"), "If-Modified-Since": modified}
    )
    assert fresh.status_code == 200
    assert fresh.headers["last-modified"] == "Thu, 07 May 2026 10:35:00 GMT"
    new_doc = pass_json(fresh.content)
    assert new_doc["authenticationToken"] == doc["authenticationToken"]
    assert "3/10" in json.dumps(new_doc)
    openssl_verify(fresh.content, chain_files["root"], tmp_path)

    bye = iphone.delete(f"{REG}/CARD-1", headers=auth(tokens, "CARD-1"))
    assert bye.status_code == 200
    assert store.push_tokens("CARD-1") == ()
    assert iphone.get(REG).status_code == 204


def test_device_that_missed_updates_gets_every_changed_serial(
    iphone: httpx.Client,
    store: StorePassUpdates,
    cards: Cards,
    tokens: PassTokens,
) -> None:
    for serial in ("A-1", "A-2", "A-3", "A-4"):
        cards.issue(serial)
        iphone.post(f"{REG}/{serial}", headers=auth(tokens, serial), json={"pushToken": PUSH})
    tag = iphone.get(REG).json()["lastUpdated"]
    for serial in ("A-3", "A-1", "A-2"):
        cards.stamp(serial, 1, at=NOW + timedelta(minutes=1))
    answer = iphone.get(REG, params={"passesUpdatedSince": tag}).json()
    assert sorted(answer["serialNumbers"]) == ["A-1", "A-2", "A-3"]


def test_wrong_or_missing_token_is_401(
    iphone: httpx.Client, store: StorePassUpdates, cards: Cards, tokens: PassTokens
) -> None:
    cards.issue("CARD-1")
    cards.issue("CARD-2")
    other = auth(tokens, "CARD-2")
    assert iphone.post(f"{REG}/CARD-1", headers=other, json={"pushToken": PUSH}).status_code == 401
    assert iphone.post(f"{REG}/CARD-1", json={"pushToken": PUSH}).status_code == 401
    assert iphone.get(f"/v1/passes/{PASS_TYPE}/CARD-1", headers=other).status_code == 401
    bearer = {"Authorization": f"Bearer {tokens.token_for('CARD-1')}"}
    assert iphone.get(f"/v1/passes/{PASS_TYPE}/CARD-1", headers=bearer).status_code == 401
    assert iphone.delete(f"{REG}/CARD-1", headers=other).status_code == 401
    assert store.push_tokens("CARD-1") == ()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v2/log",
        "/v1/passes/pass.com.other/CARD-1",
        "/v1/unknown",
        f"/v1/devices/{DEVICE}/registrations/pass.com.other",
        f"/v1/devices/{DEVICE}/somethingelse/{PASS_TYPE}",
    ],
)
def test_unknown_paths_are_404(iphone: httpx.Client, path: str) -> None:
    assert iphone.get(path).status_code == 404


def test_oversize_body_is_413_without_reading_it(
    iphone: httpx.Client, store: StorePassUpdates, cards: Cards, tokens: PassTokens
) -> None:
    cards.issue("CARD-1")
    huge = b'{"logs": ["' + b"x" * 200_000 + b'"]}'
    assert iphone.post("/v1/log", content=huge).status_code == 413
    big_register = json.dumps({"pushToken": "p" * 10_000}).encode()
    answer = iphone.post(f"{REG}/CARD-1", headers=auth(tokens, "CARD-1"), content=big_register)
    assert answer.status_code == 413
    assert store.push_tokens("CARD-1") == ()


def test_log_endpoint_accepts_wallet_messages(iphone: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="walletvoucher.service"):
        answer = iphone.post("/v1/log", json={"logs": ["Web service error for pass.com.example.coffee"]})
    assert answer.status_code == 200
    assert any("Web service error" in r.getMessage() for r in caplog.records)


def test_unknown_serial_with_its_valid_token_is_404(iphone: httpx.Client, tokens: PassTokens) -> None:
    assert iphone.get(f"/v1/passes/{PASS_TYPE}/NOPE", headers=auth(tokens, "NOPE")).status_code == 404
    posted = iphone.post(f"{REG}/NOPE", headers=auth(tokens, "NOPE"), json={"pushToken": PUSH})
    assert posted.status_code == 404


def test_overlong_path_segment_is_404(iphone: httpx.Client, tokens: PassTokens) -> None:
    serial = "C" * 5000
    assert iphone.get(f"/v1/passes/{PASS_TYPE}/{serial}", headers=auth(tokens, serial)).status_code == 404
