"""Fuzzing verify_save_link: arbitrary text (lone surrogates included), valid links mutated
character by character, and correctly signed JWTs carrying arbitrary JSON. Whatever comes in,
the answer is a report (never a non-library exception), printable, within a second.

Budget: about 30 s on CI (see ``BUDGET`` below); every input is made by the tests."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from walletvoucher.errors import WalletVoucherError
from walletvoucher.google import (
    SAVE_URL_PREFIX,
    GoogleOptions,
    LinkReport,
    ServiceAccountCredentials,
    save_link,
    verify_save_link,
)
from walletvoucher.model import Brand, Program, RedemptionMethod, Reward, StampCard

AT = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
KEY = ServiceAccountCredentials(
    client_email="fuzz@fuzz.iam.gserviceaccount.com",
    private_key_id="fuzz-key",
    private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
)
BUDGET = settings(
    max_examples=1500, deadline=None, derandomize=False, suppress_health_check=[HealthCheck.too_slow]
)


def _valid_link() -> str:
    program = Program(
        id="tea",
        name="Tea card",
        brand=Brand(name="Chai", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        goal=8,
        reward=Reward(title="Free tea", description="Any pot"),
        redemption=RedemptionMethod.SELF_REDEEM,
    )
    card, _ = StampCard.issue(program, serial="TEA-1", member_id="m-1", at=AT)
    options = GoogleOptions(
        issuer_id="3388000000022222222",
        origins=["https://shop.example.com"],
        logo_url="https://shop.example.com/logo.png",
    )
    return save_link(card, credentials=KEY, options=options, at=AT).url


VALID = _valid_link()
assert verify_save_link(VALID, key=KEY).ok


def _check(url: Any) -> LinkReport | None:
    start = time.process_time()
    try:
        report = verify_save_link(url, key=KEY)
    except WalletVoucherError:
        report = None  # a library error is allowed; anything else fails the test
    elapsed = time.process_time() - start
    assert elapsed < 1.0, f"{elapsed:.2f} s for an input of {len(url) if isinstance(url, str) else '?'}"
    if report is not None:
        for line in report.lines():
            assert line.isprintable() and line.encode("utf-8")
    return report


ANY_CHARACTER = st.characters(codec=None, exclude_categories=())  # surrogates and controls included


@BUDGET
@given(st.text(alphabet=ANY_CHARACTER, max_size=3000))
def test_arbitrary_text(text: str) -> None:
    report = _check(text)
    assert report is None or not report.ok


@BUDGET
@given(st.text(alphabet=ANY_CHARACTER, max_size=200))
def test_arbitrary_text_after_the_prefix(text: str) -> None:
    _check(SAVE_URL_PREFIX + text)


_MUTATION = st.tuples(
    st.sampled_from(["insert", "delete", "replace", "truncate", "swap", "duplicate"]),
    st.integers(min_value=0, max_value=len(VALID)),
    st.text(alphabet=ANY_CHARACTER, min_size=1, max_size=8),
)


def _mutate(url: str, mutation: tuple[str, int, str]) -> str:
    kind, at, text = mutation
    at = min(at, len(url))
    if kind == "insert":
        return url[:at] + text + url[at:]
    if kind == "delete":
        return url[:at] + url[at + len(text) :]
    if kind == "replace":
        return url[:at] + text + url[at + len(text) :]
    if kind == "truncate":
        return url[:at]
    head, _, token = url.partition(SAVE_URL_PREFIX)
    parts = token.split(".")
    if kind == "swap" and len(parts) == 3:
        parts[0], parts[1] = parts[1], parts[0]
    elif kind == "duplicate":
        parts = parts + parts[: 1 + at % 3]
    return head + SAVE_URL_PREFIX + ".".join(parts)


@BUDGET
@given(st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_valid_links(mutations: list[tuple[str, int, str]]) -> None:
    url = VALID
    for mutation in mutations:
        url = _mutate(url, mutation)
    report = _check(url)
    if url != VALID:
        assert report is None or not report.ok or url.rstrip("=") == VALID


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
JSON = st.recursive(
    _SCALARS | st.text(alphabet=ANY_CHARACTER),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signed(header: Any, claims: Any) -> str:
    """A correctly RS256-signed compact JWT around any JSON (PyJWT refuses to sign odd claims)."""
    head = _b64(json.dumps(header).encode("utf-8"))
    body = _b64(json.dumps(claims).encode("utf-8"))
    signature = KEY.private_key.sign(f"{head}.{body}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{SAVE_URL_PREFIX}{head}.{body}.{_b64(signature)}"


@BUDGET
@given(JSON, st.sampled_from(["payload", "claims", "header"]))
def test_signed_tokens_with_arbitrary_json(value: Any, where: str) -> None:
    claims: dict[str, Any] = {
        "iss": KEY.client_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": 1,
        "origins": ["https://a.example"],
        "payload": value,
    }
    if where == "claims":
        claims = value if isinstance(value, dict) else {"aud": "google", "iat": 1, "iss": value}
    header: Any = {"alg": "RS256", "kid": "fuzz-key", "typ": "JWT"}
    if where == "header":
        header = value
    _check(_signed(header, claims))
