"""Signed Self-Redeem links: ``https://shop.example/redeem/{serial}?sig=<signature>``.

The signature is an HMAC-SHA256 of the voucher serial under the business's link key, cut to
128 bits and base64url-encoded (22 characters). A link carries its own proof that the business
made it, so the redeem page can refuse serials that were guessed or enumerated before it looks
anything up; the check compares in constant time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import attrs

from walletvoucher.errors import ValidationError

_CONTEXT = b"walletvoucher/redeem-link/1\x00"
_SIG_BYTES = 16
SIGNATURE_PARAM = "sig"
"""The query parameter the signature travels in."""


def _check_secret(instance: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) < 16:
        raise ValidationError(
            "must be at least 16 bytes",
            field="redeem_link_key",
            secret=True,
            fix="derive it from the server secret, or use secrets.token_bytes(32)",
        )


@attrs.frozen
class RedeemLinkKey:
    """Signs and checks Self-Redeem links. Its repr never shows the secret.

    >>> key = RedeemLinkKey(b"k" * 32)
    >>> link = key.sign_link("https://shop.example/redeem/V-1", "V-1")
    >>> link.startswith("https://shop.example/redeem/V-1?sig="), key.verify("V-1", link.split("=")[1])
    (True, True)
    >>> key.verify("V-2", link.split("=")[1]), key
    (False, RedeemLinkKey(<secret>))
    """

    secret: bytes = attrs.field(validator=_check_secret, repr=False)

    def __repr__(self) -> str:
        return "RedeemLinkKey(<secret>)"

    def signature(self, serial: str) -> str:
        """The signature of *serial* (22 URL-safe characters)."""
        digest = hmac.new(self.secret, _CONTEXT + serial.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_SIG_BYTES]).rstrip(b"=").decode("ascii")

    def verify(self, serial: str, presented: str | None) -> bool:
        """True when *presented* is the signature of *serial*; compared in constant time."""
        if not isinstance(presented, str) or len(presented) > 64:
            return False
        expected = self.signature(serial).encode("ascii")
        return hmac.compare_digest(expected, presented.encode("utf-8", "surrogateescape"))

    def sign_link(self, link: str, serial: str) -> str:
        """*link* (the redeem link of voucher *serial*) with ``sig=<signature>`` added to its query."""
        joiner = "&" if "?" in link else "?"
        return f"{link}{joiner}{SIGNATURE_PARAM}={self.signature(serial)}"
