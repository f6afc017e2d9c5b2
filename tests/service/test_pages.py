"""The customer pages in process (framework-neutral ``CustomerPages.handle``) over a real wallet store."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletvoucher.apple import AppleSigner
from walletvoucher.model import VoucherStatus
from walletvoucher.service import PassTokens, ServiceRequest, WalletPerThread
from walletvoucher.service._limits import Rate
from walletvoucher.web import CSP, CustomerPages, PageLimits

from .conftest import NOW, PASS_TYPE
from .pages_setup import LINK_KEY, PROGRAMS, Client, make_pages, pass_json, redeem_link, state_of


@pytest.fixture
def page_wallets(db_url: str) -> Iterator[WalletPerThread]:
    opener = WalletPerThread(db_url, programs=PROGRAMS)
    try:
        yield opener
    finally:
        opener.close()


@pytest.fixture
def pages(page_wallets: WalletPerThread, signer: AppleSigner, tokens: PassTokens) -> CustomerPages:
    return make_pages(page_wallets, signer, tokens)


def joined(pages: CustomerPages, program: str = "coffee", **kw: str) -> Client:
    client = Client(pages, **kw)
    client.get(f"/join/{program}")
    client.token = client.csrf()
    assert client.post(f"/join/{program}", {"csrf": client.token}).status == 303
    return client


def serial_of(pages: CustomerPages, client: Client, program: str = "coffee") -> str:
    assert client.cookie is not None
    browser = pages.browsers.from_cookie(client.cookie.split("=", 1)[1])
    assert browser is not None
    found = pages.join_desk.program(program)
    assert found is not None
    return pages.join_desk.serial_for(found, browser)


# --- join ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang", "direction", "name"),
    [
        ("zh-CN,zh;q=0.9", "zh-Hans", "ltr", "咖啡卡"),
        ("hi-IN", "hi", "ltr", "कॉफ़ी कार्ड"),
        ("th", "th", "ltr", "บัตรกาแฟ"),
        ("uz-Latn-UZ", "uz", "ltr", "Qahva kartasi"),
        ("ar-EG,en;q=0.1", "ar", "rtl", "بطاقة القهوة"),
        ("de-DE,en;q=0.5", "en", "ltr", "Coffee card"),
    ],
)
def test_join_page_speaks_the_customers_language(
    pages: CustomerPages, accept: str, lang: str, direction: str, name: str
) -> None:
    answer = Client(pages, language=accept).get("/join/coffee")
    html = answer.body.decode()
    assert answer.status == 200 and state_of(answer) == "join"
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert f"<h1>{name}</h1>" in html
    assert answer.header("content-language") == lang


def test_join_page_shows_name_colours_reward_and_goal(pages: CustomerPages) -> None:
    client = Client(pages)
    html = client.get("/join/coffee").body.decode()
    assert "Free coffee" in html and "Collect 3 stamps" in html and "No name, e-mail or phone number" in html
    css = client.get("/brand/coffee.css")
    assert css.body.decode() == ":root{--brand-bg:#1E3A5F;--brand-fg:#FFFFFF;--brand-label:#F2C14E}\n"


def test_one_tap_issues_one_card_however_often_the_browser_repeats(
    pages: CustomerPages, page_wallets: WalletPerThread
) -> None:
    client = joined(pages)
    token = client.token
    for _ in range(3):  # reload after the redirect, double tap, back button and submit again
        assert client.post("/join/coffee", {"csrf": token}).status == 303
    page = client.get("/join/coffee")
    assert state_of(page) == "your-card"
    assert 'id="add-apple" href="/join/coffee/card.pkpass"' in page.body.decode()
    serial = serial_of(pages, client)
    assert [c.serial for c in page_wallets().cards_of(serial)] == [serial]
    other = joined(pages, address="192.0.2.1")  # another phone at the same table
    assert serial_of(pages, other) != serial


def test_join_without_the_forms_token_is_refused(pages: CustomerPages, page_wallets: WalletPerThread) -> None:
    client = Client(pages)
    client.get("/join/coffee")
    token = client.csrf()
    assert client.post("/join/coffee", {"csrf": "forged"}).status == 403
    stranger = Client(pages)  # no cookie at all: a cross-site form post
    answer = stranger.post("/join/coffee", {"csrf": token})
    assert answer.status == 403 and state_of(answer) == "stale"
    assert page_wallets().journal() == ()


def test_the_browser_cookie_is_secure_httponly_lax_and_pages_carry_a_strict_csp(pages: CustomerPages) -> None:
    answer = Client(pages).get("/join/coffee")
    cookie = answer.header("set-cookie") or ""
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}
    assert answer.header("content-security-policy") == CSP and "'unsafe-inline'" not in CSP
    assert "script-src 'self'" in CSP
    html = answer.body.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [] and " style=" not in html
    assert answer.header("referrer-policy") == "no-referrer"
    head = pages.handle(ServiceRequest(method="HEAD", path="/join/coffee"), client="192.0.2.1", at=NOW)
    assert head.status == 200 and head.body == b"" and head.header("content-security-policy") == CSP


def test_the_card_downloads_as_an_updatable_pass_that_registers(
    pages: CustomerPages, tokens: PassTokens
) -> None:
    client = joined(pages)
    serial = serial_of(pages, client)
    answer = client.get("/join/coffee/card.pkpass")
    assert answer.status == 200 and answer.header("content-type") == "application/vnd.apple.pkpass"
    doc = pass_json(answer.body)
    assert doc["serialNumber"] == serial and doc["webServiceURL"] == "https://wallet.example.com"
    assert doc["authenticationToken"] == tokens.token_for(serial)
    register = ServiceRequest(
        method="POST",
        path=f"/v1/devices/device-1/registrations/{PASS_TYPE}/{serial}",
        headers={"authorization": f"ApplePass {doc['authenticationToken']}"},
        body=b'{"pushToken": "t1"}',
    )
    assert pages.passes.handle(register, at=NOW).status == 201
    assert Client(pages).get("/join/coffee/card.pkpass").status == 404  # another browser has no card


def test_personal_details_are_asked_only_when_the_program_says_and_need_consent(
    pages: CustomerPages, page_wallets: WalletPerThread, caplog: pytest.LogCaptureFixture
) -> None:
    assert 'name="email"' not in Client(pages).get("/join/coffee").body.decode()
    client = Client(pages)
    html = client.get("/join/club").body.decode()
    for field in ("name", "email", "phone"):
        assert f'<label for="f-{field}">' in html
    assert "We e-mail you when a reward is ready." in html
    details = {
        "csrf": client.csrf(),
        "name": "Aziza",
        "email": "aziza@example.com",
        "phone": "+998 90 123 45 67",
    }
    refused = client.post("/join/club", details)
    assert refused.status == 400 and "aria-invalid" not in refused.body.decode().split("f-consent")[0][-200:]
    assert "Please check this field: consent" in refused.body.decode() or "error" in refused.body.decode()
    with caplog.at_level(logging.DEBUG):
        assert client.post("/join/club", {**details, "consent": "yes"}).status == 303
    serial = serial_of(pages, client, "club")
    assert page_wallets().details.get(serial) == {
        "name": "Aziza",
        "email": "aziza@example.com",
        "phone": "+998 90 123 45 67",
    }
    assert "aziza" not in caplog.text.lower() and "998" not in caplog.text


def test_a_bad_email_names_the_field(pages: CustomerPages) -> None:
    client = Client(pages)
    client.get("/join/club")
    answer = client.post("/join/club", {"csrf": client.csrf(), "email": "not an address", "consent": "yes"})
    assert answer.status == 400 and 'aria-invalid="true"' in answer.body.decode()
    assert "E-mail" in answer.body.decode().split('role="alert"')[1][:100]


# --- redeem ----------------------------------------------------------------------------------------


def reward_ready(
    pages: CustomerPages, wallets: WalletPerThread, program: str = "coffee"
) -> tuple[Client, str]:
    """A joined browser whose card reached its goal; returns it and the pass's redeem link (path+query)."""
    client = joined(pages, program)
    serial = serial_of(pages, client, program)
    wallets().stamp(serial, 3, at=NOW, source="till")
    link = redeem_link(pass_json(client.get(f"/join/{program}/card.pkpass").body))
    parts = urlsplit(link)
    return client, f"{parts.path}?{parts.query}"


def test_the_pass_links_to_a_signed_redeem_page(pages: CustomerPages, page_wallets: WalletPerThread) -> None:
    client, path = reward_ready(pages, page_wallets)
    serial = path.split("/")[2].split("?")[0]
    assert path == f"/redeem/{serial}?sig={LINK_KEY.signature(serial)}"
    page = client.get(path)
    html = page.body.decode()
    assert page.status == 200 and state_of(page) == "ready"
    assert "Free coffee" in html and "Valid until" in html and "One per visit" in html
    assert 'id="redeem-button"' in html and 'name="sig"' in html


@pytest.mark.parametrize("query", ["", "?sig=", "?sig=AAAAAAAAAAAAAAAAAAAAAA", "?sig=" + "x" * 5000])
def test_a_redeem_link_without_its_signature_is_not_found(
    pages: CustomerPages, page_wallets: WalletPerThread, query: str
) -> None:
    client, path = reward_ready(pages, page_wallets)
    answer = client.get(path.split("?")[0] + query)
    assert answer.status == 404 and state_of(answer) == "not-found"
    assert (
        state_of(Client(pages).get("/redeem/NO-SUCH-1?sig=" + LINK_KEY.signature("NO-SUCH-1"))) == "not-found"
    )


def test_redeeming_succeeds_once_and_then_says_already_redeemed(
    pages: CustomerPages, page_wallets: WalletPerThread
) -> None:
    client, path = reward_ready(pages, page_wallets)
    page = client.get(path)
    form = {"csrf": client.csrf(), "sig": path.split("sig=")[1]}
    done = client.post(path.split("?")[0], form, at=NOW + timedelta(minutes=1))
    html = done.body.decode()
    assert done.status == 200 and state_of(done) == "redeemed"
    assert 'id="clock"' in html and 'data-ago="redeemed {n} seconds ago"' in html and 'class="sweep"' in html
    assert "Redeemed at 10:31 on 7 May" in html
    again = client.post(path.split("?")[0], form, at=NOW + timedelta(minutes=2))  # a replayed POST
    assert (
        state_of(again) == "already-redeemed" and "already redeemed at 10:31 on 7 May" in again.body.decode()
    )
    other_phone = Client(pages, address="198.51.100.7")
    assert state_of(other_phone.get(path)) == "already-redeemed"
    assert page.status == 200
    serial = path.split("/")[2].split("?")[0]
    card = page_wallets().card(serial.rsplit("-", 1)[0])
    assert card.open_voucher(NOW + timedelta(minutes=3)) is None  # back to collecting
    assert page_wallets().voucher(serial).status is VoucherStatus.REDEEMED


def test_a_redeem_post_without_the_forms_token_redeems_nothing(
    pages: CustomerPages, page_wallets: WalletPerThread
) -> None:
    client, path = reward_ready(pages, page_wallets)
    client.get(path)
    answer = client.post(path.split("?")[0], {"csrf": "forged", "sig": path.split("sig=")[1]})
    assert answer.status == 403
    assert state_of(client.get(path)) == "ready"


def test_two_phones_confirming_at_once_make_one_success(
    pages: CustomerPages, page_wallets: WalletPerThread, engine: str
) -> None:
    _, path = reward_ready(pages, page_wallets)
    phones = [Client(pages, address=f"203.0.113.{n}") for n in range(6)]
    forms = []
    for phone in phones:
        phone.get(path)
        forms.append({"csrf": phone.csrf(), "sig": path.split("sig=")[1]})
    states: list[str] = []
    start = threading.Barrier(len(phones))

    def confirm(index: int) -> None:
        start.wait()
        states.append(state_of(phones[index].post(path.split("?")[0], forms[index])))

    threads = [threading.Thread(target=confirm, args=(n,)) for n in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(states) == ["already-redeemed"] * 5 + ["redeemed"]


def test_every_voucher_state_has_its_own_page(pages: CustomerPages, page_wallets: WalletPerThread) -> None:
    _, path = reward_ready(pages, page_wallets)
    serial = path.split("/")[2].split("?")[0]
    assert state_of(Client(pages).get(path, at=NOW + timedelta(days=31))) == "expired"
    page_wallets().void(serial, "refund", at=NOW + timedelta(hours=1))
    voided = Client(pages).get(path, at=NOW + timedelta(hours=2))
    assert state_of(voided) == "voided" and "withdrew" in voided.body.decode()
    later = joined(pages, "later")
    pending = page_wallets().stamp(serial_of(pages, later, "later"), 3, at=NOW, source="till").vouchers[0]
    not_yet = Client(pages).get(f"/redeem/{pending.serial}?sig={LINK_KEY.signature(pending.serial)}")
    assert state_of(not_yet) == "not-yet-valid" and "can be used from 10:30 on 9 May" in not_yet.body.decode()
    till = joined(pages, "till")
    till_serial = serial_of(pages, till, "till")
    voucher = (
        page_wallets().stamp(till_serial, 3, at=NOW, source="till", random=lambda n: b"7" * n).vouchers[0]
    )
    signed = f"/redeem/{voucher.serial}?sig={LINK_KEY.signature(voucher.serial)}"
    staff = Client(pages)
    assert state_of(staff.get(signed)) == "staff-only"
    assert staff.cookie is not None
    token = pages.browsers.csrf_token(pages.browsers.from_cookie(staff.cookie.split("=", 1)[1]) or "")
    assert (
        state_of(staff.post(signed.split("?")[0], {"csrf": token, "sig": signed.split("=")[1]}))
        == "staff-only"
    )
    assert page_wallets().voucher(voucher.serial).status is not VoucherStatus.REDEEMED


def test_rate_limits_per_address_and_per_card(
    page_wallets: WalletPerThread, signer: AppleSigner, tokens: PassTokens
) -> None:
    pages = make_pages(
        page_wallets,
        signer,
        tokens,
        PageLimits(join_per_address=Rate(3, 60), redeem_per_address=Rate(5, 60), per_card=Rate(2, 60)),
    )
    family = [Client(pages) for _ in range(4)]  # one address, four phones
    answers = []
    for phone in family:
        phone.get("/join/coffee")
        answers.append(phone.post("/join/coffee", {"csrf": phone.csrf()}).status)
    assert answers == [303, 303, 303, 429]
    assert Client(pages, address="192.0.2.99").get("/join/coffee").status == 200
    assert [family[0].get("/join/coffee/card.pkpass").status for _ in range(3)] == [200, 200, 429]
    limited = Client(pages, address="192.0.2.50")
    statuses = [limited.get("/redeem/X-1?sig=a").status for _ in range(6)]
    assert statuses[-1] == 429 and state_of(limited.last) == "too-many"  # type: ignore[arg-type]


# --- hostile input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/join/" + "a" * 300, b"", 404),
        ("GET", "/join/%ff%fe", b"", 404),
        ("GET", "/join/../etc", b"", 404),
        ("GET", "/join/coffee/../../v1", b"", 404),
        ("DELETE", "/join/coffee", b"", 405),
        ("POST", "/join/coffee", b"csrf=" + b"a" * 9000, 400),
        ("POST", "/join/coffee", b"\xff\xfe=1", 400),
        ("POST", "/redeem/X?sig=1", b"&".join([b"a=1"] * 50), 400),
        ("GET", "/redeem/%00", b"", 404),
        ("GET", "/brand/%2e%2e.css", b"", 404),
        ("GET", "/nothing", b"", 404),
    ],
)
def test_hostile_requests_get_4xx(
    pages: CustomerPages, method: str, path: str, body: bytes, status: int
) -> None:
    headers = {"content-type": "application/x-www-form-urlencoded", "cookie": "wv_browser=" + "x" * 50}
    answer = pages.handle(
        ServiceRequest(method=method, path=path, headers=headers, body=body), client="192.0.2.1", at=NOW
    )
    assert answer.status == status


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT"]),
    path=st.text(min_size=0, max_size=80).map(lambda s: "/" + s),
    prefix=st.sampled_from(["", "/join/", "/redeem/", "/brand/", "/join/coffee/"]),
    body=st.binary(max_size=300),
    cookie=st.text(max_size=60),
    accept=st.text(max_size=60),
)
def test_no_request_makes_the_pages_fail(
    pages: CustomerPages, method: str, path: str, prefix: str, body: bytes, cookie: str, accept: str
) -> None:
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "cookie": cookie,
        "accept-language": accept,
    }
    request = ServiceRequest(
        method=method, path=prefix + path.lstrip("/"), headers=headers, body=body, query={"sig": cookie}
    )
    assert pages.handle(request, client="192.0.2.1", at=NOW).status < 500


def test_a_reward_stamped_mid_second_shows_on_the_pass_as_ready(
    pages: CustomerPages, page_wallets: WalletPerThread
) -> None:
    # regression: passes were rendered at the update mark's whole second, before a voucher issued
    # at 10:30:00.4 became valid, so the card showed "Valid from" and no redeem link until its next change
    client = joined(pages)
    page_wallets().stamp(serial_of(pages, client), 3, at=NOW + timedelta(seconds=5.4), source="till")
    assert "?sig=" in redeem_link(pass_json(client.get("/join/coffee/card.pkpass").body))


# --- the Starlette app -----------------------------------------------------------------------------


def test_the_site_serves_pages_static_files_fonts_and_passkit_and_refuses_big_bodies(
    pages: CustomerPages,
) -> None:
    import asyncio

    import httpx

    from walletvoucher.web import create_site

    app = create_site(pages, passkit=pages.passes, clock=lambda: NOW)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("192.0.2.9", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            return [
                await client.get("/join/coffee"),
                await client.get("/static/site.css"),
                await client.get("/static/walletvoucher-pages-1.0.js"),
                await client.get("/static/fonts/thai.ttf"),
                await client.get("/static/fonts/../../etc/passwd"),
                await client.post("/join/coffee", content=b"x" * 20_000,
                                  headers={"content-type": "application/x-www-form-urlencoded"}),
                await client.get("/v1/passes/pass.com.example.coffee/NOPE"),
                await client.put("/join/coffee"),
            ]

    page, css, script, font, escape, big, passkit, put = asyncio.run(run())
    assert page.status_code == 200 and 'data-state="join"' in page.text
    assert css.status_code == 200 and "@font-face" in css.text
    assert script.status_code == 200 and "hold" in script.text
    assert font.status_code == 200 and font.content[:4] == b"\x00\x01\x00\x00"  # a TrueType font
    assert escape.status_code == 404 and big.status_code == 413
    assert passkit.status_code == 401 and put.status_code == 405
