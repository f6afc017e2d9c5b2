"""The REST client when things go wrong: Retry-After in both forms and capped, a token that
expired early, every requests failure a library error, and no credential in any message."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from tests.google.conftest import AT, ISSUER, make_program
from tests.google.fake_wallet_api import FakeWalletApi
from walletvoucher.errors import (
    GoogleAuthError,
    GoogleBadRequest,
    GoogleOptionsError,
    GoogleUnavailable,
    WalletVoucherError,
)
from walletvoucher.google import (
    GoogleOptions,
    Resource,
    ServiceAccountCredentials,
    WalletRestClient,
    loyalty_class,
)

CLASS_ID = f"{ISSUER}.coffee"
SECRET = "ya29.a0AfH6SMBx-very-secret-token"


def _class(options: GoogleOptions) -> dict[str, Any]:
    return loyalty_class(make_program(), options)


def _client(fake_api: FakeWalletApi, credentials: ServiceAccountCredentials, sleeps: list[float],
            **kwargs: Any) -> WalletRestClient:
    return WalletRestClient.from_service_account(
        credentials.with_token_uri(fake_api.token_uri), base_url=fake_api.base_url, sleep=sleeps.append,
        clock=lambda: AT, **kwargs,
    )


# --- Retry-After ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (format_datetime(AT + timedelta(seconds=12), usegmt=True), 12.0),  # HTTP-date, against the clock
        ("Thu, 07 May 2026 10:30:45 GMT", 45.0),
        (format_datetime(AT - timedelta(minutes=5), usegmt=True), 0.0),  # already past: no wait
        ("86400", 60.0),  # capped at max_delay
        (format_datetime(AT + timedelta(days=3), usegmt=True), 60.0),
        ("soon", 0.5),  # unreadable: the normal backoff
        ("-3", 0.5),
        ("１２", 0.5),  # full-width digits are not delta-seconds
    ],
)
def test_retry_after_in_both_forms_is_honoured_and_capped(
    fake_api: FakeWalletApi, credentials: ServiceAccountCredentials, options: GoogleOptions,
    header: str, expected: float,
) -> None:
    sleeps: list[float] = []
    client = _client(fake_api, credentials, sleeps)
    fake_api.fail_next(503, retry_after=header)
    client.insert(Resource.LOYALTY_CLASS, _class(options))
    assert sleeps == [expected]


def test_a_clock_without_time_zone_is_a_library_error(
    fake_api: FakeWalletApi, credentials: ServiceAccountCredentials, options: GoogleOptions
) -> None:
    client = WalletRestClient.from_service_account(
        credentials.with_token_uri(fake_api.token_uri), base_url=fake_api.base_url, sleep=lambda _: None,
        clock=lambda: AT.replace(tzinfo=None),
    )
    fake_api.fail_next(503, retry_after="Thu, 07 May 2026 10:30:45 GMT")
    with pytest.raises(GoogleOptionsError, match="clock"):
        client.insert(Resource.LOYALTY_CLASS, _class(options))


def test_backoff_is_capped_too(
    fake_api: FakeWalletApi, credentials: ServiceAccountCredentials, options: GoogleOptions
) -> None:
    sleeps: list[float] = []
    client = _client(fake_api, credentials, sleeps, max_attempts=6, backoff=10.0, max_delay=25.0)
    fake_api.fail_next(500, 500, 500, 500)
    client.insert(Resource.LOYALTY_CLASS, _class(options))
    assert sleeps == [10.0, 20.0, 25.0, 25.0]


# --- tokens that expire early -------------------------------------------------------------------


def test_expired_token_is_refreshed_once_on_401_and_the_request_retried(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi, sleeps: list[float]
) -> None:
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    fake_api.expire_tokens()  # the cached token is still "valid" for the client
    assert rest.get(Resource.LOYALTY_CLASS, CLASS_ID)["id"] == CLASS_ID
    assert fake_api.token_requests == 2
    assert sleeps == []
    assert [m for m, _, _ in fake_api.requests] == ["POST", "GET", "GET"]


class RefusedToken:
    """A refreshable source whose tokens the API never accepts."""

    def __init__(self) -> None:
        self.invalidated = 0

    def token(self) -> str:
        return f"{SECRET}-{self.invalidated}"

    def invalidate(self) -> None:
        self.invalidated += 1


def test_a_401_after_the_refresh_is_an_auth_error(fake_api: FakeWalletApi, sleeps: list[float]) -> None:
    source = RefusedToken()
    client = WalletRestClient(token_source=source, base_url=fake_api.base_url, sleep=sleeps.append)
    with pytest.raises(GoogleAuthError) as caught:
        client.get(Resource.LOYALTY_CLASS, CLASS_ID)
    assert caught.value.status == 401
    assert source.invalidated == 1 and len(fake_api.requests) == 2 and sleeps == []
    assert SECRET not in str(caught.value)


# --- requests errors -------------------------------------------------------------------------------


class StaticToken:
    def __init__(self, token: str = SECRET) -> None:
        self.value = token

    def token(self) -> str:
        return self.value


class RaisingSession(requests.Session):
    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc
        self.calls = 0

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls += 1
        headers = kwargs.get("headers") or {}
        raise type(self.exc)(f"{self.exc} while sending {headers}")


@pytest.mark.parametrize(
    ("exc", "expected", "retried"),
    [
        (requests.ConnectionError("refused"), GoogleUnavailable, True),
        (requests.Timeout("slow"), GoogleUnavailable, True),
        (requests.exceptions.ChunkedEncodingError("cut"), GoogleUnavailable, True),
        (requests.exceptions.ContentDecodingError("gzip"), GoogleUnavailable, True),
        (requests.exceptions.SSLError("bad cert"), GoogleUnavailable, False),
        (requests.exceptions.InvalidURL("bad url"), GoogleOptionsError, False),
        (requests.exceptions.MissingSchema("no scheme"), GoogleOptionsError, False),
        (requests.exceptions.InvalidSchema("ftp"), GoogleOptionsError, False),
        (requests.exceptions.InvalidHeader("header value"), GoogleAuthError, False),
        (requests.exceptions.InvalidJSONError("NaN"), GoogleOptionsError, False),
        (requests.TooManyRedirects("loop"), GoogleUnavailable, False),
        (requests.RequestException("other"), GoogleUnavailable, False),
    ],
)
def test_every_requests_error_becomes_a_library_error_without_the_token(
    exc: Exception, expected: type[WalletVoucherError], retried: bool
) -> None:
    session = RaisingSession(exc)
    sleeps: list[float] = []
    client = WalletRestClient(
        token_source=StaticToken(), session=session, sleep=sleeps.append, max_attempts=3
    )
    with pytest.raises(expected) as caught:
        client.get(Resource.LOYALTY_CLASS, CLASS_ID)
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None or SECRET not in str(caught.value.__cause__)
    assert session.calls == (3 if retried else 1)
    assert len(sleeps) == (2 if retried else 0)


def test_plain_http_server_spoken_to_over_tls_is_an_ssl_error_not_retried(
    fake_api: FakeWalletApi, sleeps: list[float]
) -> None:
    base = fake_api.base_url.replace("http://", "https://")
    client = WalletRestClient(token_source=StaticToken(), base_url=base, sleep=sleeps.append)
    with pytest.raises(GoogleUnavailable, match="TLS") as caught:
        client.get(Resource.LOYALTY_CLASS, CLASS_ID)
    assert sleeps == [] and SECRET not in str(caught.value)


@pytest.mark.parametrize("base_url", ["walletobjects.googleapis.com/walletobjects/v1", "ftp://127.0.0.1/x"])
def test_unusable_base_url_names_the_field(base_url: str) -> None:
    client = WalletRestClient(token_source=StaticToken(), base_url=base_url, sleep=lambda _: None)
    with pytest.raises(GoogleOptionsError, match="base_url"):
        client.get(Resource.LOYALTY_CLASS, CLASS_ID)


def test_token_with_a_newline_is_refused_without_echoing_it(fake_api: FakeWalletApi) -> None:
    client = WalletRestClient(token_source=StaticToken(SECRET + "\r\nX-Evil: 1"), base_url=fake_api.base_url)
    with pytest.raises(GoogleAuthError, match="header value") as caught:
        client.get(Resource.LOYALTY_CLASS, CLASS_ID)
    assert SECRET not in str(caught.value) and fake_api.requests == []


def test_body_that_is_not_json_names_the_body(fake_api: FakeWalletApi) -> None:
    client = WalletRestClient(token_source=StaticToken(), base_url=fake_api.base_url)
    with pytest.raises(GoogleOptionsError, match="body"):
        client.insert(Resource.LOYALTY_CLASS, {"id": CLASS_ID, "hexBackgroundColor": float("nan")})


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/walletobjects/v1"


def test_read_timeout_is_retried_then_unavailable(silent_server: str, sleeps: list[float]) -> None:
    client = WalletRestClient(token_source=StaticToken(), base_url=silent_server, sleep=sleeps.append,
                              max_attempts=2, timeout=0.2)
    with pytest.raises(GoogleUnavailable, match="after 2 attempts") as caught:
        client.get(Resource.LOYALTY_CLASS, CLASS_ID)
    assert "Timeout" in str(caught.value) and len(sleeps) == 1


# --- no credential in any message ----------------------------------------------------------------


def _token_of(fake_api: FakeWalletApi) -> str:
    (token,) = fake_api.tokens
    return token


@pytest.mark.parametrize(
    "body",
    [
        "echo: Authorization: {auth}",
        '{"error": {"code": 400, "message": "token {auth} refused", "errors": [{"reason": "{auth}"}]}}',
        '{"error": {"code": 400, "message": "see access_token={auth}"}}',
        "<html>proxy error for {auth} and eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln</html>",
    ],
)
@pytest.mark.parametrize("status", [400, 503])
def test_error_messages_never_echo_the_token(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi, body: str, status: int
) -> None:
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    token = _token_of(fake_api)
    fake_api.fail_next(*[status] * 5, body=body)
    with pytest.raises((GoogleBadRequest, GoogleUnavailable)) as caught:
        rest.get(Resource.LOYALTY_CLASS, CLASS_ID)
    text = str(caught.value) + repr(caught.value) + str(caught.value.reason)
    assert token not in text and token.removeprefix("ya29.fake-") not in text  # the random part
    assert "eyJzdWIiOiJ4In0" not in text
    assert "<redacted>" in text
    assert caught.value.status == status


@pytest.mark.parametrize(
    "body",
    [
        '{"error": {"message": "odd", "errors": ["not an object"]}}',
        '{"error": {"message": "odd", "errors": [{"reason": 7}]}}',
        '{"error": "just a string"}',
        "[" * 100_000,
        "\x1b[31mred\x1b[0m \ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        "x" * 1_000_000,
    ],
)
def test_odd_error_bodies_still_give_a_bounded_library_error(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi, body: str
) -> None:
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    fake_api.fail_next(400, body=body)
    with pytest.raises(GoogleBadRequest) as caught:
        rest.get(Resource.LOYALTY_CLASS, CLASS_ID)
    assert len(str(caught.value)) < 1500
    assert "\x1b" not in str(caught.value)
