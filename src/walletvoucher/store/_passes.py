"""Passes that follow the card: update marks written by every transition, and device registrations.

**Marks.** Every transition marks the passes it changed, inside its own transaction: the card's
serial always, and a voucher's own serial whenever its state changed (issued, redeemed, expired,
voided), so a voucher shown as a separate pass (Apple coupon) follows too. A voucher's mark is one
row per serial in ``pass_updates``; a card's is kept in its own ``cards`` row (``version``,
``pass_modified``, ``pass_position``: the transition rewrites that row anyway, so the mark costs no
page of its own per commit, issue 17). Either way a mark has:

- ``version``: the card's version after the transition (grows on every change; the web service's
  render cache is keyed by it),
- ``last_modified``: the change's time rounded **up** to whole seconds, at least one second after
  the previous mark (:func:`next_last_modified`: HTTP dates have one-second resolution). Rounding up
  keeps it at or after the change, so a pass drawn "as at ``last_modified``" shows what the change
  made (a voucher valid from the stamp's exact microsecond is already valid then),
- ``update_position``: the transition's last **journal position**. Positions are handed out so
  that "serials changed since tag N" never skips a slower commit: on SQLite they commit in order
  (its one write lock); on PostgreSQL they come from the transaction id and a device is told only
  of marks below the oldest transaction still running (:meth:`Database.settled`), so every change
  committed later lies above the ``lastUpdated`` it was given.

**Later changes.** A voucher issued with a later ``valid_from`` changes what its passes show at that
moment, with no transition to mark them: the transition that issues it also queues an outbox message
``pass.refresh`` due at ``valid_from``; the worker's :meth:`PassUpdates.refresh` then re-marks the
card's pass and the voucher's (a new position and ``last_modified``, the same card version) and
queues their pushes.

When devices are registered for a marked serial, an outbox message ``apple.push`` with payload
``{"serial": ...}`` is written in the same transaction; a worker sends the pushes after the commit,
so a crash in between loses nothing. Serials nobody registered for queue nothing.

**Registrations** ``(device, serial) -> push_token`` are written by the web service. Saving and
removing a pass are recorded as :class:`PassActivity` (``card_saved`` / ``card_removed``) in their
own log, followed by position like the journal. They are facts about devices, not transitions of
the card: the card's events and ``replay`` never see them, and APNs can remove a registration
without the card changing at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from walletvoucher.errors import ValidationError
from walletvoucher.model import EventType
from walletvoucher.store import _checks
from walletvoucher.store._engine import Database, Tx, UniqueViolation
from walletvoucher.store._types import Change, Message, OutboxMessage, from_us, to_us

PUSH_TOPIC = "apple.push"
"""The outbox topic of pass-update pushes; the payload is ``{"serial": <serial>}``."""
PASS_REFRESH_TOPIC = "pass.refresh"
"""The outbox topic that re-marks a card's passes when a voucher becomes valid (due at its
``valid_from``); the payload is ``{"card": <card serial>, "voucher": <voucher serial>}``. A worker
performs it with :meth:`PassUpdates.refresh`."""
_SECOND_US = 1_000_000
MAX_POSITION = 2**63 - 1
"""Positions are 64-bit integers on both engines; a larger ``since`` cannot be compared in SQL."""
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def check_text(value: object, field: str) -> str:
    """A device id, serial or push token both engines can store and compare: a non-empty str without
    control characters (PostgreSQL text cannot hold NUL) or lone surrogates (not encodable as UTF-8)."""
    if not isinstance(value, str) or not value or _UNSTORABLE.search(value):
        shown = value[:80] if isinstance(value, str) else value
        raise ValidationError(
            "must be non-empty text without control characters or lone surrogates",
            field=field,
            value=shown,
            fix="pass the identifier Wallet sent (printable text); refuse anything else at the edge",
        )
    return value

CARD_SAVED, CARD_REMOVED = "card_saved", "card_removed"
_VOUCHER_EVENTS = frozenset(
    {
        EventType.VOUCHER_ISSUED,
        EventType.VOUCHER_REDEEMED,
        EventType.VOUCHER_EXPIRED,
        EventType.VOUCHER_VOIDED,
    }
)


def next_last_modified(previous: datetime | None, at: datetime) -> datetime:
    """The ``last_modified`` for a change made at *at*: *at* rounded up to whole seconds, and later
    than *previous* by a second or more.

    Rounding up (never down) keeps it at or after the change, so drawing the pass as at
    ``last_modified`` shows everything the change did.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 5, 7, 10, 30, 0, 400000, tzinfo=timezone.utc)
    >>> first = next_last_modified(None, t); first.isoformat()
    '2026-05-07T10:30:01+00:00'
    >>> next_last_modified(first, t).isoformat()       # same second: pushed one second on
    '2026-05-07T10:30:02+00:00'
    >>> next_last_modified(None, t.replace(microsecond=0)).isoformat()   # whole seconds stay
    '2026-05-07T10:30:00+00:00'
    """
    candidate = from_us(ceil_second_us(to_us(at)))
    if previous is not None and candidate <= previous:
        candidate = previous.replace(microsecond=0) + timedelta(seconds=1)
    return candidate


def ceil_second_us(at_us: int) -> int:
    """*at_us* rounded up to whole seconds (HTTP dates have one-second resolution)."""
    return -(-at_us // _SECOND_US) * _SECOND_US


@attrs.frozen(kw_only=True)
class PassMark:
    """The current update mark of one pass (a card, or a voucher shown as its own pass)."""

    serial: str
    card_serial: str
    kind: str
    """``"card"`` or ``"voucher"``."""
    version: int
    last_modified: datetime
    position: int


@attrs.frozen(kw_only=True)
class PassActivity:
    """A device saved (``card_saved``) or removed (``card_removed``) a pass; ``reason``: who removed it."""

    position: int
    type: str
    serial: str
    device: str
    at: datetime
    reason: str = ""


def changed_passes(change: Change) -> tuple[tuple[str, str], ...]:
    """``(serial, kind)`` of every pass a transition changed: the card, then each voucher touched."""
    found = {change.card.serial: "card"}
    for event in change.events:
        if event.type in _VOUCHER_EVENTS:
            found.setdefault(_voucher_serial(event.data["voucher"]), "voucher")
    return tuple(found.items())


def _voucher_serial(ref: object) -> str:
    """An event's ``voucher``: the voucher's JSON (issued) or its serial (the other events)."""
    return str(ref["serial"] if isinstance(ref, Mapping) else ref)


def record_change(
    tx: Tx, change: Change, *, version: int, position: tuple[str, int], card_pushed: bool,
    touched: bool = True, now: int | None = None,
) -> None:
    """Mark every pass *change* touched, and queue ``apple.push`` for those with registered devices.

    The card's own mark is kept in its ``cards`` row (the transition already changed that row, so
    the mark costs no page of its own): the card's own statement sets it (:func:`card_mark_sql`).
    The vouchers whose state changed are marked in ``pass_updates`` by one upsert of all their
    rows, computing the one-second rule of :func:`next_last_modified` in SQL. *position*: the SQL of
    the transition's last event's position with its one parameter (``("?", position)`` when it is
    known). No result is read back: each push is queued by the server for the passes that have
    devices registered, the card's by its own statement when *card_pushed* (PostgreSQL, whose
    data-modifying ``WITH`` does it), otherwise by one INSERT here, as are the vouchers'.

    A voucher issued valid only later also queues its ``pass.refresh``, due when it becomes valid,
    and a card whose stamps will lapse queues one for when its pass starts to warn (``warn_days``
    ahead). *touched*: whether any event changed a voucher (False: the caller knows none did, and
    nothing is looked for). *now*: ``change.at`` in microseconds, when the caller has it.
    """
    if now is None:
        now = to_us(change.at)
    serial = change.card.serial
    if not touched and not card_pushed:  # a stamp, an issue: the card's push is all there is to queue
        _queue_push(tx, serial, now)
        _queue_refreshes(tx, change, touched=False, now=now)
        return
    passes = changed_passes(change)[1:] if touched else ()  # the vouchers whose state changed
    expression, n = position
    at_us = ceil_second_us(now)
    for start in range(0, len(passes), 1000):  # at most 6,000 parameters per statement
        chunk = passes[start : start + 1000]
        params: list[Any] = []
        for voucher, kind in chunk:
            params += (voucher, serial, kind, version, at_us, n)
        marks = _mark_sql(len(chunk), expression)
        if card_pushed:  # PostgreSQL: the marks' own statement queues their pushes
            tx.defer(f"WITH changed AS ({marks} {_RETURNING_DEVICES}) {PUSH_WHERE_REGISTERED}",
                     (*params, PUSH_TOPIC, now, now))  # fmt: skip
        else:
            tx.defer(marks, params)
    if not card_pushed:
        for found in (serial, *(voucher for voucher, _ in passes)):
            _queue_push(tx, found, now)
    _queue_refreshes(tx, change, touched=touched, now=now)


_PAYLOAD = json.JSONEncoder(ensure_ascii=False)
_PLAIN = re.compile(r'[ -~]*')
"""Printable ASCII: a JSON string of it is the text in quotes, unless it holds a quote or backslash."""


def push_payload(serial: str) -> str:
    """``json.dumps({"serial": serial}, ensure_ascii=False)``, written directly for a plain serial.

    >>> push_payload("C-1") == json.dumps({"serial": "C-1"}, ensure_ascii=False)
    True
    """
    if _PLAIN.fullmatch(serial) and '"' not in serial and "\\" not in serial:
        return f'{{"serial": "{serial}"}}'
    return _PAYLOAD.encode({"serial": serial})


def _queue_refreshes(tx: Tx, change: Change, *, touched: bool = True, now: int) -> None:
    """Queue the ``pass.refresh`` messages *change* calls for (see :func:`record_change`)."""
    for card_serial, voucher_serial, valid_from in _valid_later(change) if touched else ():
        payload = json.dumps({"card": card_serial, "voucher": voucher_serial}, ensure_ascii=False)
        tx.defer(
            "INSERT INTO outbox (topic, payload, created_at, available_at) VALUES (?, ?, ?, ?)",
            (PASS_REFRESH_TOPIC, payload, now, to_us(valid_from)),
        )
    # The card pass warns of lapsing stamps from then: update it then (programs without a warning
    # have nothing to compute).
    warn = change.card.stamps_warn_at if change.card.program.stamp_expiry.warn_days is not None else None
    if warn is not None and warn > change.at and (
        change.before is None or change.before.stamps_warn_at != warn
    ):
        tx.defer(
            "INSERT INTO outbox (topic, payload, created_at, available_at) VALUES (?, ?, ?, ?)",
            (PASS_REFRESH_TOPIC, json.dumps({"card": change.card.serial}), now, to_us(warn)),
        )


CARD_REGISTERED = "EXISTS (SELECT 1 FROM registrations WHERE registrations.serial = cards.serial) AS devices"
"""(PostgreSQL) Whether a card's pass has devices registered, as a card statement's RETURNING reads it."""
_RETURNING_DEVICES = (
    "RETURNING serial, EXISTS (SELECT 1 FROM registrations WHERE registrations.serial = pass_updates.serial)"
    " AS devices"
)


def card_mark_sql(position: str) -> tuple[str, str]:
    """What the card's own statement adds to mark its pass, given the engine's SQL for the journal
    position of the transition's last event (with one parameter: :attr:`Database.next_position`
    plus how many events after the next one it is, or :attr:`Database.position_sql`): the columns
    and values for its INSERT, and the assignments for its UPDATE (parameters: the change's time
    rounded up to whole seconds, twice for the UPDATE, then the position's parameter)."""
    return (
        f", pass_modified, pass_position) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, {position})",
        f", pass_modified = CASE WHEN pass_modified IS NULL OR ? > pass_modified THEN ?"
        f" ELSE pass_modified + 1000000 END, pass_position = {position}",
    )


_CARD_MARK = (
    "SELECT serial, serial, 'card', version, pass_modified, pass_position FROM cards"
    " WHERE serial = ? AND pass_position IS NOT NULL"
)
_REMARK_CARD = (
    "UPDATE cards SET pass_modified = CASE WHEN ? > pass_modified THEN ? ELSE pass_modified + 1000000 END,"
    " pass_position = ? WHERE serial = ? AND pass_position IS NOT NULL"
)
_REMARK_VOUCHER = (
    "UPDATE pass_updates SET last_modified = CASE WHEN ? > last_modified THEN ?"
    " ELSE last_modified + 1000000 END, update_position = ? WHERE serial = ?"
)
_MARK_SQL: dict[tuple[int, str], str] = {}
PUSH_WHERE_REGISTERED = (
    "INSERT INTO outbox (topic, payload, created_at, available_at) SELECT ?,"
    " jsonb_build_object('serial', serial)::text, ?, ? FROM changed WHERE devices"
)
"""(PostgreSQL) Queue ``apple.push`` for each pass in ``changed`` (``serial``, ``devices``) that has
devices registered; parameters: the topic, the created and available times. ``jsonb`` writes the
payload as ``json.dumps`` does (``{"serial": "C1"}``)."""


def _mark_sql(rows: int, position: str = "?") -> str:
    """The upsert marking *rows* passes (built once per row count and position): the one-second
    rule of :func:`next_last_modified` computed in SQL. *position*: the SQL of each row's position,
    with one parameter."""
    sql = _MARK_SQL.get((rows, position))
    if sql is None:
        sql = _MARK_SQL[rows, position] = (
            "INSERT INTO pass_updates (serial, card_serial, kind, version, last_modified, update_position)"
            " VALUES " + ", ".join([f"(?, ?, ?, ?, ?, {position})"] * rows)
            + " ON CONFLICT (serial) DO UPDATE SET version = excluded.version,"
            " last_modified = CASE WHEN excluded.last_modified > pass_updates.last_modified"
            " THEN excluded.last_modified ELSE pass_updates.last_modified + 1000000 END,"
            " update_position = excluded.update_position"
        )
    return sql


ActivityEffect = Callable[[PassActivity], Iterable[Message]]
"""A hook on device activity: given a ``card_saved`` / ``card_removed``, the outbox messages that must
follow it (e.g. a webhook), written in the same transaction as the activity row."""


def write_message(tx: Tx, message: Message, now: int, *, hook: str = "effects") -> None:
    """Insert *message* into the outbox inside *tx* (due at its ``available_at``, else *now*)."""
    if not isinstance(message, Message):
        raise ValidationError(
            "must return Message objects",
            field=hook,
            value=type(message).__name__,
            fix="return e.g. [Message(topic='apple.push', payload={...})] from the hook",
        )
    available = to_us(message.available_at) if message.available_at else now
    tx.run(
        "INSERT INTO outbox (topic, payload, created_at, available_at) VALUES (?, ?, ?, ?)",
        (message.topic, _compact(dict(message.payload)), now, available),
    )


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _compact(value: object) -> str:
    return _ENCODER.encode(value)


def _queue_push(tx: Tx, serial: str, at_us: int) -> None:
    """Queue ``apple.push`` for the pass *serial* if it has devices registered, decided by the server
    (PostgreSQL's transitions queue theirs in the statements that mark their passes instead)."""
    tx.run(
        "INSERT INTO outbox (topic, payload, created_at, available_at) SELECT ?, ?, ?, ?"
        " WHERE EXISTS (SELECT 1 FROM registrations WHERE serial = ?)",
        (PUSH_TOPIC, push_payload(serial), at_us, at_us, serial),
    )


def _valid_later(change: Change) -> tuple[tuple[str, str, datetime], ...]:
    """``(card serial, voucher serial, valid_from)`` of each voucher *change* issued that is not valid yet."""
    if not any(e.type is EventType.VOUCHER_ISSUED for e in change.events):
        return ()
    issued = {_voucher_serial(e.data["voucher"]) for e in change.events if e.type is EventType.VOUCHER_ISSUED}
    return tuple(
        (change.card.serial, v.serial, v.valid_from)
        for v in change.card.vouchers
        if v.serial in issued and v.valid_from > change.at
    )


class PassUpdates:
    """Registrations and update marks (``wallet.passes``); every method is one short transaction.

    The web service reaches it through :class:`walletvoucher.service.StorePassUpdates`.
    *activity_effects* are called with every ``card_saved`` / ``card_removed`` inside its transaction
    and return outbox messages (see :data:`ActivityEffect`).
    """

    def __init__(self, db: Database, *, activity_effects: Iterable[ActivityEffect] = ()) -> None:
        self._db = db
        self._activity_effects = tuple(activity_effects)

    def mark(self, serial: str) -> PassMark | None:
        """The current mark of *serial*, or None when no transition has marked it."""
        check_text(serial, "serial")
        with self._db.read() as tx:
            row = tx.one(
                "SELECT serial, card_serial, kind, version, last_modified, update_position"
                " FROM pass_updates WHERE serial = ?",
                (serial,),
            ) or tx.one(_CARD_MARK, (serial,))
        if row is None:
            return None
        return PassMark(
            serial=row[0], card_serial=row[1], kind=row[2], version=int(row[3]),
            last_modified=from_us(int(row[4])), position=int(row[5]),
        )  # fmt: skip

    def register(self, device: str, serial: str, push_token: str, *, at: datetime) -> bool:
        """Record a registration (or refresh its push token); True when it is new (``card_saved``)."""
        _check_registration(device, serial, push_token)
        now = to_us(at)
        try:
            with self._db.write() as tx:
                tx.run(
                    "INSERT INTO registrations (device, serial, push_token, created) VALUES (?, ?, ?, ?)",
                    (device, serial, push_token, now),
                )
                self._log(tx, CARD_SAVED, serial, device, now, "")
            return True
        except UniqueViolation:
            with self._db.write() as tx:
                tx.run(
                    "UPDATE registrations SET push_token = ? WHERE device = ? AND serial = ?",
                    (push_token, device, serial),
                )
            return False

    def unregister(self, device: str, serial: str, *, at: datetime, reason: str = "device") -> bool:
        """Delete a registration; True if there was one (``card_removed``)."""
        check_text(device, "device")
        check_text(serial, "serial")
        with self._db.write() as tx:
            gone = tx.run("DELETE FROM registrations WHERE device = ? AND serial = ?", (device, serial))
            if gone:
                self._log(tx, CARD_REMOVED, serial, device, to_us(at), reason)
        return gone > 0

    def remove_push_token(self, push_token: str, *, at: datetime, reason: str = "apns") -> int:
        """Delete every registration using a dead push token; return how many (each ``card_removed``)."""
        check_text(push_token, "push_token")
        with self._db.write() as tx:
            rows = tx.rows(
                "SELECT device, serial FROM registrations WHERE push_token = ? ORDER BY device, serial",
                (push_token,),
            )
            tx.run("DELETE FROM registrations WHERE push_token = ?", (push_token,))
            for device, serial in rows:
                self._log(tx, CARD_REMOVED, serial, device, to_us(at), reason)
        return len(rows)

    def refresh(self, message: OutboxMessage, at: datetime) -> None:
        """The outbox handler of :data:`PASS_REFRESH_TOPIC`: re-mark the passes of a voucher now valid.

        The card's pass and the voucher's own pass (when marked) get a new position, so devices
        asking "what changed since" see them, and a ``last_modified`` at or after *at* (the one-second
        rule), so the render and the HTTP cache show the voucher valid; the card version stays. Pushes
        are queued for the devices registered, as a transition would.
        """
        payload: Mapping[str, Any] = message.payload
        serials = [(k, str(payload[k])) for k in ("card", "voucher") if isinstance(payload.get(k), str)]
        at_us = ceil_second_us(to_us(at))
        with self._db.write() as tx:
            position = self._db.take_position(tx)  # ordered for followers as the journal's are
            for key, serial in serials:
                marked = tx.run(
                    (_REMARK_CARD if key == "card" else _REMARK_VOUCHER), (at_us, at_us, position, serial)
                )
                if marked:
                    _queue_push(tx, serial, to_us(at))

    def updated_since(self, device: str, since: int | None) -> tuple[tuple[str, ...], int]:
        """The serials *device* registered whose position is above *since*, and the highest position."""
        check_text(device, "device")
        if since is not None and (not isinstance(since, int) or not 0 <= since <= MAX_POSITION):
            raise ValidationError("must be a position from 0 to 2**63 - 1, or None", field="since",
                                  value=since, fix="pass the lastUpdated a previous call returned")
        floor = -1 if since is None else since
        with self._db.read() as tx:
            rows = tx.rows(
                "SELECT serial, position FROM (SELECT p.serial AS serial, p.update_position AS position"
                " FROM registrations r JOIN pass_updates p ON p.serial = r.serial"
                " WHERE r.device = ? AND p.update_position > ?"
                + self._db.settled("p.update_position")
                + " UNION ALL SELECT c.serial, c.pass_position FROM registrations r JOIN cards c"
                " ON c.serial = r.serial WHERE r.device = ? AND c.pass_position > ?"
                + self._db.settled("c.pass_position")
                + ") marks ORDER BY position, serial",
                (device, floor, device, floor),
            )
        last = int(rows[-1][1]) if rows else max(floor, 0)
        return tuple(str(r[0]) for r in rows), last

    def push_tokens(self, serial: str) -> tuple[str, ...]:
        """The distinct push tokens of the devices registered for *serial*."""
        check_text(serial, "serial")
        with self._db.read() as tx:
            rows = tx.rows(
                "SELECT DISTINCT push_token FROM registrations WHERE serial = ? ORDER BY push_token",
                (serial,),
            )
        return tuple(str(r[0]) for r in rows)

    def registered(self, serial: str) -> int:
        """How many devices are registered for *serial*."""
        check_text(serial, "serial")
        with self._db.read() as tx:
            row = tx.one("SELECT COUNT(*) FROM registrations WHERE serial = ?", (serial,))
        return int(row[0]) if row else 0

    def activity(self, since: int = 0, *, limit: int = 1000) -> tuple[PassActivity, ...]:
        """``card_saved`` / ``card_removed`` after position *since*, in order (follow it by position)."""
        _checks.position(since)
        _checks.limit(limit)
        with self._db.read() as tx:
            rows = tx.rows(
                "SELECT position, type, serial, device, at, reason FROM pass_activity WHERE position > ?"
                + self._db.settled("position")
                + " ORDER BY position LIMIT ?",
                (since, limit),
            )
        return tuple(
            PassActivity(position=int(r[0]), type=r[1], serial=r[2], device=r[3], at=from_us(int(r[4])),
                         reason=r[5])
            for r in rows
        )  # fmt: skip

    def _log(self, tx: Tx, kind: str, serial: str, device: str, at_us: int, reason: str) -> None:
        position = self._db.insert_activity(tx, (kind, serial, device, at_us, reason))
        if not self._activity_effects:
            return
        activity = PassActivity(position=position, type=kind, serial=serial, device=device,
                                at=from_us(at_us), reason=reason)
        for hook in self._activity_effects:
            for message in hook(activity):
                write_message(tx, message, at_us, hook="activity_effects")


def _check_registration(device: str, serial: str, push_token: str) -> None:
    check_text(device, "device")
    check_text(serial, "serial")
    check_text(push_token, "push_token")
