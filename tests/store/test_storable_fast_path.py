"""The ASCII fast paths of ``storable`` and ``_checks.text`` (issue 17) refuse exactly the text the
regex alone refused."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletvoucher.errors import ValidationError
from walletvoucher.store import _checks
from walletvoucher.store._engine import storable
from walletvoucher.store._passes import push_payload

_OLD = re.compile("[\x00\ud800-\udfff]")


class _Text(str):
    """A str subclass: the fast path must treat it as text too."""


_TEXTS = [
    "", "S", "stamp_added", '{"count":1}', "\x00", "a\x00", "\x00b", "x" * 5000 + "\x00", "caf\u00e9",
    "caf\u00e9\x00", "\ud800", "ok\udfff", "\U0001f600", "\u0410\u0411", "\x7f\x01", _Text("a\x00"),
    _Text("plain"), _Text("\ud834"),
]  # fmt: skip


@pytest.mark.parametrize("text", _TEXTS)
def test_storable_refuses_what_the_regex_refuses(text: str) -> None:
    params = (1, None, text, 2.5, b"\x00")
    if _OLD.search(text):
        with pytest.raises(ValidationError, match="NUL character or a lone surrogate"):
            storable(params)
    else:
        assert storable(params) == params


@pytest.mark.parametrize("text", _TEXTS)
def test_checks_text_refuses_what_the_regex_refuses(text: str) -> None:
    if _OLD.search(text):
        with pytest.raises(ValidationError, match="NUL character or a lone surrogate"):
            _checks.text(text, "serial", fix="f", empty=True)
    else:
        assert _checks.text(text, "serial", fix="f", empty=True) is text


@given(st.text())
def test_a_push_payload_is_what_json_dumps_writes(serial: str) -> None:
    """Issue 17: a push's payload is written directly for a plain serial; for any text it is the very
    text json.dumps writes (quotes, backslashes, control and non-ASCII characters included)."""
    assert push_payload(serial) == json.dumps({"serial": serial}, ensure_ascii=False)
    for plain in ("C-1", 'C"1', "C\\1", "C 1~", "Ç-1", "C\x7f1"):
        assert push_payload(plain) == json.dumps({"serial": plain}, ensure_ascii=False)
