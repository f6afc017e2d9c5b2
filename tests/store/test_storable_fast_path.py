"""The ASCII fast paths of ``storable`` and ``_checks.text`` (issue 17) refuse exactly the text the
regex alone refused."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from walletvoucher.errors import ValidationError, WalletVoucherError
from walletvoucher.model import Event, EventType
from walletvoucher.store import _checks
from walletvoucher.store._engine import storable
from walletvoucher.store._passes import push_payload
from walletvoucher.store._wallet import _dumps, event_text

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


_FACT = st.one_of(
    st.text(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans(), st.none(),
    st.floats(allow_nan=False), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)


@given(
    kind=st.sampled_from(list(EventType)),
    at=st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5))])),
    serial=st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True),
    facts=st.dictionaries(st.text(max_size=12), _FACT, max_size=5),
    version=st.one_of(st.none(), st.integers(min_value=1, max_value=2**40)),
)
def test_an_event_is_stored_as_the_encoder_writes_it(
    kind: EventType, at: datetime, serial: str, facts: dict[str, Any], version: int | None
) -> None:
    """Issue 17: an event with flat facts is written directly; every event's stored text is the very
    text the encoder writes of ``to_json()`` (key order, escapes, non-ASCII, nested facts)."""
    try:
        event = Event(type=kind, at=at, card_serial=serial, data=facts, version=version)
    except WalletVoucherError:
        assume(False)  # not an event the model accepts
        raise
    assert event_text(event) == _dumps(event.to_json())


def test_a_stamps_event_is_written_without_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    import walletvoucher.store._wallet as module

    event = Event(type=EventType.STAMP_ADDED, at=datetime(2026, 5, 7, tzinfo=timezone.utc), card_serial="C1",
                  data={"count": 2, "source": "till \"1\" é"}, version=4)  # fmt: skip
    expected = _dumps(event.to_json())
    monkeypatch.setattr(module, "_dumps", None)  # the fast path would fail calling it
    assert event_text(event) == expected
