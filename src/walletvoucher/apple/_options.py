"""Renderer options: who issues the pass and the optional Wallet features it uses."""

from __future__ import annotations

import unicodedata
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from walletvoucher.apple._labels import LABEL_NAMES
from walletvoucher.apple._strings import apple_language
from walletvoucher.codes import RedeemLinkKey, ScanKey
from walletvoucher.errors import AppleError
from walletvoucher.model import LocalizedText
from walletvoucher.model._i18n import to_optional_text

MAX_LOCATIONS = 10
MIN_TOKEN_LENGTH = 16
MAX_LINK_LENGTH = 2000
"""Longest redeem link accepted (links longer than this are not opened reliably)."""
_LINK_FORBIDDEN = frozenset("\"'<>`\\{}|^")


def _finite_range(low: float, high: float) -> Any:
    def check(instance: object, attribute: Any, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise AppleError(f"must be a number from {low} to {high}", field=attribute.name, value=value,
                             fix="give decimal degrees (WGS 84)")
    return check


@attrs.frozen(kw_only=True)
class Location:
    """A place where Wallet shows the pass on the lock screen, with an optional text.

    >>> Location(latitude=41.3111, longitude=69.2797, relevant_text="Kahve is round the corner").latitude
    41.3111
    """

    latitude: float = attrs.field(validator=_finite_range(-90, 90))
    longitude: float = attrs.field(validator=_finite_range(-180, 180))
    relevant_text: LocalizedText | None = attrs.field(default=None, converter=to_optional_text)


def _https(instance: object, attribute: Any, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value.startswith("https://")):
        raise AppleError("must be an https:// URL", field=attribute.name, value=value,
                         fix="Wallet only talks to web services and opens links over https")


def _token(instance: object, attribute: Any, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or len(value) < MIN_TOKEN_LENGTH):
        raise AppleError(f"must be at least {MIN_TOKEN_LENGTH} characters", field=attribute.name,
                         value=value, secret=True, fix="use a random token, e.g. secrets.token_urlsafe(24)")


def _locations(instance: object, attribute: Any, value: tuple[Location, ...]) -> None:
    if len(value) > MAX_LOCATIONS:
        raise AppleError(f"Wallet uses at most {MAX_LOCATIONS} locations", field="locations",
                         value=len(value), fix="keep the 10 most relevant places")


def _to_locations(value: Iterable[Location]) -> tuple[Location, ...]:
    return tuple(value)


Branches = tuple[tuple[str, Location], ...]


def _to_branches(value: Mapping[str, Location] | Iterable[tuple[str, Location]]) -> Branches:
    pairs = tuple(sorted(value.items() if isinstance(value, Mapping) else value))
    for name, place in pairs:
        if not isinstance(name, str) or not isinstance(place, Location):
            raise AppleError("must map location ids to Location objects", field="branches",
                             value=repr(name)[:40], fix="pass branches={'chilonzor': Location(...)}")
    return pairs


def _link(instance: object, attribute: Any, value: str | None) -> None:
    _https(instance, attribute, value)
    if value is None:
        return
    if value.count("{serial}") != 1:
        raise AppleError("must contain {serial} exactly once", field=attribute.name, value=value,
                         fix="write it like 'https://example.com/redeem/{serial}'")
    bare = value.replace("{serial}", "")
    why = _link_problem(bare)
    if why is not None:
        raise AppleError(why, field=attribute.name, value=value,
                         fix="give a plain https URL such as 'https://example.com/redeem/{serial}'; "
                             "percent-encode spaces, quotes and angle brackets (%20, %22, %3C)")


def _link_problem(url: str) -> str | None:
    if len(url) > MAX_LINK_LENGTH:
        return f"is {len(url)} characters long, at most {MAX_LINK_LENGTH} are allowed"
    bad = next((ch for ch in url if ch in _LINK_FORBIDDEN or ch.isspace()
                or unicodedata.category(ch)[0] in "CZ"), None)
    if bad is not None:
        return f"contains {bad!r}, which a link must not carry unencoded"
    try:
        host = urllib.parse.urlsplit(url).hostname
    except ValueError:
        host = None
    return None if host else "has no host name"


def _to_language(value: str | None) -> str | None:
    return None if value is None else apple_language(value)


def _to_labels(value: Any) -> tuple[tuple[str, str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, tuple) and all(isinstance(t, tuple) and len(t) == 3 for t in value):
        value = _nest(value)  # the stored form, e.g. from attrs.evolve
    if not isinstance(value, Mapping):
        raise AppleError("must map a language to {label name: text}", field="labels", value=value,
                         fix="give e.g. {'sw': {'reward': 'Zawadi'}}")
    out = []
    for language, words in value.items():
        lproj = apple_language(language)
        if not isinstance(words, Mapping):
            raise AppleError("must map a label name to its text", field=f"labels[{language!r}]",
                             value=words, fix="give e.g. {'reward': 'Zawadi'}")
        for name, text in words.items():
            out.append((lproj, _label_name(language, name), _label_text(language, name, text)))
    return tuple(sorted(out))


def _nest(triples: tuple[tuple[str, str, str], ...]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for lproj, name, text in triples:
        out.setdefault(lproj, {})[name] = text
    return out


def _label_name(language: str, name: object) -> str:
    if name not in LABEL_NAMES:
        raise AppleError("is not one of walletvoucher's labels", field=f"labels[{language!r}]", value=name,
                         fix=f"use the names {sorted(LABEL_NAMES)}")
    return str(name)


def _label_text(language: str, name: str, text: object) -> str:
    return _plain_text(f"labels[{language!r}][{name!r}]", text)


def _optional_text(instance: object, attribute: Any, value: object) -> None:
    if value is not None:
        _plain_text(attribute.name, value)


def _plain_text(field: str, text: object) -> str:
    if (not isinstance(text, str) or not text.strip()
            or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)):
        shown = text.encode("ascii", "backslashreplace").decode("ascii") if isinstance(text, str) else text
        raise AppleError("must be non-empty text without control characters", field=field, value=shown,
                         fix="give the shown wording")
    return text


def _ident(prefix: str) -> Any:
    def check(instance: object, attribute: Any, value: str) -> None:
        if not isinstance(value, str) or not value.startswith(prefix) or len(value) <= len(prefix):
            raise AppleError(f"must start with {prefix!r}" if prefix else "must not be empty",
                             field=attribute.name, value=value,
                             fix="copy it from Apple's developer portal (Identifiers, Membership)")
    return check


@attrs.frozen(kw_only=True)
class AppleOptions:
    """How passes are issued: identifiers and the optional Wallet features.

    >>> AppleOptions(pass_type_identifier="pass.com.example.loyalty", team_identifier="ABCDE12345",
    ...              redeem_link="https://example.com/redeem/{serial}").sharing_prohibited
    False

    ``language`` picks the language pass.json's own texts are written in (default: the
    program's default language); every language the program has gets its ``pass.strings``.
    ``scan_key`` signs Staff-Scan tokens; ``redeem_link`` is where Self-Redeem vouchers go: an
    https URL with ``{serial}`` once, no spaces, quotes or angle brackets (percent-encode them),
    at most 2000 characters; with ``redeem_link_key`` (a :class:`~walletvoucher.codes.RedeemLinkKey`)
    every link carries its signature (``?sig=...``) so the redeem page can refuse guessed serials.
    ``labels`` gives walletvoucher's own words in languages it does not
    ship, or other wording: ``{"sw": {"reward": "Zawadi", "member": "Mwanachama"}}`` (names in
    ``walletvoucher.apple._labels.LABEL_NAMES``); it is kept as sorted ``(lproj, name, text)``.
    """

    pass_type_identifier: str = attrs.field(validator=_ident("pass."))
    team_identifier: str = attrs.field(validator=_ident(""))
    organization_name: str | None = attrs.field(default=None, validator=_optional_text)
    web_service_url: str | None = attrs.field(default=None, validator=_https)
    authentication_token: str | None = attrs.field(default=None, validator=_token, repr=False)
    locations: tuple[Location, ...] = attrs.field(default=(), converter=_to_locations, validator=_locations)
    sharing_prohibited: bool = False
    scan_key: ScanKey | None = attrs.field(default=None, repr=False)
    redeem_link: str | None = attrs.field(default=None, validator=_link)
    redeem_link_key: RedeemLinkKey | None = attrs.field(default=None, repr=False)
    language: str | None = attrs.field(default=None, converter=_to_language)
    voucher_on_card: bool = True
    labels: tuple[tuple[str, str, str], ...] = attrs.field(default=None, converter=_to_labels)
    branches: Branches = attrs.field(default=(), converter=_to_branches)
    """Where each location id of a reward's redemption context is (``{"chilonzor": Location(...)}``):
    a voucher bound to some of them carries those places as the pass's ``locations``."""

    def branch_locations(self, names: Iterable[str]) -> tuple[Location, ...]:
        """The :class:`Location` of each of *names* that :attr:`branches` knows (at most 10)."""
        known = dict(self.branches)
        return tuple(known[n] for n in names if n in known)[:MAX_LOCATIONS]

    def __attrs_post_init__(self) -> None:
        if (self.web_service_url is None) != (self.authentication_token is None):
            raise AppleError("web_service_url and authentication_token go together",
                             field="authentication_token" if self.web_service_url else "web_service_url",
                             fix="give both, or neither")

    def link_for(self, serial: str) -> str | None:
        """The Self-Redeem link for a voucher serial (percent-encoded into the URL), or None.

        >>> AppleOptions(pass_type_identifier="pass.x.y", team_identifier="T",
        ...              redeem_link="https://example.com/r/{serial}").link_for("V 1/2")
        'https://example.com/r/V%201%2F2'
        """
        if self.redeem_link is None:
            return None
        link = self.redeem_link.replace("{serial}", urllib.parse.quote(serial, safe=""))
        return link if self.redeem_link_key is None else self.redeem_link_key.sign_link(link, serial)

    @property
    def label_overrides(self) -> dict[tuple[str, str], str]:
        """``labels`` as ``{(lproj, name): text}``."""
        return {(lproj, name): text for lproj, name, text in self.labels}
