"""``POST /google/callbacks``: Google Wallet's signed save and delete callbacks, framework-neutral.

A class whose ``callbackOptions.url`` points here (``GoogleOptions(callback_url=...)``; ``serve`` sets it
when ``google_callback_keys`` is configured) makes Google POST a signed message each time a holder saves
or deletes one of its passes. Each callback is

1. **verified** (:func:`walletvoucher.google.verify_callback`): the signature chain up to one of
   Google's root keys (given, never fetched here: :class:`RootKeysFile` reads the JSON the operator
   downloads from ``https://pay.google.com/gp/m/issuer/keys``), the recipient (our issuer id), the
   intermediate key's and the message's expiry;
2. checked to be **ours**: the class is one of the served programs' (loyalty or reward class) and the
   object one of their cards or vouchers in the store;
3. **recorded once** by its nonce (:func:`walletvoucher.store._callbacks.record_google_callback`): a
   replay is answered 200 and changes nothing;
4. turned into a ``card_saved`` / ``card_removed`` activity in the same transaction, so the webhooks
   (and anything else following the wallet's activity) hear of Google saves as of Apple devices.

Answers: 200 ``{"recorded": true|false}``; anything a client can send that is not a good callback is a
4xx ``application/problem+json`` (400 not a valid signed callback, 404 a pass we do not hold, 405, 413
from the ASGI layer for bodies over :data:`MAX_BODY`); 503 when the store or the root keys are away.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from walletvoucher.errors import GoogleCallbackInvalid, UnknownCard, WalletVoucherError
from walletvoucher.google._callbacks import MAX_BODY, GoogleCallback, verify_callback
from walletvoucher.google._ids import make_id, sanitize_suffix
from walletvoucher.model import Program
from walletvoucher.service._till import PROBLEM_BASE
from walletvoucher.service._webservice import ServiceRequest, ServiceResponse
from walletvoucher.store import Wallet
from walletvoucher.store._callbacks import record_google_callback

__all__ = ["CALLBACK_PATH", "MAX_BODY", "GoogleCallbackDesk", "RootKeysFile"]

CALLBACK_PATH = "/google/callbacks"
"""Where ``walletvoucher serve`` answers Google's callbacks."""
_logger = logging.getLogger("walletvoucher.google.callbacks")
_ID = re.compile(r"[0-9]{1,25}\.[A-Za-z0-9._-]{1,500}")
RootKeys = Callable[[], "Mapping[str, Any] | str"]


class RootKeysFile:
    """Google's root keys from a JSON file (as served at ``pay.google.com/gp/m/issuer/keys``), read
    again whenever the file changes, so a refreshed download needs no restart."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._seen: tuple[float, int] | None = None
        self._text = ""

    def __repr__(self) -> str:
        return f"RootKeysFile({str(self.path)!r})"

    def __call__(self) -> str:
        stat = self.path.stat()
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._seen:
            self._text = self.path.read_text(encoding="utf-8")
            self._seen = stamp
        return self._text


def _problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> ServiceResponse:
    document = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return ServiceResponse(
        status=status,
        headers=(("content-type", "application/problem+json"), ("cache-control", "no-store")),
        body=json.dumps(document, ensure_ascii=False, sort_keys=True).encode(),
    )


class GoogleCallbackDesk:
    """Answers ``POST /google/callbacks`` for the *programs* of the issuers *issuer_ids*.

    *wallets* opens this thread's store; *root_keys* returns Google's root keys document (parsed or
    as text) each time it is asked (a :class:`RootKeysFile`, or the keys themselves in tests).
    """

    def __init__(
        self,
        wallets: Callable[[], Wallet],
        *,
        issuer_ids: Sequence[str],
        programs: Sequence[Program],
        root_keys: RootKeys,
    ) -> None:
        self._wallets, self._root_keys = wallets, root_keys
        self.issuer_ids = tuple(dict.fromkeys(issuer_ids))
        self.programs = tuple(programs)

    def __repr__(self) -> str:
        return f"GoogleCallbackDesk(issuer_ids={self.issuer_ids!r})"

    def handle(self, request: ServiceRequest, *, at: datetime) -> ServiceResponse:
        """Answer one callback; never raises for anything a client can send."""
        if request.method != "POST":
            return ServiceResponse(status=405, headers=(("allow", "POST"),))
        if len(request.body) > MAX_BODY:
            return _problem(413, "google-callback-invalid", "Not a Google Wallet callback",
                            f"bodies are at most {MAX_BODY} bytes")  # fmt: skip
        try:
            keys = self._root_keys()
        except (OSError, UnicodeDecodeError) as exc:  # the operator's file, not the client's fault
            _logger.error("Google's root keys cannot be read: %s", type(exc).__name__)
            return _problem(503, "busy", "Not ready", "the server cannot read Google's root keys now")
        try:
            callback = self._verified(request.body, keys, at)
        except GoogleCallbackInvalid as exc:
            if (exc.field or "").startswith("root_keys"):  # the operator's file, not the client's fault
                _logger.error("Google's root keys are unusable: %s %s", exc.field, exc.message)
                return _problem(503, "busy", "Not ready", "the server holds no usable Google root key now")
            _logger.info("refused a Google callback: %s", exc.field)  # the field, never the body
            return _problem(400, "google-callback-invalid", "Not a valid Google Wallet callback",
                            f"{exc.field}: {exc.message}", field=exc.field)  # fmt: skip
        try:
            return self._record(callback, at)
        except WalletVoucherError as exc:  # the store is busy or away
            _logger.warning("a Google callback was not recorded: %s", type(exc).__name__)
            return _problem(503, "busy", "The store is busy or unavailable; retry", "try again later")

    def _verified(self, body: bytes, keys: Mapping[str, Any] | str, at: datetime) -> GoogleCallback:
        failure: GoogleCallbackInvalid | None = None
        for issuer in self.issuer_ids:  # the recipient id is signed over: try each issuer we serve
            try:
                return verify_callback(body, issuer_id=issuer, root_keys=keys, at=at)
            except GoogleCallbackInvalid as exc:
                failure = exc
        raise failure or GoogleCallbackInvalid(
            "no issuer id is configured", field="issuer_id", fix="give the programs a [google] table"
        )

    def _record(self, callback: GoogleCallback, at: datetime) -> ServiceResponse:
        found = self._pass_of(callback)
        if found is None:
            why = "the class or object is not one of the served programs' cards or vouchers"
            return _problem(404, "unknown-pass", "Not a pass of this server", why)
        program, serial = found
        new = record_google_callback(
            self._wallets().passes, nonce=callback.nonce, event=callback.event, class_id=callback.class_id,
            object_id=callback.object_id, serial=serial, at=at,
        )  # fmt: skip
        if new:
            _logger.info("Google %s for %s (%s)", callback.event, serial, program.id)
        document = {"recorded": new, "event": callback.event, "serial": serial}
        return ServiceResponse(status=200, headers=(("content-type", "application/json"),),
                               body=json.dumps(document, sort_keys=True).encode())  # fmt: skip

    def _pass_of(self, callback: GoogleCallback) -> tuple[Program, str] | None:
        """The served program and the pass serial (card or voucher) the callback names, or None."""
        if not _ID.fullmatch(callback.class_id) or not _ID.fullmatch(callback.object_id):
            return None
        for issuer in self.issuer_ids:
            for program in self.programs:
                prefix = f"{issuer}.{sanitize_suffix(program.id)}"
                if callback.class_id != prefix and not callback.class_id.startswith(prefix + ".reward."):
                    continue
                for kind in ("card", "voucher"):
                    serial = callback.object_id.removeprefix(f"{prefix}.{kind}.")
                    if serial != callback.object_id and make_id(issuer, program.id, kind, serial) \
                            == callback.object_id and self._holds(program, kind, serial):  # fmt: skip
                        return program, serial
        return None

    def _holds(self, program: Program, kind: str, serial: str) -> bool:
        wallet = self._wallets()
        card_serial = serial if kind == "card" else None
        if card_serial is None:
            mark = wallet.passes.mark(serial)
            if mark is None or mark.kind != "voucher":
                return False
            card_serial = mark.card_serial
        try:
            return wallet.card_info(card_serial).program_id == program.id
        except UnknownCard:
            return False
