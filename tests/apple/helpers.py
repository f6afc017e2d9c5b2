"""Helpers for the Apple Wallet tests: programs, cards, vouchers, unzip and the openssl oracle."""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs

from walletvoucher.codes import RedeemCode, ScanKey, Symbology
from walletvoucher.codes._pos import pos_code
from walletvoucher.model import (
    Brand,
    LocalizedText,
    Money,
    Program,
    RedemptionMethod,
    Reward,
    StampCard,
    Validity,
    Voucher,
)

AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
PASS_TYPE = "pass.com.example.walletvoucher"
TEAM = "TEAMID1234"
LANGUAGES = ("en", "zh-Hans", "hi", "th", "uz")
SCAN_KEY = ScanKey(key_id="k1", secret=b"0123456789abcdef0123456789abcdef")


def fixed_random(n: int) -> bytes:
    """A deterministic 'random' source so codes are reproducible."""
    return bytes(range(7, 7 + n))


@attrs.define
class OneCode:
    """A CodeSource handing out one POS code."""

    code: RedeemCode

    def next_code(self) -> RedeemCode:
        return self.code


def make_program(
    method: RedemptionMethod = RedemptionMethod.REDEEM_CODE,
    symbology: Symbology = Symbology.QR,
    *,
    goal: int = 10,
    translated: bool = True,
) -> Program:
    def t(default: str, **tr: str) -> LocalizedText:
        keys = {"zh_Hans": "zh-Hans"}
        return LocalizedText(default=default,
                             translations={keys.get(k, k): v for k, v in tr.items()} if translated else {})

    return Program(
        id="coffee",
        name=t("Coffee card", zh_Hans="咖啡卡", hi="कॉफ़ी कार्ड", th="บัตรกาแฟ", uz="Qahva kartasi"),
        brand=Brand(name="Kahve House", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        goal=goal,
        reward=Reward(
            title=t("Free coffee", zh_Hans="免费咖啡", hi="मुफ़्त कॉफ़ी", th="กาแฟฟรี", uz="Bepul qahva"),
            description=t('Any "size", any\\drink\nOne per visit', zh_Hans="任意\"大小\"\n每次一杯",
                          hi="कोई भी आकार", th="ทุกขนาด", uz="Istalgan hajm"),
            value=Money(amount="4.50", currency="EUR"),
            terms=t("Not exchangeable for cash", th="ไม่สามารถแลกเป็นเงินสดได้"),
        ),
        redemption=method,
        code_symbology=symbology,
        validity=Validity.for_days(30),
        stamp_label=t("Stamps", zh_Hans="印章", hi="स्टाम्प", th="แสตมป์", uz="Shtamplar"),
    )


CodesFor = Callable[[Symbology], OneCode | None]


def codes_for(symbology: Symbology) -> OneCode | None:
    if symbology is Symbology.EAN_13:
        return OneCode(pos_code("4006381333931", Symbology.EAN_13))
    if symbology is Symbology.UPC_A:
        return OneCode(pos_code("036000291452", Symbology.UPC_A))
    if symbology is Symbology.TEXT:
        return OneCode(pos_code("SUMMER-2026", Symbology.TEXT))
    return None


def card_with(program: Program, stamps: int, *, serial: str = "CARD-0001") -> StampCard:
    card, _ = StampCard.issue(program, serial=serial, member_id="M-42", at=AT)
    if stamps:
        card = card.add_stamps(stamps, at=AT + timedelta(minutes=1), codes=codes_for(program.code_symbology),
                               random=fixed_random).card
    return card


def ready_card(program: Program) -> tuple[StampCard, Voucher]:
    card = card_with(program, program.goal)
    voucher = card.open_voucher(AT + timedelta(minutes=2))
    assert voucher is not None
    return card, voucher


def unzip(pkpass: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def openssl_verify(files: dict[str, bytes], root: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """The independent oracle: `openssl cms -verify` over the manifest with the test root."""
    (tmp / "manifest.json").write_bytes(files["manifest.json"])
    (tmp / "signature").write_bytes(files["signature"])
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-CAfile", str(root),
         "-in", str(tmp / "signature"), "-content", str(tmp / "manifest.json"), "-out", str(tmp / "out")],
        capture_output=True, text=True, check=False,
    )
