"""The common path: a card or voucher in, an "Add to Google Wallet" link out."""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from walletvoucher.errors import GoogleOptionsError, RecommendedLengthWarning
from walletvoucher.google._credentials import ServiceAccountCredentials
from walletvoucher.google._lengths import recommended_length_warnings
from walletvoucher.google._objects import (
    CLASS_FIELDS,
    loyalty_class,
    loyalty_object,
    offer_class,
    offer_object,
    payload_for,
)
from walletvoucher.google._options import GoogleOptions
from walletvoucher.google._resource import Resource
from walletvoucher.google._savelink import (
    MAX_LINK_LENGTH,
    LinkMode,
    SaveLink,
    check_link_length,
    save_url,
    sign_save_jwt,
)
from walletvoucher.model import Program, StampCard, Voucher

if TYPE_CHECKING:
    from walletvoucher.google._rest import WalletRestClient

__all__ = ["save_link"]


def save_link(
    item: StampCard | Voucher,
    *,
    credentials: ServiceAccountCredentials,
    options: GoogleOptions,
    at: datetime,
    program: Program | None = None,
    rest: WalletRestClient | None = None,
    class_exists: bool = False,
) -> SaveLink:
    """An "Add to Google Wallet" link for a card (loyalty pass) or a voucher (offer pass).

    The class and object travel inside the JWT when the link stays within
    :data:`~walletvoucher.google.MAX_LINK_LENGTH`. Otherwise, with ``rest`` given, the class is
    inserted or replaced (:meth:`~walletvoucher.google.WalletRestClient.replace_class`) and
    the object replaced (so it holds exactly the current state) through the REST
    API, and the JWT carries only the object's id (Google's documented path); without
    ``rest``, :class:`~walletvoucher.errors.SaveLinkTooLong` says how long it was and what to
    do. An over-long link is never returned.

    Texts over Google's recommended lengths (issuer name, program name, provider, title,
    labels, link text, account id) are raised as
    :class:`~walletvoucher.errors.RecommendedLengthWarning` and kept in ``link.warnings``.
    ``ReviewStatus.DRAFT`` is refused: a draft class cannot have objects. A Staff-Scan voucher shown
    with a rotating code (the default, :class:`~walletvoucher.google.ScanDisplay`) always goes by id
    through ``rest``: its object holds the code's TOTP key, which never travels in a JWT.

    ``class_exists=True`` says the class was already inserted (once per program version, e.g.
    by :class:`walletvoucher.service.GoogleSync`, which records it in the store): the JWT then
    carries only the object, which names its class by ``classId`` (:data:`LinkMode.OBJECT`;
    Google's JWT guide encodes a new object of an existing class as ``payload:
    {"loyaltyObjects": [object]}``). A class translated into five languages no longer counts
    against the 1800 characters. Only when the object alone is too long, and ``rest`` is given,
    is the object replaced through the REST API and the link made by id.

    A voucher needs its ``program`` (brand, colours, languages); ``at`` is the render clock
    and the JWT's ``iat``.

    >>> # link = save_link(card, credentials=load_service_account("key.json"), options=options, at=now)
    >>> # link.url  -> 'https://pay.google.com/gp/v/save/eyJ...'; link.length <= 1800
    """
    _check_not_client_id(options, credentials)
    pieces = render_pieces(item, options=options, at=at, program=program)
    notes = pieces.length_warnings()
    secret = pieces.holds_secret
    if secret and rest is None:
        raise _secret_in_link(pieces, field="rest")
    full = None if secret else pieces.link(credentials, options, at, by_id=False, with_class=not class_exists)
    if full is not None and (full.length <= MAX_LINK_LENGTH or rest is None):
        what = pieces.object_id if class_exists else f"{pieces.object_id} with its class"
        link = check_link_length(full, what=what)
    else:
        assert rest is not None
        if not class_exists:
            # replaced, not patched (a text the program dropped leaves it); console settings are kept
            rest.replace_class(pieces.kinds[0], pieces.class_body, owned=CLASS_FIELDS)
        rest.replace(pieces.kinds[1], pieces.object_body)  # the object is all ours: exactly this state
        link = check_link_length(pieces.link(credentials, options, at, by_id=True), what=pieces.object_id)
    for note in notes:
        warnings.warn(note, RecommendedLengthWarning, stacklevel=2)
    return attrs.evolve(link, warnings=notes)


@attrs.frozen(kw_only=True)
class Pieces:
    """The class and object behind a save link, and the REST collections they belong to."""

    kinds: tuple[Resource, Resource]
    class_body: dict[str, Any]
    object_body: dict[str, Any]

    def length_warnings(self) -> tuple[str, ...]:
        """Texts of the class and object over Google's recommended lengths."""
        return recommended_length_warnings(self.class_body) + recommended_length_warnings(self.object_body)

    @property
    def holds_secret(self) -> bool:
        """Whether the object carries a rotating code's TOTP key (it may then go by id only)."""
        return "rotatingBarcode" in self.object_body

    @property
    def object_id(self) -> str:
        """The object's id (what a by-id JWT carries)."""
        return str(self.object_body["id"])

    def link(
        self,
        credentials: ServiceAccountCredentials,
        options: GoogleOptions,
        at: datetime,
        *,
        by_id: bool,
        with_class: bool = True,
    ) -> SaveLink:
        """The signed link: class and object, the object alone (``with_class=False``), or only the
        object's id (``by_id=True``); length unchecked. An object holding a rotating code's key
        goes by id only (:class:`~walletvoucher.errors.GoogleOptionsError` otherwise)."""
        if self.holds_secret and not by_id:
            raise _secret_in_link(self, field="by_id")
        if by_id:
            payload, mode = _payload(self.kinds, [], [{"id": self.object_id}]), LinkMode.BY_ID
        elif with_class:
            payload, mode = _payload(self.kinds, [self.class_body], [self.object_body]), LinkMode.FULL
        else:
            payload, mode = _payload(self.kinds, [], [self.object_body]), LinkMode.OBJECT
        token = sign_save_jwt(payload, credentials=credentials, origins=options.origins, at=at)
        return SaveLink(url=save_url(token), jwt=token, mode=mode)


def render_pieces(
    item: StampCard | Voucher, *, options: GoogleOptions, at: datetime, program: Program | None = None
) -> Pieces:
    """The loyalty class and object for a card, or the offer class and object for a voucher."""
    if isinstance(item, StampCard):
        return Pieces(
            kinds=(Resource.LOYALTY_CLASS, Resource.LOYALTY_OBJECT),
            class_body=loyalty_class(item.program, options),
            object_body=loyalty_object(item, options, at=at),
        )
    owner = _program_for(item, program)
    return Pieces(
        kinds=(Resource.OFFER_CLASS, Resource.OFFER_OBJECT),
        class_body=offer_class(item, owner, options),
        object_body=offer_object(item, owner, options, at=at),
    )


def _payload(
    kinds: tuple[Resource, Resource], classes: list[dict[str, Any]], objects: list[dict[str, Any]]
) -> dict[str, Any]:
    if kinds[0] is Resource.LOYALTY_CLASS:
        return payload_for("loyaltyClasses", "loyaltyObjects", classes, objects)
    return payload_for("offerClasses", "offerObjects", classes, objects)


def _program_for(voucher: Voucher, program: Program | None) -> Program:
    if program is None or program.id != voucher.program_id:
        raise GoogleOptionsError(
            "must be the voucher's program",
            field="program",
            value=None if program is None else program.id,
            fix=f"pass program=card.program (program id {voucher.program_id!r})",
        )
    return program


def _secret_in_link(pieces: Pieces, *, field: str) -> GoogleOptionsError:
    return GoogleOptionsError(
        f"is needed: {pieces.object_id} shows a rotating Staff-Scan code whose TOTP key must not travel "
        "in a save link", field=field, value=None,
        fix="insert the object through the REST API (rest=WalletRestClient(...)) and link it by id, or "
        "use GoogleOptions(scan_display=ScanDisplay.STATIC)",
    )  # fmt: skip


def _check_not_client_id(options: GoogleOptions, credentials: ServiceAccountCredentials) -> None:
    if credentials.client_id is not None and options.issuer_id == credentials.client_id:
        raise GoogleOptionsError(
            "is the service account's client_id, not the issuer id",
            field="issuer_id",
            value=options.issuer_id,
            fix="use the Issuer ID shown in the Google Pay & Wallet Console (it starts with 3388)",
        )
