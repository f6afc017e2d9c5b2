"""The counter in process: enrolment, the staff desk and pages, the kiosk, on a real store (both engines)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletvoucher import (
    Brand,
    Channel,
    EarnPolicy,
    LocalizedText,
    Program,
    RedemptionContext,
    RedemptionMethod,
    Reward,
    Validity,
)
from walletvoucher._counter_cli import ENROL_PATH
from walletvoucher.apple import AppleSigner
from walletvoucher.cli import main as cli_main
from walletvoucher.codes import ScanKey, issue_scan_token
from walletvoucher.codes._rotating import rotating_value
from walletvoucher.errors import DatabaseUnavailable
from walletvoucher.model import VoucherStatus
from walletvoucher.service import PassTokens, ServiceRequest, ServiceResponse, WalletPerThread
from walletvoucher.service._limits import Rate
from walletvoucher.service._serve import build_demo
from walletvoucher.service._staff import StaffDesk
from walletvoucher.store import Wallet
from walletvoucher.web._site import pages_for, staff_pages_for
from walletvoucher.web._staff_pages import DEVICE_COOKIE, STAFF_CSP, StaffLimits, StaffPages

from .conftest import NOW
from .pages_setup import make_pages

KEY = ScanKey(key_id="till-2026", secret=b"scan-key-secret-for-the-tests-0123456789")
OTHER_KEY = ScanKey(key_id="elsewhere", secret=b"another-shops-scan-secret-0123456789")


def _program(pid: str, method: RedemptionMethod, **kw: object) -> Program:
    return Program(
        id=pid,
        name=LocalizedText(
            default="Coffee card", translations={"ru": "Кофейная карта", "uz": "Qahva kartasi"}
        ),
        goal=3,
        reward=Reward(
            title=LocalizedText(default="Free coffee", translations={"ru": "Бесплатный кофе"}),
            description="Any size",
        ),
        redemption=method,
        brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        **kw,  # type: ignore[arg-type]
    )


SCAN = _program("scan", RedemptionMethod.STAFF_SCAN, validity=Validity.for_days(30),
                earn_policy=EarnPolicy(min_interval=timedelta(minutes=10)))  # fmt: skip
TILL = _program("till", RedemptionMethod.REDEEM_CODE, validity=Validity.for_days(30))
LATER = _program("later", RedemptionMethod.STAFF_SCAN,
                 validity=Validity.for_days(30, start_delay=timedelta(days=2)))  # fmt: skip
ELSEWHERE = _program("elsewhere", RedemptionMethod.STAFF_SCAN, validity=Validity.for_days(30))
SELF = _program("self", RedemptionMethod.SELF_REDEEM, validity=Validity.for_days(30))
BRANCH = Program(
    id="branch", name="Branch card", goal=3, redemption=RedemptionMethod.STAFF_SCAN,
    validity=Validity.for_days(30),
    reward=Reward(title="Free cake", description="Any slice",
                  context=RedemptionContext(locations=("yunusobod",), channels=(Channel.IN_STORE,))),
    brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
)  # fmt: skip
PROGRAMS = (SCAN, TILL, LATER, ELSEWHERE, SELF, BRANCH)
SERVED = (SCAN, TILL, LATER, SELF, BRANCH)  # the counter does not serve "elsewhere"


@pytest.fixture
def counter_wallets(db_url: str) -> Iterator[WalletPerThread]:
    opener = WalletPerThread(db_url, programs=PROGRAMS, random=_random)
    try:
        yield opener
    finally:
        opener.close()


@pytest.fixture
def wallet(counter_wallets: WalletPerThread) -> Wallet:
    return counter_wallets()


@pytest.fixture
def staff(counter_wallets: WalletPerThread, signer: AppleSigner, tokens: PassTokens) -> StaffPages:
    counter = itertools.count(1)
    desk = StaffDesk(counter_wallets, scan_keys=[KEY], programs=SERVED)
    return StaffPages(
        desk=desk,
        pages=make_pages(counter_wallets, signer, tokens),
        random=lambda n: next(counter).to_bytes(n, "big"),
    )


_RANDOM = itertools.count(10_000)


def _random(n: int) -> bytes:
    return next(_RANDOM).to_bytes(n, "big")


class Device:
    """One phone or kiosk browser: keeps its cookies (a jar), posts the page's own forms."""

    def __init__(self, staff: StaffPages, *, language: str = "en") -> None:
        self.staff, self.language = staff, language
        self.jar: dict[str, str] = {}
        self.last: ServiceResponse | None = None

    def send(self, method: str, path: str, *, form: Mapping[str, str] | None = None, body: bytes = b"",
             at: datetime = NOW, headers: Mapping[str, str] | None = None) -> ServiceResponse:  # fmt: skip
        path, _, query = path.partition("?")
        sent = {"accept-language": self.language, **(headers or {})}
        if self.jar:
            sent["cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        if form is not None:
            body = urlencode(form).encode()
            sent.setdefault("content-type", "application/x-www-form-urlencoded")
        request = ServiceRequest(
            method=method, path=path, headers=sent, query=dict(parse_qsl(query)), body=body
        )
        answer = self.staff.handle(request, client="192.0.2.7", at=at)
        for name, value in answer.headers:
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                cookie_value = rest.split(";")[0]
                if "Max-Age=0" in value:
                    self.jar.pop(key, None)
                else:
                    self.jar[key] = cookie_value
        self.last = answer
        return answer

    def csrf(self) -> str:
        assert self.last is not None
        found = re.search(r'name="csrf" value="([^"]*)"', self.last.body.decode())
        assert found, self.last.body.decode()[:800]
        return found.group(1)

    def post(self, path: str, fields: Mapping[str, str], *, at: datetime = NOW) -> ServiceResponse:
        return self.send("POST", path, form={"csrf": self.csrf(), **fields}, at=at)

    def enrol(self, link_code: str) -> ServiceResponse:
        assert self.send("GET", f"/staff/enrol/{link_code}").status == 200
        return self.post(f"/staff/enrol/{link_code}", {})


def state_of(response: ServiceResponse) -> str:
    found = re.search(r'<main[^>]*data-state="([^"]+)"', response.body.decode())
    assert found, response.body[:500]
    return found.group(1)


def text_of(response: ServiceResponse) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.body.decode())).replace("&#39;", "'")


def enrolled(staff: StaffPages, wallet: Wallet, name: str = "Aziza", *, kiosk: bool = False) -> Device:
    code = wallet.access.create_device(name, location="chilonzor", kiosk=kiosk, at=NOW, random=_random)
    device = Device(staff)
    answer = device.enrol(code.secret)
    assert answer.status == 303, answer.body[:300]
    assert answer.header("location") == ("/kiosk" if kiosk else "/staff")
    device.send("GET", "/kiosk" if kiosk else "/staff")
    return device


def voucher_of(wallet: Wallet, program: Program, serial: str, *, at: datetime = NOW) -> str:
    wallet.issue_card(program.id, serial=serial, member_id=f"m-{serial}", at=at)
    result = wallet.stamp(serial, program.goal, at=at, source="setup")
    return result.vouchers[0].serial


# --- enrolment -----------------------------------------------------------------------------------


def test_enrolment_sets_a_strict_device_cookie_once(staff: StaffPages, wallet: Wallet, engine: str) -> None:
    code = wallet.access.create_device("Aziza", location="chilonzor", at=NOW, random=_random)
    phone = Device(staff)
    page = phone.send("GET", f"/staff/enrol/{code.secret}")
    assert (page.status, state_of(page)) == (200, "enrol")
    assert "enrol-button" in page.body.decode()
    done = phone.post(f"/staff/enrol/{code.secret}", {})
    assert (done.status, done.header("location")) == (303, "/staff")
    cookie = next(v for k, v in done.headers if k == "set-cookie" and v.startswith(DEVICE_COOKIE + "="))
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="):
        assert flag in cookie
    token = phone.jar[DEVICE_COOKIE]
    assert wallet.access.authenticate(token, at=NOW) is not None  # the store knows it (hashed)
    scanner = phone.send("GET", "/staff")
    assert (scanner.status, state_of(scanner)) == (200, "scan")
    assert token not in scanner.body.decode()  # the token never reaches the page (or its script)
    assert scanner.header("content-security-policy") == STAFF_CSP and "'wasm-unsafe-eval'" in STAFF_CSP
    # the link works once: a second phone (or a replay) gets the clear failure page
    again = Device(staff)
    assert again.send("GET", f"/staff/enrol/{code.secret}").status == 200
    spent = again.post(f"/staff/enrol/{code.secret}", {})
    assert (spent.status, state_of(spent)) == (410, "enrol-failed")
    assert "used already, revoked, or mistyped" in text_of(spent)
    assert DEVICE_COOKIE not in again.jar


def test_enrolment_refuses_bad_codes_and_forged_forms(staff: StaffPages, wallet: Wallet) -> None:
    phone = Device(staff)
    bad = phone.send("GET", "/staff/enrol/not-a-code")
    assert (bad.status, state_of(bad)) == (404, "enrol-failed")
    code = wallet.access.create_device("Bek", at=NOW, random=_random)
    phone.send("GET", f"/staff/enrol/{code.secret}")
    forged = phone.send("POST", f"/staff/enrol/{code.secret}", form={"csrf": "forged"})
    assert (forged.status, state_of(forged)) == (403, "stale")
    wallet.access.revoke("staff", "Bek", at=NOW)  # revoked before the phone enrolled
    revoked = phone.post(f"/staff/enrol/{code.secret}", {}) if phone.send(
        "GET", f"/staff/enrol/{code.secret}").status == 200 else None  # fmt: skip
    assert revoked is not None and (revoked.status, state_of(revoked)) == (410, "enrol-failed")


def test_revoking_a_device_signs_it_out_on_its_next_request(
    staff: StaffPages, wallet: Wallet, engine: str
) -> None:
    phone = enrolled(staff, wallet)
    token = phone.csrf()
    assert wallet.access.revoke("staff", "Aziza", at=NOW)
    answer = phone.send("POST", "/staff/scan", form={"csrf": token, "value": "CARD-1"})
    assert (answer.status, state_of(answer)) == (401, "signed-out")
    assert "not signed in" in text_of(answer) and "staff add" in text_of(answer)
    assert DEVICE_COOKIE not in phone.jar  # the dead cookie is cleared
    stranger = Device(staff)
    assert state_of(stranger.send("GET", "/staff")) == "signed-out"
    assert state_of(stranger.send("GET", "/kiosk")) == "signed-out"


def test_an_api_key_cookie_is_no_device(staff: StaffPages, wallet: Wallet) -> None:
    key = wallet.access.create_api_key("till-1", scopes={"stamp", "redeem", "read"}, at=NOW, random=_random)
    browser = Device(staff)
    browser.jar[DEVICE_COOKIE] = key.secret
    assert state_of(browser.send("GET", "/staff")) == "signed-out"


# --- the staff page --------------------------------------------------------------------------------


def test_a_scanned_voucher_is_redeemed_once_and_says_by_whom(
    staff: StaffPages, wallet: Wallet, engine: str
) -> None:
    serial = voucher_of(wallet, SCAN, "CARD-1")
    token = issue_scan_token(serial, expires_at=None, key=KEY)
    phone = enrolled(staff, wallet)
    done = phone.post("/staff/scan", {"value": token}, at=NOW + timedelta(minutes=2))
    assert (done.status, state_of(done)) == (200, "redeemed")
    words = text_of(done)
    assert "Redeemed: Free coffee" in words and "CARD-1" in words and "m-CARD-1" in words
    stored = wallet.voucher(serial)
    assert stored.status is VoucherStatus.REDEEMED and stored.redeemed_by == "staff:Aziza@chilonzor"
    assert stored.redeemed_at == NOW + timedelta(minutes=2)
    phone.send("GET", "/staff")
    again = phone.post("/staff/scan", {"value": token}, at=NOW + timedelta(minutes=3))
    assert (again.status, state_of(again)) == (409, "already-redeemed")
    assert "at 10:32 on 7 May by staff:Aziza@chilonzor" in text_of(again)


def test_rotating_codes_are_accepted_once_per_step(staff: StaffPages, wallet: Wallet, engine: str) -> None:
    first, second = voucher_of(wallet, SCAN, "CARD-R1"), voucher_of(wallet, SCAN, "CARD-R2")
    phone = enrolled(staff, wallet)
    value = rotating_value(first, key_id=KEY.key_id, secret=KEY.secret, at=NOW)
    assert state_of(phone.post("/staff/scan", {"value": value})) == "redeemed"
    phone.send("GET", "/staff")
    assert state_of(phone.post("/staff/scan", {"value": value})) == "scan-replayed"
    stale = rotating_value(second, key_id=KEY.key_id, secret=KEY.secret, at=NOW - timedelta(hours=1))
    phone.send("GET", "/staff")
    old = phone.post("/staff/scan", {"value": stale})
    assert (old.status, state_of(old)) == (422, "stale-scan")
    assert wallet.voucher(second).status is not VoucherStatus.REDEEMED


@pytest.mark.parametrize(
    ("case", "state", "words"),
    [
        ("expired", "expired", "expired on"),
        ("later", "not-yet-valid", "valid from"),
        ("voided", "voided", "withdrew"),
        ("elsewhere", "other-program", "does not serve"),
        ("forged", "invalid-scan", "not signed by this shop"),
        ("self", "wrong-method", "another way"),
        ("unknown", "unknown-voucher", "No voucher"),
        ("junk", "unreadable", "neither"),
    ],
)
def test_refusals_say_why_in_plain_words(
    staff: StaffPages, wallet: Wallet, case: str, state: str, words: str
) -> None:
    at = NOW
    if case == "expired":
        value, at = (
            issue_scan_token(voucher_of(wallet, SCAN, "C-E"), expires_at=None, key=KEY),
            NOW + timedelta(days=31),
        )
    elif case == "later":
        value = issue_scan_token(voucher_of(wallet, LATER, "C-L"), expires_at=None, key=KEY)
    elif case == "voided":
        serial = voucher_of(wallet, SCAN, "C-V")
        wallet.void(serial, "refund", at=NOW)
        value = issue_scan_token(serial, expires_at=None, key=KEY)
    elif case == "elsewhere":
        value = issue_scan_token(voucher_of(wallet, ELSEWHERE, "C-O"), expires_at=None, key=KEY)
    elif case == "forged":
        value = issue_scan_token(voucher_of(wallet, SCAN, "C-F"), expires_at=None, key=OTHER_KEY)
    elif case == "self":
        value = issue_scan_token(voucher_of(wallet, SELF, "C-S"), expires_at=None, key=KEY)
    elif case == "unknown":
        value = issue_scan_token("NOPE-1-1", expires_at=None, key=KEY)
    else:
        value = "<script>alert(1)</script>"
    phone = enrolled(staff, wallet)
    answer = phone.post("/staff/scan", {"value": value}, at=at)
    assert state_of(answer) == state and 400 <= answer.status < 500
    assert words in text_of(answer)
    assert "<script>alert" not in answer.body.decode()


def test_a_scanned_card_shows_a_picker_and_one_tap_stamps(
    staff: StaffPages, wallet: Wallet, engine: str
) -> None:
    wallet.issue_card("scan", serial="CARD-S", member_id="m-7", at=NOW)
    phone = enrolled(staff, wallet)
    card = phone.post("/staff/scan", {"value": "CARD-S"})
    assert (card.status, state_of(card)) == (200, "card")
    assert 'name="count" value="5"' in card.body.decode() and "0/3" in text_of(card)
    assert wallet.card("CARD-S").stamps == 0  # showing the card adds nothing
    done = phone.post("/staff/stamp", {"card": "CARD-S", "count": "2"}, at=NOW + timedelta(minutes=1))
    assert (done.status, state_of(done)) == (200, "stamped")
    assert "Stamped: +2" in text_of(done) and "2/3" in text_of(done)
    entry = wallet.journal(0, limit=100)[-1].event.to_json()
    assert entry["type"] == "stamp_added" and entry["data"]["source"] == "staff:Aziza@chilonzor"
    assert entry["at"].startswith("2026-05-07T10:31")
    phone.send("GET", "/staff")
    phone.post("/staff/scan", {"value": "CARD-S"})
    too_soon = phone.post("/staff/stamp", {"card": "CARD-S", "count": "1"}, at=NOW + timedelta(minutes=3))
    assert (too_soon.status, state_of(too_soon)) == (422, "earn-policy")
    assert "the next one from 10:41 on 7 May" in text_of(too_soon)
    phone.send("GET", "/staff")
    token = phone.csrf()
    for count in ("0", "21", "-1", "x", ""):
        answer = phone.send("POST", "/staff/stamp", form={"csrf": token, "card": "CARD-S", "count": count})
        assert state_of(answer) == "unreadable"
    assert wallet.card("CARD-S").stamps == 2


def test_a_typed_redeem_code_is_tracked(staff: StaffPages, wallet: Wallet, engine: str) -> None:
    wallet.issue_card("till", serial="CARD-T", member_id="m-9", at=NOW)
    voucher = wallet.stamp("CARD-T", 3, at=NOW, source="setup").vouchers[0]
    assert voucher.code is not None
    phone = enrolled(staff, wallet)
    wrong = phone.post("/staff/code", {"voucher": voucher.serial, "code": "0000-0000-0000"})
    assert (wrong.status, state_of(wrong)) == (422, "wrong-code")
    phone.send("GET", "/staff")
    done = phone.post("/staff/code", {"voucher": voucher.serial, "code": voucher.code.value.lower()})
    assert (done.status, state_of(done)) == (200, "redeemed")
    assert wallet.voucher(voucher.serial).redeemed_by == "staff:Aziza@chilonzor"


def test_forged_or_missing_csrf_is_refused(staff: StaffPages, wallet: Wallet) -> None:
    serial = voucher_of(wallet, SCAN, "CARD-X")
    phone = enrolled(staff, wallet)
    token, good = issue_scan_token(serial, expires_at=None, key=KEY), phone.csrf()
    for csrf in ("", "forged", "A" * 200):
        answer = phone.send("POST", "/staff/scan", form={"csrf": csrf, "value": token})
        assert (answer.status, state_of(answer)) == (403, "stale")
    other = enrolled(staff, wallet, "Bek")  # another device's token is no good either
    answer = other.send("POST", "/staff/scan", form={"csrf": good, "value": token})
    assert state_of(answer) == "stale"
    assert wallet.voucher(serial).status is not VoucherStatus.REDEEMED


# --- the kiosk ---------------------------------------------------------------------------------------


def test_the_kiosk_stamps_one_per_scan_and_refuses_a_double_scan(
    staff: StaffPages, wallet: Wallet, engine: str
) -> None:
    wallet.issue_card("scan", serial="CARD-K", member_id="m-3", at=NOW - timedelta(hours=2))
    wallet.stamp("CARD-K", 1, at=NOW - timedelta(hours=1), source="setup")
    kiosk = enrolled(staff, wallet, "door", kiosk=True)
    kiosk.language = "ru"
    assert state_of(kiosk.last) == "kiosk" and "autofocus" in kiosk.last.body.decode()  # type: ignore[union-attr]
    done = kiosk.post("/kiosk", {"barcode": " CARD-K\n"})
    assert (done.status, state_of(done)) == (200, "stamped")
    assert "2/3" in text_of(done) and "2 из 3" in text_of(done)  # the program's Russian words
    assert wallet.journal(0, limit=100)[-1].event.to_json()["data"]["source"] == "kiosk:door@chilonzor"
    double = kiosk.post("/kiosk", {"barcode": "CARD-K"}, at=NOW + timedelta(seconds=2))
    assert (double.status, state_of(double)) == (422, "earn-policy")
    assert wallet.card("CARD-K").stamps == 2
    unknown = kiosk.post("/kiosk", {"barcode": "NO-SUCH-CARD"})
    assert (unknown.status, state_of(unknown)) == (404, "unknown-card")


def test_a_lang_in_the_address_sets_the_kiosks_language_and_its_forms_keep_it(
    staff: StaffPages, wallet: Wallet
) -> None:
    wallet.issue_card("scan", serial="CARD-L", member_id="m-l", at=NOW - timedelta(hours=2))
    kiosk = enrolled(staff, wallet, "door", kiosk=True)  # the device says English
    idle = kiosk.send("GET", "/kiosk?lang=ar")
    body = idle.body.decode()
    assert '<html lang="ar" dir="rtl">' in body and "امسح بطاقتك" in body and "Scan your card" not in body
    assert 'action="/kiosk?lang=ar"' in body
    done = kiosk.send("POST", "/kiosk?lang=ru", form={"csrf": kiosk.csrf(), "barcode": "CARD-L"})
    assert state_of(done) == "stamped" and "1 из 3" in text_of(done)  # the program speaks Russian
    assert 'lang="ru"' in done.body.decode()
    unknown = kiosk.send("POST", "/kiosk?lang=uz", form={"csrf": kiosk.csrf(), "barcode": "NO-SUCH"})
    assert "Noma’lum karta" in text_of(unknown)  # the counter's own words, though the card is unknown
    hostile = kiosk.send("GET", "/kiosk?lang=%3Cscript%3E")
    assert hostile.status == 200 and "<script>" not in hostile.body.decode().split("<main", 1)[1]
    assert '<html lang="en"' in hostile.body.decode()
    kiosk.language = "hi"
    assert "अपना कार्ड स्कैन करें" in kiosk.send("GET", "/kiosk").body.decode()


def test_the_enrolment_page_and_notices_follow_the_devices_language(
    staff: StaffPages, wallet: Wallet
) -> None:
    code = wallet.access.create_device("Aziza", location="chilonzor", at=NOW, random=_random)
    phone = Device(staff, language="th")
    page = phone.send("GET", f"/staff/enrol/{code.secret}")
    assert "ลงทะเบียนอุปกรณ์นี้" in text_of(page) and "<code dir=\"ltr\">walletvoucher staff revoke</code>" in \
        page.body.decode()  # fmt: skip
    stranger = Device(staff, language="zh-CN,zh;q=0.9")
    assert "此设备未登录" in text_of(stranger.send("GET", "/staff"))
    stranger.send("GET", "/staff/enrol/wve_" + "A" * 43)
    assert "此登记链接无效" in text_of(stranger.post("/staff/enrol/wve_" + "A" * 43, {}))  # no such code


def test_a_kiosk_cannot_redeem(staff: StaffPages, wallet: Wallet) -> None:
    serial = voucher_of(wallet, SCAN, "CARD-Q")
    kiosk = enrolled(staff, wallet, "door", kiosk=True)
    token = issue_scan_token(serial, expires_at=None, key=KEY)
    scanner = kiosk.send("GET", "/staff")
    assert (scanner.status, state_of(scanner)) == (403, "forbidden")
    forced = kiosk.send("POST", "/staff/scan", form={"csrf": kiosk.csrf() if "csrf" in scanner.body.decode()
                                                     else "", "value": token})  # fmt: skip
    assert forced.status == 403
    kiosk.send("GET", "/kiosk")
    at_kiosk = kiosk.post("/kiosk", {"barcode": token})
    assert state_of(at_kiosk) == "unreadable"
    assert (
        StaffDesk(wallet, scan_keys=[KEY])
        .scan(
            wallet.access.authenticate(kiosk.jar[DEVICE_COOKIE], at=NOW),
            token,
            at=NOW,  # type: ignore[arg-type]
        )
        .state
        == "forbidden"
    )
    assert wallet.voucher(serial).status is not VoucherStatus.REDEEMED


# --- hostile input ------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(
        [
            "/staff",
            "/staff/scan",
            "/staff/stamp",
            "/staff/code",
            "/kiosk",
            "/staff/enrol/x",
            "/staff/enrol/wve_" + "A" * 43,
            "/staff/../kiosk",
            "/staff/scan/extra",
        ]
    ),
    method=st.sampled_from(["GET", "POST", "PUT", "HEAD"]),
    body=st.binary(max_size=300),
    kind=st.sampled_from(["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]),
    cookie=st.text(max_size=120),
)
def test_hostile_requests_never_fail_the_server(
    staff: StaffPages, wallet: Wallet, path: str, method: str, body: bytes, kind: str, cookie: str
) -> None:
    headers = {"content-type": kind, "cookie": f"{DEVICE_COOKIE}={cookie}"}
    request = ServiceRequest(method=method, path=path, headers=headers, query={}, body=body)
    answer = staff.handle(request, client="192.0.2.9", at=NOW)
    assert 200 <= answer.status < 500


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=400), count=st.text(max_size=8), card=st.text(max_size=80))
def test_hostile_forms_from_an_enrolled_phone_never_fail(
    staff: StaffPages, wallet: Wallet, value: str, count: str, card: str
) -> None:
    if not hasattr(staff, "_test_phone"):  # one phone for every example (the staff fixture lives on)
        phone = enrolled(staff, wallet, "Hostile")
        staff._test_phone = (phone, phone.csrf())  # type: ignore[attr-defined]
    phone, token = staff._test_phone  # type: ignore[attr-defined]
    for path, fields in (("/staff/scan", {"value": value}), ("/staff/stamp", {"card": card, "count": count}),
                         ("/staff/code", {"voucher": card, "code": value})):  # fmt: skip
        answer = phone.send("POST", path, form={"csrf": token, **fields})
        assert 200 <= answer.status < 500, answer.body[:300]
        assert "<script>" not in answer.body.decode().split("</head>", 1)[1]


def test_serve_mounts_the_counter_with_its_scan_key(tmp_path: Path) -> None:
    """What ``serve`` runs (demo mode): the counter over the demo's store, verifying the demo's scan key."""
    served = build_demo(host="127.0.0.1", port=8443, state_dir=tmp_path, at=NOW, random=_random)
    try:
        counter = staff_pages_for(served, pages_for(served))
        wallet = served.wallets()
        voucher = wallet.stamp("DEMO-CARD-3", 10, at=NOW, source="till").vouchers[0]
        assert served.scan_keys  # the key the demo's passes are drawn with
        token = issue_scan_token(voucher.serial, expires_at=voucher.expires_at, key=served.scan_keys[0])
        phone = enrolled(counter, wallet)
        done = phone.post("/staff/scan", {"value": token})
        assert (done.status, state_of(done)) == (200, "redeemed")
        assert wallet.voucher(voucher.serial).redeemed_by == "staff:Aziza@chilonzor"
    finally:
        served.wallets.close()


def test_a_store_that_does_not_answer_is_a_busy_page_not_a_500(staff: StaffPages) -> None:
    def away() -> Wallet:
        raise DatabaseUnavailable("cannot be reached", field="url", value="sqlite:///gone", fix="start it")

    down = StaffPages(desk=StaffDesk(away), pages=staff.pages, random=_random)
    phone = Device(down)
    phone.jar[DEVICE_COOKIE] = "wvd_" + "A" * 43
    for method, path in (("GET", "/staff"), ("GET", "/kiosk"), ("POST", "/staff/scan")):
        answer = phone.send(method, path, form={"csrf": "x", "value": "CARD-1"} if method == "POST" else None)
        assert (answer.status, state_of(answer)) == (503, "busy")


def test_the_cli_link_enrols_and_the_cli_revokes(
    staff: StaffPages, wallet: Wallet, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["staff", "add", "Dilnoza", "--location", "yunusobod", "--url", "https://shop.example",
                     "--db", db_url]) == 0  # fmt: skip
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert link.startswith("https://shop.example" + ENROL_PATH)
    phone = Device(staff)
    path = link.removeprefix("https://shop.example")
    phone.send("GET", path)
    assert phone.post(path, {}).header("location") == "/staff"
    scanner = phone.send("GET", "/staff")
    assert (scanner.status, state_of(scanner)) == (200, "scan") and "staff:Dilnoza@yunusobod" in text_of(
        scanner
    )
    assert cli_main(["staff", "revoke", "Dilnoza", "--db", db_url]) == 0
    after = phone.send("GET", "/staff")
    assert (after.status, state_of(after)) == (401, "signed-out")


def test_each_device_is_rate_limited(staff: StaffPages, wallet: Wallet) -> None:
    limited = StaffPages(desk=staff.desk, pages=staff.pages, random=_random,
                         limits=StaffLimits(per_device=Rate(3, 60)))  # fmt: skip
    phone = enrolled(limited, wallet)  # its first page is one request
    token = phone.csrf()
    states = [state_of(phone.send("POST", "/staff/scan", form={"csrf": token, "value": "CARD-1"}))
              for _ in range(3)]  # fmt: skip
    assert states == ["unknown-card", "unknown-card", "too-many"]
    assert phone.last is not None and phone.last.status == 429
    later = phone.send(
        "POST", "/staff/scan", form={"csrf": token, "value": "CARD-1"}, at=NOW + timedelta(minutes=2)
    )
    assert state_of(later) == "unknown-card"


def test_a_reward_bound_to_a_branch_is_redeemed_only_by_that_branchs_devices(
    staff: StaffPages, wallet: Wallet
) -> None:
    serial = voucher_of(wallet, BRANCH, "CARD-B")
    token = issue_scan_token(serial, expires_at=None, key=KEY)
    here = enrolled(staff, wallet)   # a chilonzor phone
    refused = here.post("/staff/scan", {"value": token}, at=NOW + timedelta(minutes=1))
    assert (refused.status, state_of(refused)) == (409, "outside-context")
    assert "yunusobod" in text_of(refused) and wallet.voucher(serial).status is not VoucherStatus.REDEEMED
    code = wallet.access.create_device("Bekzod", location="yunusobod", at=NOW, random=_random)
    there = Device(staff)
    assert there.enrol(code.secret).status == 303
    there.send("GET", "/staff")
    done = there.post("/staff/scan", {"value": token}, at=NOW + timedelta(minutes=2))
    assert (done.status, state_of(done)) == (200, "redeemed")
    assert wallet.voucher(serial).redeemed_by == "staff:Bekzod@yunusobod"
