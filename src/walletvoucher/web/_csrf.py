"""Browser ids in a signed cookie, and CSRF tokens bound to them.

Every browser that opens a page gets a random id in the ``wv_browser`` cookie
(``Secure; HttpOnly; SameSite=Lax``), signed so it cannot be forged. A form carries a CSRF token
that is an HMAC of that id: a POST is accepted only when its token matches the cookie sent with it,
which a page on another site can neither read nor compute (double-submit, signed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable

COOKIE = "wv_browser"
MAX_AGE = 2 * 365 * 24 * 3600
_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def _mac(key: bytes, purpose: bytes, value: str) -> str:
    digest = hmac.new(key, purpose + b"\x00" + value.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


class BrowserIds:
    """Mint, sign and check browser ids and their CSRF tokens with one key (at least 32 bytes).

    >>> ids = BrowserIds(b"k" * 32, random=lambda n: b"r" * n)
    >>> browser = ids.new(); cookie = ids.cookie_value(browser)
    >>> ids.from_cookie(cookie) == browser, ids.from_cookie(cookie[:-1] + "A"), ids
    (True, None, BrowserIds(<key>))
    >>> ids.check_csrf(browser, ids.csrf_token(browser)), ids.check_csrf(browser, "forged")
    (True, False)
    """

    def __init__(self, key: bytes, *, random: Callable[[int], bytes]) -> None:
        if len(key) < 32:
            raise ValueError("the cookie key must be at least 32 bytes")
        self._key = key
        self._random = random

    def __repr__(self) -> str:
        return "BrowserIds(<key>)"

    def new(self) -> str:
        """A fresh random browser id (128 bits, 22 URL-safe characters)."""
        return base64.urlsafe_b64encode(self._random(16)).rstrip(b"=").decode("ascii")

    def cookie_value(self, browser: str) -> str:
        """``<id>.<signature>``: what the cookie holds."""
        return f"{browser}.{_mac(self._key, b'cookie', browser)}"

    def from_cookie(self, value: str | None) -> str | None:
        """The browser id of a cookie value, or None when it is missing, malformed or forged."""
        if not value or len(value) > 100:
            return None
        browser, _, signature = value.partition(".")
        if not _ID.fullmatch(browser):
            return None
        expected = _mac(self._key, b"cookie", browser)
        return (
            browser if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")) else None
        )

    def csrf_token(self, browser: str) -> str:
        """The CSRF token for forms shown to *browser*."""
        return _mac(self._key, b"csrf", browser)

    def check_csrf(self, browser: str | None, token: str | None) -> bool:
        """True when *token* is the CSRF token of *browser*; compared in constant time."""
        if browser is None or not token or len(token) > 100:
            return False
        return hmac.compare_digest(self.csrf_token(browser).encode(), token.encode("utf-8", "replace"))

    def set_cookie_header(self, browser: str) -> str:
        """The ``Set-Cookie`` header value for *browser*."""
        return (
            f"{COOKIE}={self.cookie_value(browser)}; Path=/; Max-Age={MAX_AGE}; Secure; HttpOnly;"
            " SameSite=Lax"
        )
