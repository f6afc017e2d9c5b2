"""Credentials at the counter (API keys, staff devices, kiosks) and rotating-code steps, on both engines."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from walletvoucher.errors import AccessError, ValidationError
from walletvoucher.store import Wallet

NOW = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
RANDOM = secrets.token_bytes


@pytest.fixture
def wallet(url: str, programs: list[Any]) -> Any:
    with Wallet.open(url, programs=programs) as opened:
        yield opened


def test_an_api_key_is_shown_once_stored_hashed_and_authenticates_with_its_scopes(
    wallet: Wallet, url: str, engine: str
) -> None:
    issued = wallet.access.create_api_key(
        "till-1", scopes=["stamp", "read"], at=NOW, random=secrets.token_bytes
    )
    assert issued.secret.startswith("wvk_") and issued.secret not in repr(issued)
    who = wallet.access.authenticate(issued.secret, at=NOW)
    assert who is not None and who.name == "till-1" and who.scopes == {"stamp", "read"}
    assert who.label == "api:till-1" and not who.may("redeem")
    altered = issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B")
    assert wallet.access.authenticate(altered, at=NOW) is None
    if engine == "sqlite":  # what is stored is the SHA-256, never the key
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            stored = db.execute("SELECT token_hash FROM credentials").fetchall()
        assert stored == [(hashlib.sha256(issued.secret.encode()).hexdigest(),)]


def test_a_revoked_key_stops_at_once_and_its_name_can_be_reused(wallet: Wallet) -> None:
    first = wallet.access.create_api_key("till-1", scopes=["redeem"], at=NOW, random=secrets.token_bytes)
    with pytest.raises(AccessError, match="already in use"):
        wallet.access.create_api_key("till-1", scopes=["redeem"], at=NOW, random=secrets.token_bytes)
    assert wallet.access.revoke("api_key", "till-1", at=NOW)
    assert wallet.access.authenticate(first.secret, at=NOW) is None
    assert not wallet.access.revoke("api_key", "till-1", at=NOW)
    second = wallet.access.create_api_key("till-1", scopes=["redeem"], at=NOW, random=secrets.token_bytes)
    assert wallet.access.authenticate(second.secret, at=NOW) is not None
    listed = wallet.access.list("api_key")
    assert [(c.name, c.revoked_at is not None) for c in listed] == [("till-1", True), ("till-1", False)]


def test_last_use_is_recorded_at_most_once_a_minute(wallet: Wallet) -> None:
    issued = wallet.access.create_api_key("till-2", scopes=["read"], at=NOW, random=secrets.token_bytes)
    wallet.access.authenticate(issued.secret, at=NOW)
    wallet.access.authenticate(issued.secret, at=NOW + timedelta(seconds=30))
    assert wallet.access.list("api_key")[0].last_used_at == NOW
    wallet.access.authenticate(issued.secret, at=NOW + timedelta(minutes=2))
    assert wallet.access.list("api_key")[0].last_used_at == NOW + timedelta(minutes=2)


def test_a_device_enrols_once_with_its_code_and_a_kiosk_can_only_stamp(wallet: Wallet) -> None:
    code = wallet.access.create_device("Aziza", location="chilonzor", at=NOW, random=secrets.token_bytes)
    assert code.secret.startswith("wve_") and wallet.access.authenticate(code.secret, at=NOW) is None
    device = wallet.access.enrol(code.secret, at=NOW, random=secrets.token_bytes)
    who = wallet.access.authenticate(device.secret, at=NOW)
    assert who is not None and who.label == "staff:Aziza@chilonzor" and who.may("redeem")
    with pytest.raises(AccessError, match="used already"):
        wallet.access.enrol(code.secret, at=NOW, random=secrets.token_bytes)
    kiosk = wallet.access.create_device("door", kiosk=True, at=NOW, random=secrets.token_bytes)
    kiosk_token = wallet.access.enrol(kiosk.secret, at=NOW, random=secrets.token_bytes)
    kiosk_who = wallet.access.authenticate(kiosk_token.secret, at=NOW)
    assert kiosk_who is not None and kiosk_who.may("stamp") and not kiosk_who.may("redeem")
    assert wallet.access.revoke("staff", "Aziza", at=NOW)
    assert wallet.access.authenticate(device.secret, at=NOW) is None


def test_a_revoked_device_cannot_enrol(wallet: Wallet) -> None:
    code = wallet.access.create_device("Bekzod", at=NOW, random=secrets.token_bytes)
    wallet.access.revoke("staff", "Bekzod", at=NOW)
    with pytest.raises(AccessError):
        wallet.access.enrol(code.secret, at=NOW, random=secrets.token_bytes)


def test_each_rotating_step_is_accepted_once(wallet: Wallet) -> None:
    assert wallet.access.use_scan_step("C-1-1", 59_000_000, at=NOW)
    assert not wallet.access.use_scan_step("C-1-1", 59_000_000, at=NOW)
    assert wallet.access.use_scan_step("C-1-1", 59_000_001, at=NOW)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda w: w.access.create_api_key("", scopes=["read"], at=NOW, random=secrets.token_bytes), "name"),
        (lambda w: w.access.create_api_key("x\x00", scopes=["read"], at=NOW, random=RANDOM), "name"),
        (lambda w: w.access.create_api_key("t", scopes=["admin"], at=NOW, random=RANDOM), "scope"),
        (lambda w: w.access.create_api_key("t", scopes=[], at=NOW, random=secrets.token_bytes), "scope"),
        (lambda w: w.access.create_api_key("t", scopes=["read"], at=NOW, random=lambda n: b"x"), "random"),
        (lambda w: w.access.revoke("admin", "t", at=NOW), "kind"),
        (lambda w: w.access.enrol("wve_nope", at=NOW, random=secrets.token_bytes), "code"),
    ],
)
def test_bad_input_names_the_field(wallet: Wallet, call: Any, field: str) -> None:
    with pytest.raises((ValidationError, AccessError), match=f"^{field}"):
        call(wallet)


def test_garbage_tokens_authenticate_as_nobody(wallet: Wallet) -> None:
    for token in (None, "", "wvk_", "wvk_" + "a" * 43 + "\x00", "x" * 10_000, "wvk_\ud800" * 3, 12):
        assert wallet.access.authenticate(token, at=NOW) is None
