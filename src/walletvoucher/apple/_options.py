"""Renderer options: who issues the pass and the optional Wallet features it uses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from walletvoucher.codes import ScanKey
from walletvoucher.errors import AppleError
from walletvoucher.model import LocalizedText
from walletvoucher.model._i18n import to_optional_text

MAX_LOCATIONS = 10
MIN_TOKEN_LENGTH = 16


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


def _link(instance: object, attribute: Any, value: str | None) -> None:
    _https(instance, attribute, value)
    if value is not None and "{serial}" not in value:
        raise AppleError("must contain {serial}", field=attribute.name, value=value,
                         fix="write it like 'https://example.com/redeem/{serial}'")


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
    ``scan_key`` signs Staff-Scan tokens; ``redeem_link`` is where Self-Redeem vouchers go.
    """

    pass_type_identifier: str = attrs.field(validator=_ident("pass."))
    team_identifier: str = attrs.field(validator=_ident(""))
    organization_name: str | None = None
    web_service_url: str | None = attrs.field(default=None, validator=_https)
    authentication_token: str | None = attrs.field(default=None, validator=_token, repr=False)
    locations: tuple[Location, ...] = attrs.field(default=(), converter=_to_locations, validator=_locations)
    sharing_prohibited: bool = False
    scan_key: ScanKey | None = attrs.field(default=None, repr=False)
    redeem_link: str | None = attrs.field(default=None, validator=_link)
    language: str | None = None
    voucher_on_card: bool = True

    def __attrs_post_init__(self) -> None:
        if (self.web_service_url is None) != (self.authentication_token is None):
            raise AppleError("web_service_url and authentication_token go together",
                             field="authentication_token" if self.web_service_url else "web_service_url",
                             fix="give both, or neither")

    def link_for(self, serial: str) -> str | None:
        """The Self-Redeem link for a voucher serial, or None."""
        return None if self.redeem_link is None else self.redeem_link.replace("{serial}", serial)
