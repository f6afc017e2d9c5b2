"""Google Wallet part of ``walletvoucher demo``: save links for every demo card and voucher.

A throwaway service-account key (fresh RSA key, published in the output on purpose) signs the
links, so anyone can verify them with ``walletvoucher verify-link URL --service-account KEY``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from walletvoucher.google._credentials import GOOGLE_TOKEN_URI, ServiceAccountCredentials
from walletvoucher.google._options import GoogleOptions
from walletvoucher.google._recipe import render_pieces
from walletvoucher.google._savelink import MAX_LINK_LENGTH
from walletvoucher.keys import load_service_account

if TYPE_CHECKING:
    from walletvoucher.demo import DemoItem

__all__ = ["DEMO_OPTIONS", "write_demo"]

KEY_PATH = "google/service-account.json"
DEMO_OPTIONS = GoogleOptions(
    issuer_id="3388000000099999999",
    origins=("https://wv.example",),
    logo_url="https://wv.example/logo.png",
    hero_image_url_template="https://wv.example/s/{stamps}-{goal}.png",
    redeem_link_template="https://wv.example/r/{serial}",
    homepage_url="https://wv.example",
)
"""The demo's Google options: a made-up issuer id and short URLs (every character counts in a link)."""


def write_demo(items: Sequence[DemoItem], out_dir: Path, entries: list[dict[str, Any]]) -> dict[str, str]:
    """Write the throwaway key, and add ``google_save_url`` to every entry of a demo card or voucher.

    A link over :data:`~walletvoucher.google.MAX_LINK_LENGTH` is set to ``null`` with
    ``google_rest_required`` giving the measured length and the remedy; the entry then also
    gets ``google_save_url_after_rest`` (the id-only link, valid once the class and object in
    ``google_objects`` are inserted through the REST API).
    """
    credentials = _write_key(out_dir / KEY_PATH)
    by_name = {item.name: item for item in items}
    for entry in entries:
        item = by_name.get(entry.get("item", ""))
        if item is not None and entry.get("kind") in ("stamp_card", "voucher"):
            entry.update(_links(item, credentials, out_dir))
    return {"google_service_account": KEY_PATH}


def _links(item: DemoItem, credentials: ServiceAccountCredentials, out_dir: Path) -> dict[str, Any]:
    options = attrs.evolve(DEMO_OPTIONS, scan_key=item.scan_key)
    target = item.voucher if item.kind == "voucher" and item.voucher is not None else item.card
    pieces = render_pieces(target, options=options, at=item.at, program=item.card.program)
    full = None if pieces.holds_secret else pieces.link(credentials, options, item.at, by_id=False)
    if full is not None and full.length <= MAX_LINK_LENGTH:
        return {"google_save_url": full.url, "google_link_length": full.length}
    rel = f"google/{item.name}.json"
    body = {pieces.kinds[0].value: pieces.class_body, pieces.kinds[1].value: pieces.object_body}
    _write_json(out_dir / rel, body)
    after = pieces.link(credentials, options, item.at, by_id=True)
    why = (
        "the object shows a rotating Staff-Scan code whose TOTP key must never travel in a save link"
        if full is None else
        f"the save link with its class and object would be {full.length} characters "
        f"(JWT {len(full.jwt)}), over Google's safe maximum of {MAX_LINK_LENGTH}"
    )  # fmt: skip
    return {
        "google_save_url": None,
        "google_rest_required": (
            f"{why}: insert the class and object in {rel} through the REST API "
            f"(WalletRestClient.upsert), then use google_save_url_after_rest ({after.length} characters), "
            "which carries only the object id"
        ),
        "google_link_length": None if full is None else full.length,
        "google_objects": rel,
        "google_save_url_after_rest": after.url,
    }


def _write_key(path: Path) -> ServiceAccountCredentials:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    info = {
        "type": "service_account",
        "project_id": "walletvoucher-demo",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": "walletvoucher-demo@walletvoucher-demo.iam.gserviceaccount.com",
        "client_id": str(100000000000000000000 + secrets.randbelow(10**20)),
        "token_uri": GOOGLE_TOKEN_URI,
        "note": "THROWAWAY demo key, published on purpose so anyone can verify the demo links",
    }
    _write_json(path, info, private=True)
    return load_service_account(info)


def _write_json(path: Path, data: Any, *, private: bool = False) -> None:
    """Write JSON; a key file (*private*) is created readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if private and path.exists():
        path.chmod(0o600)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
