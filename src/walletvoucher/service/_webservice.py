"""Apple's PassKit web service protocol, framework-neutral: a parsed request in, a response out.

The five endpoints, relative to the pass's ``webServiceURL``:

==========================================================================  ==============================
``POST   /v1/devices/{device}/registrations/{passTypeIdentifier}/{serial}``  201 new, 200 existing, 401
``DELETE /v1/devices/{device}/registrations/{passTypeIdentifier}/{serial}``  200, 401
``GET    /v1/devices/{device}/registrations/{passTypeIdentifier}``           200 JSON, 204 nothing changed
          ``?passesUpdatedSince={tag}``
``GET    /v1/passes/{passTypeIdentifier}/{serial}``                          200 pkpass, 304, 401
``POST   /v1/log``                                                           200
==========================================================================  ==============================

Anything else is 404 (405 for a known path with another method), and so is a path segment holding
a control character, a NUL or a lone surrogate (no database stores them). Bodies above the limits
are 413, malformed ones (a push token with such characters too) 400. A Django view, a Starlette
route or a test calls :meth:`PassWebService.handle`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

import attrs

from walletvoucher.errors import ServiceConfigError
from walletvoucher.service._cache import PassCache, PassRenderer
from walletvoucher.service._protocol import PassUpdateStore
from walletvoucher.service._tokens import PassTokens

MAX_REGISTER_BODY = 4 * 1024
MAX_LOG_BODY = 64 * 1024
MAX_SEGMENT = 256
MAX_TAG_DIGITS = 19
MAX_TAG = 2**63 - 1  # tags are 64-bit positions; a larger one is not a tag we issued
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")  # what no engine stores: controls, NUL, surrogates
PKPASS_TYPE = "application/vnd.apple.pkpass"
_logger = logging.getLogger("walletvoucher.service")


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def _headers_repr(headers: Mapping[str, str]) -> str:
    """The headers with credentials (a pass's ``ApplePass`` token, cookies) shown as ``<redacted>``."""
    return repr({k: "<redacted>" if k.lower() in _SECRET_HEADERS else v for k, v in headers.items()})


@attrs.frozen(kw_only=True)
class ServiceRequest:
    """One HTTP request as the service sees it.

    ``path`` is the path below the web service's base URL, still percent-encoded
    (``/v1/passes/pass.com.example/CARD%2F1``); ``headers`` has lower-case names. The repr never
    shows the ``Authorization`` header (the pass's token) nor the body.
    """

    method: str
    path: str
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=_headers_repr)
    query: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = attrs.field(default=b"", repr=lambda b: f"<{len(b)} bytes>")


@attrs.frozen(kw_only=True)
class ServiceResponse:
    """Status, headers and body to send back."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = attrs.field(default=b"", repr=lambda b: f"<{len(b)} bytes>")

    def header(self, name: str) -> str | None:
        """The first header called *name* (case-insensitive), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _status(status: int, *headers: tuple[str, str]) -> ServiceResponse:
    return ServiceResponse(status=status, headers=headers)


def _json(status: int, doc: Any) -> ServiceResponse:
    body = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    return ServiceResponse(status=status, headers=(("content-type", "application/json"),), body=body)


def http_date(moment: datetime) -> str:
    """An RFC 9110 HTTP date: ``Thu, 07 May 2026 10:30:00 GMT``."""
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0), usegmt=True)


def _parse_http_date(value: str | None) -> datetime | None:
    if not value or len(value) > 64:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _segments(path: str) -> list[str] | None:
    raw = path.split("/")
    if raw[:1] != [""] or any(len(part) > 3 * MAX_SEGMENT for part in raw):
        return None
    parts = [unquote(part) for part in raw[1:]]
    if any(not part or len(part) > MAX_SEGMENT or _UNSTORABLE.search(part) for part in parts):
        return None
    return parts


class LogSink:
    """Wallet's ``/v1/log`` messages, bounded: each cut to *max_chars*, at most *per_request*
    per call and *per_window* per *window_seconds* overall; the rest are counted as dropped.
    Control characters are escaped so a message cannot forge log lines."""

    def __init__(
        self,
        *,
        max_chars: int = 1000,
        per_request: int = 20,
        per_window: int = 200,
        window_seconds: int = 60,
        logger: logging.Logger = _logger,
    ) -> None:
        self.max_chars, self.per_request, self.per_window = max_chars, per_request, per_window
        self.window_seconds = window_seconds
        self._logger = logger
        self._lock = threading.Lock()
        self._window_start: datetime | None = None
        self._in_window = 0
        self.dropped = 0

    def accept(self, messages: list[str], *, at: datetime) -> int:
        """Log what the bounds allow; return how many were logged."""
        logged = 0
        for index, message in enumerate(messages):
            if index >= self.per_request or not self._take(at):
                self._drop(len(messages) - index)
                break
            self._logger.warning("wallet device log: %s", self._clean(message))
            logged += 1
        return logged

    def _clean(self, message: str) -> str:
        cut = message[: self.max_chars]
        text = cut.encode("unicode_escape").decode("ascii")
        return text + ("…" if len(message) > self.max_chars else "")

    def _take(self, at: datetime) -> bool:
        with self._lock:
            start = self._window_start
            if start is None or (at - start).total_seconds() >= self.window_seconds or at < start:
                self._window_start, self._in_window = at, 0
            if self._in_window >= self.per_window:
                return False
            self._in_window += 1
            return True

    def _drop(self, count: int) -> None:
        with self._lock:
            self.dropped += count


class PassWebService:
    """The PassKit web service for one pass type identifier.

    *store* keeps registrations and update marks (:class:`PassUpdateStore`); *render* turns a
    :class:`PassState` into signed .pkpass bytes, cached by (serial, version) in a bounded
    :class:`PassCache` (``cache_entries=0`` turns it off); *tokens* derives each pass's token.

    >>> # service = PassWebService(pass_type_identifier="pass.com.example.coffee", store=store,
    >>> #                          tokens=PassTokens(secret), render=render)
    >>> # response = service.handle(ServiceRequest(method="GET", path="/v1/passes/..."), at=now)
    """

    def __init__(
        self,
        *,
        pass_type_identifier: str,
        store: PassUpdateStore,
        tokens: PassTokens,
        render: PassRenderer,
        cache_entries: int = 1024,
        log: LogSink | None = None,
    ) -> None:
        if not pass_type_identifier.startswith("pass."):
            raise ServiceConfigError(
                "must start with 'pass.'",
                field="pass_type_identifier",
                value=pass_type_identifier,
                fix="use the id passes are signed for",
            )
        self.pass_type_identifier = pass_type_identifier
        self.store = store
        self.tokens = tokens
        self.cache = PassCache(render, max_entries=cache_entries)
        self.log = log or LogSink()

    def handle(self, request: ServiceRequest, *, at: datetime) -> ServiceResponse:
        """Answer one request; never raises for anything a client can send."""
        parts = _segments(request.path)
        if parts is None or parts[:1] != ["v1"]:
            return _status(404)
        route = self._route(parts[1:])
        if route is None:
            return _status(404)
        allowed, args = route
        if request.method not in allowed:
            return _status(405, ("allow", ", ".join(sorted(allowed))))
        handler = getattr(self, "_" + allowed[request.method])
        response: ServiceResponse = handler(request, *args, at=at)
        return response

    def _route(self, parts: list[str]) -> tuple[dict[str, str], tuple[str, ...]] | None:
        if parts == ["log"]:
            return {"POST": "log"}, ()
        if len(parts) == 3 and parts[0] == "passes" and parts[1] == self.pass_type_identifier:
            return {"GET": "latest_pass"}, (parts[2],)
        if len(parts) < 4 or parts[0] != "devices" or parts[2] != "registrations":
            return None
        if parts[3] != self.pass_type_identifier:
            return None
        if len(parts) == 4:
            return {"GET": "updated_serials"}, (parts[1],)
        if len(parts) == 5:
            return {"POST": "register", "DELETE": "unregister"}, (parts[1], parts[4])
        return None

    def _authorized(self, request: ServiceRequest, serial: str) -> bool:
        return self.tokens.check_header(serial, request.headers.get("authorization"))

    def _register(
        self, request: ServiceRequest, device: str, serial: str, *, at: datetime
    ) -> ServiceResponse:
        if not self._authorized(request, serial):
            return _status(401)
        if len(request.body) > MAX_REGISTER_BODY:
            return _status(413)
        push_token = _push_token(request.body)
        if push_token is None:
            return _status(400)
        if self.store.pass_state(serial) is None:
            return _status(404)
        created = self.store.register_device(device, serial, push_token, at=at)
        return _status(201 if created else 200)

    def _unregister(
        self, request: ServiceRequest, device: str, serial: str, *, at: datetime
    ) -> ServiceResponse:
        if not self._authorized(request, serial):
            return _status(401)
        self.store.unregister_device(device, serial, at=at)
        return _status(200)

    def _updated_serials(self, request: ServiceRequest, device: str, *, at: datetime) -> ServiceResponse:
        since = _parse_tag(request.query.get("passesUpdatedSince"))
        answer = self.store.serials_updated_since(device, since)
        if not answer.serials:
            return _status(204)
        return _json(200, {"serialNumbers": list(answer.serials), "lastUpdated": str(answer.last_updated)})

    def _latest_pass(self, request: ServiceRequest, serial: str, *, at: datetime) -> ServiceResponse:
        if not self._authorized(request, serial):
            return _status(401)
        state = self.store.pass_state(serial)
        if state is None:
            return _status(404)
        modified = ("last-modified", http_date(state.last_modified))
        since = _parse_http_date(request.headers.get("if-modified-since"))
        if since is not None and state.last_modified.replace(microsecond=0) <= since:
            return _status(304, modified)
        body = self.cache.get(state)
        headers = (("content-type", PKPASS_TYPE), modified, ("cache-control", "no-cache"))
        return ServiceResponse(status=200, headers=headers, body=body)

    def _log(self, request: ServiceRequest, *, at: datetime) -> ServiceResponse:
        if len(request.body) > MAX_LOG_BODY:
            return _status(413)
        messages = _log_messages(request.body)
        if messages is None:
            return _status(400)
        self.log.accept(messages, at=at)
        return _status(200)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def _push_token(body: bytes) -> str | None:
    doc = _json_object(body)
    token = None if doc is None else doc.get("pushToken")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_SEGMENT or _UNSTORABLE.search(token):
        return None
    return token


def _log_messages(body: bytes) -> list[str] | None:
    doc = _json_object(body)
    logs = None if doc is None else doc.get("logs")
    if not isinstance(logs, list) or not all(isinstance(m, str) for m in logs):
        return None
    return logs


def _parse_tag(value: str | None) -> int | None:
    """A tag we issued is a decimal number up to 2**63 - 1; anything else (or none) means "everything"."""
    if value is None or not value.isdigit() or not value.isascii() or len(value) > MAX_TAG_DIGITS:
        return None
    tag = int(value)
    return tag if tag <= MAX_TAG else None
