"""Google's recommended text lengths, checked on built classes and objects.

A text over its recommended length is still accepted by Google, but the app may cut it or
add an ellipsis on small screens, so the result is a warning the caller can see, never an
error. The limits are Google's own words, quoted from the field descriptions of the
walletobjects v1 reference (https://developers.google.com/wallet/reference/rest/v1, the same
text as in the discovery document ``walletobjects.v1.json``):

- ``issuerName`` / ``localizedIssuerName``: "Recommended maximum length is 20 characters to
  ensure full string is displayed on smaller screens." (LoyaltyClass, OfferClass)
- ``programName``: "The app may display an ellipsis after the first 20 characters" (LoyaltyClass)
- ``provider``: "Recommended maximum length is 12 characters" (OfferClass)
- ``title``: "Recommended maximum length is 60 characters" (OfferClass)
- ``LoyaltyPoints.label``: "The loyalty points label, such as "Points". Recommended maximum
  length is 9 characters."
- ``Uri.description``: "Recommended maximum is 20 characters to ensure full string is displayed
  on smaller screens." (the redeem link's text)
- ``accountId``: "The loyalty account identifier. Recommended maximum length is 20 characters."
- ``TextModuleData.header``: "Recommended maximum length is 35 characters"; ``body``: 500.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

import attrs

__all__ = ["RECOMMENDED_LENGTHS", "LengthRule", "recommended_length_warnings"]


@attrs.frozen
class LengthRule:
    """``path`` (keys, ``"*"`` for every list item) to a text and Google's recommended maximum."""

    path: tuple[str, ...]
    limit: int


RECOMMENDED_LENGTHS: tuple[LengthRule, ...] = (
    LengthRule(("issuerName",), 20),
    LengthRule(("programName",), 20),
    LengthRule(("provider",), 12),
    LengthRule(("title",), 60),
    LengthRule(("accountId",), 20),
    LengthRule(("loyaltyPoints", "label"), 9),
    LengthRule(("secondaryLoyaltyPoints", "label"), 9),
    LengthRule(("linksModuleData", "uris", "*", "description"), 20),
    LengthRule(("textModulesData", "*", "header"), 35),
    LengthRule(("textModulesData", "*", "body"), 500),
)
"""Every text walletvoucher writes that Google gives a recommended length for."""


def recommended_length_warnings(body: Mapping[str, Any]) -> tuple[str, ...]:
    """One text per value (default or translation) over Google's recommended length.

    >>> found = recommended_length_warnings({"issuerName": "Kahve", "provider": "The Big Coffee House"})
    >>> found[0][:68]
    "provider: 'The Big Coffee House' is 20 characters; Google recommends"
    """
    found: list[str] = []
    for rule in RECOMMENDED_LENGTHS:
        for where, language, text in _texts(body, rule.path):
            if len(text) > rule.limit:
                lang = f" ({language})" if language else ""
                found.append(
                    f"{where}{lang}: {text!r} is {len(text)} characters; Google recommends at most "
                    f"{rule.limit} so it shows in full on small screens"
                )
    return tuple(found)


def _texts(body: Any, path: tuple[str, ...], where: str = "") -> Iterator[tuple[str, str | None, str]]:
    """``(where, language, text)`` for the field at ``path`` and its ``localized*`` twin."""
    if not _is_mapping(body):
        return
    head, rest = path[0], path[1:]
    if not rest:
        yield from _field(body, head, where)
        return
    child = body.get(head)
    if isinstance(child, list) and rest[0] == "*":
        for index, item in enumerate(child):
            yield from _texts(item, rest[1:], f"{where}{head}[{index}].")
    else:
        yield from _texts(child, rest, f"{where}{head}.")


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # dict first: the builders make plain dicts, and isinstance against the Mapping ABC is slow
    kind = type(value)
    return kind is dict or (kind not in _NOT_MAPPINGS and isinstance(value, Mapping))


_NOT_MAPPINGS = frozenset({type(None), str, int, float, bool, list})


def _field(body: Mapping[str, Any], name: str, where: str) -> Iterator[tuple[str, str | None, str]]:
    value = body.get(name)
    if isinstance(value, str):
        yield f"{where}{name}", None, value
    localized = body.get("localized" + name[0].upper() + name[1:])
    if _is_mapping(localized):
        for item in localized.get("translatedValues") or ():
            if _is_mapping(item) and isinstance(item.get("value"), str):
                yield f"{where}{name}", str(item.get("language")), item["value"]
