"""A loopback stand-in for the Google Wallet REST API and Google's OAuth2 token endpoint.

Started by the tests themselves (``ThreadingHTTPServer`` on 127.0.0.1, port 0). It rejects
what the real API rejects: unknown fields (bodies are checked against the discovery
document), an object whose class does not exist or is a draft, ids outside the issuer, a
wrong or expired bearer token, a duplicate insert. ``fail_next`` scripts 429/5xx answers to
exercise retries; ``drop_replies`` performs a request and then hangs up without answering
(the reply lost on the way back); ``expire_tokens`` makes the issued tokens stale.

Google's semantics, as the walletobjects v1 reference gives them:

- ``PATCH`` ("supports patch semantics", Google's JSON API convention): the fields in the body
  are merged in, objects recursively, lists replaced whole, a ``null`` deletes the field;
  every field the body does not mention stays as it was.
- ``PUT`` (``update``): the body replaces the whole resource.
- ``notifyPreference`` is "ephemeral and needs to be set with each PATCH or UPDATE request":
  recorded in ``notifications``, never stored.
- ``addMessage`` appends: ``Message.id`` "could possibly duplicate across multiple messages in
  the same class/instance", so a second message with the same id is stored a second time. A
  message of ``messageType`` ``TEXT_AND_NOTIFY`` notifies the holder ("You may send a maximum of 3
  messages that trigger a push notification in a 24 hour period", Google Wallet's "Trigger Push
  Notifications" guide): recorded in ``notifications`` as ``("addMessage", object id)``.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.google.discovery import schema_errors

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
SCHEMAS = {
    "loyaltyClass": "LoyaltyClass",
    "loyaltyObject": "LoyaltyObject",
    "offerClass": "OfferClass",
    "offerObject": "OfferObject",
}
CLASS_OF = {"loyaltyObject": "loyaltyClass", "offerObject": "offerClass"}


class FakeWalletApi:
    """The state and behaviour of the fake API; ``base_url`` and ``token_uri`` point at it."""

    def __init__(self, *, issuer_id: str, public_key: rsa.RSAPublicKey, expires_in: int = 3600) -> None:
        self.issuer_id = issuer_id
        self.public_key = public_key
        self.expires_in = expires_in
        self.store: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in SCHEMAS}
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.requests: list[tuple[str, str, Any]] = []
        self.failures: deque[tuple[int, dict[str, str], str | None]] = deque()
        self.notifications: list[tuple[str, str]] = []
        self.drop_replies = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        host, port = self.server.server_address[:2]
        self.root = f"http://{host!s}:{port}"
        self.base_url = f"{self.root}/walletobjects/v1"
        self.token_uri = f"{self.root}/token"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> FakeWalletApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def fail_next(self, *statuses: int, retry_after: str | None = None, body: str | None = None) -> None:
        """Answer the next API requests with these statuses (before normal handling).

        ``body`` replaces Google's JSON error with this raw text; ``{auth}`` in it is replaced by
        the request's Authorization header (a server that echoes credentials).
        """
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures.extend((status, headers, body) for status in statuses)

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (expired before the client expected)."""
        self.tokens.clear()

    # --- token endpoint ---------------------------------------------------------------------

    def token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        self.token_requests += 1
        if form.get("grant_type") != [JWT_BEARER] or "assertion" not in form:
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(
                form["assertion"][0],
                self.public_key,
                algorithms=["RS256"],
                audience=[self.token_uri, GOOGLE_TOKEN_AUDIENCE],
            )
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        if WALLET_SCOPE not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope"}
        token = "ya29.fake-" + secrets.token_urlsafe(16)
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}

    # --- API ---------------------------------------------------------------------------------

    def api(
        self, method: str, path: str, auth: str | None, body: Any
    ) -> tuple[int, dict[str, Any] | str, dict[str, str]]:
        self.requests.append((method, path, body))
        if auth is None or not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return *error(401, "Request had invalid authentication credentials.", "authError"), {}
        if self.failures:
            status, headers, raw = self.failures.popleft()
            if raw is not None:
                return status, raw.replace("{auth}", auth), headers
            return *error(
                status, "Scripted failure.", "backendError" if status >= 500 else "rateLimitExceeded"
            ), headers
        parts = [unquote(p) for p in path.split("/")[3:]]  # after /walletobjects/v1/
        if not parts or parts[0] not in SCHEMAS:
            return *error(404, f"Unknown collection {path}.", "notFound"), {}
        with self.lock:
            return (*self._dispatch(method, parts, body), {})

    def _dispatch(self, method: str, parts: list[str], body: Any) -> tuple[int, dict[str, Any]]:
        collection = parts[0]
        if method == "POST" and len(parts) == 1:
            return self._insert(collection, body)
        if len(parts) < 2:
            return error(405, "Method not allowed.", "badRequest")
        found = self.store[collection].get(parts[1])
        if found is None:
            return error(404, f"Resource not found: {parts[1]}.", "resourceNotFound")
        if method == "GET" and len(parts) == 2:
            return 200, found
        if method == "PATCH" and len(parts) == 2:
            return self._patch(collection, found, body)
        if method == "PUT" and len(parts) == 2:
            return self._update(collection, found, body)
        if method == "POST" and parts[2:] == ["addMessage"]:
            return self._add_message(found, body)
        return error(405, "Method not allowed.", "badRequest")

    def _invalid(self, collection: str, body: Any) -> tuple[int, dict[str, Any]] | None:
        problems = schema_errors(body, SCHEMAS[collection])
        if problems:
            return error(400, "Invalid JSON payload received. " + "; ".join(problems), "invalid")
        return None

    def _insert(self, collection: str, body: Any) -> tuple[int, dict[str, Any]]:
        rejected = self._invalid(collection, body)
        if rejected is not None:
            return rejected
        resource_id = body.get("id", "")
        if not resource_id.startswith(self.issuer_id + "."):
            return error(403, "Permission denied.", "permissionDenied")
        if resource_id in self.store[collection]:
            return error(409, f"Resource already exists: {resource_id}.", "duplicate")
        if collection in CLASS_OF:
            class_id = body.get("classId")
            if class_id not in self.store[CLASS_OF[collection]]:
                return error(400, f"Class {class_id} does not exist.", "invalidResource")
            if self.store[CLASS_OF[collection]][class_id].get("reviewStatus") in ("DRAFT", "draft"):
                return error(400, f"Class {class_id} is in draft and not approved for objects.", "invalid")
        elif body.get("reviewStatus") not in ("DRAFT", "UNDER_REVIEW", "draft", "underReview"):
            return error(400, "reviewStatus must be DRAFT or UNDER_REVIEW on insert.", "invalid")
        stored = {**body}
        stored.pop("notifyPreference", None)
        self.store[collection][resource_id] = stored
        return 200, stored

    def _patch(self, collection: str, found: dict[str, Any], body: Any) -> tuple[int, dict[str, Any]]:
        rejected = self._invalid(collection, _without_nulls(body))
        if rejected is not None:
            return rejected
        if "id" in body and body["id"] != found["id"]:
            return error(400, "The id in the body does not match the URL.", "invalid")
        self._note_notify(collection, found["id"], body)
        merge(found, {k: v for k, v in body.items() if k != "notifyPreference"})
        return 200, found

    def _update(self, collection: str, found: dict[str, Any], body: Any) -> tuple[int, dict[str, Any]]:
        rejected = self._invalid(collection, body)
        if rejected is not None:
            return rejected
        if body.get("id") != found["id"]:
            return error(400, "The id in the body does not match the URL.", "invalid")
        self._note_notify(collection, found["id"], body)
        replaced = {k: v for k, v in body.items() if k != "notifyPreference"}
        self.store[collection][found["id"]] = replaced
        return 200, replaced

    def _note_notify(self, collection: str, resource_id: str, body: dict[str, Any]) -> None:
        if body.get("notifyPreference") == "NOTIFY_ON_UPDATE":
            self.notifications.append((collection, resource_id))

    def _add_message(self, found: dict[str, Any], body: Any) -> tuple[int, dict[str, Any]]:
        problems = schema_errors(body, "AddMessageRequest")
        if problems or "message" not in body:
            return error(400, "Invalid JSON payload received. " + "; ".join(problems), "invalid")
        found.setdefault("messages", []).append(body["message"])
        if body["message"].get("messageType") == "TEXT_AND_NOTIFY":
            self.notifications.append(("addMessage", found["id"]))
        return 200, {"resource": found}


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Google's patch semantics: objects merged recursively, lists and values replaced, null deletes."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def error(status: int, message: str, reason: str) -> tuple[int, dict[str, Any]]:
    """A Google-style error body."""
    return status, {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "walletobjects", "reason": reason}],
        }
    }


def _handler(api: FakeWalletApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _read(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(
            self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
        ) -> None:
            raw = isinstance(body, str)
            data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if raw else "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            path = urlsplit(self.path).path
            raw = self._read()
            if path == "/token" and method == "POST":
                self._reply(*api.token(parse_qs(raw.decode("ascii"))))
                return
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self._reply(*error(400, "Invalid JSON payload received.", "parseError"))
                return
            status, reply, headers = api.api(method, path, self.headers.get("Authorization"), body)
            with api.lock:
                drop, api.drop_replies = api.drop_replies > 0, max(0, api.drop_replies - 1)
            if drop:  # done, but the answer never reaches the client
                self.close_connection = True
                return
            self._reply(status, reply, headers)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler
