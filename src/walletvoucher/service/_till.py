"""The till and kiosk API (``/api/v1``): issue cards, add stamps, redeem vouchers, follow the journal.

Framework-neutral like :class:`~walletvoucher.service.PassWebService`: ``TillApi.handle(request, at=)``
takes a :class:`~walletvoucher.service.ServiceRequest` and returns a
:class:`~walletvoucher.service.ServiceResponse`; :func:`walletvoucher.service.asgi.create_app` mounts
it. The paths are a public contract:

========  ======================================  =========  ======================================
method    path                                    scope      what
========  ======================================  =========  ======================================
POST      /api/v1/cards                           issue      issue a card (201)
GET       /api/v1/cards/{serial}                  read       a card
GET       /api/v1/cards?barcode=...               read       the card a scanned barcode shows
POST      /api/v1/cards/{serial}/stamps           stamp      add stamps (vouchers issued returned)
POST      /api/v1/cards/{serial}/purchases        stamp      a purchase by amount (earn-by-amount cards)
POST      /api/v1/cards/{serial}/punches          stamp      use punches of a prepaid card
GET       /api/v1/cards/{serial}/vouchers         read       the card's vouchers
POST      /api/v1/redemptions                     redeem     redeem by code or by scan
POST      /api/v1/reconciliations                 reconcile  mark POS-redeemed codes redeemed
GET       /api/v1/journal?since=N                 read       events after position N
GET       /api/v1/openapi.json                    (none)     this API as OpenAPI 3.1
========  ======================================  =========  ======================================

Every request but the document's carries ``Authorization: Bearer <key>`` (an API key or an enrolled
device token, :class:`~walletvoucher.store.Access`): 401 without a valid one, 403 outside its
scopes. ``Idempotency-Key`` on a POST returns the first result to every repeat (the store's
idempotency, namespaced by the caller). Errors are RFC 9457 ``application/problem+json`` with stable
``type`` URIs (:data:`PROBLEMS`); a client's input never gets a 500. Every stamp and redemption
records who made it (``api:till-1``, ``staff:Aziza@chilonzor``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import attrs

from walletvoucher.codes import RandomSource, ScanKey, verify_scan_token
from walletvoucher.errors import (
    AccessError,
    CardExpired,
    CheckCharacterError,
    DatabaseUnavailable,
    DuplicateSerial,
    EarnPolicyViolation,
    IdempotencyKeyReused,
    NoPunchesLeft,
    OutsideRedemptionContext,
    ProofMismatch,
    ScanTokenError,
    ScanTokenExpired,
    StaleVersion,
    UnknownCard,
    UnknownProgram,
    UnknownVoucher,
    ValidationError,
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotYetValid,
    VoucherVoided,
    WalletVoucherError,
    WrongRedeemCode,
)
from walletvoucher.model import CodeEntry, Money, StaffScan, StampCard, Voucher, VoucherStatus
from walletvoucher.service._webservice import ServiceRequest, ServiceResponse
from walletvoucher.store import Principal, Wallet
from walletvoucher.store._changes import outside_commits
from walletvoucher.store._group import grouped

PREFIX = "/api/v1"
PROBLEM_BASE = "https://github.com/walletvoucher/walletvoucher/blob/main/docs/problems.md#"
MAX_BODY = 64 * 1024
MAX_RECONCILE_CODES = 10_000
_AMOUNT = re.compile(r"(?!0+(\.0+)?\Z)[0-9]{1,15}(\.[0-9]{1,6})?")
_logger = logging.getLogger("walletvoucher.api")
_PRINCIPAL_FOR = timedelta(seconds=1)  # the longest a key is trusted without asking the store
WalletSource = Wallet | Callable[[], Wallet]

PROBLEMS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "A valid API key or device token is required"),
    "forbidden": (403, "The key's scopes do not allow this"),
    "not-found": (404, "No such resource"),
    "unknown-card": (404, "No card with that serial"),
    "unknown-voucher": (404, "No voucher with that serial"),
    "method-not-allowed": (405, "Method not allowed on this path"),
    "duplicate-serial": (409, "A card with that serial exists"),
    "already-redeemed": (409, "The voucher was redeemed already"),
    "voucher-expired": (409, "The voucher has expired"),
    "voucher-voided": (409, "The voucher was voided"),
    "voucher-not-yet-valid": (409, "The voucher is not valid yet"),
    "scan-replayed": (409, "This rotating code was scanned already"),
    "no-punches-left": (409, "The prepaid card has no punches left"),
    "too-large": (413, "The request body is too large"),
    "unsupported-media-type": (415, "Send application/json"),
    "invalid-request": (422, "The request is not valid"),
    "unknown-program": (422, "No program with that id"),
    "wrong-code": (422, "The code is not this voucher's"),
    "wrong-method": (422, "The voucher is redeemed another way"),
    "invalid-scan": (422, "The scanned code is not a valid voucher code"),
    "stale-scan": (422, "The scanned code is stale: a screenshot or a replay"),
    "earn-policy": (422, "The program's earn policy refuses these stamps"),
    "outside-context": (422, "The reward may not be redeemed here, now or this often"),
    "card-expired": (422, "The card's validity has ended"),
    "wrong-program-kind": (422, "The card's program does not take this"),
    "wrong-currency": (422, "The amount is not in the program's currency"),
    "idempotency-key-reused": (422, "The Idempotency-Key was used for another request"),
    "rate-limited": (429, "Too many requests"),
    "busy": (503, "The store is busy or unavailable; retry"),
}
"""Every problem ``type`` (``PROBLEM_BASE + slug``) with its status and title: a public contract."""


def problem(
    slug: str, detail: str, *, headers: Sequence[tuple[str, str]] = (), **extra: Any
) -> ServiceResponse:
    """An RFC 9457 problem response for *slug* (one of :data:`PROBLEMS`)."""
    status, title = PROBLEMS[slug]
    document = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return ServiceResponse(
        status=status, headers=(("content-type", "application/problem+json"), *headers), body=_dumps(document)
    )


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _ok(document: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()) -> ServiceResponse:
    return ServiceResponse(
        status=status, headers=(("content-type", "application/json"), *headers), body=_dumps(document)
    )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def voucher_json(voucher: Voucher, at: datetime) -> dict[str, Any]:
    """What the API shows of a voucher (never its redeem code: the customer's pass holds that)."""
    return {
        "serial": voucher.serial, "card": voucher.card_serial, "program": voucher.program_id,
        "status": voucher.status_at(at).value, "method": voucher.method.value,
        "reward": voucher.reward.title.default, "valid_from": _iso(voucher.valid_from),
        "expires_at": _iso(voucher.expires_at), "redeemed_at": _iso(voucher.redeemed_at),
        "redeemed_by": voucher.redeemed_by,
    }  # fmt: skip


def card_json(card: StampCard, at: datetime) -> dict[str, Any]:
    """What the API shows of a card: progress (stamps, or punches left on a prepaid card; the amount
    kept towards the next stamp on a card that earns by amount) and its open vouchers."""
    prepaid = card.punches_left is not None
    rule = card.program.earn_by_amount
    return {
        "serial": card.serial, "program": card.program.id, "program_version": card.program.version,
        "member_id": card.member_id, "kind": card.program.kind.value,
        "stamps": None if prepaid else card.stamps, "goal": None if prepaid else card.goal,
        "progress": None if prepaid else card.progress,
        "punches": card.program.punches, "punches_left": card.punches_left,
        "amount_carried": None if rule is None else str(card.amount_carried),
        "currency": None if rule is None else rule.currency,
        "vouchers": [voucher_json(v, at) for v in card.vouchers if not v.status_at(at).is_final],
    }  # fmt: skip


@attrs.define
class RateLimit:
    """A token bucket per caller: *per_second* sustained, *burst* at once (time from the requests)."""

    per_second: float = 20.0
    burst: float = 60.0
    _buckets: dict[str, tuple[float, datetime]] = attrs.field(factory=dict, init=False, repr=False)

    def take(self, who: str, at: datetime) -> float | None:
        """None when *who* may go on; else the seconds to wait."""
        tokens, last = self._buckets.get(who, (self.burst, at))
        elapsed = max(0.0, (at - last).total_seconds())
        tokens = min(self.burst, tokens + elapsed * self.per_second)
        if tokens < 1.0:
            self._buckets[who] = (tokens, at)
            return (1.0 - tokens) / self.per_second
        self._buckets[who] = (tokens - 1.0, at)
        if len(self._buckets) > 10_000:  # bounded memory: forget the quietest callers
            self._buckets.pop(next(iter(self._buckets)))
        return None


class _BadRequest(Exception):
    def __init__(self, response: ServiceResponse) -> None:
        self.response = response


@attrs.frozen(kw_only=True)
class _Call:
    principal: Principal
    params: tuple[str, ...]
    body: Mapping[str, Any]
    query: Mapping[str, str]
    key: str | None
    at: datetime


def _invalid(field: str, detail: str) -> _BadRequest:
    return _BadRequest(problem("invalid-request", f"{field}: {detail}", field=field))


def _text(body: Mapping[str, Any], field: str, *, required: bool = True, limit: int = 200) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _invalid(field, f"must be text of 1 to {limit} characters")
    return value


class TillApi:
    """The ``/api/v1`` handlers over a wallet (see the module's table).

    *scan_keys* verify Staff-Scan tokens and rotating codes; *random* makes card serials when the
    caller gives none; *rate* limits each caller.
    """

    def __init__(
        self,
        wallet: WalletSource,
        *,
        scan_keys: Iterable[ScanKey] = (),
        random: RandomSource,
        rate: RateLimit | None = None,
        openapi: Mapping[str, Any] | None = None,
    ) -> None:
        self._given = wallet
        self._principals: dict[bytes, tuple[Wallet, int | None, datetime, Principal]] = {}
        self._wallet: Callable[[], Wallet] = (lambda: wallet) if isinstance(wallet, Wallet) else wallet
        self._keys = tuple(scan_keys)
        self._random = random
        self._rate = rate or RateLimit()
        from walletvoucher.service._openapi import openapi_document

        self._document = _dumps(openapi if openapi is not None else openapi_document())
        self._routes: tuple[tuple[str, re.Pattern[str], str, Callable[[_Call], ServiceResponse]], ...] = (
            ("POST", re.compile(r"/cards"), "issue", self._issue),
            ("GET", re.compile(r"/cards"), "read", self._find),
            ("GET", re.compile(r"/cards/([^/]+)"), "read", self._card),
            ("POST", re.compile(r"/cards/([^/]+)/stamps"), "stamp", self._stamp),
            ("POST", re.compile(r"/cards/([^/]+)/purchases"), "stamp", self._purchase),
            ("POST", re.compile(r"/cards/([^/]+)/punches"), "stamp", self._punch),
            ("GET", re.compile(r"/cards/([^/]+)/vouchers"), "read", self._vouchers),
            ("POST", re.compile(r"/redemptions"), "redeem", self._redeem),
            ("POST", re.compile(r"/reconciliations"), "reconcile", self._reconcile),
            ("GET", re.compile(r"/journal"), "read", self._journal),
        )

    def store_threads(self) -> int:
        """How many threads are worth giving the store calls: 1 on SQLite (one writer at a time, and
        one warm card cache), 8 on PostgreSQL (its connections work in parallel)."""
        source = self._given
        url = getattr(source, "url", None)  # a WalletPerThread: no need to open a wallet to know
        if isinstance(source, Wallet):
            dialect = source.dialect
        elif url is not None:
            dialect = "postgresql" if str(url).lower().startswith(("postgresql:", "postgres:")) else "sqlite"
        else:
            dialect = self._wallet().dialect
        return 1 if dialect == "sqlite" else 8

    def grouped(self) -> AbstractContextManager[None]:
        """Calls of :meth:`handle` made inside (on this thread) share one SQLite transaction, each
        write in a savepoint of its own (group commit, :func:`walletvoucher.store._group.grouped`):
        every call still gets its own answer, idempotency and failure. Send the answers only after the
        block ends; if it raises, none of the calls happened (answer them :meth:`group_failed`)."""
        return grouped(self._wallet())

    def group_failed(self, exc: BaseException) -> ServiceResponse:
        """The answer to each call of a group whose commit failed: 503, retry (nothing was applied)."""
        _logger.warning("api: a group of calls could not commit (%s); each answered 503", type(exc).__name__)
        return problem(
            "busy", "the store could not commit this request; retry", headers=(("retry-after", "1"),)
        )

    def handle(self, request: ServiceRequest, *, at: datetime) -> ServiceResponse:
        """Answer one request; never raises for anything a client sends."""
        try:
            return self._dispatch(request, at)
        except _BadRequest as bad:
            return bad.response
        except Exception:  # a bug, not the client's input: logged, answered without details
            _logger.exception("api %s %s failed", request.method, request.path[:100])
            return ServiceResponse(
                status=500,
                headers=(("content-type", "application/problem+json"),),
                body=_dumps({"type": "about:blank", "title": "Internal error", "status": 500}),
            )

    def _dispatch(self, request: ServiceRequest, at: datetime) -> ServiceResponse:
        path = request.path.split("?", 1)[0]
        if not path.startswith(PREFIX):
            return problem("not-found", "no such path")
        path = path[len(PREFIX) :]
        if path == "/openapi.json" and request.method in ("GET", "HEAD"):
            return ServiceResponse(
                status=200, headers=(("content-type", "application/json"),), body=self._document
            )
        found = [(m, p, s, h) for m, p, s, h in self._routes if p.fullmatch(path)]
        if not found:
            return problem("not-found", "no such path")
        route = next((r for r in found if r[0] == request.method), None)
        if route is None:
            allowed = ", ".join(sorted({r[0] for r in found}))
            return problem("method-not-allowed", f"use {allowed}", headers=(("allow", allowed),))
        principal = self._authenticate(request, at)
        if not principal.may(route[2]):
            return problem(
                "forbidden",
                f"this key may {', '.join(sorted(principal.scopes))}; this needs '{route[2]}'",
                scope=route[2],
            )
        wait = self._rate.take(principal.label, at)
        if wait is not None:
            seconds = max(1, round(wait + 0.5))
            return problem(
                "rate-limited", f"retry after {seconds} s", headers=(("retry-after", str(seconds)),)
            )
        match = route[1].fullmatch(path)
        assert match is not None
        call = _Call(
            principal=principal,
            params=match.groups(),
            body=_body(request),
            query=request.query,
            key=_idempotency_key(request, principal),
            at=at,
        )
        try:
            return route[3](call)
        except WalletVoucherError as exc:
            return self._failure(exc, at)

    def _authenticate(self, request: ServiceRequest, at: datetime) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        principal = self._principal(token.strip(), at) if scheme.lower() == "bearer" else None
        if principal is None:
            raise _BadRequest(
                problem(
                    "unauthorized",
                    "send Authorization: Bearer <key>",
                    headers=(("www-authenticate", 'Bearer realm="walletvoucher"'),),
                )
            )
        return principal

    def _principal(self, token: str, at: datetime) -> Principal | None:
        """The store's answer for *token*, remembered for at most a second and only while no other
        connection has committed (SQLite's data_version): a key revoked by ``api-key revoke`` (another
        process), or through any other wallet, is refused on the very next request.

        Only with a wallet per thread (``serve``'s :class:`WalletPerThread`), whose wallet on this
        thread no one else holds; a single wallet given to the API may be revoked through by its
        holder, so then, as on PostgreSQL, every request asks the store."""
        wallet = self._wallet()
        version = None if isinstance(self._given, Wallet) else outside_commits(wallet)
        if version is None:
            return wallet.access.authenticate(token, at=at)
        digest = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        known = self._principals.get(digest)
        if known is not None and known[0] is wallet and known[1] == version and (
            timedelta(0) <= at - known[2] < _PRINCIPAL_FOR
        ):
            return known[3]
        principal = wallet.access.authenticate(token, at=at)  # also records the key's last use
        if principal is not None:
            if len(self._principals) >= 1024:
                self._principals.clear()
            self._principals[digest] = (wallet, outside_commits(wallet), at, principal)
        return principal

    # --- handlers ---------------------------------------------------------------------------------

    def _issue(self, call: _Call) -> ServiceResponse:
        program = _text(call.body, "program", limit=56)
        member = _text(call.body, "member_id", limit=200)
        _only(call.body, {"program", "member_id", "serial"})
        serial = _text(call.body, "serial", required=False, limit=56) or self._new_serial(call)
        card = self._wallet().issue_card(
            str(program), serial=serial, member_id=str(member), at=call.at, idempotency_key=call.key
        )
        return _ok(card_json(card, call.at), 201, headers=(("location", f"{PREFIX}/cards/{card.serial}"),))

    def _new_serial(self, call: _Call) -> str:
        seed = (
            hashlib.sha256(f"{call.principal.label}\0{call.key}".encode()).digest()
            if call.key
            else self._random(16)
        )  # a repeat with the same key names the same card
        return "C-" + base64.b32encode(seed[:10]).decode("ascii").rstrip("=")

    def _find(self, call: _Call) -> ServiceResponse:
        barcode = call.query.get("barcode")
        if not barcode or len(barcode) > 256:
            raise _invalid("barcode", "give the scanned barcode: ?barcode=...")
        return self._card_by(barcode.strip(), call.at)

    def _card(self, call: _Call) -> ServiceResponse:
        return self._card_by(call.params[0], call.at)

    def _card_by(self, serial: str, at: datetime) -> ServiceResponse:
        return _ok(card_json(self._wallet().card(_serial(serial)), at))

    def _stamp(self, call: _Call) -> ServiceResponse:
        _only(call.body, {"count", "source"})
        count = call.body.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
            raise _invalid("count", "must be a whole number from 1 to 1000")
        given = _text(call.body, "source", required=False, limit=60)
        source = call.principal.label + (f" via {given}" if given else "")
        result = self._wallet().stamp(
            _serial(call.params[0]), count, at=call.at, source=source[:120], idempotency_key=call.key
        )
        return _ok(
            {
                "card": card_json(result.card, call.at),
                "vouchers": [voucher_json(v, call.at) for v in result.vouchers],
            }
        )

    def _purchase(self, call: _Call) -> ServiceResponse:
        _only(call.body, {"amount", "currency", "source"})
        amount = _text(call.body, "amount", limit=32)
        if not _AMOUNT.fullmatch(str(amount)):
            raise _invalid("amount", "must be a decimal amount above 0 as text, e.g. \"25000\" or \"4.50\"")
        currency = str(_text(call.body, "currency", limit=3))
        wallet, serial = self._wallet(), _serial(call.params[0])
        card = wallet.card(serial)
        rule = card.program.earn_by_amount
        if rule is None:
            return _wrong_kind(card, "this card's program does not earn by amount")
        if currency != rule.currency:
            return problem("wrong-currency", f"this program earns in {rule.currency}, not {currency[:3]!r}",
                           expected=rule.currency)
        result = wallet.purchase(serial, Money(amount=str(amount), currency=currency), at=call.at,
                                 source=self._source(call), idempotency_key=call.key)
        return _ok({"card": card_json(result.card, call.at),
                    "vouchers": [voucher_json(v, call.at) for v in result.vouchers]})

    def _punch(self, call: _Call) -> ServiceResponse:
        _only(call.body, {"count", "source"})
        count = call.body.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
            raise _invalid("count", "must be a whole number from 1 to 1000")
        wallet, serial = self._wallet(), _serial(call.params[0])
        card = wallet.card(serial)
        if card.punches_left is None:
            return _wrong_kind(card, "this card is a stamp card, not a prepaid punch card")
        card = wallet.punch(serial, count=count, at=call.at, source=self._source(call),
                            idempotency_key=call.key)
        return _ok({"card": card_json(card, call.at), "vouchers": []})

    @staticmethod
    def _source(call: _Call) -> str:
        given = _text(call.body, "source", required=False, limit=60)
        return (call.principal.label + (f" via {given}" if given else ""))[:120]

    def _vouchers(self, call: _Call) -> ServiceResponse:
        card = self._wallet().card(_serial(call.params[0]))
        stored = {v.serial: v for v in self._wallet().vouchers(card_serial=card.serial, limit=1000)}
        stored.update({v.serial: v for v in card.vouchers})
        return _ok({"vouchers": [voucher_json(stored[s], call.at) for s in sorted(stored)]})

    def _redeem(self, call: _Call) -> ServiceResponse:
        _only(call.body, {"voucher", "code", "scan", "channel"})
        by = call.principal.label[:120]
        channel = _text(call.body, "channel", required=False, limit=16) or "in_store"
        scan = _text(call.body, "scan", required=False, limit=256)
        if scan is not None:
            claims = verify_scan_token(scan, keys=self._keys, at=call.at)
            serial = claims.voucher_serial
            given = _text(call.body, "voucher", required=False, limit=64)
            if given is not None and given != serial:
                raise _invalid("voucher", "is not the voucher the scanned code names")
            if claims.step is not None and not self._wallet().access.use_scan_step(
                serial, claims.step, at=call.at
            ):
                return problem("scan-replayed", "this code was accepted once already; scan the live pass")
            proof: CodeEntry | StaffScan = StaffScan(token=scan, keys=self._keys, by=by)
        else:
            serial = str(_text(call.body, "voucher", limit=64))
            proof = CodeEntry(code=str(_text(call.body, "code", limit=64)), by=by)
        result = self._wallet().redeem(_serial(serial), proof, at=call.at, idempotency_key=call.key,
                                       location=call.principal.location or None, channel=channel)
        return _ok(
            {"voucher": voucher_json(result.voucher, call.at), "card": card_json(result.card, call.at)}
        )

    def _reconcile(self, call: _Call) -> ServiceResponse:
        _only(call.body, {"codes"})
        codes = call.body.get("codes")
        if (
            not isinstance(codes, list)
            or not all(isinstance(c, str) and 0 < len(c) <= 64 for c in codes)
            or len(codes) > MAX_RECONCILE_CODES
        ):
            raise _invalid(
                "codes", f"must be a list of at most {MAX_RECONCILE_CODES} codes as the POS exported them"
            )
        from walletvoucher.service._reconcile import reconcile

        report = reconcile(self._wallet(), codes, by=call.principal.label, at=call.at)
        return _ok(report.to_json())

    def _journal(self, call: _Call) -> ServiceResponse:
        since, limit = _number(call.query, "since", 0), _number(call.query, "limit", 100)
        if limit < 1 or limit > 1000:
            raise _invalid("limit", "must be from 1 to 1000")
        entries = self._wallet().journal(since, limit=limit)
        return _ok(
            {
                "entries": [_entry(e.position, e.version, e.event.to_json()) for e in entries],
                "next": entries[-1].position if entries else since,
            }
        )

    # --- errors -------------------------------------------------------------------------------------

    def _failure(self, exc: WalletVoucherError, at: datetime) -> ServiceResponse:
        detail = str(exc)[:500]
        if isinstance(exc, VoucherAlreadyRedeemed):
            return problem("already-redeemed", detail, **self._redeemed_facts(exc))
        for kind, slug in _FAILURES:
            if isinstance(exc, kind):
                headers = (("retry-after", "1"),) if slug == "busy" else ()
                return problem(slug, detail, headers=headers)
        return problem("invalid-request", detail, field=exc.field)

    def _redeemed_facts(self, exc: VoucherAlreadyRedeemed) -> dict[str, Any]:
        serial = exc.value if isinstance(exc.value, str) else None
        try:
            voucher = self._wallet().voucher(serial) if serial else None
        except WalletVoucherError:
            voucher = None
        if voucher is None or voucher.status is not VoucherStatus.REDEEMED:
            return {}
        return {
            "voucher": voucher.serial,
            "redeemed_at": _iso(voucher.redeemed_at),
            "redeemed_by": voucher.redeemed_by,
        }


_FAILURES: tuple[tuple[type[WalletVoucherError], str], ...] = (
    (UnknownCard, "unknown-card"), (UnknownVoucher, "unknown-voucher"), (UnknownProgram, "unknown-program"),
    (DuplicateSerial, "duplicate-serial"), (VoucherExpired, "voucher-expired"),
    (VoucherVoided, "voucher-voided"),
    (VoucherNotYetValid, "voucher-not-yet-valid"), (WrongRedeemCode, "wrong-code"),
    (CheckCharacterError, "wrong-code"), (ProofMismatch, "wrong-method"), (ScanTokenExpired, "stale-scan"),
    (ScanTokenError, "invalid-scan"), (EarnPolicyViolation, "earn-policy"),
    (OutsideRedemptionContext, "outside-context"), (CardExpired, "card-expired"),
    (NoPunchesLeft, "no-punches-left"),
    (IdempotencyKeyReused, "idempotency-key-reused"), (StaleVersion, "busy"), (DatabaseUnavailable, "busy"),
    (AccessError, "forbidden"), (ValidationError, "invalid-request"),
)  # fmt: skip


def _wrong_kind(card: StampCard, why: str) -> ServiceResponse:
    """The ``wrong-program-kind`` problem, naming what the card takes instead (``takes``)."""
    takes = ("punches" if card.punches_left is not None
             else "purchases" if card.program.earn_by_amount is not None else "stamps")
    return problem("wrong-program-kind", f"{why}: POST {PREFIX}/cards/{card.serial}/{takes} instead",
                   takes=takes)


def _entry(position: int, version: int, event: dict[str, Any]) -> dict[str, Any]:
    data = dict(event["data"])
    voucher = data.get("voucher")
    if isinstance(voucher, dict):  # the redeem code stays on the customer's pass
        data["voucher"] = {k: v for k, v in voucher.items() if k != "code"}
    return {
        "position": position,
        "version": version,
        "type": event["type"],
        "at": event["at"],
        "card": event["card_serial"],
        "data": data,
    }


def _serial(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise _BadRequest(problem("not-found", "serials are 1-64 characters of A-Z a-z 0-9 _ -"))
    return value


def _number(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,15}", raw):
        raise _invalid(name, "must be a whole number (at most 15 digits)")
    return int(raw)


def _only(body: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _invalid(unknown[0], f"is not a field here; use {', '.join(sorted(allowed))}")


def _body(request: ServiceRequest) -> Mapping[str, Any]:
    if request.method != "POST":
        return {}
    if len(request.body) > MAX_BODY:
        raise _BadRequest(problem("too-large", f"at most {MAX_BODY} bytes"))
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind != "application/json":
        raise _BadRequest(problem("unsupported-media-type", "send a JSON object as application/json"))
    try:
        document = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _invalid("body", "is not JSON") from exc
    if not isinstance(document, dict):
        raise _invalid("body", "must be a JSON object")
    try:  # only a \u escape can make a lone surrogate: the body was strict UTF-8
        if b"\\u" in request.body:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate (\ud800) is no text
        raise _invalid("body", "holds a lone surrogate escape, which is not text") from exc
    return document


def _idempotency_key(request: ServiceRequest, principal: Principal) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None or request.method != "POST":
        return None
    if not re.fullmatch(r"[\x21-\x7e]{1,255}", key):
        raise _invalid("Idempotency-Key", "must be 1-255 printable ASCII characters")
    return f"api:{principal.kind}:{principal.name}:{key}"


__all__ = ["PREFIX", "PROBLEMS", "RateLimit", "TillApi", "card_json", "problem", "voucher_json"]
