"""The customer's pages, framework-neutral: a :class:`ServiceRequest` in, a :class:`ServiceResponse` out.

======================================  ==============================================================
``GET  /join/{program}``                the poster's target: the program, and "Get my card" (or "Your
                                        card" with both wallet buttons for a returning browser)
``POST /join/{program}``                issue this browser's card (once), then 303 back to the page
``GET  /join/{program}/card.pkpass``    this browser's card as an updatable pass
``GET  /redeem/{voucher}?sig=...``      a Self-Redeem voucher: its reward, validity, terms, gesture
``POST /redeem/{voucher}``              redeem it through the store: the success screen, exactly once
``GET  /brand/{program}.css``           the program's colours as CSS variables
======================================  ==============================================================

Every page names its state on ``<main data-state="...">``. Pages carry a Content-Security-Policy
without inline script, forms a CSRF token bound to the signed browser cookie, and client addresses
and cards are rate limited. Hostile paths, ids and bodies get 4xx, never 500; nothing personal is
logged. A Starlette app (:func:`walletvoucher.web.create_site`) or a Django view calls
:meth:`CustomerPages.handle`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import attrs
import jinja2

from walletvoucher.codes import RedeemLinkKey
from walletvoucher.errors import ValidationError
from walletvoucher.model import Program, StampCard, Voucher
from walletvoucher.service._join import GoogleLink, JoinDesk
from walletvoucher.service._limits import Rate, RateLimiter
from walletvoucher.service._redeem import RedeemDesk, RedeemView
from walletvoucher.service._webservice import (
    PKPASS_TYPE,
    PassWebService,
    ServiceRequest,
    ServiceResponse,
    _segments,
)
from walletvoucher.web._csrf import COOKIE, BrowserIds
from walletvoucher.web._i18n import direction, format_moment, negotiate, texts

MAX_FORM_BODY = 8 * 1024
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self';"
    " connect-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_logger = logging.getLogger("walletvoucher.web")
_TEMPLATES = Path(__file__).parent / "templates"


@attrs.frozen(kw_only=True)
class PageLimits:
    """Rates per client address and per card (generous: a family at one table shares an address)."""

    join_per_address: Rate = attrs.field(factory=lambda: Rate(30, 600))
    redeem_per_address: Rate = attrs.field(factory=lambda: Rate(120, 600))
    per_card: Rate = attrs.field(factory=lambda: Rate(20, 60))


class _Limiters:
    def __init__(self, limits: PageLimits) -> None:
        self.join = RateLimiter(limits.join_per_address)
        self.redeem = RateLimiter(limits.redeem_per_address)
        self.card = RateLimiter(limits.per_card)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class CustomerPages:
    """The join and Self-Redeem pages over a :class:`JoinDesk`, a :class:`RedeemDesk` and the
    PassKit web service (which renders the card's updatable .pkpass).

    *browsers* signs the browser cookie and CSRF tokens; *google* makes a card's save link (None:
    no Google button); *settle_seconds* is how long the success screen stays live before it settles.
    """

    def __init__(
        self,
        *,
        join: JoinDesk,
        redeem: RedeemDesk,
        passes: PassWebService,
        browsers: BrowserIds,
        google: GoogleLink | None = None,
        limits: PageLimits | None = None,
        settle_seconds: int = 180,
        static_prefix: str = "/static",
    ) -> None:
        self.join_desk, self.redeem_desk, self.passes = join, redeem, passes
        self.browsers, self.google = browsers, google
        self.limits = limits or PageLimits()
        self._limiters = _Limiters(self.limits)
        self.settle_seconds = settle_seconds
        self.static_prefix = static_prefix
        self._env = _environment()

    def __repr__(self) -> str:
        return f"CustomerPages({self.join_desk!r})"

    @property
    def link_key(self) -> RedeemLinkKey:
        """The key redeem links are signed with."""
        return self.redeem_desk.link_key

    def handle(self, request: ServiceRequest, *, client: str, at: datetime) -> ServiceResponse:
        """Answer one request; never raises for anything a client can send."""
        if request.method == "HEAD":  # a GET without its body
            answer = self.handle(attrs.evolve(request, method="GET"), client=client, at=at)
            return attrs.evolve(answer, body=b"")
        parts = _segments(request.path)
        route = _route(parts) if parts is not None else None
        if route is None:
            return self._plain(404, "not found")
        name, arg, methods = route
        if request.method not in methods:
            return ServiceResponse(status=405, headers=(("allow", ", ".join(methods)),))
        call = _Call(self, request, client=client, at=at)
        try:
            handler: Callable[[str], ServiceResponse] = getattr(call, name)
            return handler(arg)
        except ValidationError as exc:
            _logger.info("refused a %s: %s", name, exc.field)  # the field, never the value
            return call.problem(400, "stale", field=exc.field)

    def _plain(self, status: int, text: str) -> ServiceResponse:
        return ServiceResponse(
            status=status, headers=(("content-type", "text/plain; charset=utf-8"),), body=text.encode()
        )

    def render(
        self,
        template: str,
        status: int,
        language: str,
        context: Mapping[str, Any],
        headers: tuple[tuple[str, str], ...] = (),
    ) -> ServiceResponse:
        """A page from *template*, in *language*, with the security headers."""
        body = self._env.get_template(template).render(
            lang=language, dir=direction(language), t=texts(language), static=self.static_prefix, **context
        )
        base = (
            ("content-type", "text/html; charset=utf-8"),
            ("content-security-policy", CSP),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
            ("cache-control", "no-store"),
            ("content-language", language),
            ("vary", "Accept-Language, Cookie"),
        )
        return ServiceResponse(status=status, headers=base + headers, body=body.encode("utf-8"))


def _route(parts: list[str]) -> tuple[str, str, tuple[str, ...]] | None:
    if len(parts) == 2 and parts[0] == "join":
        return "join_page", parts[1], ("GET", "POST")
    if len(parts) == 3 and parts[0] == "join" and parts[2] == "card.pkpass":
        return "pkpass", parts[1], ("GET",)
    if len(parts) == 2 and parts[0] == "redeem":
        return "redeem_page", parts[1], ("GET", "POST")
    if len(parts) == 2 and parts[0] == "brand" and parts[1].endswith(".css"):
        return "brand_css", parts[1][:-4], ("GET",)
    return None


class _Call:
    """One request being answered (cookie, language, form), so the page methods stay short."""

    def __init__(self, pages: CustomerPages, request: ServiceRequest, *, client: str, at: datetime) -> None:
        self.pages, self.request, self.client, self.at = pages, request, client, at
        self.browser = pages.browsers.from_cookie(_cookie(request.headers.get("cookie"), COOKIE))
        self.new_cookie: tuple[tuple[str, str], ...] = ()
        self._form: dict[str, str] | None = None

    # --- helpers ---------------------------------------------------------------------------

    def ensure_browser(self) -> str:
        if self.browser is None:
            self.browser = self.pages.browsers.new()
            self.new_cookie = (("set-cookie", self.pages.browsers.set_cookie_header(self.browser)),)
        return self.browser

    def language(self, program: Program | None) -> str:
        offered = program.languages if program is not None else ("en",)
        return negotiate(self.request.headers.get("accept-language"), offered)

    def form(self) -> dict[str, str]:
        if self._form is None:
            body = self.request.body
            kind = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
            if len(body) > MAX_FORM_BODY or kind != "application/x-www-form-urlencoded":
                raise ValidationError(
                    "must be a small urlencoded form",
                    field="body",
                    value=None,
                    fix="submit the page's own form",
                )
            try:
                text = body.decode("utf-8")
                parsed = parse_qs(text, keep_blank_values=True, max_num_fields=20, strict_parsing=False)
            except (UnicodeDecodeError, ValueError):
                raise ValidationError(
                    "is not a readable form", field="body", value=None, fix="submit the page's own form"
                ) from None
            self._form = {k: v[0] for k, v in parsed.items()}
        return self._form

    def checked_post(self) -> ServiceResponse | None:
        """None when the POST's form and CSRF token are good, else the error page."""
        form = self.form()
        if not self.pages.browsers.check_csrf(self.browser, form.get("csrf")):
            return self.problem(403, "stale")
        return None

    def page(self, template: str, status: int, language: str, **context: Any) -> ServiceResponse:
        browser = self.ensure_browser()
        context.setdefault("csrf", self.pages.browsers.csrf_token(browser))
        return self.pages.render(template, status, language, context, self.new_cookie)

    def problem(
        self, status: int, state: str, *, program: Program | None = None, field: str | None = None
    ) -> ServiceResponse:
        language = self.language(program)
        return self.page(
            "problem.html", status, language, state=state, field=field, brand=program.id if program else None
        )

    # --- join ------------------------------------------------------------------------------

    def join_page(self, program_id: str) -> ServiceResponse:
        program = self.pages.join_desk.program(program_id)
        if program is None:
            return self.problem(404, "not-found")
        if self.request.method == "POST":
            return self.join_post(program)
        card = self.pages.join_desk.card_of(program, self.browser) if self.browser else None
        return self.join_view(program, card)

    def join_post(self, program: Program) -> ServiceResponse:
        refused = self.checked_post()
        if refused is not None:
            return refused
        if not self.pages._limiters.join.allow(self.client, at=self.at):
            return self.problem(429, "too-many", program=program)
        assert self.browser is not None
        try:
            outcome = self.pages.join_desk.join(program, self.browser, self.form(), at=self.at)
        except ValidationError as exc:
            return self.join_view(program, None, error=exc.field, status=400)
        if outcome.created:
            _logger.info("joined %s: card %s", program.id, outcome.card.serial)
        location = "/join/" + quote(program.id, safe="")
        return ServiceResponse(status=303, headers=(("location", location), ("cache-control", "no-store")))

    def join_view(
        self, program: Program, card: StampCard | None, *, error: str | None = None, status: int = 200
    ) -> ServiceResponse:
        language = self.language(program)
        settings = self.pages.join_desk.settings(program)
        google = self.pages.google(card, self.at) if card is not None and self.pages.google else None
        reward = program.reward
        return self.page(
            "join.html",
            status,
            language,
            state="your-card" if card else "join",
            brand=program.id,
            program_name=program.name.get(language),
            shop=program.brand.name.get(language),
            reward_title=reward.title.get(language),
            reward_description=reward.description.get(language),
            terms=reward.terms.get(language) if reward.terms else None,
            goal=program.goal,
            stamps=card.stamps if card else 0,
            ask=settings.ask,
            error=error,
            consent=settings.consent.get(language) if settings.consent else None,
            pkpass=f"/join/{quote(program.id, safe='')}/card.pkpass",
            google=google,
        )

    def pkpass(self, program_id: str) -> ServiceResponse:
        program = self.pages.join_desk.program(program_id)
        card = self.pages.join_desk.card_of(program, self.browser) if program and self.browser else None
        if card is None:
            return self.problem(404, "not-found", program=program)
        if not self.pages._limiters.card.allow(card.serial, at=self.at):
            return self.problem(429, "too-many", program=program)
        state = self.pages.passes.store.pass_state(card.serial)
        if state is None:
            return self.problem(404, "not-found", program=program)
        body = self.pages.passes.cache.get(state)
        headers = (
            ("content-type", PKPASS_TYPE),
            ("cache-control", "no-store"),
            ("content-disposition", f'attachment; filename="{program.id if program else "card"}.pkpass"'),
        )
        return ServiceResponse(status=200, headers=headers, body=body)

    def brand_css(self, program_id: str) -> ServiceResponse:
        program = self.pages.join_desk.program(program_id)
        if program is None:
            return self.pages._plain(404, "not found")
        brand = program.brand
        css = (
            f":root{{--brand-bg:{brand.background.hex};--brand-fg:{brand.foreground.hex};"
            f"--brand-label:{brand.label.hex}}}\n"
        )
        return ServiceResponse(
            status=200,
            body=css.encode(),
            headers=(
                ("content-type", "text/css; charset=utf-8"),
                ("cache-control", "public, max-age=300"),
                ("x-content-type-options", "nosniff"),
            ),
        )

    # --- redeem ----------------------------------------------------------------------------

    def redeem_page(self, serial: str) -> ServiceResponse:
        if not self.pages._limiters.redeem.allow(self.client, at=self.at):
            return self.problem(429, "too-many")
        if self.request.method == "GET":
            signature = self.request.query.get("sig")
            return self.redeem_view(self.pages.redeem_desk.look(serial, signature, at=self.at), signature)
        refused = self.checked_post()
        if refused is not None:
            return refused
        signature = self.form().get("sig")
        looked = self.pages.redeem_desk.look(serial, signature, at=self.at)
        if looked.voucher is not None and not self.pages._limiters.card.allow(
            looked.voucher.card_serial, at=self.at
        ):
            return self.problem(429, "too-many", program=looked.program)
        view = self.pages.redeem_desk.redeem(serial, signature, at=self.at)
        if view.state == "redeemed":
            _logger.info("self-redeemed voucher %s", serial)
        return self.redeem_view(view, signature)

    def redeem_view(self, view: RedeemView, signature: str | None) -> ServiceResponse:
        program, voucher = view.program, view.voucher
        language = self.language(program)
        context: dict[str, Any] = {"state": view.state, "brand": program.id if program else None}
        if voucher is not None:
            context.update(_voucher_context(voucher, program, language, self.at))
            context.update(
                serial=voucher.serial, sig=signature or "", settle_ms=self.pages.settle_seconds * 1000
            )
        return self.page("redeem.html", view.status, language, **context)


def _voucher_context(
    voucher: Voucher, program: Program | None, language: str, at: datetime
) -> dict[str, Any]:
    zone = program.zone if program is not None else timezone.utc

    def moment(value: datetime | None) -> str | None:
        return format_moment(value.astimezone(zone), language) if value is not None else None

    reward = voucher.reward
    age = (at - voucher.redeemed_at).total_seconds() if voucher.redeemed_at else 0.0
    return {
        "reward_title": reward.title.get(language),
        "reward_description": reward.description.get(language),
        "terms": reward.terms.get(language) if reward.terms else None,
        "shop": program.brand.name.get(language) if program else "",
        "valid_from": moment(voucher.valid_from),
        "expires": moment(voucher.expires_at),
        "redeemed_at": moment(voucher.redeemed_at),
        "age_ms": max(0, int(age * 1000)),
        "zone": program.timezone if program is not None else "UTC",
        "redeemed_epoch_ms": int(voucher.redeemed_at.timestamp() * 1000) if voucher.redeemed_at else 0,
    }


def _cookie(header: str | None, name: str) -> str | None:
    if not header or len(header) > 8192:
        return None
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip().strip('"')
    return None


__all__ = ["CSP", "CustomerPages", "PageLimits"]
