"""Fuzz ``preview_pkpass`` (issue 18): any bytes give a PNG or a PreviewError, never a foreign exception.

Every input is made here from a real pass of ours: bit flips, truncations, zips with lying headers,
hostile pass.json values and pass.strings files. Each preview must end within a few CPU seconds (a
safety bound, not a speed claim) with a PNG or :class:`PreviewError`, whose text is safe to print.

Budget: about 20 s on two cores. ``WALLETVOUCHER_FUZZ_EXAMPLES=5000`` runs a longer campaign.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apple.helpers import AT, PASS_TYPE, TEAM, card_with, make_program
from tests.apple.hostile import build_zip
from tests.fuzz.test_fuzz_verify import ENTRIES, EXAMPLES, JSON_VALUES, PASS_KEYS
from walletvoucher.apple import AppleOptions, build_pass_content, zip_bundle
from walletvoucher.errors import PreviewError
from walletvoucher.preview import preview_pkpass

FUZZ = settings(max_examples=max(20, EXAMPLES // 3), deadline=None, derandomize=False, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
SECONDS = 5.0  # safety bound per input (a hostile pass with every field full draws in about 3 s)


class Pass(bytes):
    """The pass every mutation starts from; a short repr keeps Hypothesis reports readable."""

    def __repr__(self) -> str:
        return f"<pass, {len(self)} bytes>"


class Files(dict[str, bytes]):
    """The pass's files; a short repr keeps Hypothesis reports readable."""

    def __repr__(self) -> str:
        return f"<{len(self)} files>"


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    options = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM)
    content = build_pass_content(card_with(make_program(), 7), options=options, at=AT)
    return Files(dict(content.files) | {"pass.json": json.dumps(content.pass_json).encode()})


@pytest.fixture(scope="module")
def pkpass(files: dict[str, bytes]) -> bytes:
    return Pass(zip_bundle(files))


def check(data: bytes) -> None:
    start = time.process_time()
    try:
        png = preview_pkpass(data, at=AT)
    except PreviewError as exc:
        text = str(exc)
        assert exc.fix and len(text) < 2000 and all(c.isprintable() for c in text), text
    else:
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    elapsed = time.process_time() - start
    assert elapsed < SECONDS, f"{elapsed:.2f} s for a {len(data)}-byte input"


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=16))
def test_bit_flips_anywhere(pkpass: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(pkpass)
    for position, value in flips:
        data[position % len(data)] ^= value or 1
    check(bytes(data))


@FUZZ
@given(cut=st.integers(min_value=0), keep_tail=st.integers(0, 200))
def test_truncated_and_spliced(pkpass: bytes, cut: int, keep_tail: int) -> None:
    cut %= len(pkpass)
    check(pkpass[:cut] + pkpass[len(pkpass) - keep_tail :])


@FUZZ
@given(entries=st.lists(ENTRIES, max_size=8), count=st.one_of(st.none(), st.integers(0, 0xFFFF)))
def test_zips_with_lying_headers(entries: list[Any], count: int | None) -> None:
    check(build_zip(entries, count=count))


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


TEXT = st.one_of(st.text(max_size=40), st.text(st.sampled_from('"\\/*;= \n\u2028कก咖عa'), max_size=400))


@FUZZ
@given(changes=st.dictionaries(PASS_KEYS, JSON_VALUES, max_size=5), field=JSON_VALUES, strings=TEXT,
       key=st.sampled_from(["value", "label", "currencyCode", "dateStyle", "key"]))
def test_hostile_pass_json_and_strings(
    files: dict[str, bytes], changes: dict[str, Any], field: Any, strings: str, key: str
) -> None:
    doc = json.loads(files["pass.json"])
    doc["storeCard"]["secondaryFields"][0][key] = field
    doc.update(changes)
    hostile = {**files, "pass.json": json.dumps(doc).encode(), "en.lproj/pass.strings": strings.encode()}
    check(_zip(hostile))
