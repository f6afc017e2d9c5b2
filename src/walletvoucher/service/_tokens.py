"""Per-pass authentication tokens, derived instead of stored.

Wallet authenticates every call about one pass with ``Authorization: ApplePass <token>``,
where the token is the ``authenticationToken`` the pass was issued with. The token of a pass
can never change (Wallet keeps the one it installed), so it must be recomputable at any time.

We derive it: ``token = base64url(HMAC-SHA256(server secret, "walletvoucher/pass-auth/1" || serial))``.

* **Never stored.** A stolen database holds no token; only the server secret (kept where the
  signing key is kept) can produce them, so a leaked backup cannot be replayed against the service.
* **Per pass.** Knowing one pass's token (it is inside the .pkpass the customer holds) says nothing
  about another serial's token: HMAC is a pseudo-random function of the serial.
* **Stable.** The same secret and serial give the same token on every render, so an updated pass
  carries exactly the token Wallet already has.
* **Compared in constant time** (:func:`hmac.compare_digest`), so timing does not leak how many
  leading characters of a guess were right.

The secret must therefore never be rotated while passes made with it are installed: treat it
like a database encryption key. 43 characters (256 bits) is well above Wallet's 16-character minimum.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import attrs

from walletvoucher.apple._options import AppleOptions
from walletvoucher.errors import ServiceConfigError

MIN_SECRET_BYTES = 32
_CONTEXT = b"walletvoucher/pass-auth/1\x00"
AUTH_SCHEME = "ApplePass"


def _secret(instance: object, attribute: Any, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) < MIN_SECRET_BYTES:
        raise ServiceConfigError(
            f"must be at least {MIN_SECRET_BYTES} random bytes",
            field="token_secret",
            value=value,
            secret=True,
            fix="generate one with secrets.token_bytes(32) and keep it with the signing key",
        )


@attrs.frozen
class PassTokens:
    """Derive and check the ``authenticationToken`` of every pass from one server secret.

    >>> tokens = PassTokens(b"s" * 32)
    >>> token = tokens.token_for("CARD-1")
    >>> len(token), token == tokens.token_for("CARD-1"), tokens.verify("CARD-1", token)
    (43, True, True)
    >>> tokens.verify("CARD-2", token), tokens
    (False, PassTokens(<secret>))
    """

    secret: bytes = attrs.field(validator=_secret, repr=False)

    def __repr__(self) -> str:
        return "PassTokens(<secret>)"

    def token_for(self, serial: str) -> str:
        """The authentication token of the pass with this serial (43 URL-safe characters)."""
        digest = hmac.new(self.secret, _CONTEXT + serial.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def verify(self, serial: str, presented: str) -> bool:
        """True when *presented* is this serial's token; compared in constant time."""
        expected = self.token_for(serial).encode("ascii")
        return hmac.compare_digest(expected, presented.encode("utf-8", "surrogateescape"))

    def check_header(self, serial: str, authorization: str | None) -> bool:
        """True when an ``Authorization`` header value is ``ApplePass <this serial's token>``."""
        if authorization is None:
            return False
        scheme, _, token = authorization.strip().partition(" ")
        return scheme == AUTH_SCHEME and self.verify(serial, token.strip())


def updatable_options(
    options: AppleOptions, serial: str, *, web_service_url: str, tokens: PassTokens
) -> AppleOptions:
    """*options* for rendering *serial* as an updatable pass: ``webServiceURL`` + its derived token.

    Both stay the same across every update of the pass, as Wallet requires.

    >>> from walletvoucher.apple import AppleOptions
    >>> base = AppleOptions(pass_type_identifier="pass.com.example.coffee", team_identifier="ABCDE12345")
    >>> opts = updatable_options(base, "CARD-1", web_service_url="https://example.com/passkit",
    ...                          tokens=PassTokens(b"s" * 32))
    >>> opts.web_service_url, opts.authentication_token == PassTokens(b"s" * 32).token_for("CARD-1")
    ('https://example.com/passkit', True)
    """
    token = tokens.token_for(serial)
    return attrs.evolve(options, web_service_url=web_service_url, authentication_token=token)
