"""The customer's journey in a real browser: headless Chromium, phone-sized, against ``walletvoucher serve``.

One demo-mode ``serve`` process (a real uvicorn on 127.0.0.1) serves the whole module; the test
drives the store directly (as a till would) in between. Oracles: ``openssl cms -verify`` for the
.pkpass, PyJWT and the walletobjects discovery document for the Google link, fontTools and
Chromium's own record of the fonts it drew with for tofu-free text, and the pixels of two
screenshots a second apart.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import ssl
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fontTools.ttLib import TTFont

from tests.browser import Browser, Tab, find_chromium
from tests.google.discovery import schema_errors
from walletvoucher._fonts import Script, font_file
from walletvoucher.service._serve import DEMO_PASS_TYPE, demo_cards
from walletvoucher.store import Wallet

from .servers import free_port
from .test_webservice_http import openssl_verify

CHROMIUM = find_chromium()
PROGRAM = "coffee-self-redeem"
SHOTS = Path(os.environ.get("WV_PAGE_SHOTS", "")) if os.environ.get("WV_PAGE_SHOTS") else None
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium is not installed (.ci/run installs Debian's chromium)",
)


class Serve:
    """A running ``walletvoucher serve`` in demo mode, and what it wrote to its state directory."""

    def __init__(self, state: Path) -> None:
        self.state, self.port = state, free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.db = f"sqlite:///{state / 'demo-wallet.db'}"  # demo mode keeps its store in its state dir
        code = "import sys; from walletvoucher.cli import main; sys.exit(main())"
        args = [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--state-dir",
            str(state),
        ]
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
        self.log = state / "serve.log"
        with self.log.open("w") as out:  # a file, not a pipe: output must never block the server
            self.proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out,
                                         stderr=subprocess.STDOUT, text=True, env=env)
        self._wait_for("try: curl")
        self.tls = ssl.create_default_context(cafile=str(state / "tls" / "server.pem"))
        self._wait_until_listening()
        programs = list({(c.program.id, c.program.version): c.program
                         for c in demo_cards().values()}.values())
        self.wallet = Wallet.open(self.db, programs=programs)

    def _wait_for(self, marker: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if marker in self.log.read_text():
                return
            if self.proc.poll() is not None:
                raise AssertionError("serve exited early:\n" + self.log.read_text())
            time.sleep(0.1)
        raise AssertionError("serve printed no " + marker)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + "/static/site.css", verify=self.tls, timeout=5)
                return
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def close(self) -> None:
        self.wallet.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    server = Serve(tmp_path_factory.mktemp("serve"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as running:
        yield running


def shot(tab: Tab, name: str) -> bytes:
    return tab.screenshot(SHOTS / f"{name}.png" if SHOTS else None)


def join(tab: Tab, serve: Serve) -> None:
    tab.open(f"{serve.url}/join/{PROGRAM}")
    assert tab.state() == "join"
    tab.press("#join-button")
    tab.wait_until("!!document.querySelector('main[data-state=\"your-card\"]')")


def download_pass(tab: Tab) -> bytes:
    """The .pkpass the page's Apple Wallet button serves, fetched by the page (with its cookie)."""
    encoded = tab.evaluate(
        "fetch(document.getElementById('add-apple').href).then(async r =>"
        " [r.status, r.headers.get('content-type'),"
        " btoa(Array.from(new Uint8Array(await r.arrayBuffer()), b => String.fromCharCode(b)).join(''))])"
    )
    assert encoded[:2] == [200, "application/vnd.apple.pkpass"]
    return base64.b64decode(encoded[2])


def pass_json(pkpass: bytes) -> dict[str, object]:
    import io

    with zipfile.ZipFile(io.BytesIO(pkpass)) as bundle:
        doc: dict[str, object] = json.loads(bundle.read("pass.json"))
    return doc


def latest_pass(serve: Serve, serial: str, token: str) -> dict[str, object]:
    answer = httpx.get(
        f"{serve.url}/v1/passes/{DEMO_PASS_TYPE}/{serial}",
        verify=serve.tls,
        headers={"Authorization": f"ApplePass {token}"},
        timeout=30,
    )
    assert answer.status_code == 200
    return pass_json(answer.content)


def link_on(doc: dict[str, object]) -> str:
    fields = doc["storeCard"]["backFields"]  # type: ignore[index]
    return str(next(f["value"] for f in fields if f["key"] == "redeem_link"))


def test_poster_to_wallet_to_redeemed_reward_and_back(serve: Serve, browser: Browser, tmp_path: Path) -> None:
    tab = Tab(browser)
    tab.open(f"{serve.url}/join/{PROGRAM}")
    shot(tab, "join")
    join(tab, serve)
    shot(tab, "your-card")
    tab.open(f"{serve.url}/join/{PROGRAM}")  # a reload: the same card, both buttons again
    assert tab.state() == "your-card"
    pkpass = download_pass(tab)
    openssl_verify(pkpass, serve.state / "apple" / "root-ca.pem", tmp_path)
    doc = pass_json(pkpass)
    serial, token = str(doc["serialNumber"]), str(doc["authenticationToken"])
    assert doc["webServiceURL"] == serve.url
    assert serve.wallet.cards_of(serial)[0].serial == serial and len(serve.wallet.cards_of(serial)) == 1
    registered = httpx.post(
        f"{serve.url}/v1/devices/phone-1/registrations/{DEMO_PASS_TYPE}/{serial}",
        json={"pushToken": "push-1"},
        headers={"Authorization": f"ApplePass {token}"},
        verify=serve.tls,
        timeout=30,
    )
    assert registered.status_code == 201

    google = tab.evaluate("document.getElementById('add-google').href")
    key = json.loads((serve.state / "google" / "service-account.json").read_text())
    public = load_pem_private_key(key["private_key"].encode(), None).public_key()
    claims = jwt.decode(
        urlsplit(google).path.rsplit("/", 1)[1], public, algorithms=["RS256"], audience="google"
    )
    loyalty = claims["payload"]["loyaltyObjects"][0]
    assert loyalty["id"].endswith(serial) and schema_errors(loyalty, "LoyaltyObject") == []

    serve.wallet.stamp(serial, 10, at=datetime.now(timezone.utc), source="till")  # the till, to the goal
    link = link_on(latest_pass(serve, serial, token))
    assert link.startswith(f"{serve.url}/redeem/{serial}-") and "?sig=" in link
    tab.open(link)
    assert tab.state() == "ready"
    shot(tab, "redeem-ready")
    tab.press("#redeem-button", hold=0.3)  # too short: nothing happens
    time.sleep(1.5)
    assert tab.state() == "ready"
    pushes_before = serve.wallet.outbox.pending()
    tab.press("#redeem-button", hold=1.6)  # the deliberate gesture
    tab.wait_until("!!document.querySelector('main[data-state=\"redeemed\"]')")
    first_clock = tab.wait_until(
        "/\\d\\d:\\d\\d:\\d\\d/.test(document.getElementById('clock').textContent)"
        " && document.getElementById('clock').textContent"
    )
    first = shot(tab, "redeemed")
    time.sleep(1.1)
    second = tab.screenshot()
    assert tab.evaluate("document.getElementById('clock').textContent") != first_clock
    assert first != second  # the clock, the counter and the sweep all moved
    assert re.fullmatch(
        r"redeemed \d+ seconds ago", tab.evaluate("document.getElementById('ago').textContent")
    )
    tab.evaluate("document.getElementById('live').dataset.settleMs = '1000'")  # minutes later, quickly
    tab.wait_until("document.documentElement.classList.contains('is-settled')")
    assert tab.evaluate("getComputedStyle(document.getElementById('live')).display") == "none"
    settled = tab.evaluate("document.getElementById('settled').innerText")
    assert re.fullmatch(r"Redeemed at \d\d:\d\d on \d+ \w{3}", settled), settled

    tab.open(link)  # reopen: already redeemed, never a second success
    assert tab.state() == "already-redeemed"
    shot(tab, "already-redeemed")
    card = latest_pass(serve, serial, token)  # the pass follows: back to collecting, no redeem link
    assert "redeem_link" not in json.dumps(card["storeCard"]["backFields"])  # type: ignore[index]
    assert serve.wallet.card(serial).open_voucher(datetime.now(timezone.utc)) is None
    assert serve.wallet.outbox.pending() > pushes_before  # the registered phone's push is queued


def test_two_browsers_confirming_at_once_make_one_success(serve: Serve, browser: Browser) -> None:
    owner = Tab(browser)
    join(owner, serve)
    doc = pass_json(download_pass(owner))
    serial, token = str(doc["serialNumber"]), str(doc["authenticationToken"])
    serve.wallet.stamp(serial, 10, at=datetime.now(timezone.utc), source="till")
    link = link_on(latest_pass(serve, serial, token))
    phones = [Tab(browser), Tab(browser)]
    for phone in phones:
        phone.open(link)
        assert phone.state() == "ready"
    for phone in phones:  # both forms sent before either answer arrives
        phone.send("Runtime.evaluate", {"expression": "document.getElementById('redeem-form').submit()"})
    states = sorted(
        phone.wait_until(
            "document.querySelector('main') &&"
            " ['redeemed','already-redeemed'].includes(document.querySelector('main')"
            ".dataset.state) && document.querySelector('main').dataset.state"
        )
        for phone in phones
    )
    assert states == ["already-redeemed", "redeemed"]


@functools.lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    points: set[int] = set()
    for script in Script:
        points |= set(TTFont(font_file(script), fontNumber=0, lazy=True).getBestCmap())
    return frozenset(points)


@pytest.mark.parametrize("language", ["zh-Hans", "hi", "th", "uz", "en"])
def test_pages_read_right_in_every_language(serve: Serve, browser: Browser, language: str) -> None:
    tab = Tab(browser, language=language)
    tab.open(f"{serve.url}/join/{PROGRAM}")
    assert tab.evaluate("document.documentElement.lang") == language
    texts = [tab.evaluate("document.body.innerText")]
    tab.evaluate("document.fonts.ready.then(() => true)")
    shot(tab, f"join-{language}")
    used = tab.fonts_used()
    join(tab, serve)
    tab.evaluate("document.fonts.ready.then(() => true)")
    shot(tab, f"your-card-{language}")
    texts.append(tab.evaluate("document.body.innerText"))
    used.update(tab.fonts_used())
    doc = pass_json(download_pass(tab))
    serial, token = str(doc["serialNumber"]), str(doc["authenticationToken"])
    serve.wallet.stamp(serial, 10, at=datetime.now(timezone.utc), source="till")
    tab.open(link_on(latest_pass(serve, serial, token)))  # the redeem page, in the same language
    assert tab.state() == "ready" and tab.evaluate("document.documentElement.lang") == language
    tab.evaluate("document.fonts.ready.then(() => true)")
    shot(tab, f"redeem-{language}")
    texts.append(tab.evaluate("document.body.innerText"))
    used.update(tab.fonts_used())
    covered = _covered()
    missing = {c for text in texts for c in text if not c.isspace() and ord(c) not in covered}
    assert missing == set()  # every character has a glyph in the fonts the pages serve
    assert all(family.startswith("Noto Sans") for family in used), used  # drawn with them, no fallback font


def test_nothing_personal_reaches_the_servers_log(serve: Serve, browser: Browser) -> None:
    tab = Tab(browser)
    join(tab, serve)  # no access log by default: no client addresses, paths or links
    logged = serve.log.read_text()
    assert "join page:" in logged
    assert "HTTP/1.1" not in logged and "/join/" not in logged.split("join page:")[1].split("\n", 1)[1]
    assert "sig=" not in logged and "wv_browser" not in logged


def test_a_voided_voucher_and_a_forged_link_get_their_own_pages(serve: Serve, browser: Browser) -> None:
    tab = Tab(browser)
    join(tab, serve)
    doc = pass_json(download_pass(tab))
    serial, token = str(doc["serialNumber"]), str(doc["authenticationToken"])
    voucher = serve.wallet.stamp(serial, 10, at=datetime.now(timezone.utc), source="till").vouchers[0]
    link = link_on(latest_pass(serve, serial, token))
    serve.wallet.void(voucher.serial, "refund", at=datetime.now(timezone.utc))
    tab.open(link)
    assert tab.state() == "voided"
    shot(tab, "voided")
    tab.open(link.split("?")[0] + "?sig=forged")
    assert tab.state() == "not-found"
    shot(tab, "not-found")


def test_without_javascript_the_plain_confirm_form_redeems(serve: Serve, browser: Browser) -> None:
    owner = Tab(browser)
    join(owner, serve)
    doc = pass_json(download_pass(owner))
    serial, token = str(doc["serialNumber"]), str(doc["authenticationToken"])
    serve.wallet.stamp(serial, 10, at=datetime.now(timezone.utc), source="till")
    link = link_on(latest_pass(serve, serial, token))
    tab = Tab(browser)
    tab.send("Emulation.setScriptExecutionDisabled", {"value": True})
    tab.open(link)
    assert tab.state() == "ready"
    assert tab.evaluate("document.getElementById('redeem-button').innerText") == "Redeem now"
    tab.press("#redeem-button")  # one plain tap submits the form: no gesture without a script
    tab.wait_until("!!document.querySelector('main[data-state=\"redeemed\"]')")
    assert tab.evaluate("getComputedStyle(document.getElementById('settled')).display") != "none"
