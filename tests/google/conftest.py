"""Shared fixtures for the Google Wallet tests: a throwaway service account, programs in five
languages, cards and vouchers in every state and redemption method, and the loopback API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.google.fake_wallet_api import FakeWalletApi
from walletvoucher.codes import CodeOrigin, RedeemCode, ScanKey, Symbology
from walletvoucher.google import GoogleOptions, ServiceAccountCredentials, WalletRestClient
from walletvoucher.keys import load_service_account
from walletvoucher.model import (
    Brand,
    LocalizedText,
    Program,
    RedemptionMethod,
    Reward,
    StampCard,
    Voucher,
    VoucherStatus,
)

ISSUER = "3388000000022222222"
CLIENT_ID = "113456789012345678901"
AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
LANGUAGES = ("en", "hi", "th", "uz", "zh-Hans")
SCAN_KEY = ScanKey(key_id="k1", secret=b"0123456789abcdef0123456789abcdef")


def _t(en: str, zh: str, hi: str, th: str, uz: str) -> LocalizedText:
    return LocalizedText(default=en, translations={"zh-Hans": zh, "hi": hi, "th": th, "uz": uz})


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def sa_info(rsa_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "type": "service_account",
        "project_id": "wallet-demo",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem.decode("ascii"),
        "client_email": "wallet@wallet-demo.iam.gserviceaccount.com",
        "client_id": CLIENT_ID,
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@pytest.fixture(scope="session")
def credentials(sa_info: dict[str, Any]) -> ServiceAccountCredentials:
    return load_service_account(sa_info)


@pytest.fixture
def options() -> GoogleOptions:
    return make_options()


def make_options(**changes: Any) -> GoogleOptions:
    fields: dict[str, Any] = {
        "issuer_id": ISSUER,
        "origins": ("https://shop.example.com",),
        "logo_url": "https://cdn.example.com/logo.png",
        "hero_image_url_template": "https://cdn.example.com/stamps/{stamps}-{goal}.png",
        "redeem_link_template": "https://shop.example.com/redeem/{serial}",
        "scan_key": SCAN_KEY,
    }
    fields.update(changes)
    return GoogleOptions(**fields)


def make_program(
    redemption: RedemptionMethod = RedemptionMethod.SELF_REDEEM,
    *,
    multilingual: bool = True,
    symbology: Symbology = Symbology.QR,
    **changes: Any,
) -> Program:
    if multilingual:
        texts: dict[str, Any] = {
            "name": _t("Coffee card", "咖啡卡", "कॉफ़ी कार्ड", "บัตรกาแฟ", "Qahva kartasi"),
            "brand": Brand(
                name=_t("Kahve", "卡维", "काहवे", "คาห์เว", "Kahve"),
                foreground="#FFFFFF",
                background="#1E3A5F",
                label="#F2C14E",
            ),
            "reward": Reward(
                title=_t("Free coffee", "免费咖啡", "मुफ़्त कॉफ़ी", "กาแฟฟรี", "Bepul qahva"),
                description=_t("Any size", "任何尺寸", "कोई भी आकार", "ทุกขนาด", "Har qanday hajm"),
                terms=_t("One per visit", "每次一杯", "प्रति यात्रा एक", "ครั้งละหนึ่ง", "Har tashrifda bitta"),
            ),
            "stamp_label": _t("Stamps", "印章", "स्टाम्प", "แสตมป์", "Muhrlar"),
        }
    else:
        texts = {
            "name": "Coffee card",
            "brand": Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
            "reward": Reward(title="Free coffee", description="Any size"),
        }
    fields: dict[str, Any] = {
        "id": "coffee",
        "goal": 10,
        "redemption": redemption,
        "code_symbology": symbology,
        **texts,
    }
    fields.update(changes)
    return Program(**fields)


CODE_VALUES = {
    Symbology.QR: "7KQ2-M9XD-4H3B",
    Symbology.CODE_128: "7KQ2M9XD4H3B",
    Symbology.EAN_13: "4006381333931",
    Symbology.UPC_A: "036000291452",
    Symbology.PDF417: "7KQ2-M9XD-4H3B",
    Symbology.AZTEC: "7KQ2-M9XD-4H3B",
    Symbology.TEXT: "7KQ2-M9XD-4H3B",
}


def make_voucher(
    program: Program,
    *,
    status: VoucherStatus = VoucherStatus.ACTIVE,
    symbology: Symbology | None = None,
    serial: str = "card-0001-1",
    valid_from: datetime = AT - timedelta(days=1),
    expires_at: datetime | None = AT + timedelta(days=30),
) -> Voucher:
    code = None
    if program.redemption is RedemptionMethod.REDEEM_CODE:
        sym = symbology or program.code_symbology
        code = RedeemCode(value=CODE_VALUES[sym], symbology=sym, origin=CodeOrigin.POS)
    extra: dict[str, Any] = {}
    if status is VoucherStatus.REDEEMED:
        extra = {"redeemed_at": AT - timedelta(hours=1), "redeemed_by": "staff"}
    if status is VoucherStatus.VOIDED:
        extra = {"void_reason": "refund"}
    return Voucher(
        serial=serial,
        card_serial="card-0001",
        program_id=program.id,
        program_version=program.version,
        reward=program.reward,
        method=program.redemption,
        code=code,
        status=status,
        issued_at=valid_from,
        valid_from=valid_from,
        expires_at=expires_at,
        **extra,
    )


def make_card(program: Program, *, stamps: int = 7, vouchers: tuple[Voucher, ...] = ()) -> StampCard:
    return StampCard(
        serial="card-0001",
        member_id="member-42",
        program=program,
        issued_at=AT - timedelta(days=60),
        stamps=stamps,
        lifetime_stamps=stamps + 10 * len(vouchers),
        vouchers_issued=len(vouchers),
        vouchers=vouchers,
    )


@pytest.fixture
def fake_api(rsa_key: rsa.RSAPrivateKey) -> Iterator[FakeWalletApi]:
    api = FakeWalletApi(issuer_id=ISSUER, public_key=rsa_key.public_key()).start()
    yield api
    api.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def rest(
    fake_api: FakeWalletApi, credentials: ServiceAccountCredentials, sleeps: list[float]
) -> WalletRestClient:
    return WalletRestClient.from_service_account(
        credentials.with_token_uri(fake_api.token_uri), base_url=fake_api.base_url, sleep=sleeps.append
    )
