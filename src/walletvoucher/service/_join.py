"""Joining a program from the shop's poster: one card per browser, framework-neutral.

The web layer gives each browser a random id in a signed cookie; :class:`JoinDesk` derives the
card's serial from (program, browser id) with an HMAC under the server secret, and issues it with
an idempotency key. A reload, a double tap, the back button or two tabs racing therefore all land
on the same card: the serial is the same, and the store's idempotency returns the card it made.

No personal data is asked by default. A program may ask for a name, an e-mail or a phone number
(:class:`JoinSettings`, the ``[join]`` table of a program file); what the customer fills in is
checked, stored with the card in ``wallet.details`` only with the consent box ticked, and never
logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from walletvoucher.errors import DuplicateSerial, SaveLinkTooLong, ServiceConfigError, ValidationError
from walletvoucher.model import LocalizedText, Program, StampCard
from walletvoucher.model._i18n import to_optional_text
from walletvoucher.service._stored import WalletSource, _resolve

if TYPE_CHECKING:
    from walletvoucher.google import GoogleOptions, ServiceAccountCredentials

FIELDS = ("name", "email", "phone")
"""The personal details a program may ask for, in the order the form shows them."""
_CONTEXT = b"walletvoucher/join-serial/1\x00"
_PROGRAM_ID = re.compile(r"[A-Za-z0-9_-]{1,56}")
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,185}\.[^@\s\x00-\x1f\x7f.]{2,63}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{4,22}[0-9]")
_MAX = {"name": 80, "email": 254, "phone": 24}


def _ask(instance: object, attribute: Any, value: tuple[str, ...]) -> None:
    unknown = [name for name in value if name not in FIELDS]
    if unknown or len(set(value)) != len(value):
        raise ServiceConfigError(
            "must name each of name, email, phone at most once",
            field="[join] ask",
            value=list(value),
            fix='write e.g. ask = ["name", "email"]',
        )


@attrs.frozen(kw_only=True)
class JoinSettings:
    """What the join page asks for: none of :data:`FIELDS` by default, and the consent line shown.

    >>> JoinSettings(ask=("email",), consent="We e-mail you when a reward is ready.").ask
    ('email',)
    """

    ask: tuple[str, ...] = attrs.field(default=(), converter=tuple, validator=_ask)
    consent: LocalizedText | None = attrs.field(default=None, converter=to_optional_text)

    def __attrs_post_init__(self) -> None:
        if self.ask and self.consent is None:
            raise ServiceConfigError(
                "is required when the page asks for personal details",
                field="[join] consent",
                fix="say what the details are used for, e.g. "
                'consent = "We e-mail you when a reward is ready."',
            )


@attrs.frozen(kw_only=True)
class JoinOutcome:
    """The customer's card, and whether this request issued it."""

    card: StampCard
    created: bool


def check_details(settings: JoinSettings, form: Mapping[str, str]) -> dict[str, str]:
    """The details filled in (blank ones left out), checked; :class:`ValidationError` names the field.

    Filling in any detail requires the consent box (``consent=yes``).

    >>> settings = JoinSettings(ask=("email",), consent="ok")
    >>> check_details(settings, {"email": " a@example.com ", "consent": "yes"})
    {'email': 'a@example.com'}
    """
    given = {name: str(form.get(name, "")).strip() for name in settings.ask}
    given = {name: value for name, value in given.items() if value}
    for name, value in given.items():
        _check_detail(name, value)
    if given and form.get("consent") != "yes":
        raise ValidationError(
            "must be ticked to keep the details given",
            field="consent",
            value=None,
            fix="tick the consent box, or leave the details blank",
        )
    return given


def _check_detail(name: str, value: str) -> None:
    bad = len(value) > _MAX[name] or any(ord(c) < 32 or ord(c) == 127 for c in value)
    if name == "email":
        bad = bad or not _EMAIL.fullmatch(value)
    elif name == "phone":
        bad = bad or not _PHONE.fullmatch(value)
    if bad:
        raise ValidationError(
            f"is not a usable {name}",
            field=name,
            value=None,
            fix=f"check the {name} (at most {_MAX[name]} characters)",
        )


class JoinDesk:
    """Issue one card per (program, browser) from the store, and find it again.

    *programs*: every program version the store knows; a join issues the newest version of the
    program named. *secret* (at least 32 bytes) keys the serial derivation.
    """

    def __init__(
        self,
        wallet: WalletSource,
        *,
        programs: Iterable[Program],
        secret: bytes,
        settings: Mapping[str, JoinSettings] | None = None,
    ) -> None:
        if not isinstance(secret, bytes) or len(secret) < 32:
            raise ServiceConfigError(
                "must be at least 32 bytes",
                field="join secret",
                secret=True,
                fix="derive it from the server's token secret",
            )
        self._wallet = _resolve(wallet)
        self._secret = secret
        self._programs: dict[str, Program] = {}
        for program in programs:
            known = self._programs.get(program.id)
            if known is None or program.version > known.version:
                self._programs[program.id] = program
        self._settings = dict(settings or {})

    def __repr__(self) -> str:
        return f"JoinDesk(programs={sorted(self._programs)!r})"

    def program(self, program_id: str) -> Program | None:
        """The newest version of the program called *program_id*, or None (also for hostile ids)."""
        if not isinstance(program_id, str) or not _PROGRAM_ID.fullmatch(program_id):
            return None
        return self._programs.get(program_id)

    def settings(self, program: Program) -> JoinSettings:
        """What the program's join page asks for."""
        return self._settings.get(program.id, JoinSettings())

    def serial_for(self, program: Program, browser: str) -> str:
        """The serial of the card this browser gets in *program* (25 characters, not guessable)."""
        message = _CONTEXT + program.id.encode() + b"\x00" + browser.encode("utf-8", "surrogateescape")
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return "W" + base64.b32encode(digest).decode("ascii")[:24]

    def card_of(self, program: Program, browser: str) -> StampCard | None:
        """The card this browser already holds in *program*, or None."""
        from walletvoucher.errors import UnknownCard

        try:
            return self._wallet().card(self.serial_for(program, browser))
        except UnknownCard:
            return None

    def join(self, program: Program, browser: str, form: Mapping[str, str], *, at: datetime) -> JoinOutcome:
        """Issue this browser's card (once), keeping the details given; a repeat returns the same card."""
        details = check_details(self.settings(program), form)
        existing = self.card_of(program, browser)
        if existing is not None:
            return JoinOutcome(card=existing, created=False)
        serial = self.serial_for(program, browser)
        wallet = self._wallet()
        try:
            card = wallet.issue_card(
                program, serial=serial, member_id=serial, at=at, idempotency_key=f"join/{serial}"
            )
        except DuplicateSerial:  # another tab of this browser won the race
            return JoinOutcome(card=wallet.card(serial), created=False)
        if details:
            consent = self.settings(program).consent
            wallet.details.put(serial, details, consent=consent.default if consent else "", at=at)
        return JoinOutcome(card=card, created=True)


GoogleLink = Callable[[StampCard, datetime], "str | None"]
"""Makes a card's "Add to Google Wallet" URL, or None when its program has no Google setup."""


def google_links(
    credentials: ServiceAccountCredentials, options: Callable[[Program], GoogleOptions | None]
) -> GoogleLink:
    """Save links signed with *credentials*: the class and object when they fit in a link, else the
    object alone (its class is inserted by the Google sync when the card is issued)."""
    from walletvoucher.google import save_link

    def link(card: StampCard, at: datetime) -> str | None:
        chosen = options(card.program)
        if chosen is None:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return save_link(card, credentials=credentials, options=chosen, at=at).url
            except SaveLinkTooLong:
                return save_link(card, credentials=credentials, options=chosen, at=at, class_exists=True).url

    return link
