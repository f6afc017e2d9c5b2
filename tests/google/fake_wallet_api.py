"""A loopback stand-in for the Google Wallet REST API and Google's OAuth2 token endpoint.

Started by the tests themselves (``ThreadingHTTPServer`` on 127.0.0.1, port 0). It rejects
what the real API rejects: unknown fields (bodies are checked against the discovery
document), an object whose class does not exist, ids outside the issuer, a wrong bearer
token, a duplicate insert. ``fail_next`` scripts 429/5xx answers to exercise retries.
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
        self.failures: deque[tuple[int, dict[str, str]]] = deque()
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

    def fail_next(self, *statuses: int, retry_after: str | None = None) -> None:
        """Answer the next API requests with these statuses (before normal handling)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures.extend((status, headers) for status in statuses)

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
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.requests.append((method, path, body))
        if auth is None or not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return *error(401, "Request had invalid authentication credentials.", "authError"), {}
        if self.failures:
            status, headers = self.failures.popleft()
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
        rejected = self._invalid(collection, body)
        if rejected is not None:
            return rejected
        if "id" in body and body["id"] != found["id"]:
            return error(400, "The id in the body does not match the URL.", "invalid")
        found.update({k: v for k, v in body.items() if k != "notifyPreference"})
        return 200, found

    def _add_message(self, found: dict[str, Any], body: Any) -> tuple[int, dict[str, Any]]:
        problems = schema_errors(body, "AddMessageRequest")
        if problems or "message" not in body:
            return error(400, "Invalid JSON payload received. " + "; ".join(problems), "invalid")
        found.setdefault("messages", []).append(body["message"])
        return 200, {"resource": found}


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

        def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
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
            self._reply(status, reply, headers)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler
