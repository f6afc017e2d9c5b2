"""Who may act at the counter: API keys for tills, enrolled staff phones and kiosks, kept hashed.

Three kinds of credential, one table:

- **API keys** (``api_key``) for a till or a backend: ``wallet.access.create_api_key("till-1",
  scopes={"stamp", "redeem", "read"}, ...)`` returns the key **once**; only its SHA-256 is stored.
- **Staff devices** (``staff``) and **kiosks** (``kiosk``): ``create_device("Aziza", location=...)``
  returns a one-time **enrolment code**; the phone or tablet that opens the enrolment link trades it
  (:meth:`Access.enrol`) for a long-lived device token, stored hashed too. A kiosk can only stamp.

Every credential is revocable (:meth:`Access.revoke`: it stops working at once) and records when it
was last used. Tokens are 32 random bytes from the caller's random source, so a plain SHA-256 is the
right hash (a slow password hash protects guessable secrets; these are not guessable).

The store also remembers which **rotating-code steps** were accepted (:meth:`Access.use_scan_step`),
so a value read off a screen is accepted once even within its 30-second window.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

import attrs

from walletvoucher.codes import RandomSource
from walletvoucher.errors import AccessError, ValidationError
from walletvoucher.store import _checks
from walletvoucher.store._engine import Database, UniqueViolation
from walletvoucher.store._types import from_us, to_us

API_KEY, STAFF, KIOSK = "api_key", "staff", "kiosk"
KINDS = (API_KEY, STAFF, KIOSK)
SCOPES = ("issue", "stamp", "redeem", "read", "reconcile")
"""What a credential may do: issue cards, add stamps, redeem vouchers, read cards and the journal,
reconcile a POS export."""
DEVICE_SCOPES = {STAFF: ("stamp", "redeem", "read"), KIOSK: ("stamp", "read")}
_PREFIX = {API_KEY: "wvk_", STAFF: "wvd_", KIOSK: "wvd_"}
_ENROL_PREFIX = "wve_"
_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,80}")
_TOKEN = re.compile(r"wv[kde]_[A-Za-z0-9_-]{43}")
LAST_USED_GRANULARITY_US = 60_000_000
"""``last_used_at`` is written at most once a minute per credential (no write on every request)."""


@attrs.frozen(kw_only=True)
class Principal:
    """Who a request acts as: the credential's kind, name, location and scopes."""

    kind: str
    name: str
    location: str = ""
    scopes: frozenset[str] = frozenset()

    def may(self, scope: str) -> bool:
        """Whether this principal holds *scope*."""
        return scope in self.scopes

    @property
    def label(self) -> str:
        """How the journal names it: ``api:till-1``, ``staff:Aziza@chilonzor``, ``kiosk:door``."""
        kind = "api" if self.kind == API_KEY else self.kind
        return f"{kind}:{self.name}" + (f"@{self.location}" if self.location else "")


@attrs.frozen(kw_only=True)
class Credential:
    """A stored credential as listed (never its token)."""

    kind: str
    name: str
    location: str
    scopes: tuple[str, ...]
    created_at: datetime
    enrolled: bool
    last_used_at: datetime | None
    revoked_at: datetime | None


@attrs.frozen(kw_only=True)
class IssuedSecret:
    """A secret shown once: an API key, an enrolment code or a device token. Never in a repr."""

    kind: str
    name: str
    secret: str = attrs.field(repr=False)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _new_token(prefix: str, random: RandomSource) -> str:
    raw = random(32)
    if not isinstance(raw, bytes) or len(raw) != 32:
        raise ValidationError(
            "must return 32 bytes", field="random", value=type(raw).__name__, fix="pass secrets.token_bytes"
        )
    return prefix + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _check_name(name: object, kind: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name != name.strip():
        raise ValidationError(
            "must be 1-80 printable characters without leading or trailing spaces",
            field="name",
            value=name if isinstance(name, str) and len(name) < 100 else "...",
            fix=f"name the {kind.replace('_', ' ')}, e.g. 'till-1' or 'Aziza'",
        )
    return name


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """*scopes* sorted, each one of :data:`SCOPES`; else :class:`ValidationError` with the list."""
    chosen = sorted(set(scopes)) if not isinstance(scopes, str) else [scopes]
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise ValidationError(
            "must name known scopes" if unknown else "must name at least one scope",
            field="scope",
            value=unknown or chosen,
            fix=f"use some of: {', '.join(SCOPES)}",
        )
    return tuple(chosen)


class Access:
    """The wallet's credentials (``wallet.access``); every method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_api_key(
        self, name: str, *, scopes: Iterable[str], at: datetime, random: RandomSource
    ) -> IssuedSecret:
        """A new API key for *name* with *scopes*; the key is in the result and nowhere else.

        Raises :class:`AccessError` when an unrevoked key already has that name.
        """
        chosen = check_scopes(scopes)
        token = _new_token(_PREFIX[API_KEY], random)
        self._insert(
            API_KEY, _check_name(name, API_KEY), "", chosen, token_hash=_hash(token), enrol_hash=None, at=at
        )
        return IssuedSecret(kind=API_KEY, name=name, secret=token)

    def create_device(
        self, name: str, *, location: str = "", kiosk: bool = False, at: datetime, random: RandomSource
    ) -> IssuedSecret:
        """A staff device (or a kiosk) awaiting enrolment; returns its one-time enrolment code."""
        kind = KIOSK if kiosk else STAFF
        if location and not _NAME.fullmatch(location):
            raise ValidationError(
                "must be 1-80 printable characters",
                field="location",
                value=location[:80],
                fix="name the branch, e.g. 'chilonzor'",
            )
        code = _new_token(_ENROL_PREFIX, random)
        self._insert(
            kind,
            _check_name(name, kind),
            location,
            DEVICE_SCOPES[kind],
            token_hash=None,
            enrol_hash=_hash(code),
            at=at,
        )
        return IssuedSecret(kind=kind, name=name, secret=code)

    def _insert(
        self,
        kind: str,
        name: str,
        location: str,
        scopes: Iterable[str],
        *,
        token_hash: str | None,
        enrol_hash: str | None,
        at: datetime,
    ) -> None:
        try:
            with self._db.write() as tx:
                tx.run(
                    "INSERT INTO credentials (kind, name, location, scopes, token_hash, enrol_hash,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (kind, name, location, ",".join(scopes), token_hash, enrol_hash, to_us(at)),
                )
        except UniqueViolation as exc:
            raise AccessError(
                "is already in use by a credential that is not revoked",
                field="name",
                value=name,
                fix=f"revoke it first, or choose another name for the {kind}",
            ) from exc

    def enrol(self, code: str, *, at: datetime, random: RandomSource) -> IssuedSecret:
        """Trade a one-time enrolment code for the device's long-lived token (the code is spent)."""
        if not isinstance(code, str) or not _TOKEN.fullmatch(code) or not code.startswith(_ENROL_PREFIX):
            raise AccessError(
                "is not an enrolment code",
                field="code",
                secret=True,
                fix="open the link `walletvoucher staff add` printed",
            )
        with self._db.write() as tx:
            row = tx.one(
                "SELECT id, kind, name FROM credentials WHERE enrol_hash = ? AND revoked_at IS NULL",
                (_hash(code),),
            )
            if row is None:
                raise AccessError(
                    "was used already, revoked, or never issued",
                    field="code",
                    secret=True,
                    fix="run `walletvoucher staff add` again for a new link",
                )
            token = _new_token(_PREFIX[str(row[1])], random)
            tx.run(
                "UPDATE credentials SET enrol_hash = NULL, token_hash = ?, enrolled_at = ? WHERE id = ?",
                (_hash(token), to_us(at), row[0]),
            )
        return IssuedSecret(kind=str(row[1]), name=str(row[2]), secret=token)

    def authenticate(self, token: object, *, at: datetime) -> Principal | None:
        """The principal a bearer *token* acts as, or None (unknown, malformed or revoked)."""
        if not isinstance(token, str) or not _TOKEN.fullmatch(token) or token.startswith(_ENROL_PREFIX):
            return None
        digest, now = _hash(token), to_us(at)
        with self._db.read() as tx:
            row = tx.one(
                "SELECT id, kind, name, location, scopes, last_used_at FROM credentials"
                " WHERE token_hash = ? AND revoked_at IS NULL",
                (digest,),
            )
        if row is None:
            return None
        if row[5] is None or now - int(row[5]) >= LAST_USED_GRANULARITY_US:
            with self._db.write() as tx:
                tx.run("UPDATE credentials SET last_used_at = ? WHERE id = ?", (now, row[0]))
        scopes = frozenset(s for s in str(row[4]).split(",") if s)
        return Principal(kind=str(row[1]), name=str(row[2]), location=str(row[3]), scopes=scopes)

    def revoke(self, kind: str, name: str, *, at: datetime) -> bool:
        """Revoke the unrevoked credential of *kind* called *name*; True if there was one."""
        if kind not in KINDS:
            raise ValidationError(
                "is not a credential kind", field="kind", value=kind, fix=f"use one of: {', '.join(KINDS)}"
            )
        kinds = (STAFF, KIOSK) if kind in (STAFF, KIOSK) else (API_KEY,)
        with self._db.write() as tx:
            gone = tx.run(
                "UPDATE credentials SET revoked_at = ?, enrol_hash = NULL WHERE kind IN (?, ?) AND name = ?"
                " AND revoked_at IS NULL",
                (to_us(at), kinds[0], kinds[-1], name),
            )
        return gone > 0

    def list(self, kind: str | None = None) -> tuple[Credential, ...]:
        """Every credential (of *kind*), oldest first, revoked ones included."""
        where, params = ("WHERE kind = ?", (kind,)) if kind else ("", ())
        with self._db.read() as tx:
            rows = tx.rows(
                "SELECT kind, name, location, scopes, created_at, token_hash, last_used_at,"
                f" revoked_at FROM credentials {where} ORDER BY id",
                params,
            )
        return tuple(
            Credential(kind=r[0], name=r[1], location=r[2], scopes=tuple(s for s in r[3].split(",") if s),
                       created_at=from_us(int(r[4])), enrolled=r[5] is not None,
                       last_used_at=from_us(int(r[6])) if r[6] is not None else None,
                       revoked_at=from_us(int(r[7])) if r[7] is not None else None)
            for r in rows
        )  # fmt: skip

    def use_scan_step(self, serial: str, step: int, *, at: datetime) -> bool:
        """Record that the rotating code of *serial* at *step* was accepted; False if it was already."""
        _checks.text(serial, "serial", fix="pass the card's serial as text, e.g. 'CARD-1'")
        _checks.whole(step, "step", fix="pass the rotating code's time step (a whole number of 0 or more)")
        try:
            with self._db.write() as tx:
                tx.run(
                    "INSERT INTO scan_steps (serial, step, used_at) VALUES (?, ?, ?)",
                    (serial, step, to_us(at)),
                )
        except UniqueViolation:
            return False
        return True
