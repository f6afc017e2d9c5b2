"""The service-account identity that signs save links and asks for OAuth2 tokens.

Pure data: the loading from a JSON file or dict lives in :mod:`walletvoucher.keys`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["ServiceAccountCredentials"]

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


@attrs.frozen(kw_only=True)
class ServiceAccountCredentials:
    """A Google service account: email, key id and RSA private key.

    The private key and the original key-file fields never appear in ``repr``:

    >>> from cryptography.hazmat.primitives.asymmetric import rsa
    >>> key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    >>> creds = ServiceAccountCredentials(
    ...     client_email="wallet@demo.iam.gserviceaccount.com", private_key_id="k1", private_key=key)
    >>> "PRIVATE" in repr(creds) or "RSAPrivateKey" in repr(creds)
    False
    """

    client_email: str
    private_key_id: str
    private_key: rsa.RSAPrivateKey = attrs.field(repr=False, eq=False)
    client_id: str | None = None
    project_id: str | None = None
    token_uri: str = GOOGLE_TOKEN_URI
    info: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    """The key file's fields (including the PEM private key), as google-auth wants them."""

    def public_key(self) -> rsa.RSAPublicKey:
        """The public half, which verifies the save links this account signs."""
        return self.private_key.public_key()

    def with_token_uri(self, token_uri: str) -> ServiceAccountCredentials:
        """A copy that asks ``token_uri`` for OAuth2 tokens (a test server, a proxy)."""
        info = {**self.info, "token_uri": token_uri}
        return attrs.evolve(self, token_uri=token_uri, info=info)
