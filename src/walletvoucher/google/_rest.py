"""A thin client for the Google Wallet REST API (``walletobjects/v1``).

Everything that talks to the network is swappable: the ``requests.Session``, the token
source (a service account by default, through google-auth) and the ``sleep`` used between
retries, so tests run against a loopback server with no waiting.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

import requests
from cryptography.hazmat.primitives import serialization
from google.auth import exceptions
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from walletvoucher.errors import (
    GoogleApiError,
    GoogleAuthError,
    GoogleBadRequest,
    GoogleConflict,
    GoogleNotFound,
    GoogleOptionsError,
    GoogleUnavailable,
)
from walletvoucher.google._credentials import ServiceAccountCredentials

__all__ = [
    "DEFAULT_BASE_URL",
    "WALLET_SCOPE",
    "Resource",
    "ServiceAccountTokenSource",
    "TokenSource",
    "WalletRestClient",
]

DEFAULT_BASE_URL = "https://walletobjects.googleapis.com/walletobjects/v1"
WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CONSOLE = "the Google Pay & Wallet Console (https://pay.google.com/business/console)"


class Resource(enum.Enum):
    """The Wallet API collections walletvoucher writes to."""

    LOYALTY_CLASS = "loyaltyClass"
    LOYALTY_OBJECT = "loyaltyObject"
    OFFER_CLASS = "offerClass"
    OFFER_OBJECT = "offerObject"


class TokenSource(Protocol):
    """Anything that hands out a current OAuth2 access token."""

    def token(self) -> str:
        """Return a valid access token, refreshing it if needed."""
        ...


class ServiceAccountTokenSource:
    """OAuth2 tokens for a service account, fetched with google-auth and cached until expiry.

    >>> # source = ServiceAccountTokenSource(load_service_account("key.json"))
    >>> # source.token()  -> 'ya29....' (fetched once, then reused until it nearly expires)
    """

    def __init__(
        self, credentials: ServiceAccountCredentials, *, session: requests.Session | None = None
    ) -> None:
        self._credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            _google_auth_info(credentials), scopes=[WALLET_SCOPE]
        )
        self._request = Request(session=session or requests.Session())
        self._email = credentials.client_email

    def __repr__(self) -> str:
        return f"ServiceAccountTokenSource(client_email={self._email!r})"

    def token(self) -> str:
        """Return the cached token, fetching a new one when there is none or it nearly expired."""
        if not self._credentials.valid:
            try:
                self._credentials.refresh(self._request)
            except exceptions.GoogleAuthError as exc:
                raise GoogleAuthError(
                    f"the token endpoint refused the service account ({type(exc).__name__})",
                    field="service_account",
                    value=self._email,
                    fix="check the key is still active in Google Cloud Console > IAM > Service accounts "
                    "and that its token_uri is right",
                ) from exc
        token: str = self._credentials.token
        return token


def _google_auth_info(credentials: ServiceAccountCredentials) -> dict[str, str]:
    pem = credentials.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "type": "service_account",
        "client_email": credentials.client_email,
        "private_key": pem.decode("ascii"),
        "private_key_id": credentials.private_key_id,
        "token_uri": credentials.token_uri,
    }


class WalletRestClient:
    """get / insert / patch / addMessage / upsert for loyalty and offer classes and objects.

    >>> # client = WalletRestClient.from_service_account(load_service_account("key.json"))
    >>> # client.upsert(Resource.LOYALTY_CLASS, loyalty_class(program, options))
    """

    def __init__(
        self,
        *,
        token_source: TokenSource,
        session: requests.Session | None = None,
        base_url: str = DEFAULT_BASE_URL,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        backoff: float = 0.5,
        timeout: float = 30.0,
    ) -> None:
        self._tokens = token_source
        self._session = session or requests.Session()
        self._base_url = base_url.rstrip("/")
        self._sleep = sleep
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._timeout = timeout

    @classmethod
    def from_service_account(
        cls, credentials: ServiceAccountCredentials, *, session: requests.Session | None = None, **kwargs: Any
    ) -> WalletRestClient:
        """A client whose tokens come from ``credentials`` (through the same session)."""
        session = session or requests.Session()
        source = ServiceAccountTokenSource(credentials, session=session)
        return cls(token_source=source, session=session, **kwargs)

    def __repr__(self) -> str:
        return f"WalletRestClient(base_url={self._base_url!r})"

    def get(self, resource: Resource, resource_id: str) -> dict[str, Any]:
        """Fetch a class or object by id; :class:`GoogleNotFound` if it does not exist."""
        return self._call("GET", f"{resource.value}/{_quote(resource_id)}", None, resource_id)

    def insert(self, resource: Resource, body: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a class or object; :class:`GoogleConflict` if the id exists."""
        return self._call("POST", resource.value, body, _body_id(body))

    def patch(
        self, resource: Resource, resource_id: str, body: Mapping[str, Any], *, notify: bool = False
    ) -> dict[str, Any]:
        """Patch the fields in ``body``; ``notify=True`` asks Google to tell the holder (stamps)."""
        if notify:
            body = {**body, "notifyPreference": "NOTIFY_ON_UPDATE"}
        return self._call("PATCH", f"{resource.value}/{_quote(resource_id)}", body, resource_id)

    def add_message(self, resource: Resource, resource_id: str, message: Mapping[str, Any]) -> dict[str, Any]:
        """Add a message (``{"header": ..., "body": ...}``) to a class or object."""
        path = f"{resource.value}/{_quote(resource_id)}/addMessage"
        return self._call("POST", path, {"message": dict(message)}, resource_id)

    def upsert(self, resource: Resource, body: Mapping[str, Any], *, notify: bool = False) -> dict[str, Any]:
        """Insert, or patch when the id already exists (409): safe to repeat."""
        try:
            return self.insert(resource, body)
        except GoogleConflict:
            return self.patch(resource, _body_id(body), body, notify=notify)

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
        url = f"{self._base_url}/{path}"
        for attempt in range(self._max_attempts):
            response = self._send(method, url, body, what)
            if response is not None and response.status_code < 400:
                return _json_body(response)
            retryable = response is None or response.status_code in _RETRY_STATUSES
            if not retryable or attempt == self._max_attempts - 1:
                break
            self._sleep(self._delay(attempt, response))
        raise _api_error(response, method, what, self._max_attempts)

    def _send(
        self, method: str, url: str, body: Mapping[str, Any] | None, what: str
    ) -> requests.Response | None:
        headers = {"Authorization": f"Bearer {self._tokens.token()}"}
        try:
            return self._session.request(method, url, json=body, headers=headers, timeout=self._timeout)
        except requests.ConnectionError:
            return None
        except requests.Timeout:
            return None

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after is not None and retry_after.isdigit():
            return float(retry_after)
        return float(self._backoff * (2**attempt))


def _quote(resource_id: str) -> str:
    return quote(resource_id, safe="")


def _body_id(body: Mapping[str, Any]) -> str:
    resource_id = body.get("id")
    if not isinstance(resource_id, str) or not resource_id:
        raise GoogleOptionsError(
            "is missing from the body",
            field="id",
            value=resource_id,
            fix="build the body with loyalty_class()/loyalty_object()/offer_class()/offer_object()",
        )
    return resource_id


def _json_body(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _google_error(response: requests.Response) -> tuple[str, str | None]:
    error = _json_body(response).get("error")
    if not isinstance(error, dict):
        return (response.text[:200] or response.reason or "no error body"), None
    details = error.get("errors")
    reason = details[0].get("reason") if isinstance(details, list) and details else None
    return str(error.get("message", "")), reason if isinstance(reason, str) else None


def _api_error(response: requests.Response | None, method: str, what: str, attempts: int) -> GoogleApiError:
    if response is None:
        return GoogleUnavailable(
            f"{method} could not reach the Wallet API after {attempts} attempts",
            field="id",
            value=what,
            fix="check the network (and base_url), then try again",
        )
    message, reason = _google_error(response)
    status = response.status_code
    cls, fix = _classify(status, message, reason)
    text = f"{method} failed with HTTP {status} ({reason or 'no reason'}): {message}"
    if status in _RETRY_STATUSES:
        text += f" after {attempts} attempts"
    return cls(text, status=status, reason=reason, field="id", value=what, fix=fix)


def _classify(status: int, message: str, reason: str | None) -> tuple[type[GoogleApiError], str]:
    lowered = message.lower()
    if status == 401:
        return GoogleAuthError, (
            "the access token was refused: make sure the service-account key is active and not rotated, "
            "and that tokens come from the right token_uri"
        )
    if "not allowed to save" in lowered or "test user" in lowered or "demo mode" in lowered:
        return GoogleAuthError, (
            f"the issuer is in demo mode: add the Google account as a test user in {_CONSOLE}, "
            "or request publishing access"
        )
    if status == 403:
        return GoogleAuthError, (
            f"add the service-account email as a user (Developer access) in {_CONSOLE} > Users, "
            "enable the Google Wallet API in the Cloud project, and check the id starts with your issuer id"
        )
    if status == 404:
        return GoogleNotFound, (
            "check the id starts with the Issuer ID from the Pay & Wallet Console (not the service "
            "account's client_id or the Cloud project number), and insert the class before its objects"
        )
    if status == 409:
        return GoogleConflict, "use upsert() or patch() for an id that already exists"
    if "approv" in lowered or "review" in lowered:
        return GoogleBadRequest, (
            "the class is not approved: set reviewStatus to UNDER_REVIEW (not DRAFT); until the issuer "
            f"has publishing access only test users in {_CONSOLE} can save passes"
        )
    if "class" in lowered and ("not found" in lowered or "does not exist" in lowered):
        return GoogleBadRequest, "insert the class (loyalty_class()/offer_class()) before its objects"
    if status in _RETRY_STATUSES:
        return GoogleUnavailable, "the API is overloaded or failing: try again later with a longer backoff"
    return GoogleBadRequest, (
        "the body does not match the walletobjects v1 schema: remove unknown fields, and build bodies "
        "with walletvoucher.google's builders"
    )


def dumps_for_log(body: Mapping[str, Any]) -> str:
    """Compact JSON of a request body, for logs (bodies hold no secrets)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
