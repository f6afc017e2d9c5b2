"""The common path: a card or voucher in, an "Add to Google Wallet" link out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from walletvoucher.errors import GoogleOptionsError
from walletvoucher.google._credentials import ServiceAccountCredentials
from walletvoucher.google._objects import (
    loyalty_class,
    loyalty_object,
    offer_class,
    offer_object,
    payload_for,
)
from walletvoucher.google._options import GoogleOptions
from walletvoucher.google._rest import Resource, WalletRestClient
from walletvoucher.google._savelink import (
    MAX_LINK_LENGTH,
    LinkMode,
    SaveLink,
    check_link_length,
    save_url,
    sign_save_jwt,
)
from walletvoucher.model import Program, StampCard, Voucher

__all__ = ["save_link"]


def save_link(
    item: StampCard | Voucher,
    *,
    credentials: ServiceAccountCredentials,
    options: GoogleOptions,
    at: datetime,
    program: Program | None = None,
    rest: WalletRestClient | None = None,
) -> SaveLink:
    """An "Add to Google Wallet" link for a card (loyalty pass) or a voucher (offer pass).

    The class and object travel inside the JWT when the link stays within
    :data:`~walletvoucher.google.MAX_LINK_LENGTH`. Otherwise, with ``rest`` given, they are
    upserted through the REST API and the JWT carries only the object's id (Google's
    documented path); without ``rest``, :class:`~walletvoucher.errors.SaveLinkTooLong` says
    how long it was and what to do. An over-long link is never returned.

    A voucher needs its ``program`` (brand, colours, languages); ``at`` is the render clock
    and the JWT's ``iat``.

    >>> # link = save_link(card, credentials=load_service_account("key.json"), options=options, at=now)
    >>> # link.url  -> 'https://pay.google.com/gp/v/save/eyJ...'; link.length <= 1800
    """
    _check_not_client_id(options, credentials)
    if isinstance(item, StampCard):
        cls, obj = loyalty_class(item.program, options), loyalty_object(item, options, at=at)
        kinds = (Resource.LOYALTY_CLASS, Resource.LOYALTY_OBJECT)
    else:
        owner = _program_for(item, program)
        cls, obj = offer_class(item, owner, options), offer_object(item, owner, options, at=at)
        kinds = (Resource.OFFER_CLASS, Resource.OFFER_OBJECT)
    full = _link(_payload(kinds, [cls], [obj]), credentials, options, at, LinkMode.FULL)
    if full.length <= MAX_LINK_LENGTH or rest is None:
        return check_link_length(full, what=f"{obj['id']} with its class")
    rest.upsert(kinds[0], cls)
    rest.upsert(kinds[1], obj)
    by_id = _link(_payload(kinds, [], [{"id": obj["id"]}]), credentials, options, at, LinkMode.BY_ID)
    return check_link_length(by_id, what=obj["id"])


def _payload(
    kinds: tuple[Resource, Resource], classes: list[dict[str, Any]], objects: list[dict[str, Any]]
) -> dict[str, Any]:
    if kinds[0] is Resource.LOYALTY_CLASS:
        return payload_for("loyaltyClasses", "loyaltyObjects", classes, objects)
    return payload_for("offerClasses", "offerObjects", classes, objects)


def _link(
    payload: dict[str, Any],
    credentials: ServiceAccountCredentials,
    options: GoogleOptions,
    at: datetime,
    mode: LinkMode,
) -> SaveLink:
    token = sign_save_jwt(payload, credentials=credentials, origins=options.origins, at=at)
    return SaveLink(url=save_url(token), jwt=token, mode=mode)


def _program_for(voucher: Voucher, program: Program | None) -> Program:
    if program is None or program.id != voucher.program_id:
        raise GoogleOptionsError(
            "must be the voucher's program",
            field="program",
            value=None if program is None else program.id,
            fix=f"pass program=card.program (program id {voucher.program_id!r})",
        )
    return program


def _check_not_client_id(options: GoogleOptions, credentials: ServiceAccountCredentials) -> None:
    if credentials.client_id is not None and options.issuer_id == credentials.client_id:
        raise GoogleOptionsError(
            "is the service account's client_id, not the issuer id",
            field="issuer_id",
            value=options.issuer_id,
            fix="use the Issuer ID shown in the Google Pay & Wallet Console (it starts with 3388)",
        )
