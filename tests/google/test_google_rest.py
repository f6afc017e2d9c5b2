"""The REST client against the loopback fake API: tokens, upsert, patch, addMessage, retries,
and Google's errors turned into exceptions that say what to fix."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.google.conftest import AT, ISSUER, make_card, make_program
from tests.google.fake_wallet_api import FakeWalletApi
from walletvoucher.errors import (
    GoogleAuthError,
    GoogleBadRequest,
    GoogleConflict,
    GoogleNotFound,
    GoogleUnavailable,
)
from walletvoucher.google import (
    GoogleOptions,
    Resource,
    ServiceAccountCredentials,
    WalletRestClient,
    loyalty_class,
    loyalty_object,
)

CLASS_ID = f"{ISSUER}.coffee"
OBJECT_ID = f"{ISSUER}.coffee.card.card-0001"


def _class(options: GoogleOptions) -> dict[str, Any]:
    return loyalty_class(make_program(), options)


def _object(options: GoogleOptions, stamps: int = 3) -> dict[str, Any]:
    return loyalty_object(make_card(make_program(), stamps=stamps), options, at=AT)


class StaticToken:
    def __init__(self, token: str) -> None:
        self.value = token

    def token(self) -> str:
        return self.value


def test_insert_then_get_round_trips(rest: WalletRestClient, options: GoogleOptions) -> None:
    inserted = rest.insert(Resource.LOYALTY_CLASS, _class(options))
    assert inserted["id"] == CLASS_ID
    assert rest.get(Resource.LOYALTY_CLASS, CLASS_ID)["programName"] == "Coffee card"


def test_access_token_is_fetched_once_and_reused(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi
) -> None:
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    rest.get(Resource.LOYALTY_CLASS, CLASS_ID)
    rest.get(Resource.LOYALTY_CLASS, CLASS_ID)
    assert fake_api.token_requests == 1


def test_short_lived_tokens_are_refreshed(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi
) -> None:
    fake_api.expires_in = 30  # inside google-auth's refresh margin: expired at once
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    rest.get(Resource.LOYALTY_CLASS, CLASS_ID)
    assert fake_api.token_requests == 2


def test_upsert_inserts_then_patches_on_conflict(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi
) -> None:
    rest.upsert(Resource.LOYALTY_CLASS, _class(options))
    rest.upsert(Resource.LOYALTY_OBJECT, _object(options, stamps=3))
    rest.upsert(Resource.LOYALTY_OBJECT, _object(options, stamps=4), notify=True)
    stored = fake_api.store["loyaltyObject"][OBJECT_ID]
    assert stored["loyaltyPoints"]["balance"]["string"] == "4/10"
    methods = [(m, p.rsplit("/", 1)[-1]) for m, p, _ in fake_api.requests]
    assert methods[-2:] == [("POST", "loyaltyObject"), ("PATCH", OBJECT_ID)]
    assert fake_api.requests[-1][2]["notifyPreference"] == "NOTIFY_ON_UPDATE"


def test_stamp_change_is_a_patch_with_notify(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi
) -> None:
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    rest.insert(Resource.LOYALTY_OBJECT, _object(options))
    change = {"loyaltyPoints": _object(options, stamps=8)["loyaltyPoints"]}
    result = rest.patch(Resource.LOYALTY_OBJECT, OBJECT_ID, change, notify=True)
    assert result["loyaltyPoints"]["balance"]["string"] == "8/10"
    method, _, body = fake_api.requests[-1]
    assert method == "PATCH" and body["notifyPreference"] == "NOTIFY_ON_UPDATE"


def test_add_message(rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi) -> None:
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    rest.add_message(Resource.LOYALTY_CLASS, CLASS_ID, {"header": "Double stamps", "body": "All weekend"})
    assert fake_api.store["loyaltyClass"][CLASS_ID]["messages"][0]["header"] == "Double stamps"


def test_duplicate_insert_is_a_conflict(rest: WalletRestClient, options: GoogleOptions) -> None:
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    with pytest.raises(GoogleConflict, match="upsert"):
        rest.insert(Resource.LOYALTY_CLASS, _class(options))


def test_missing_object_names_issuer_id_and_class_order(rest: WalletRestClient) -> None:
    with pytest.raises(GoogleNotFound) as caught:
        rest.get(Resource.LOYALTY_OBJECT, OBJECT_ID)
    assert caught.value.status == 404
    assert "Issuer ID" in str(caught.value) and "client_id" in str(caught.value)


def test_object_without_class_is_refused_with_the_fix(rest: WalletRestClient, options: GoogleOptions) -> None:
    with pytest.raises(GoogleBadRequest, match="insert the class"):
        rest.insert(Resource.LOYALTY_OBJECT, _object(options))


def test_unknown_field_is_refused(rest: WalletRestClient, options: GoogleOptions) -> None:
    body = {**_class(options), "backgroundColour": "#000000"}
    with pytest.raises(GoogleBadRequest, match="unknown field"):
        rest.insert(Resource.LOYALTY_CLASS, body)


def test_draft_class_is_not_approved_for_objects(rest: WalletRestClient, options: GoogleOptions) -> None:
    rest.insert(Resource.LOYALTY_CLASS, {**_class(options), "reviewStatus": "DRAFT"})
    with pytest.raises(GoogleBadRequest, match="UNDER_REVIEW"):
        rest.insert(Resource.LOYALTY_OBJECT, _object(options))


def test_id_outside_the_issuer_is_permission_denied(rest: WalletRestClient, options: GoogleOptions) -> None:
    body = {**_class(options), "id": "1234567890.coffee"}
    with pytest.raises(GoogleAuthError) as caught:
        rest.insert(Resource.LOYALTY_CLASS, body)
    assert caught.value.reason == "permissionDenied"
    assert "Users" in str(caught.value)


def test_wrong_bearer_token_is_an_auth_error_without_the_token(
    fake_api: FakeWalletApi, options: GoogleOptions
) -> None:
    client = WalletRestClient(token_source=StaticToken("ya29.stolen-secret"), base_url=fake_api.base_url)
    with pytest.raises(GoogleAuthError) as caught:
        client.insert(Resource.LOYALTY_CLASS, _class(options))
    assert caught.value.status == 401
    assert "stolen-secret" not in str(caught.value)
    assert "stolen-secret" not in repr(client)


def test_token_endpoint_refusal_is_an_auth_error(
    fake_api: FakeWalletApi, credentials: ServiceAccountCredentials, options: GoogleOptions
) -> None:
    bad = credentials.with_token_uri(fake_api.root + "/not-the-token-endpoint")
    client = WalletRestClient.from_service_account(bad, base_url=fake_api.base_url)
    with pytest.raises(GoogleAuthError, match="token endpoint"):
        client.get(Resource.LOYALTY_CLASS, CLASS_ID)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retries_with_backoff_then_succeeds(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi, sleeps: list[float], status: int
) -> None:
    fake_api.fail_next(status, status)
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    assert sleeps == [0.5, 1.0]
    assert CLASS_ID in fake_api.store["loyaltyClass"]


def test_retry_after_header_is_honoured(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi, sleeps: list[float]
) -> None:
    fake_api.fail_next(429, retry_after="7")
    rest.insert(Resource.LOYALTY_CLASS, _class(options))
    assert sleeps == [7.0]


def test_gives_up_after_max_attempts(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi, sleeps: list[float]
) -> None:
    fake_api.fail_next(503, 503, 503, 503, 503)
    with pytest.raises(GoogleUnavailable, match="after 5 attempts") as caught:
        rest.insert(Resource.LOYALTY_CLASS, _class(options))
    assert caught.value.status == 503
    assert sleeps == [0.5, 1.0, 2.0, 4.0]


def test_client_errors_are_not_retried(
    rest: WalletRestClient, options: GoogleOptions, fake_api: FakeWalletApi, sleeps: list[float]
) -> None:
    with pytest.raises(GoogleNotFound):
        rest.get(Resource.OFFER_CLASS, f"{ISSUER}.nothing")
    assert sleeps == []


def test_unreachable_server_is_unavailable_after_retries(options: GoogleOptions, sleeps: list[float]) -> None:
    client = WalletRestClient(
        token_source=StaticToken("t"),
        base_url="http://127.0.0.1:9/walletobjects/v1",
        sleep=sleeps.append,
        max_attempts=2,
        timeout=2,
    )
    with pytest.raises(GoogleUnavailable, match="could not reach"):
        client.get(Resource.LOYALTY_CLASS, CLASS_ID)
    assert len(sleeps) == 1


def test_session_is_injectable(
    fake_api: FakeWalletApi, credentials: ServiceAccountCredentials, options: GoogleOptions
) -> None:
    class CountingSession(requests.Session):
        calls = 0

        def request(self, *args: Any, **kwargs: Any) -> requests.Response:
            CountingSession.calls += 1
            return super().request(*args, **kwargs)

    client = WalletRestClient.from_service_account(
        credentials.with_token_uri(fake_api.token_uri), session=CountingSession(), base_url=fake_api.base_url
    )
    client.insert(Resource.LOYALTY_CLASS, _class(options))
    assert CountingSession.calls == 2  # the token request and the insert


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("User not allowed to save the pass.", "test user"),
        ("Service account email address did not have edit access on the issuer.", "Users"),
        ("Class is not approved.", "UNDER_REVIEW"),
    ],
)
def test_google_messages_become_fixes(message: str, expected: str) -> None:
    from walletvoucher.google._rest_errors import classify

    status = 403 if "Service account" in message or "not allowed" in message else 400
    _, fix = classify(status, message, None)
    assert expected in fix
