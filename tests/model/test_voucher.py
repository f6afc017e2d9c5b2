from __future__ import annotations

from datetime import timedelta

import pytest

from walletvoucher import (
    CodeEntry,
    RedemptionMethod,
    ScanKey,
    SelfRedeem,
    StaffScan,
    StampCard,
    Symbology,
    Validity,
    Voucher,
    VoucherStatus,
)
from walletvoucher.codes import CodePool, issue_scan_token
from walletvoucher.errors import (
    ProofMismatch,
    ScanTokenExpired,
    ScanTokenTampered,
    ScanTokenUnknownKey,
    TransitionError,
    ValidationError,
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotYetValid,
    VoucherVoided,
    WrongRedeemCode,
)

from .conftest import T0, counting_random, make_program

KEY = ScanKey(key_id="shop1", secret=b"s" * 32)
OTHER_KEY = ScanKey(key_id="shop2", secret=b"t" * 32)


def voucher(method: RedemptionMethod, **changes: object) -> Voucher:
    card, _ = StampCard.issue(
        make_program(redemption=method, **changes), serial="CARD1", member_id="m", at=T0
    )
    return card.add_stamps(10, at=T0, random=counting_random()).vouchers[0]


def test_self_redeem_once() -> None:
    v = voucher(RedemptionMethod.SELF_REDEEM)
    done, events = v.redeem(SelfRedeem(), at=T0)
    assert (done.status, done.redeemed_by, done.redeemed_at) == (VoucherStatus.REDEEMED, "customer", T0)
    assert events[0].data["voucher"] == v.serial
    with pytest.raises(VoucherAlreadyRedeemed, match="redeemed once"):
        done.redeem(SelfRedeem(), at=T0)


def test_staff_scan_voucher_cannot_be_self_redeemed() -> None:
    v = voucher(RedemptionMethod.STAFF_SCAN)
    with pytest.raises(ProofMismatch, match="StaffScan"):
        v.redeem(SelfRedeem(), at=T0)


def test_staff_scan_with_valid_token() -> None:
    v = voucher(RedemptionMethod.STAFF_SCAN, validity=Validity.for_days(30))
    token = issue_scan_token(v.serial, expires_at=v.expires_at, key=KEY)
    assert len(token) < 120
    done, _ = v.redeem(StaffScan(token=token, keys=[KEY], by="anna"), at=T0)
    assert done.redeemed_by == "anna"


def test_staff_scan_rejects_forged_foreign_and_expired_tokens() -> None:
    v = voucher(RedemptionMethod.STAFF_SCAN)
    token = issue_scan_token(v.serial, expires_at=T0 + timedelta(hours=1), key=KEY)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(ScanTokenTampered):
        v.redeem(StaffScan(token=forged, keys=[KEY]), at=T0)
    with pytest.raises(ScanTokenUnknownKey):
        v.redeem(
            StaffScan(token=issue_scan_token(v.serial, expires_at=None, key=OTHER_KEY), keys=[KEY]), at=T0
        )
    with pytest.raises(ScanTokenExpired):
        v.redeem(StaffScan(token=token, keys=[KEY]), at=T0 + timedelta(hours=2))
    with pytest.raises(WrongRedeemCode, match="another voucher"):
        v.redeem(StaffScan(token=issue_scan_token("CARD9-1", expires_at=None, key=KEY), keys=[KEY]), at=T0)


def test_redeem_code_accepts_normalised_input_and_rejects_wrong_code() -> None:
    v = voucher(RedemptionMethod.REDEEM_CODE)
    assert v.code is not None
    typed = v.code.value.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    done, _ = v.redeem(CodeEntry(code=typed, by="till-2"), at=T0)
    assert done.status is VoucherStatus.REDEEMED
    other = voucher(RedemptionMethod.REDEEM_CODE)
    with pytest.raises(WrongRedeemCode):
        other.redeem(CodeEntry(code="0123-4567-89AB"), at=T0)


def test_pos_code_voucher_compares_exactly() -> None:
    card, _ = StampCard.issue(
        make_program(redemption=RedemptionMethod.REDEEM_CODE, code_symbology=Symbology.CODE_128),
        serial="CARD1",
        member_id="m",
        at=T0,
    )
    v = card.add_stamps(10, at=T0, codes=CodePool(["Save-10"], Symbology.CODE_128)).vouchers[0]
    with pytest.raises(WrongRedeemCode):
        v.redeem(CodeEntry(code="SAVE-10"), at=T0)
    assert v.redeem(CodeEntry(code=" Save-10 "), at=T0)[0].status is VoucherStatus.REDEEMED


def test_expired_voided_and_not_yet_valid_vouchers_are_refused() -> None:
    v = voucher(RedemptionMethod.SELF_REDEEM, validity=Validity.for_days(1, start_delay=timedelta(hours=1)))
    with pytest.raises(VoucherNotYetValid):
        v.redeem(SelfRedeem(), at=T0)
    with pytest.raises(VoucherExpired):
        v.redeem(SelfRedeem(), at=T0 + timedelta(days=2))
    voided, _ = v.void("staff mistake", at=T0)
    with pytest.raises(VoucherVoided, match="staff mistake"):
        voided.redeem(SelfRedeem(), at=T0 + timedelta(hours=2))


def test_expire_and_void_rules() -> None:
    v = voucher(RedemptionMethod.SELF_REDEEM, validity=Validity.for_days(1))
    with pytest.raises(TransitionError, match="not reached its expiry"):
        v.expire(at=T0)
    expired, _events = v.expire(at=T0 + timedelta(days=1))
    assert expired.status is VoucherStatus.EXPIRED
    with pytest.raises(TransitionError, match="already expired"):
        expired.void("late", at=T0 + timedelta(days=2))
    redeemed, _ = v.redeem(SelfRedeem(), at=T0)
    with pytest.raises(VoucherAlreadyRedeemed):
        redeemed.void("oops", at=T0)
    with pytest.raises(ValidationError, match="say why"):
        v.void(" ", at=T0)


def test_voucher_json_round_trip() -> None:
    v = voucher(RedemptionMethod.REDEEM_CODE, validity=Validity.for_days(3))
    assert Voucher.from_json(v.to_json()) == v


def test_voucher_needs_code_exactly_for_redeem_code_method() -> None:
    v = voucher(RedemptionMethod.REDEEM_CODE)
    with pytest.raises(ValidationError, match="redeem code"):
        Voucher(**{**_fields(v), "method": RedemptionMethod.SELF_REDEEM})


def _fields(v: Voucher) -> dict[str, object]:
    import attrs

    return attrs.asdict(v, recurse=False)


def test_staff_scan_proof_repr_hides_token_and_keys() -> None:
    proof = StaffScan(token="wv1.shop1.X.-.secretsig", keys=[KEY])
    assert "secretsig" not in repr(proof)
    assert "ssss" not in repr(proof)
