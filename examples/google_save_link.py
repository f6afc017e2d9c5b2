"""An "Add to Google Wallet" link for a stamp card, and what to do when it is too long.

    python examples/google_save_link.py                      # throwaway key, prints a link
    python examples/google_save_link.py KEY.json ISSUER_ID   # your service account and issuer

A single-language program fits in a save link with its class; a program translated into
several languages does not, and is then inserted through the REST API (needs real
credentials and network, so this example only prints the measured length and the remedy).
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from walletvoucher.errors import SaveLinkTooLong
from walletvoucher.google import GoogleOptions, ServiceAccountCredentials, save_link, verify_save_link
from walletvoucher.keys import load_service_account
from walletvoucher.model import Brand, LocalizedText, Program, RedemptionMethod, Reward, StampCard

NOW = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)


def throwaway_credentials() -> ServiceAccountCredentials:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return load_service_account(
        {
            "type": "service_account",
            "client_email": "example@example-project.iam.gserviceaccount.com",
            "private_key_id": "example-key",
            "private_key": pem.decode("ascii"),
        }
    )


def program(name: LocalizedText | str) -> Program:
    return Program(
        id="coffee",
        name=name,
        brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        goal=10,
        reward=Reward(title="Free coffee", description="Any size"),
        redemption=RedemptionMethod.STAFF_SCAN,
    )


def main(argv: list[str]) -> int:
    credentials = load_service_account(argv[1]) if len(argv) > 1 else throwaway_credentials()
    options = GoogleOptions(
        issuer_id=argv[2] if len(argv) > 2 else "3388000000022222222",
        origins=["https://shop.example.com"],
        logo_url="https://cdn.example.com/logo.png",
        hero_image_url_template="https://cdn.example.com/stamps/{stamps}-of-{goal}.png",
    )
    card = StampCard(serial="card-0001", member_id="member-42", program=program("Coffee card"), issued_at=NOW)
    card = card.add_stamps(7, at=NOW).card
    link = save_link(card, credentials=credentials, options=options, at=NOW)
    print(f"{link.length} characters, {link.mode.value}: {link.url[:80]}...")
    print("\n".join(verify_save_link(link.url, key=credentials).lines()))

    translated = LocalizedText(default="Coffee card", translations={"zh-Hans": "咖啡卡", "th": "บัตรกาแฟ"})
    big = StampCard(serial="card-0002", member_id="member-43", program=program(translated), issued_at=NOW)
    try:
        save_link(big, credentials=credentials, options=options, at=NOW)
    except SaveLinkTooLong as exc:
        print(f"translated program: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
