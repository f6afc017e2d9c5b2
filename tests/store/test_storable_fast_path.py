"""The ASCII fast paths of ``storable`` and ``_checks.text`` (issue 17) refuse exactly the text the
regex alone refused."""

from __future__ import annotations

import re

import pytest

from walletvoucher.errors import ValidationError
from walletvoucher.store import _checks
from walletvoucher.store._engine import storable

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
