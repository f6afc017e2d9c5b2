"""CodePool: a POS export handed out one code at a time, each code once."""

from __future__ import annotations

import threading

import pytest

from walletvoucher.codes._pool import CodePool, CodeSource
from walletvoucher.codes._symbology import CodeOrigin, RedeemCode, Symbology
from walletvoucher.errors import CodeError, CodePoolEmpty, SymbologyError


def test_codes_are_handed_out_once_in_the_given_order() -> None:
    pool = CodePool(["C-3", "A-1", "B-2"], Symbology.CODE_128)
    handed = [pool.next_code() for _ in range(3)]
    assert handed == [
        RedeemCode(value=v, symbology=Symbology.CODE_128, origin=CodeOrigin.POS)
        for v in ("C-3", "A-1", "B-2")
    ]


def test_remaining_and_issued_follow_each_hand_out() -> None:
    pool = CodePool(["A1", "A2", "A3"], Symbology.QR)
    assert (pool.remaining, pool.issued, len(pool)) == (3, (), 3)
    pool.next_code()
    assert (pool.remaining, pool.issued, len(pool)) == (2, ("A1",), 3)


def test_an_exhausted_pool_says_to_import_more_codes() -> None:
    pool = CodePool(["ONLY"], Symbology.TEXT)
    pool.next_code()
    with pytest.raises(CodePoolEmpty, match="import more codes from the POS") as info:
        pool.next_code()
    assert "all 1 codes" in str(info.value)
    assert pool.remaining == 0


def test_an_empty_export_makes_an_empty_pool() -> None:
    pool = CodePool([], Symbology.QR)
    with pytest.raises(CodePoolEmpty):
        pool.next_code()


def test_codes_are_validated_for_the_symbology_at_construction() -> None:
    with pytest.raises(SymbologyError, match="expected 1, got 9"):
        CodePool(["400638133393", "4006381333939"], Symbology.EAN_13)


def test_ean13_codes_get_their_check_digit_and_keep_it_in_issued() -> None:
    pool = CodePool(["400638133393"], Symbology.EAN_13)
    assert pool.next_code().value == "4006381333931"
    assert pool.issued == ("4006381333931",)


def test_a_duplicate_is_rejected_naming_it_and_its_positions() -> None:
    with pytest.raises(CodeError, match=r"appears twice \(positions 0 and 2\)") as info:
        CodePool(["DUP-1", "X", "DUP-1"], Symbology.CODE_128)
    assert info.value.value == "DUP-1"
    assert info.value.field == "codes"


def test_a_duplicate_after_check_digit_completion_is_rejected() -> None:
    with pytest.raises(CodeError, match="appears twice"):
        CodePool(["400638133393", "4006381333931"], Symbology.EAN_13)


def test_a_single_str_is_not_taken_for_a_list_of_characters() -> None:
    with pytest.raises(CodeError, match="not a single str"):
        CodePool("ABC", Symbology.QR)


def test_any_iterable_works_including_a_generator() -> None:
    pool = CodePool((f"G-{i}" for i in range(3)), Symbology.QR)
    assert pool.remaining == 3


def test_restore_skips_issued_codes_and_continues_in_order() -> None:
    pool = CodePool.restore(["A1", "A2", "A3", "A4"], Symbology.QR, issued=["A1", "A3"])
    assert pool.issued == ("A1", "A3")
    assert pool.remaining == 2
    assert [pool.next_code().value, pool.next_code().value] == ["A2", "A4"]
    assert list(pool.issued) == ["A1", "A3", "A2", "A4"]


def test_restore_round_trips_the_issued_tuple() -> None:
    codes = [f"R-{i}" for i in range(10)]
    pool = CodePool(codes, Symbology.CODE_128)
    first = [pool.next_code() for _ in range(4)]
    again = CodePool.restore(codes, Symbology.CODE_128, issued=pool.issued)
    assert again.issued == tuple(code.value for code in first)
    assert again.next_code() == pool.next_code()


def test_restore_with_a_new_export_appended() -> None:
    pool = CodePool.restore(["OLD-1", "NEW-1"], Symbology.QR, issued=["OLD-1"])
    assert pool.next_code().value == "NEW-1"


def test_restore_accepts_ean13_issued_values_as_shown() -> None:
    pool = CodePool.restore(["400638133393", "590123412345"], Symbology.EAN_13, issued=["4006381333931"])
    assert pool.next_code().value == "5901234123457"


def test_restore_rejects_an_issued_code_the_pool_does_not_hold() -> None:
    with pytest.raises(CodeError, match="not in the pool") as info:
        CodePool.restore(["A1", "A2"], Symbology.QR, issued=["A1", "Z9"])
    assert info.value.field == "issued"
    assert info.value.value == "Z9"


def test_restore_rejects_an_issued_list_with_a_duplicate() -> None:
    with pytest.raises(CodeError, match="appears twice") as info:
        CodePool.restore(["A1", "A2"], Symbology.QR, issued=["A1", "A1"])
    assert info.value.field == "issued"


def test_restore_rejects_an_issued_value_invalid_for_the_symbology() -> None:
    with pytest.raises(SymbologyError):
        CodePool.restore(["A1"], Symbology.QR, issued=[" A1"])


def test_threads_never_get_the_same_code() -> None:
    codes = [f"T-{i:04d}" for i in range(2000)]
    pool = CodePool(codes, Symbology.QR)
    got: list[str] = []
    got_lock = threading.Lock()
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()
        mine = []
        while True:
            try:
                mine.append(pool.next_code().value)
            except CodePoolEmpty:
                break
        with got_lock:
            got.extend(mine)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == codes
    assert sorted(pool.issued) == codes
    assert pool.remaining == 0


def test_the_pool_satisfies_the_code_source_protocol() -> None:
    pool: CodeSource = CodePool(["P-1"], Symbology.QR)
    assert isinstance(pool, CodeSource)
    assert pool.next_code().value == "P-1"


def test_repr_shows_symbology_and_counts_not_codes() -> None:
    pool = CodePool(["SECRET-1", "SECRET-2"], Symbology.QR)
    pool.next_code()
    assert repr(pool) == "<CodePool QR: 1 of 2 remaining>"
    assert pool.symbology is Symbology.QR
