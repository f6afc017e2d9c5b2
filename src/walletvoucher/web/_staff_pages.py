"""The counter's pages, framework-neutral: enrolment, the staff scanner and the kiosk.

======================================  ==============================================================
``GET  /staff/enrol/{code}``            confirm enrolling this phone or tablet (works without JS)
``POST /staff/enrol/{code}``            trade the one-time code for the device token (a cookie), then
                                        303 to ``/staff`` (staff) or ``/kiosk`` (kiosk)
``GET  /staff``                         the scanner: camera, a typed or pasted code, a Redeem Code form
``POST /staff/scan``                    a scanned value: a voucher's code is redeemed, a card's barcode
                                        shows the card with a stamp count to confirm
``POST /staff/stamp``                   add the confirmed stamps to a card
``POST /staff/code``                    redeem a Redeem Code voucher by its typed code
``GET  /kiosk``, ``POST /kiosk``        the kiosk: each scanned card barcode adds one stamp (typed by a
                                        USB scanner, or read by the camera: ``?camera=on``, see
                                        ``static/staff-1.0.js``)
======================================  ==============================================================

The counter's own words come in the device's language (``Accept-Language``, or ``?lang=`` in the
address, kept by the page's forms; :mod:`walletvoucher.web._counter_i18n`); the staff answers stay
English and left to right, the reward in the customer's language inside them.

The device token lives only in the ``wv_device`` cookie (``Secure; HttpOnly; SameSite=Strict``):
script never sees it. Forms carry a CSRF token bound to that token. Every page names its state on
``<main data-state="...">`` (see :mod:`walletvoucher.service._staff`); a revoked device gets the
``signed-out`` page on its next request.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs

from walletvoucher.codes import RandomSource
from walletvoucher.errors import ValidationError, WalletVoucherError
from walletvoucher.model import Program
from walletvoucher.service._limits import Rate, RateLimiter
from walletvoucher.service._staff import MAX_STAMPS, CounterView, StaffDesk
from walletvoucher.service._webservice import ServiceRequest, ServiceResponse, _segments
from walletvoucher.store import Principal
from walletvoucher.web._counter_i18n import COUNTER_LANGUAGES, counter_texts
from walletvoucher.web._csrf import MAX_AGE, BrowserIds
from walletvoucher.web._i18n import format_moment, negotiate, texts
from walletvoucher.web._pages import CSP, CustomerPages, _Call, _cookie

DEVICE_COOKIE = "wv_device"
STAFF_CSP = (
    CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'") + "; media-src 'self' blob:"
)
"""The customer pages' policy, plus WebAssembly compilation for the vendored barcode decoder."""
DECODER = "vendor/zxing-wasm/zxing-wasm-reader.js"
"""The vendored decoder under the static files (``scripts/vendor-zxing-wasm.sh`` refreshes it)."""
_ENROL_CODE = re.compile(r"wve_[A-Za-z0-9_-]{43}")
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")
KIOSK_IDLE_SECONDS = 10.0
"""How long the kiosk shows an answer before its idle screen returns for the next customer."""
_logger = logging.getLogger("walletvoucher.web.staff")

_ANSWERS: dict[str, tuple[str, str]] = {
    "redeemed": ("ok", "Redeemed: {reward}"),
    "already-redeemed": ("bad", "Already redeemed"),
    "expired": ("bad", "Expired"),
    "outside-context": ("bad", "Not here or not now"),
    "card-expired": ("bad", "Card expired"),
    "not-yet-valid": ("wait", "Not valid yet"),
    "voided": ("bad", "Revoked"),
    "other-program": ("bad", "Another program"),
    "stale-scan": ("bad", "Code too old"),
    "scan-replayed": ("bad", "Code already scanned"),
    "invalid-scan": ("bad", "Not our code"),
    "wrong-code": ("bad", "Wrong code"),
    "wrong-method": ("bad", "Not redeemed here"),
    "unknown-voucher": ("bad", "Unknown voucher"),
    "card": ("wait", "{program}"),
    "stamped": ("ok", "Stamped: +{added}"),
    "earn-policy": ("bad", "Not stamped"),
    "unknown-card": ("bad", "Unknown card"),
    "unreadable": ("bad", "Not a code we know"),
    "forbidden": ("bad", "Not allowed on this device"),
    "busy": ("wait", "Busy: try again"),
}
_REASONS: dict[str, str] = {
    "already-redeemed": "at {redeemed_at} by {redeemed_by}",
    "expired": "expired on {expires}",
    "outside-context": "{why}",
    "card-expired": "The customer's card has expired: it neither earns nor redeems.",
    "not-yet-valid": "valid from {valid_from}",
    "voided": "The business withdrew this voucher.",
    "other-program": "This voucher belongs to a program this counter does not serve.",
    "stale-scan": "A screenshot or an old code: ask the customer to open the pass in their wallet.",
    "scan-replayed": "This rotating code was accepted once already: scan the live pass.",
    "invalid-scan": "This code was not signed by this shop (damaged, forged or from another system).",
    "wrong-code": "The code does not match voucher {voucher}.",
    "wrong-method": "This voucher is redeemed another way (the customer's own link, or its code).",
    "unknown-voucher": "No voucher with that serial.",
    "unknown-card": "No card with that barcode.",
    "unreadable": "It is neither a voucher's code nor a card's barcode.",
    "forbidden": "This device is a kiosk: it only adds stamps.",
    "busy": "The store is busy; scan again in a moment.",
}


@attrs.frozen(kw_only=True)
class StaffLimits:
    """Requests per device (a busy counter scans often) and enrolment attempts per client address."""

    per_device: Rate = attrs.field(factory=lambda: Rate(120, 60))
    enrol_per_address: Rate = attrs.field(factory=lambda: Rate(20, 600))


class StaffPages:
    """The enrolment, staff and kiosk pages over a :class:`StaffDesk`.

    *pages* supplies the templates and the browser cookie that guards the enrolment form; *random*
    makes device tokens; the kiosk returns to its idle screen *kiosk_idle_seconds* after an answer.
    """

    def __init__(
        self,
        *,
        desk: StaffDesk,
        pages: CustomerPages,
        random: RandomSource,
        limits: StaffLimits | None = None,
        kiosk_idle_seconds: float = KIOSK_IDLE_SECONDS,
    ) -> None:
        self.desk, self.pages, self._random = desk, pages, random
        self.limits = limits or StaffLimits()
        self.kiosk_idle_ms = int(kiosk_idle_seconds * 1000)
        self._per_device = RateLimiter(self.limits.per_device)
        self._enrol = RateLimiter(self.limits.enrol_per_address)

    def __repr__(self) -> str:
        return f"StaffPages({self.desk!r})"

    @property
    def browsers(self) -> BrowserIds:
        """Signs the browser cookie and the CSRF tokens."""
        return self.pages.browsers

    def handle(self, request: ServiceRequest, *, client: str, at: datetime) -> ServiceResponse:
        """Answer one request; never raises for anything a client can send."""
        if request.method == "HEAD":
            answer = self.handle(attrs.evolve(request, method="GET"), client=client, at=at)
            return attrs.evolve(answer, body=b"")
        parts = _segments(request.path)
        route = _route(parts) if parts is not None else None
        if route is None:
            return self.pages._plain(404, "not found")
        name, arg, methods = route
        if request.method not in methods:
            return ServiceResponse(status=405, headers=(("allow", ", ".join(methods)),))
        call = _Counter(self, request, client=client, at=at)
        try:
            handler: Callable[[str], ServiceResponse] = getattr(call, name)
            return handler(arg)
        except ValidationError as exc:
            _logger.info("refused a %s: %s", name, exc.field)  # the field, never the value
            return call.notice(400, "stale", "stale_title", "stale_text")
        except WalletVoucherError as exc:  # the store is busy or away: say so, never a 500
            _logger.warning("counter %s failed: %s", name, type(exc).__name__)
            return call.notice(503, "busy", "busy_title", "busy_text")


def _route(parts: list[str]) -> tuple[str, str, tuple[str, ...]] | None:
    if len(parts) == 3 and parts[:2] == ["staff", "enrol"]:
        return "enrol", parts[2], ("GET", "POST")
    if parts == ["staff"]:
        return "scanner", "", ("GET",)
    if len(parts) == 2 and parts[0] == "staff" and parts[1] in ("scan", "stamp", "code"):
        return parts[1], "", ("POST",)
    if parts == ["kiosk"]:
        return "kiosk", "", ("GET", "POST")
    return None


def _device_csrf_id(token: str) -> str:
    return "device-" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:40]


class _Counter:
    """One request at the counter (device, form, language)."""

    def __init__(self, staff: StaffPages, request: ServiceRequest, *, client: str, at: datetime) -> None:
        self.staff, self.request, self.client, self.at = staff, request, client, at
        self.token = _cookie(request.headers.get("cookie"), DEVICE_COOKIE)
        self.headers: tuple[tuple[str, str], ...] = ()
        self._call: _Call | None = None

    # --- helpers ---------------------------------------------------------------------------

    def form(self) -> dict[str, str]:
        if self._call is None:
            self._call = _Call(self.staff.pages, self.request, client=self.client, at=self.at)
        return self._call.form()

    def preference(self) -> str | None:
        """The language asked for: a ``?lang=`` in the address (a kiosk set up for one language), else
        the device's ``Accept-Language``."""
        asked = self.request.query.get("lang", "")
        return asked if _LANG.fullmatch(asked) else self.request.headers.get("accept-language")

    def language(self, program: Program | None) -> str:
        offered = program.languages if program is not None else ("en",)
        return negotiate(self.preference(), offered)

    def counter_language(self) -> str:
        """The language of the counter's own words (enrolment, scanner chrome, kiosk idle screen)."""
        return negotiate(self.preference(), COUNTER_LANGUAGES)

    def page(
        self, template: str, status: int, *, language: str | None = None, **context: Any
    ) -> ServiceResponse:
        language = language or self.counter_language()
        context.setdefault("brand", None)
        context.setdefault("decoder", None)
        asked = self.request.query.get("lang", "")
        context.setdefault("lang_query", "?lang=" + asked if _LANG.fullmatch(asked) else "")
        context["c"] = counter_texts(language)
        answer = self.staff.pages.render(template, status, language, context, self.headers)
        extra = (("permissions-policy", "camera=(self), microphone=(), geolocation=()"),)
        headers = tuple((k, STAFF_CSP if k == "content-security-policy" else v) for k, v in answer.headers)
        return attrs.evolve(answer, headers=headers + extra)

    def device(self, *, scope: str) -> tuple[Principal | None, ServiceResponse | None]:
        """The enrolled device, or the page to show instead (signed out, not allowed, too many)."""
        who = self.staff.desk.device(self.token, at=self.at)
        if who is None:
            if self.token:  # revoked or unknown: forget it, so the page says so once and plainly
                self.headers += (("set-cookie", f"{DEVICE_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly;"
                                                " SameSite=Strict"),)  # fmt: skip
            return None, self.notice(401, "signed-out", "signed_out_title", "signed_out_text")
        if not who.may(scope):
            return None, self.notice(403, "forbidden", "forbidden_title", "forbidden_text", kiosk_link=True)
        if not self.staff._per_device.allow(who.label, at=self.at):
            return None, self.notice(429, "too-many", "too_many_scans", "too_many_scans_text")
        return who, None

    def notice(self, status: int, state: str, title: str, detail: str, **context: Any) -> ServiceResponse:
        """A page that only says something (signed out, not allowed, too many, expired, busy), in the
        counter's language."""
        words = counter_texts(self.counter_language())
        detail = words[detail].format(command="walletvoucher staff add")
        return self.page("staff.html", status, state=state, title=words[title], detail=detail, **context)

    def csrf(self) -> str:
        assert self.token is not None
        return self.staff.browsers.csrf_token(_device_csrf_id(self.token))

    def checked(self) -> bool:
        return self.token is not None and self.staff.browsers.check_csrf(
            _device_csrf_id(self.token), self.form().get("csrf")
        )

    def stale(self) -> ServiceResponse:
        return self.notice(403, "stale", "stale_title", "stale_text")

    # --- enrolment -------------------------------------------------------------------------

    def enrol(self, code: str) -> ServiceResponse:
        if not self.staff._enrol.allow(self.client, at=self.at):
            return self.page("staff_enrol.html", 429, state="too-many", code="", csrf="")
        if not _ENROL_CODE.fullmatch(code):
            return self.page("staff_enrol.html", 404, state="enrol-failed", code="", csrf="")
        call = _Call(self.staff.pages, self.request, client=self.client, at=self.at)
        if self.request.method == "GET":
            browser = call.ensure_browser()
            self.headers += call.new_cookie
            return self.page("staff_enrol.html", 200, state="enrol", code=code,
                             csrf=self.staff.browsers.csrf_token(browser))  # fmt: skip
        self._call = call
        if not self.staff.browsers.check_csrf(call.browser, self.form().get("csrf")):
            return self.page("staff_enrol.html", 403, state="stale", code=code, csrf="")
        issued = self.staff.desk.enrol(code, at=self.at, random=self.staff._random)
        if issued is None:
            return self.page("staff_enrol.html", 410, state="enrol-failed", code="", csrf="")
        _logger.info("enrolled a %s device", issued.kind)
        cookie = (f"{DEVICE_COOKIE}={issued.secret}; Path=/; Max-Age={MAX_AGE}; Secure; HttpOnly;"
                  " SameSite=Strict")  # fmt: skip
        target = "/kiosk" if issued.kind == "kiosk" else "/staff"
        return ServiceResponse(
            status=303, headers=(("location", target), ("set-cookie", cookie), ("cache-control", "no-store"))
        )

    # --- staff -----------------------------------------------------------------------------

    def scanner(self, _: str) -> ServiceResponse:
        who, refused = self.device(scope="redeem")
        if refused is not None:
            return refused
        assert who is not None
        return self.page("staff.html", 200, state="scan", who=who.label, csrf=self.csrf(), decoder=DECODER)

    def _posted(self, scope: str) -> tuple[Principal | None, ServiceResponse | None]:
        who, refused = self.device(scope=scope)
        if refused is not None:
            return None, refused
        if not self.checked():
            return None, self.stale()
        return who, None

    def scan(self, _: str) -> ServiceResponse:
        who, refused = self._posted("redeem")
        if refused is not None:
            return refused
        assert who is not None
        view = self.staff.desk.scan(who, self.form().get("value", ""), at=self.at)
        return self.answer(who, view)

    def stamp(self, _: str) -> ServiceResponse:
        who, refused = self._posted("stamp")
        if refused is not None:
            return refused
        assert who is not None
        raw = self.form().get("count", "")
        count = int(raw) if re.fullmatch(r"[0-9]{1,3}", raw) else 0
        view = self.staff.desk.stamp(who, self.form().get("card", ""), count, at=self.at)
        return self.answer(who, view)

    def code(self, _: str) -> ServiceResponse:
        who, refused = self._posted("redeem")
        if refused is not None:
            return refused
        assert who is not None
        form = self.form()
        view = self.staff.desk.redeem_code(who, form.get("voucher", ""), form.get("code", ""), at=self.at)
        return self.answer(who, view)

    def answer(self, who: Principal, view: CounterView) -> ServiceResponse:
        if view.state in ("redeemed", "stamped"):
            _logger.info("%s by %s", view.state, who.label)
        language = self.language(view.program)
        facts = _facts(view, language)
        tone, title = _ANSWERS[view.state]
        return self.page(
            # the counter's words are English, so the page runs left to right; the program's own texts
            # (the reward) come in the browser's language and sit inside it as a run of their own
            "staff.html", view.status, language="en", state=view.state, tone=tone,
            title=title.format(**facts), detail=_REASONS.get(view.state, "").format(**facts), facts=facts,
            who=who.label, csrf=self.csrf(), counts=list(range(1, 6)), max_stamps=MAX_STAMPS,
            brand=view.program.id if view.program else None,
        )  # fmt: skip

    # --- kiosk -----------------------------------------------------------------------------

    def kiosk(self, _: str) -> ServiceResponse:
        who, refused = self.device(scope="stamp")
        if refused is not None:
            return refused
        assert who is not None
        if self.request.method == "GET":
            return self.page("kiosk.html", 200, state="kiosk", who=who.label, csrf=self.csrf(),
                             decoder=DECODER, idle_ms=self.staff.kiosk_idle_ms, kiosk_page=True)  # fmt: skip
        if not self.checked():
            return self.stale()
        barcode = self.form().get("barcode", "").strip()
        view = self.staff.desk.scan(who, barcode, at=self.at)
        if view.state == "card" and view.card is not None:
            view = self.staff.desk.stamp(who, view.card.serial, 1, at=self.at)
        elif view.state not in ("unknown-card", "busy"):
            view = CounterView(state="unreadable")  # a kiosk only stamps cards
        # the card's program's language (its texts are in the answer), else the counter's own
        language = self.language(view.card.program) if view.card else self.counter_language()
        facts = _facts(view, language)
        return self.page(
            "kiosk.html", view.status, language=language, state=view.state, tone=_ANSWERS[view.state][0],
            facts=facts, who=who.label, csrf=self.csrf(), words=texts(language), decoder=DECODER,
            brand=view.card.program.id if view.card else None, idle_ms=self.staff.kiosk_idle_ms,
            kiosk_page=True,
        )  # fmt: skip


def _facts(view: CounterView, language: str) -> dict[str, Any]:
    program, voucher, card = view.program, view.voucher, view.card
    zone = program.zone if program is not None else timezone.utc

    def moment(value: datetime | None) -> str:
        return format_moment(value.astimezone(zone), language) if value is not None else "-"

    return {
        "reward": voucher.reward.title.get(language) if voucher else "",
        "voucher": voucher.serial if voucher else "",
        "why": view.why,
        "redeemed_at": moment(voucher.redeemed_at if voucher else None),
        "redeemed_by": (voucher.redeemed_by or "-") if voucher else "-",
        "expires": moment(voucher.expires_at if voucher else None),
        "valid_from": moment(voucher.valid_from if voucher else None),
        "card": card.serial if card else (voucher.card_serial if voucher else ""),
        "member": card.member_id if card else "",
        "program": (card.program.name.get(language) if card else ""),
        "stamps": card.stamps if card else 0,
        "goal": card.goal if card else 0,
        "added": view.added,
        "new_voucher": (voucher.reward.title.get(language) if voucher and view.state == "stamped" else ""),
        "retry_at": moment(view.retry_at) if view.retry_at else "",
    }


__all__ = ["DEVICE_COOKIE", "STAFF_CSP", "StaffLimits", "StaffPages"]
