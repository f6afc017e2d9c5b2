"""The customer pages over a real wallet store, in process: programs, a site, and a cookie-keeping client."""

from __future__ import annotations

import io
import itertools
import json
import re
import zipfile
from collections.abc import Mapping
from datetime import datetime, timedelta

from walletvoucher import Brand, LocalizedText, Program, RedemptionMethod, Reward, Validity
from walletvoucher.apple import AppleOptions, AppleSigner
from walletvoucher.codes import RedeemLinkKey
from walletvoucher.service import (
    PassTokens,
    PassWebService,
    ServiceRequest,
    ServiceResponse,
    StorePassUpdates,
    WalletPerThread,
    store_renderer,
)
from walletvoucher.service._join import JoinDesk, JoinSettings
from walletvoucher.service._redeem import RedeemDesk
from walletvoucher.web import BrowserIds, CustomerPages, PageLimits

from .conftest import NOW, PASS_TYPE, TEAM

PUBLIC = "https://wallet.example.com"
LINK_KEY = RedeemLinkKey(b"redeem-link-key-for-the-tests-0123456789")
LANGS = {
    "zh-Hans": "咖啡卡",
    "hi": "कॉफ़ी कार्ड",
    "th": "บัตรกาแฟ",
    "uz": "Qahva kartasi",
    "ar": "بطاقة القهوة",
    "ru": "Кофейная карта",
}


def _text(default: str, **per: str) -> LocalizedText:
    return LocalizedText(default=default, translations=per)


def program(
    pid: str = "coffee",
    *,
    method: RedemptionMethod = RedemptionMethod.SELF_REDEEM,
    validity: Validity | None = None,
) -> Program:
    return Program(
        id=pid,
        name=LocalizedText(default="Coffee card", translations=LANGS),
        goal=3,
        reward=Reward(
            title=_text(
                "Free coffee",
                **{
                    "zh-Hans": "免费咖啡",
                    "hi": "मुफ़्त कॉफ़ी",
                    "th": "กาแฟฟรี",
                    "uz": "Bepul qahva",
                    "ar": "قهوة مجانية",
                },
            ),
            description="Any size",
            terms="One per visit",
        ),
        redemption=method,
        validity=validity or Validity.for_days(30),
        brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
    )


PROGRAMS = (
    program(),
    program("club"),
    program("later", validity=Validity.for_days(30, start_delay=timedelta(days=2))),
    program("till", method=RedemptionMethod.REDEEM_CODE),
)
SETTINGS = {
    "club": JoinSettings(ask=("name", "email", "phone"), consent="We e-mail you when a reward is ready.")
}


def make_pages(
    wallets: WalletPerThread, signer: AppleSigner, tokens: PassTokens, limits: PageLimits | None = None
) -> CustomerPages:
    options = AppleOptions(
        pass_type_identifier=PASS_TYPE,
        team_identifier=TEAM,
        redeem_link=PUBLIC + "/redeem/{serial}",
        redeem_link_key=LINK_KEY,
    )
    render = store_renderer(wallets, signer=signer, options=options, web_service_url=PUBLIC, tokens=tokens)
    service = PassWebService(
        pass_type_identifier=PASS_TYPE, store=StorePassUpdates(wallets), tokens=tokens, render=render
    )
    counter = itertools.count()
    browsers = BrowserIds(
        b"cookie-key-for-the-tests-0123456789abc", random=lambda n: next(counter).to_bytes(n, "big")
    )
    return CustomerPages(
        join=JoinDesk(
            wallets, programs=PROGRAMS, secret=b"join-secret-for-the-tests-0123456789", settings=SETTINGS
        ),
        redeem=RedeemDesk(wallets, link_key=LINK_KEY, programs=PROGRAMS),
        passes=service,
        browsers=browsers,
        limits=limits,
    )


class Client:
    """One browser: keeps its cookie, sends forms with the page's CSRF token."""

    def __init__(self, pages: CustomerPages, *, address: str = "192.0.2.1", language: str = "en") -> None:
        self.pages, self.address, self.language = pages, address, language
        self.cookie: str | None = None
        self.token = ""
        self.last: ServiceResponse | None = None

    def send(
        self,
        method: str,
        path: str,
        *,
        form: Mapping[str, str] | None = None,
        body: bytes | None = None,
        at: datetime = NOW,
        headers: Mapping[str, str] | None = None,
    ) -> ServiceResponse:
        path, _, query = path.partition("?")
        sent = {"accept-language": self.language, **(headers or {})}
        if self.cookie:
            sent["cookie"] = self.cookie
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form).encode()
            sent.setdefault("content-type", "application/x-www-form-urlencoded")
        from urllib.parse import parse_qsl

        request = ServiceRequest(
            method=method, path=path, headers=sent, query=dict(parse_qsl(query)), body=body or b""
        )
        answer = self.pages.handle(request, client=self.address, at=at)
        cookie = answer.header("set-cookie")
        if cookie:
            self.cookie = cookie.split(";")[0]
        self.last = answer
        return answer

    def get(self, path: str, **kw: object) -> ServiceResponse:
        return self.send("GET", path, **kw)  # type: ignore[arg-type]

    def post(self, path: str, form: Mapping[str, str], **kw: object) -> ServiceResponse:
        return self.send("POST", path, form=form, **kw)  # type: ignore[arg-type]

    def csrf(self) -> str:
        assert self.last is not None
        return csrf_of(self.last.body.decode())


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def state_of(response: ServiceResponse) -> str:
    found = re.search(r'<main[^>]*data-state="([^"]+)"', response.body.decode())
    assert found, response.body[:500]
    return found.group(1)


def pass_json(pkpass: bytes) -> dict[str, object]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as bundle:
        doc: dict[str, object] = json.loads(bundle.read("pass.json"))
    return doc


def redeem_link(doc: Mapping[str, object]) -> str:
    """The Self-Redeem link on a pass's back (the voucher shown on the card)."""
    for style in ("storeCard", "coupon"):
        for field in doc.get(style, {}).get("backFields", []):  # type: ignore[attr-defined]
            if field.get("key") == "redeem_link":
                return str(field["value"])
    raise AssertionError("no redeem link on the pass")
