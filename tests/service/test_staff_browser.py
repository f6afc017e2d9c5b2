"""The counter in a real browser: headless Chromium at a phone's size with a FAKE CAMERA.

Chromium's fake capture device plays a YUV4MPEG2 file we write with Pillow from a voucher's Staff-Scan
QR code, drawn by our own code writer (``render_png``). The staff page's camera reads it through the
vendored zxing-wasm decoder and the page shows the voucher redeemed; a second scan shows it already
redeemed; the pass follows (its barcode is gone) and the registered phone's push is queued in the
outbox. Then a kiosk takes a typed barcode and Enter, as a USB scanner sends it. One loopback server
(uvicorn, in a thread) and one browser serve the whole module.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import time
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import httpx
import pytest
from PIL import Image

from tests.browser import Browser, Tab, find_chromium
from walletvoucher import EarnPolicy, RedemptionMethod
from walletvoucher.apple import AppleOptions, AppleSigner
from walletvoucher.codes import ScanKey, Symbology, issue_scan_token, render_png
from walletvoucher.model import VoucherStatus
from walletvoucher.service import (
    PassTokens,
    PassWebService,
    StorePassUpdates,
    WalletPerThread,
    store_renderer,
)
from walletvoucher.service._join import JoinDesk
from walletvoucher.service._limits import Rate
from walletvoucher.service._redeem import RedeemDesk
from walletvoucher.service._staff import StaffDesk
from walletvoucher.store import Wallet
from walletvoucher.web import BrowserIds, CustomerPages
from walletvoucher.web._counter_i18n import COUNTER_TEXTS
from walletvoucher.web._staff_pages import StaffLimits, StaffPages
from walletvoucher.web.app import create_site

from .conftest import NOW, PASS_TYPE, TEAM
from .pages_setup import LINK_KEY, program
from .servers import UvicornThread

CHROMIUM = find_chromium()
KEY = ScanKey(key_id="till-2026", secret=b"scan-key-secret-for-the-browser-0123456789")
SHOTS = Path(os.environ["WV_PAGE_SHOTS"]) if os.environ.get("WV_PAGE_SHOTS") else None
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium is not installed (.ci/run installs Debian's chromium)",
)
SCAN = program("scan", method=RedemptionMethod.STAFF_SCAN)
STAMP = attrs.evolve(program("stamp"), earn_policy=EarnPolicy(min_interval=timedelta(minutes=10)))
_RANDOM = itertools.count(1)
IDLE_SECONDS = 3.0
TABLET = {"width": 1024, "height": 768, "deviceScaleFactor": 1, "mobile": True}


def _random(n: int) -> bytes:
    return next(_RANDOM).to_bytes(n, "big")


def write_y4m(path: Path, picture: Image.Image, *, frames: int = 15) -> None:
    """A YUV4MPEG2 ``C420jpeg`` video of *picture* (centred on white, 640x480) for Chromium's fake camera."""
    canvas = Image.new("RGB", (640, 480), "white")
    canvas.paste(picture, ((640 - picture.width) // 2, (480 - picture.height) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (320, 240)
    planes = (
        y.tobytes()
        + cb.resize(half, Image.Resampling.BOX).tobytes()
        + cr.resize(half, Image.Resampling.BOX).tobytes()
    )
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F15:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)


class Counter:
    """The loopback site (customer pages, PassKit, the counter) and its store."""

    def __init__(self, folder: Path, certfile: Path, keyfile: Path, signer: AppleSigner) -> None:
        self.wallets = WalletPerThread(f"sqlite:///{folder / 'wallet.db'}", programs=[SCAN, STAMP])
        self.tokens = PassTokens(b"browser-test-pass-token-secret-0123456789")
        options = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, scan_key=KEY,
                               redeem_link_key=LINK_KEY)  # fmt: skip
        render = store_renderer(self.wallets, signer=signer, options=options,
                                web_service_url="https://127.0.0.1", tokens=self.tokens)  # fmt: skip
        passes = PassWebService(pass_type_identifier=PASS_TYPE, store=StorePassUpdates(self.wallets),
                                tokens=self.tokens, render=render)  # fmt: skip
        pages = CustomerPages(
            join=JoinDesk(
                self.wallets, programs=[SCAN, STAMP], secret=b"join-secret-for-the-browser-0123456789"
            ),
            redeem=RedeemDesk(self.wallets, link_key=LINK_KEY, programs=[SCAN, STAMP]),
            passes=passes,
            browsers=BrowserIds(b"cookie-key-for-the-browser-0123456789ab", random=os.urandom),
        )
        self.now = NOW  # (the enrolment limit: one loopback address enrols every device of the module)
        staff = StaffPages(desk=StaffDesk(self.wallets, scan_keys=[KEY], programs=[SCAN, STAMP]), pages=pages,
                           random=os.urandom, kiosk_idle_seconds=IDLE_SECONDS,
                           limits=StaffLimits(enrol_per_address=Rate(200, 600)))  # fmt: skip
        app = create_site(pages, passkit=passes, staff=staff, clock=lambda: self.now)
        self.server = UvicornThread(app, certfile=certfile, keyfile=keyfile).__enter__()
        self.url = self.server.url

    @property
    def wallet(self) -> Wallet:
        return self.wallets()

    def close(self) -> None:
        self.server.__exit__(None, None, None)
        self.wallets.close()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, server_cert: tuple[Path, Path],
          signer: AppleSigner) -> Iterator[tuple[Counter, Path]]:  # fmt: skip
    folder = tmp_path_factory.mktemp("counter")
    counter = Counter(folder, *server_cert, signer)
    wallet = counter.wallet
    wallet.issue_card("scan", serial="CARD-1", member_id="m-aziz", at=NOW)
    voucher = wallet.stamp("CARD-1", SCAN.goal, at=NOW, source="till").vouchers[0]
    token = issue_scan_token(voucher.serial, expires_at=voucher.expires_at, key=KEY)
    qr = Image.open(io.BytesIO(render_png(token, Symbology.QR, module_size=6))).convert("RGB")
    video = folder / "voucher-qr.y4m"
    write_y4m(video, qr)
    try:
        yield counter, video
    finally:
        counter.close()


@pytest.fixture(scope="module")
def kiosk_camera(setup: tuple[Counter, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """A second browser on the same server, its fake camera showing a stamp card's barcode (the one its
    pass shows, drawn by our code writer): Chromium takes one camera file per browser."""
    assert CHROMIUM is not None
    counter, _ = setup
    counter.wallet.issue_card("stamp", serial="CARD-CAM", member_id="m-cam", at=NOW)
    barcode = pass_of(counter, "CARD-CAM")["barcodes"][0]  # type: ignore[index]
    assert barcode["message"] == "CARD-CAM" and barcode["format"] == "PKBarcodeFormatQR"
    card = Image.open(io.BytesIO(render_png(barcode["message"], Symbology.QR, module_size=8))).convert("RGB")
    video = tmp_path_factory.mktemp("kiosk") / "card-qr.y4m"
    write_y4m(video, card)
    camera = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={video}")  # fmt: skip
    with Browser(CHROMIUM, flags=camera) as running:
        yield running


@pytest.fixture(scope="module")
def browser(setup: tuple[Counter, Path]) -> Iterator[Browser]:
    assert CHROMIUM is not None
    camera = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={setup[1]}")  # fmt: skip
    with Browser(CHROMIUM, flags=camera) as running:
        yield running


def shot(tab: Tab, name: str) -> bytes:
    return tab.screenshot(SHOTS / f"{name}.png" if SHOTS else None)


def enrol(tab: Tab, counter: Counter, name: str, *, kiosk: bool = False) -> None:
    code = counter.wallet.access.create_device(
        name, location="chilonzor", kiosk=kiosk, at=NOW, random=_random
    )
    tab.open(f"{counter.url}/staff/enrol/{code.secret}")
    assert tab.state() == "enrol"
    shot(tab, f"enrol-{name}")
    tab.press("#enrol-button")
    target = "kiosk" if kiosk else "scan"
    tab.wait_until(f"!!document.querySelector('main[data-state=\"{target}\"]')")


def pass_of(counter: Counter, serial: str) -> dict[str, object]:
    auth = {"Authorization": f"ApplePass {counter.tokens.token_for(serial)}"}
    answer = httpx.get(
        f"{counter.url}/v1/passes/{PASS_TYPE}/{serial}", verify=False, timeout=30, headers=auth
    )
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as bundle:
        doc: dict[str, object] = json.loads(bundle.read("pass.json"))
    return doc


def test_the_staff_camera_redeems_a_voucher_once(setup: tuple[Counter, Path], browser: Browser) -> None:
    counter, _ = setup
    token = counter.tokens.token_for("CARD-1")
    registered = httpx.post(f"{counter.url}/v1/devices/phone-1/registrations/{PASS_TYPE}/CARD-1",
                            json={"pushToken": "push-1"}, headers={"Authorization": f"ApplePass {token}"},
                            verify=False, timeout=30)  # fmt: skip
    assert registered.status_code == 201
    before = pass_of(counter, "CARD-1")
    assert "wv1." in json.dumps(before.get("barcodes"))  # the pass shows the voucher's scan token
    pushes = counter.wallet.outbox.pending()

    tab = Tab(browser)
    tab.send("Network.enable")
    counter.now = NOW + timedelta(minutes=2)
    enrol(tab, counter, "Aziza")
    tab.wait_until("!!document.querySelector('main[data-state=\"redeemed\"]')", timeout=30)
    tab.evaluate("window.sameScanner = true")  # the answers come without leaving the page
    assert tab.evaluate("document.getElementById('answer-title').textContent") == "Redeemed: Free coffee"
    assert "CARD-1" in tab.evaluate("document.getElementById('answer-card').textContent")
    assert "m-aziz" in tab.evaluate("document.getElementById('answer-card').textContent")
    assert (
        tab.evaluate("getComputedStyle(document.getElementById('answer')).backgroundColor")
        == "rgb(11, 107, 47)"
    )
    shot(tab, "staff-redeemed")
    voucher = counter.wallet.vouchers(card_serial="CARD-1", limit=10)[0]
    assert voucher.status is VoucherStatus.REDEEMED and voucher.redeemed_by == "staff:Aziza@chilonzor"

    tab.press("#next")  # back to the scanner: the camera reads the same QR again
    tab.wait_until("!!document.querySelector('main[data-state=\"already-redeemed\"]')", timeout=30)
    assert tab.evaluate("window.sameScanner === true && document.getElementById('video').srcObject.active")
    reason = tab.evaluate("document.getElementById('answer-reason').textContent")
    assert reason == "at 10:32 on 7 May by staff:Aziza@chilonzor"
    shot(tab, "staff-already-redeemed")

    after = pass_of(counter, "CARD-1")
    assert "wv1." not in json.dumps(after.get("barcodes"))  # the pass follows: no voucher to scan
    assert counter.wallet.outbox.pending() > pushes  # the registered phone's push is queued
    sent = [e for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    requested = {e["params"]["request"]["url"] for e in sent if e.get("sessionId") == tab.session}
    assert f"{counter.url}/static/vendor/zxing-wasm/zxing_reader.wasm" in requested
    assert all(url.startswith((counter.url + "/", "data:")) for url in requested), requested  # no CDN


def test_the_camera_reads_the_exact_token(setup: tuple[Counter, Path], browser: Browser) -> None:
    counter, _ = setup
    tab = Tab(browser)
    enrol(tab, counter, "Bek")
    quiet = (  # this tab's posts never return: the scanner stays on screen with what it read
        "const real = window.fetch; window.fetch = (url, init) =>"
        " init && init.method === 'POST' ? new Promise(() => {}) : real(url, init);"
    )
    tab.send("Page.addScriptToEvaluateOnNewDocument", {"source": quiet})
    tab.open(f"{counter.url}/staff")
    tab.wait_until("document.getElementById('main').dataset.camera === 'read'", timeout=30)
    voucher = counter.wallet.vouchers(card_serial="CARD-1", limit=10)[0]
    read = tab.evaluate("document.getElementById('scan-value').value")
    assert read == issue_scan_token(voucher.serial, expires_at=voucher.expires_at, key=KEY)
    shot(tab, "staff-scanner")


def test_the_kiosk_stamps_a_typed_barcode(setup: tuple[Counter, Path], browser: Browser) -> None:
    counter, _ = setup
    counter.wallet.issue_card("stamp", serial="CARD-K", member_id="m-k", at=NOW)
    tab = Tab(browser, language="uz")
    enrol(tab, counter, "door", kiosk=True)
    tab.wait_until("document.activeElement.id === 'barcode'", timeout=5)  # a USB scanner types here
    shot(tab, "kiosk-ready")
    tab.send("Input.insertText", {"text": "CARD-K"})
    enter = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"}
    tab.send("Input.dispatchKeyEvent", {"type": "keyDown", **enter})
    tab.send("Input.dispatchKeyEvent", {"type": "keyUp", **enter})
    tab.wait_until("!!document.querySelector('main[data-state=\"stamped\"]')")
    assert tab.evaluate("document.getElementById('answer-count').textContent") == "1/3"
    tab.wait_until("document.activeElement.id === 'barcode'", timeout=5)  # ready for the next customer
    shot(tab, "kiosk-stamped")
    tab.send("Input.insertText", {"text": "CARD-K"})  # the same card at once: the earn policy says no
    tab.send("Input.dispatchKeyEvent", {"type": "keyDown", **enter})
    tab.send("Input.dispatchKeyEvent", {"type": "keyUp", **enter})
    tab.wait_until("!!document.querySelector('main[data-state=\"earn-policy\"]')")
    shot(tab, "kiosk-too-soon")
    assert counter.wallet.card("CARD-K").stamps == 1
    assert (
        counter.wallet.journal(0, limit=100)[-1].event.to_json()["data"]["source"] == "kiosk:door@chilonzor"
    )


READ_IMAGE = """
(async () => {
  const bytes = Uint8Array.from(atob(%s), c => c.charCodeAt(0));
  const found = await ZXingWASM.readBarcodes(bytes, {formats: %s, maxNumberOfSymbols: 1});
  return found.map(r => [r.format, r.text]);
})()
"""


def test_the_vendored_decoder_reads_the_codes_our_passes_show(
    setup: tuple[Counter, Path], browser: Browser
) -> None:
    counter, _ = setup
    tab = Tab(browser)
    enrol(tab, counter, "Cem")
    tab.open(f"{counter.url}/staff")
    tab.wait_until("!!window.ZXingWASM")
    formats = ["QRCode", "Aztec", "PDF417", "Code128"]  # as staff-1.0.js asks
    cases = {
        Symbology.QR: "CARD-1",  # a card's barcode
        Symbology.CODE_128: "7K3M-9QXP-4TRB",
        Symbology.PDF417: "7K3M-9QXP-4TRB",
        Symbology.AZTEC: "wv1.till-2026.CARD-1-1.x",
    }
    for symbology, value in cases.items():
        png = base64.b64encode(render_png(value, symbology)).decode()
        read = tab.evaluate(READ_IMAGE % (json.dumps(png), json.dumps(formats)))
        assert [text for _, text in read] == [value], (symbology, read)


def test_hostile_http_requests_get_4xx(setup: tuple[Counter, Path]) -> None:
    counter, _ = setup
    with httpx.Client(base_url=counter.url, verify=False, timeout=30) as client:
        assert client.post("/staff/scan", content=b"x" * 100_000).status_code == 413
        assert (
            client.post("/kiosk", content=b"\xff\xfe", headers={"content-type": "text/plain"}).status_code
            == 401
        )
        assert client.get("/staff/enrol/%00%ff").status_code == 404
        assert client.get("/staff/scan").status_code == 405
        assert client.get("/staff", headers={"cookie": "wv_device=wvd_" + "A" * 43}).status_code == 401
        assert client.put("/kiosk").status_code == 405


def test_a_typed_card_gets_stamps_with_one_tap(setup: tuple[Counter, Path], browser: Browser) -> None:
    counter, _ = setup
    counter.wallet.issue_card("scan", serial="CARD-T", member_id="m-t", at=NOW)
    tab = Tab(browser)
    no_camera = "navigator.mediaDevices.getUserMedia = () => Promise.reject(new Error('no camera'));"
    tab.send("Page.addScriptToEvaluateOnNewDocument", {"source": no_camera})  # a phone that refuses it
    enrol(tab, counter, "Dana")
    tab.wait_until("document.getElementById('main').dataset.camera === 'unavailable'")
    tab.evaluate("document.getElementById('scan-value').value = 'CARD-T'")
    tab.press("#scan-button")
    tab.wait_until("!!document.querySelector('main[data-state=\"card\"]')")
    assert tab.evaluate("document.getElementById('answer-count').textContent") == "0/3"
    tab.press("label:nth-of-type(2) span")  # two stamps
    shot(tab, "staff-card")
    tab.press("#stamp-button")
    tab.wait_until("!!document.querySelector('main[data-state=\"stamped\"]')")
    assert tab.evaluate("document.getElementById('answer-count').textContent") == "2/3"
    assert counter.wallet.card("CARD-T").stamps == 2
    assert (
        counter.wallet.journal(0, limit=100)[-1].event.to_json()["data"]["source"] == "staff:Dana@chilonzor"
    )


def _kiosk_posts(browser: Browser, tab: Tab) -> int:
    sent = [e for e in browser.events if e.get("method") == "Network.requestWillBeSent"
            and e.get("sessionId") == tab.session]  # fmt: skip
    return sum(1 for e in sent if e["params"]["request"]["method"] == "POST"
               and e["params"]["request"]["url"].split("?")[0].endswith("/kiosk"))  # fmt: skip


def test_the_kiosk_camera_stamps_a_held_card_once_then_returns_to_idle(
    setup: tuple[Counter, Path], kiosk_camera: Browser
) -> None:
    counter, _ = setup
    tab = Tab(kiosk_camera, language="ru")
    tab.send("Network.enable")
    enrol(tab, counter, "door-cam", kiosk=True)
    tab.open(f"{counter.url}/kiosk?camera=on")  # the setting stays on the device (localStorage)
    tab.wait_until("!!document.querySelector('main[data-state=\"stamped\"]')", timeout=30)
    assert tab.evaluate("document.getElementById('answer-count').textContent") == "1/3"
    assert tab.evaluate("document.getElementById('answer-word').textContent") == "1 из 3 штампов"
    assert tab.evaluate("document.getElementById('answer').closest('[lang]').lang") == "ru"  # the customer's
    shot(tab, "kiosk-camera-stamped")
    assert tab.evaluate("document.getElementById('kiosk-video').srcObject.active")  # the camera keeps running
    assert tab.evaluate("document.getElementById('barcode').inputMode") == "none"  # no on-screen keyboard
    # the idle screen comes back, the card still in front of the camera: no second stamp, no second request
    tab.wait_until("document.getElementById('main').dataset.state === 'kiosk'", timeout=IDLE_SECONDS + 5)
    assert tab.evaluate("document.getElementById('answer-title').textContent") == "Отсканируйте карту"
    time.sleep(2.5)  # ~25 more frames of the same card
    assert tab.state() == "kiosk" and _kiosk_posts(kiosk_camera, tab) == 1
    assert counter.wallet.card("CARD-CAM").stamps == 1
    shot(tab, "kiosk-camera-idle")
    journal = counter.wallet.journal(0, limit=1000)
    assert journal[-1].event.to_json()["data"]["source"] == "kiosk:door-cam@chilonzor"

    # a reload keeps the camera on; the same card again is refused by the earn policy, said on the big screen
    tablet = Tab(kiosk_camera, language="ar", viewport=TABLET)
    tablet.send("Network.enable")
    enrol(tablet, counter, "door-tablet", kiosk=True)
    tablet.open(f"{counter.url}/kiosk?camera=on")
    tablet.wait_until("!!document.querySelector('main[data-state=\"earn-policy\"]')", timeout=30)
    assert tablet.evaluate("(a => [a.closest('[lang]').lang, getComputedStyle(a).direction])"
                           "(document.getElementById('answer'))") == ["ar", "rtl"]
    assert tablet.evaluate("document.getElementById('answer-count').textContent") == "1/3"
    shot(tablet, "kiosk-camera-tablet-too-soon")
    tablet.wait_until("document.getElementById('main').dataset.state === 'kiosk'", timeout=IDLE_SECONDS + 5)
    shot(tablet, "kiosk-camera-tablet-idle")
    assert _kiosk_posts(kiosk_camera, tablet) == 1 and counter.wallet.card("CARD-CAM").stamps == 1


LANG_DIR = "[document.documentElement.lang, document.documentElement.dir]"
REWARDS = {"en": "Free coffee", "ar": "قهوة مجانية", "hi": "मुफ़्त कॉफ़ी"}


@pytest.mark.parametrize("language", ["en", "ar", "hi"])
def test_the_counter_speaks_the_devices_language_and_answers_keep_their_direction(
    setup: tuple[Counter, Path], browser: Browser, language: str
) -> None:
    counter, _ = setup
    words = COUNTER_TEXTS[language]
    direction = "rtl" if language == "ar" else "ltr"
    serial = f"CARD-L-{language}"
    counter.wallet.issue_card("scan", serial=serial, member_id=f"m-{language}", at=NOW)
    voucher = counter.wallet.stamp(serial, SCAN.goal, at=NOW, source="till").vouchers[0]
    phone = Tab(browser, language=language)
    no_camera = "navigator.mediaDevices.getUserMedia = () => Promise.reject(new Error('no camera'));"
    phone.send("Page.addScriptToEvaluateOnNewDocument", {"source": no_camera})  # type the code instead
    code = counter.wallet.access.create_device(f"phone-{language}", location="chilonzor", at=NOW,
                                               random=_random)  # fmt: skip
    phone.open(f"{counter.url}/staff/enrol/{code.secret}")
    assert phone.evaluate(LANG_DIR) == [language, direction]
    assert phone.evaluate("document.querySelector('h1').textContent") == words["enrol_title"]
    assert "walletvoucher staff revoke" in phone.evaluate("document.getElementById('enrol-text').textContent")
    shot(phone, f"enrol-{language}")
    phone.press("#enrol-button")
    phone.wait_until("document.getElementById('main').dataset.camera === 'unavailable'")
    assert phone.evaluate(LANG_DIR) == [language, direction]
    assert phone.evaluate("document.querySelector('.bar h1').textContent") == words["scan_title"]
    assert phone.evaluate("document.getElementById('camera-hint').textContent") == words["camera_blocked"]
    assert phone.evaluate("document.getElementById('scan-button').textContent") == words["scan_button"]
    if language == "ar":  # the heading hugs the right edge, as Arabic is read
        assert phone.evaluate("document.querySelector('.bar h1').getBoundingClientRect().right") > 390 - 40
    shot(phone, f"staff-scanner-{language}")

    token = issue_scan_token(voucher.serial, expires_at=voucher.expires_at, key=KEY)
    phone.evaluate(f"document.getElementById('scan-value').value = {json.dumps(token)}")
    phone.press("#scan-button")
    phone.wait_until("!!document.querySelector('main[data-state=\"redeemed\"]')")
    # the staff answers are English, left to right, the reward (in the customer's language) a run inside
    title = phone.evaluate("document.getElementById('answer-title').textContent")
    assert title == f"Redeemed: {REWARDS[language]}"
    assert phone.evaluate("getComputedStyle(document.getElementById('answer-title')).direction") == "ltr"
    starts = phone.evaluate("(() => { const r = document.createRange(); const t = document.getElementById("
                            "'answer-title').firstChild; r.setStart(t, 0); r.setEnd(t, 8);"
                            " return r.getBoundingClientRect().left; })()")  # fmt: skip
    assert starts < 60  # "Redeemed" starts at the left edge, not after an Arabic run
    shot(phone, f"staff-redeemed-{language}")

    kiosk = Tab(browser, language=language)
    kiosk.send("Page.addScriptToEvaluateOnNewDocument", {"source": no_camera})
    enrol(kiosk, counter, f"kiosk-{language}", kiosk=True)
    assert kiosk.evaluate(LANG_DIR) == [language, direction]
    assert kiosk.evaluate("document.getElementById('answer-title').textContent") == words["kiosk_idle"]
    assert kiosk.evaluate("document.getElementById('kiosk-button').textContent") == words["kiosk_button"]
    assert kiosk.evaluate("document.getElementById('camera-toggle').textContent") == words["camera_on"]
    shot(kiosk, f"kiosk-idle-{language}")
