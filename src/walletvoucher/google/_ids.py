"""Google Wallet ids: ``<issuerId>.<suffix>``, the suffix limited to ``[A-Za-z0-9._-]``.

An id must stay the same for a card's whole life (Google keys saved passes by it), so it is
derived only from things that never change: the issuer id, the program id, the card or
voucher serial.
"""

from __future__ import annotations

import hashlib
import re

from walletvoucher.errors import GoogleOptionsError

__all__ = ["check_issuer_id", "make_id", "sanitize_suffix"]

_ALLOWED = re.compile(r"[A-Za-z0-9._-]+")
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9._-]")
_ISSUER_ID = re.compile(r"[0-9]{1,25}")


def sanitize_suffix(text: str) -> str:
    """Make ``text`` a legal id suffix, stable and without collisions.

    Text that is already legal is kept as it is. Anything else has each illegal character
    replaced by ``_`` and a short hash of the original appended, so ``"a b"`` and ``"a_b"``
    stay different ids.

    >>> sanitize_suffix("card-0001")
    'card-0001'
    >>> sanitize_suffix("Café #7")
    'Caf___7-1e31d4a5aa'
    """
    if _ALLOWED.fullmatch(text):
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"{_NOT_ALLOWED.sub('_', text)}-{digest}"


def check_issuer_id(issuer_id: str) -> str:
    """Return ``issuer_id`` if it looks like a Google Wallet issuer id (digits only).

    >>> check_issuer_id("3388000000022222222")
    '3388000000022222222'
    """
    if not isinstance(issuer_id, str) or not _ISSUER_ID.fullmatch(issuer_id):
        raise GoogleOptionsError(
            "must be the numeric issuer id",
            field="issuer_id",
            value=issuer_id,
            fix="copy the Issuer ID from the Google Pay & Wallet Console (Google Wallet API page)",
        )
    return issuer_id


def make_id(issuer_id: str, *parts: str) -> str:
    """Join an issuer id and suffix parts into a Google Wallet resource id.

    >>> make_id("3388000000022222222", "coffee", "card 1")
    '3388000000022222222.coffee.card_1-b6595b641b'
    """
    suffix = ".".join(sanitize_suffix(part) for part in parts)
    return f"{check_issuer_id(issuer_id)}.{suffix}"
