"""Hypothesis properties of the Google renderer: ids are always legal and distinct, balances
always fit Google's 7 characters, objects always validate."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tests.google.conftest import AT, make_card, make_options, make_program
from tests.google.discovery import schema_errors
from walletvoucher.google import loyalty_object, sanitize_suffix, stamp_balance

LEGAL = re.compile(r"[A-Za-z0-9._-]+")


@given(st.text(min_size=1, max_size=60))
def test_sanitised_suffix_is_always_legal(text: str) -> None:
    assert LEGAL.fullmatch(sanitize_suffix(text))


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_different_suffixes_stay_different(a: str, b: str) -> None:
    if a != b:
        assert sanitize_suffix(a) != sanitize_suffix(b)


@given(st.integers(min_value=1, max_value=10**6), st.data())
def test_balance_always_fits_seven_characters(goal: int, data: st.DataObject) -> None:
    stamps = data.draw(st.integers(min_value=0, max_value=goal - 1))
    text = stamp_balance(stamps, goal)
    assert len(text) <= 7 and text.startswith(str(stamps))


@given(st.integers(min_value=1, max_value=500), st.data())
def test_loyalty_object_validates_for_any_progress(goal: int, data: st.DataObject) -> None:
    stamps = data.draw(st.integers(min_value=0, max_value=goal - 1))
    card = make_card(make_program(goal=goal), stamps=stamps)
    assert schema_errors(loyalty_object(card, make_options(), at=AT), "LoyaltyObject") == []
