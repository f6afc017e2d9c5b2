"""Google's side of save/delete callbacks, for tests: signed the way Google signs them (ECv2SigningOnly,
written independently of the library from Google's payment-token cryptography guide)."""

from __future__ import annotations

import base64
import json
import struct
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

NOW = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
MS = int(NOW.timestamp() * 1000)
PROTOCOL = "ECv2SigningOnly"


def _lv(*parts: str) -> bytes:
    return b"".join(struct.pack("<I", len(p.encode())) + p.encode() for p in parts)


def _spki(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def _sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()


class Google:
    """Google's side for one issuer: a root key (published), an intermediate key it signs, callbacks
    signed with that."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.root = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = ec.generate_private_key(ec.SECP256R1())

    def keys(self, *, expiration: int = MS + 86_400_000) -> dict[str, Any]:
        return {"keys": [{"keyValue": _spki(self.root), "protocolVersion": PROTOCOL,
                          "keyExpiration": str(expiration)}]}  # fmt: skip

    def callback(
        self,
        event: str = "save",
        *,
        nonce: str = "n-1",
        serial: str = "C1",
        class_id: str | None = None,
        recipient: str | None = None,
        key_expiration: int = MS + 3_600_000,
        expires: int = MS + 60_000,
        root: ec.EllipticCurvePrivateKey | None = None,
    ) -> str:
        signed_key = json.dumps({"keyValue": _spki(self.intermediate), "keyExpiration": str(key_expiration)})
        message = json.dumps({
            "classId": class_id or f"{self.issuer}.coffee", "objectId": f"{self.issuer}.coffee.card.{serial}",
            "expTimeMillis": expires, "eventType": event, "nonce": nonce,
        })  # fmt: skip
        return json.dumps({
            "protocolVersion": PROTOCOL,
            "intermediateSigningKey": {
                "signedKey": signed_key,
                "signatures": [_sign(root or self.root, _lv("GooglePayPasses", PROTOCOL, signed_key))],
            },
            "signedMessage": message,
            "signature": _sign(self.intermediate,
                               _lv("GooglePayPasses", recipient or self.issuer, PROTOCOL, message)),
        })  # fmt: skip
