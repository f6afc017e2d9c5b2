"""A thin client for the Google Wallet REST API (``walletobjects/v1``).

Everything that talks to the network is swappable: the ``requests.Session``, the token
source (a service account by default, through google-auth), the ``sleep`` used between
retries and the ``clock`` that HTTP-date ``Retry-After`` headers are counted against, so
tests run against a loopback server with no waiting.

Google's two ways of changing a resource (walletobjects v1 reference, ``patch``: "This method
supports patch semantics"; ``update``: the PUT that replaces the resource):

- :meth:`WalletRestClient.patch` changes only the fields it carries: a field the new state no
  longer has (the barcode of a redeemed voucher, the reward link of a card back to collecting)
  stays on the pass;
- :meth:`WalletRestClient.update` replaces the whole resource, and
  :meth:`WalletRestClient.replace` brings a resource to exactly the state given (update, or
  insert when it does not exist yet), keeping the messages added through ``addMessage``;
  :meth:`WalletRestClient.replace_class` does the same for a class, keeping the fields
  walletvoucher does not write (settings made in the Wallet console).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

import requests
from cryptography.hazmat.primitives import serialization
from google.auth import exceptions
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from walletvoucher.errors import (
    GoogleApiError,
    GoogleAuthError,
    GoogleConflict,
    GoogleNotFound,
    GoogleOptionsError,
)
from walletvoucher.google._credentials import ServiceAccountCredentials
from walletvoucher.google._resource import Resource
from walletvoucher.google._rest_errors import (
    RETRY_STATUSES,
    api_error,
    json_body,
    retry_after_seconds,
    transport_error,
    unreachable,
)
from walletvoucher.model import Event

__all__ = [
    "DEFAULT_BASE_URL",
    "NOTIFY_ON_UPDATE",
    "WALLET_SCOPE",
    "RefreshableTokenSource",
    "Resource",
    "ServiceAccountTokenSource",
    "TokenSource",
    "WalletRestClient",
    "message_id_for",
]

DEFAULT_BASE_URL = "https://walletobjects.googleapis.com/walletobjects/v1"
WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
NOTIFY_ON_UPDATE = "NOTIFY_ON_UPDATE"
"""``notifyPreference`` value asking Google to notify the holder of a field update. Google
allows 3 such notifications per pass per 24 hours; the caller decides (``notify=True``)."""


class TokenSource(Protocol):
    """Anything that hands out a current OAuth2 access token."""

    def token(self) -> str:
        """Return a valid access token, refreshing it if needed."""
        ...


@runtime_checkable
class RefreshableTokenSource(TokenSource, Protocol):
    """A token source that can drop its cached token (the API said 401: it expired early)."""

    def invalidate(self) -> None:
        """Forget the cached token so the next :meth:`token` fetches a new one."""
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

    def invalidate(self) -> None:
        """Forget the cached token (revoked or expired before its announced expiry)."""
        self._credentials.token = None

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
    """get / insert / patch / update / replace / replace_class / addMessage / upsert for classes and objects.

    Retries 429 and 5xx answers and lost connections with capped exponential backoff,
    honouring ``Retry-After`` in both forms (seconds or an HTTP-date, counted against
    ``clock``) up to ``max_delay`` seconds. A 401 drops the cached token and retries once with
    a new one. Every failure is a :class:`~walletvoucher.errors.GoogleApiError` (or, for a
    bad ``base_url`` or body, :class:`~walletvoucher.errors.GoogleOptionsError`) whose message
    never carries the access token.

    >>> # client = WalletRestClient.from_service_account(load_service_account("key.json"))
    >>> # client.upsert(Resource.LOYALTY_CLASS, loyalty_class(program, options))
    >>> # client.replace(Resource.LOYALTY_OBJECT, loyalty_object(card, options, at=now), notify=True)
    """

    def __init__(
        self,
        *,
        token_source: TokenSource,
        session: requests.Session | None = None,
        base_url: str = DEFAULT_BASE_URL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] | None = None,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_delay: float = 60.0,
        timeout: float = 30.0,
    ) -> None:
        self._tokens = token_source
        self._session = session or requests.Session()
        self._base_url = base_url.rstrip("/")
        self._sleep = sleep
        self._clock = clock or _utc_now
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._max_delay = max_delay
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
        return self._call("GET", _path(resource, resource_id), None, resource_id)

    def insert(self, resource: Resource, body: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a class or object; :class:`GoogleConflict` if the id exists."""
        return self._call("POST", resource.value, body, _body_id(body))

    def patch(
        self, resource: Resource, resource_id: str, body: Mapping[str, Any], *, notify: bool = False
    ) -> dict[str, Any]:
        """Change only the fields in ``body`` (Google's patch semantics: the rest stays as it was).

        ``notify=True`` sends ``notifyPreference: NOTIFY_ON_UPDATE`` (stamps): Google then
        notifies the holder, within its budget of 3 per pass per 24 hours.
        """
        return self._call("PATCH", _path(resource, resource_id), _notify(body, notify), resource_id)

    def update(
        self, resource: Resource, resource_id: str, body: Mapping[str, Any], *, notify: bool = False
    ) -> dict[str, Any]:
        """Replace the whole resource with ``body`` (PUT): fields ``body`` lacks are removed.

        Messages added with :meth:`add_message` are removed too unless ``body`` carries them;
        :meth:`replace` keeps them for you.
        """
        if _body_id(body) != resource_id:
            raise GoogleOptionsError(
                "does not match the id in the body",
                field="resource_id",
                value=resource_id,
                fix="pass the body's own id (update replaces that resource)",
            )
        return self._call("PUT", _path(resource, resource_id), _notify(body, notify), resource_id)

    def replace(
        self,
        resource: Resource,
        body: Mapping[str, Any],
        *,
        notify: bool | Callable[[], bool] = False,
        keep: Iterable[str] = ("messages",),
        drop_messages: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Bring a class or object to exactly ``body``: what the new state no longer has is removed.

        Reads the current resource, carries over the fields in ``keep`` that ``body`` does not
        set (by default the messages added with :meth:`add_message`), and updates (PUT); inserts
        when the resource does not exist yet. This is the call for a state change that drops
        fields: a redeemed voucher loses its barcode, a card back to collecting its reward link.

        ``notify`` may be a function, asked only when an existing resource is updated (an insert
        notifies nobody): e.g. one that takes a slot of the pass's notification budget.
        ``drop_messages``: ids of kept messages that no longer apply (a "reward ready" message
        once the reward is used), left out.
        """
        resource_id = _body_id(body)
        try:
            current = self.get(resource, resource_id)
        except GoogleNotFound:
            try:
                return self.insert(resource, body)
            except GoogleConflict:  # inserted meanwhile by someone else: replace that
                current = self.get(resource, resource_id)
        kept = {name: current[name] for name in keep if name in current and name not in body}
        dropped = frozenset(drop_messages)
        if dropped and isinstance(kept.get("messages"), list):
            left = [m for m in kept["messages"] if not (isinstance(m, dict) and m.get("id") in dropped)]
            kept = {k: v for k, v in kept.items() if k != "messages"} | ({"messages": left} if left else {})
        wanted = notify() if callable(notify) else notify
        return self.update(resource, resource_id, {**kept, **body}, notify=wanted)

    def replace_class(
        self, resource: Resource, body: Mapping[str, Any], *, owned: Iterable[str]
    ) -> dict[str, Any]:
        """Insert a class, or bring the existing one to ``body`` (PUT) when its id is taken (409).

        ``owned`` names the fields the caller writes (:data:`~walletvoucher.google.CLASS_FIELDS`):
        one of them that ``body`` lacks is removed, so a text a later program version dropped (a
        translation, the terms) leaves the pass, which a patch would keep. Every other field of the
        stored class (messages, settings made in the Wallet console) is carried over.
        """
        try:
            return self.insert(resource, body)
        except GoogleConflict:
            resource_id = _body_id(body)
        current = self.get(resource, resource_id)
        mine = frozenset(owned)
        kept = {name: value for name, value in current.items() if name not in mine and name not in body}
        return self.update(resource, resource_id, {**kept, **body})

    def add_message(
        self,
        resource: Resource,
        resource_id: str,
        message: Mapping[str, Any],
        *,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Add a message (``{"header": ..., "body": ...}``) to a class or object, once.

        Google does not make message ids unique (walletobjects v1, ``Message.id``: "ID values
        could possibly duplicate across multiple messages in the same class/instance"), so a
        retried ``addMessage`` whose first reply was lost would show the message twice. Given a
        ``message_id`` (derive it from the event: :func:`message_id_for`), the client first
        looks for that id on the resource, before the first attempt and before every retry,
        and adds nothing when it is already there.
        """
        path = f"{_path(resource, resource_id)}/addMessage"
        if message_id is None:
            return self._call("POST", path, {"message": dict(message)}, resource_id)
        body = {"message": {**message, "id": _check_message_id(message_id)}}

        def existing() -> dict[str, Any] | None:
            current = self.get(resource, resource_id)
            return {"resource": current} if _has_message(current, message_id) else None

        return existing() or self._call("POST", path, body, resource_id, before_retry=existing)

    def upsert(self, resource: Resource, body: Mapping[str, Any], *, notify: bool = False) -> dict[str, Any]:
        """Insert, or patch when the id already exists (409): safe to repeat.

        A patch keeps fields ``body`` does not carry; use :meth:`replace` when the new state
        must drop some.
        """
        try:
            return self.insert(resource, body)
        except GoogleConflict:
            return self.patch(resource, _body_id(body), body, notify=notify)

    # --- the request loop --------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        what: str,
        *,
        before_retry: Callable[[], dict[str, Any] | None] | None = None,
    ) -> dict[str, Any]:
        url = f"{self._base_url}/{path}"
        refreshed = False
        attempt = 0
        while True:
            token = self._tokens.token()
            outcome = self._send(method, url, body, what, token)
            if isinstance(outcome, requests.Response) and outcome.status_code < 400:
                return json_body(outcome)
            if _is_401(outcome) and not refreshed and isinstance(self._tokens, RefreshableTokenSource):
                refreshed = True  # expired before its time: one new token, one more try
                self._tokens.invalidate()
                continue
            attempt += 1
            if not _retryable(outcome) or attempt >= self._max_attempts:
                raise self._failure(outcome, method, what, token, attempt)
            self._sleep(self._delay(attempt - 1, outcome))
            if before_retry is not None:
                done = before_retry()
                if done is not None:
                    return done

    def _send(
        self, method: str, url: str, body: Mapping[str, Any] | None, what: str, token: str
    ) -> requests.Response | str:
        """The response, or the name of the transient failure (connection, timeout)."""
        headers = {"Authorization": f"Bearer {token}"}
        try:
            return self._session.request(method, url, json=body, headers=headers, timeout=self._timeout)
        except requests.RequestException as exc:
            error = transport_error(exc, method, what)
            if error is not None:
                raise error from None  # from None: requests' exceptions carry the request headers
            return type(exc).__name__

    def _delay(self, attempt: int, outcome: requests.Response | str) -> float:
        header = outcome.headers.get("Retry-After") if isinstance(outcome, requests.Response) else None
        wait = retry_after_seconds(header, self._now()) if header is not None else None
        if wait is None:
            wait = self._backoff * (2**attempt)
        return float(min(wait, self._max_delay))

    def _now(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise GoogleOptionsError(
                "must return a timezone-aware datetime",
                field="clock",
                value=now,
                fix="pass clock=lambda: datetime.now(timezone.utc) (or leave it unset)",
            )
        return now

    def _failure(
        self, outcome: requests.Response | str, method: str, what: str, token: str, attempts: int
    ) -> GoogleApiError:
        if isinstance(outcome, str):
            return unreachable(method, what, attempts, outcome)
        return api_error(outcome, method, what, attempts, secrets=(token,), retry_after=self._asked(outcome))

    def _asked(self, response: requests.Response) -> float | None:
        """The wait a ``Retry-After`` header asked for (either form), as given: the caller caps it."""
        header = response.headers.get("Retry-After")
        return retry_after_seconds(header, self._now()) if header is not None else None


def message_id_for(event: Event, *, sequence: int | None = None) -> str:
    """A message id derived from the event that caused the message: the same event, the same id.

    ``sequence`` (the event's position in the card's log) tells apart two events that are
    otherwise equal. Pass the result as ``add_message(..., message_id=...)``.

    >>> from datetime import datetime, timezone
    >>> from walletvoucher.model import EventType
    >>> e = Event(type=EventType.VOUCHER_ISSUED, at=datetime(2026, 5, 7, tzinfo=timezone.utc),
    ...           card_serial="C1", data={"voucher": "C1-1"})
    >>> message_id_for(e) == message_id_for(e), message_id_for(e)[:3]
    (True, 'wv-')
    """
    canonical = json.dumps({"event": event.to_json(), "sequence": sequence}, sort_keys=True)
    return "wv-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _path(resource: Resource, resource_id: str) -> str:
    return f"{resource.value}/{quote(resource_id, safe='')}"


def _notify(body: Mapping[str, Any], notify: bool) -> Mapping[str, Any]:
    return {**body, "notifyPreference": NOTIFY_ON_UPDATE} if notify else body


def _is_401(outcome: requests.Response | str) -> bool:
    return isinstance(outcome, requests.Response) and outcome.status_code == 401


def _retryable(outcome: requests.Response | str) -> bool:
    return isinstance(outcome, str) or outcome.status_code in RETRY_STATUSES


def _has_message(resource: Mapping[str, Any], message_id: str) -> bool:
    messages = resource.get("messages")
    return isinstance(messages, list) and any(
        isinstance(m, dict) and m.get("id") == message_id for m in messages
    )


def _check_message_id(message_id: str) -> str:
    if not isinstance(message_id, str) or not message_id or len(message_id) > 200:
        raise GoogleOptionsError(
            "must be a non-empty string of at most 200 characters",
            field="message_id",
            value=message_id,
            fix="derive it from the event with message_id_for(event)",
        )
    return message_id


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


def dumps_for_log(body: Mapping[str, Any]) -> str:
    """Compact JSON of a request body, for logs (bodies hold no secrets)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
