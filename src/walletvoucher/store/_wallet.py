"""The wallet: load → decide → append → commit, one transaction per transition, on either engine.

Every write goes through :meth:`Wallet._transition`: inside one write transaction it checks the
idempotency key, loads the card (cache or snapshot, then the events after it), lets the model decide
(drawing pool codes in the same transaction), appends the events only if the card is still at the
version it was loaded at, updates the voucher and snapshot tables, writes the effect hooks' outbox
messages and the idempotency record, and commits. A version conflict rolls everything back (codes
included) and retries with a fresh load, a bounded number of times.
"""

from __future__ import annotations

import hashlib
import json
import os
import random as _random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from walletvoucher.codes import RandomSource
from walletvoucher.errors import (
    DuplicateSerial,
    IdempotencyKeyReused,
    ReplayError,
    StaleVersion,
    StoreError,
    UnknownCard,
    UnknownVoucher,
    ValidationError,
    WalletVoucherError,
)
from walletvoucher.model import (
    CodeEntry,
    Event,
    EventType,
    Money,
    Program,
    Proof,
    SelfRedeem,
    StaffScan,
    StampCard,
    StampResult,
    Voucher,
    VoucherResult,
    VoucherStatus,
    fold,
    replay,
)
from walletvoucher.model._events import event_from_text
from walletvoucher.store import _checks, _snapshot
from walletvoucher.store._access import Access
from walletvoucher.store._details import CardDetails
from walletvoucher.store._engine import Conflict, Database, Row, Tx, UniqueViolation
from walletvoucher.store._google import GoogleRecords
from walletvoucher.store._outbox import Outbox
from walletvoucher.store._passes import (
    CARD_REGISTERED,
    PUSH_TOPIC,
    PUSH_WHERE_REGISTERED,
    ActivityEffect,
    PassUpdates,
    card_mark_sql,
    ceil_second_us,
    record_change,
    write_message,
)
from walletvoucher.store._pools import CodePools, PoolCodes
from walletvoucher.store._programs import ProgramRegistry
from walletvoucher.store._rules import due_cards, rule_columns
from walletvoucher.store._schema import migrate
from walletvoucher.store._types import (
    CardInfo,
    CardToImport,
    Change,
    Counts,
    Effect,
    ImportReport,
    JournalEntry,
    Message,
    from_us,
    to_us,
)
from walletvoucher.store._url import connect

#: Most punches one :meth:`Wallet.punch` takes at once.
MAX_PUNCHES = 1000

_NONE: Mapping[str, Any] = MappingProxyType({})
"""The request of a call without an idempotency key (never compared with another)."""
_VOUCHER_EVENT_TYPES = frozenset(
    t.value for t in (EventType.VOUCHER_ISSUED, EventType.VOUCHER_REDEEMED, EventType.VOUCHER_EXPIRED,
                      EventType.VOUCHER_VOIDED)
)  # fmt: skip
"""The events that change a voucher (compared by value: an enum member hashes in Python code)."""
_FINAL_STATE = {
    EventType.VOUCHER_REDEEMED: "redeemed",
    EventType.VOUCHER_EXPIRED: "expired",
    EventType.VOUCHER_VOIDED: "voided",
}


@attrs.frozen(kw_only=True)
class _Decision:
    card: StampCard
    events: tuple[Event, ...]
    result: Any
    finals: Mapping[str, Voucher] = attrs.field(factory=dict)
    voucher: Voucher | None = None


Decide = Callable[[Tx, "StampCard | None"], _Decision]
_Rules = tuple[int, "int | None", "int | None"]
"""A card row's version with the rule columns written at it (``stamps_lapse_at``, ``expires_at``)."""
_UPDATE_CARD = {
    (keep_lapse, keep_ends): "UPDATE cards SET version = ?, program_version = ?, updated_at = ?"
    + ("" if keep_lapse else ", stamps_lapse_at = ?")
    + ("" if keep_ends else ", expires_at = ?")
    + " WHERE serial = ? AND version = ?"
    for keep_lapse in (False, True)
    for keep_ends in (False, True)
}
"""The version-checked UPDATE of a card, leaving out the rule columns it already holds."""
_INSERT_CARD = (
    "INSERT INTO cards (serial, member_id, program_id, program_version, version, last_position,"
    " issued_at, updated_at, stamps_lapse_at, expires_at"
)


def _marking(db: Database) -> tuple[str, dict[tuple[bool, bool], str]]:
    """The INSERT and UPDATEs of a card that also mark its own pass (see :func:`card_mark_sql`), for
    an engine that can tell the position of the transition's last event before inserting it or one
    that defers its writes (every engine does one or the other). The last parameter of the mark is
    that position's number: on SQLite how many events after the next one it is, on an engine that
    defers writes the number :meth:`Database.claim` gave it. There the statements return nothing
    (they travel with ``COMMIT``) and the server checks that the UPDATE found the card at the
    version it was loaded at."""
    if db.defers_writes:  # parameters after the card's: the push topic and times (PUSH_WHERE_REGISTERED)
        values, assignments = card_mark_sql(db.position_sql)
        returning, push = f" RETURNING serial, {CARD_REGISTERED}", PUSH_WHERE_REGISTERED
        updates = {
            key: db.expect(sql.replace(" WHERE", assignments + " WHERE") + returning, 1, then=push)
            for key, sql in _UPDATE_CARD.items()
        }
        return db.expect(_INSERT_CARD + values + returning, 1, then=push), updates
    if not db.next_position:
        raise TypeError(f"the {db.dialect} engine tells neither positions ahead nor defers its writes")
    values, assignments = card_mark_sql(f"{db.next_position} + 1 + ?")
    updates = {key: sql.replace(" WHERE", assignments + " WHERE") for key, sql in _UPDATE_CARD.items()}
    return _INSERT_CARD + values, updates


_Fetched = tuple[int, "list[Row]", "Row | None"]
"""A card's stored events read ahead: ``(after, rows, snapshot)``, every stored event after version
*after* up to the card's version as ``(version, data)``, and, when *after* is 0, the card's snapshot
row ``(version, data)`` (None: none stored, or not read)."""
Locate = Callable[[Tx], "tuple[str, int | None, _Fetched | None]"]
"""Finds the card a transition is for inside its transaction: its serial and, when the same statement
could read them, its version (None: read it with the card) and its events (None: read them)."""


class _StaleCache(Conflict):
    """The card this wallet had cached moved on (another process wrote it): decide again on a fresh load."""


class Wallet:
    """Cards, vouchers and codes kept consistent across processes (SQLite or PostgreSQL).

    Open one per process (it holds one connection; it is not shared between threads)::

        wallet = Wallet.open("sqlite:///wallet.db", programs=[coffee])
        card = wallet.issue_card("coffee", serial="CARD-1", member_id="m-42", at=now)
        result = wallet.stamp("CARD-1", 3, at=now, source="till-1", idempotency_key="till-1/7781")
    """

    def __init__(
        self,
        db: Database,
        *,
        programs: Iterable[Program],
        effects: Iterable[Effect] = (),
        random: RandomSource | None = None,
        retries: int = 30,
        snapshot_every: int = 100,
        cache_size: int = 1024,
        activity_effects: Iterable[ActivityEffect] = (),
    ) -> None:
        self._db = db
        self._programs = programs if isinstance(programs, ProgramRegistry) else ProgramRegistry(programs)
        self._effects = tuple(effects)
        self._random = random
        self._retries = retries
        self._snapshot_every = snapshot_every if _snapshot.supported() else 0
        self._marking = _marking(db)
        """The card's statements that also mark its pass, where the engine knows positions ahead."""
        self._cache: OrderedDict[str, tuple[StampCard, int]] = OrderedDict()
        self._cache_size = cache_size
        self._rules: OrderedDict[str, _Rules] = OrderedDict()
        """``(version, stamps_lapse_at, expires_at)`` of card rows this wallet committed (see _append)."""
        self._jitter = _random.Random(os.getpid())  # retry backoff only; never reaches stored data
        self.conflicts = 0
        """How many times a transition of this wallet lost a race and was retried (for monitoring)."""
        self.pools = CodePools(db)
        """Code pools: import POS codes, read how many are left."""
        self.outbox = Outbox(db)
        """Messages the effect hooks wrote, for a worker to claim, complete or retry."""
        self.passes = PassUpdates(db, activity_effects=activity_effects)
        """Pass update marks and device registrations (what the Apple web service reads and writes)."""
        self.google = GoogleRecords(db)
        """The Google sync's bookkeeping: classes inserted, notifications per pass."""
        self.access = Access(db)
        """API keys, staff devices and kiosks (hashed), and the rotating-code steps accepted."""
        self.details = CardDetails(db)
        """What customers chose to give when joining (personal data; never logged)."""

    @classmethod
    def open(
        cls,
        url: str | os.PathLike[str],
        *,
        programs: Iterable[Program],
        effects: Iterable[Effect] = (),
        random: RandomSource | None = None,
        retries: int = 30,
        snapshot_every: int = 100,
        at: datetime | None = None,
        activity_effects: Iterable[ActivityEffect] = (),
    ) -> Wallet:
        """Connect, create or migrate the schema, and return the wallet.

        *url*: ``"sqlite:///wallet.db"`` (or a path) or ``"postgresql://user@host/db"`` (needs the
        ``postgres`` extra). *programs*: every program version the cards use. *effects*: hooks called
        in each transition's transaction that return outbox messages. *random*: the source of
        generated redeem codes (per call ``random=`` overrides it). *retries*: how many times a
        transition that lost a race is retried before :class:`~walletvoucher.errors.StaleVersion`.
        *snapshot_every*: store a snapshot each time a card's version crosses a multiple of this,
        and when a stamp issues a voucher (0: never write or read snapshots; either way a load checks
        every event, those a snapshot covers against its digest). *at*: the time recorded for
        schema migrations (defaults to the epoch, keeping the core clock-free). *activity_effects*:
        hooks called when a device saves or removes a pass (``card_saved`` / ``card_removed``), in
        that transaction, returning outbox messages.
        """
        db = connect(url)
        try:
            migrate(db, at_us=to_us(at) if at is not None else 0)
        except BaseException:
            db.close()
            raise
        return cls(
            db,
            programs=programs,
            effects=effects,
            random=random,
            retries=retries,
            snapshot_every=snapshot_every,
            activity_effects=activity_effects,
        )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Wallet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgres"``."""
        return self._db.dialect

    # --- transitions -----------------------------------------------------------------------

    def issue_card(
        self,
        program: Program | str,
        *,
        serial: str,
        member_id: str,
        at: datetime,
        idempotency_key: str | None = None,
    ) -> StampCard:
        """Issue and store a new card; a serial already stored raises :class:`DuplicateSerial`."""
        chosen = self._program(program)
        _serial(serial)
        _checks.text(member_id, "member_id", fix="pass the member's id as text, e.g. 'm-42'")

        def decide(tx: Tx, before: StampCard | None) -> _Decision:
            card, events = StampCard.issue(chosen, serial=serial, member_id=member_id, at=at)
            return _Decision(card=card, events=events, result=card)

        request: Mapping[str, Any] = _NONE
        if idempotency_key is not None:
            request = {"program": [chosen.id, chosen.version], "member_id": member_id}
        result: StampCard = self._transition(
            "issue", serial, decide, at=at, key=idempotency_key, request=request
        )
        return result

    def stamp(
        self,
        serial: str,
        count: int = 1,
        *,
        at: datetime,
        source: str = "staff",
        pool: str | None = None,
        random: RandomSource | None = None,
        idempotency_key: str | None = None,
    ) -> StampResult:
        """Add stamps to a stored card (see :meth:`StampCard.add_stamps`).

        Redeem Code programs take their vouchers' codes from the stored *pool* when one is named,
        otherwise generate them from *random* (or the wallet's ``random``).
        """
        _serial(serial)
        _checks.text(source, "source", fix="name who stamped as text, e.g. 'till-1'", empty=True)
        _checks.optional_text(pool, "pool", fix="name an imported pool, e.g. 'pos-2026-05'")

        def decide(tx: Tx, before: StampCard | None) -> _Decision:
            assert before is not None
            codes = PoolCodes(tx, self._db, pool, taken_by=serial, at_us=to_us(at)) if pool else None
            r = before.add_stamps(count, at=at, source=source, codes=codes, random=random or self._random)
            return _Decision(card=r.card, events=r.events, result=r)

        # What a repeated request is compared on (only a request with a key is ever repeated).
        request = {"count": count, "source": source, "pool": pool} if idempotency_key is not None else _NONE
        result: StampResult = self._transition(
            "stamp", serial, decide, at=at, key=idempotency_key, request=request
        )
        return result

    def purchase(
        self,
        serial: str,
        amount: Money,
        *,
        at: datetime,
        source: str = "till",
        pool: str | None = None,
        random: RandomSource | None = None,
        idempotency_key: str | None = None,
    ) -> StampResult:
        """Record a purchase on a stored card that earns by amount (see :meth:`StampCard.add_purchase`);
        codes for the vouchers it issues come as in :meth:`stamp`."""

        def decide(tx: Tx, before: StampCard | None) -> _Decision:
            assert before is not None
            codes = PoolCodes(tx, self._db, pool, taken_by=serial, at_us=to_us(at)) if pool else None
            r = before.add_purchase(amount, at=at, source=source, codes=codes, random=random or self._random)
            return _Decision(card=r.card, events=r.events, result=r)

        shown = [str(amount.amount), amount.currency] if isinstance(amount, Money) else repr(amount)[:80]
        request = {"amount": shown, "source": source, "pool": pool}
        result: StampResult = self._transition(
            "purchase", serial, decide, at=at, key=idempotency_key, request=request
        )
        return result

    def punch(
        self, serial: str, *, at: datetime, source: str = "staff", idempotency_key: str | None = None,
        count: int = 1,
    ) -> StampCard:
        """Take *count* punches (one by default) of a stored prepaid card, all or none (see
        :meth:`StampCard.use_punch`: one ``punch_used`` event each)."""
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_PUNCHES:
            raise ValidationError(f"must be a whole number from 1 to {MAX_PUNCHES}", field="count",
                                  value=repr(count)[:40], fix="take one punch per item, e.g. count=1")

        def decide(tx: Tx, before: StampCard | None) -> _Decision:
            assert before is not None
            card: StampCard = before
            events: tuple[Event, ...] = ()
            for _ in range(count):
                card, more = card.use_punch(at=at, source=source)
                events = (*events, *more)
            return _Decision(card=card, events=events, result=card)

        request: dict[str, Any] = {"source": source} if count == 1 else {"source": source, "count": count}
        result: StampCard = self._transition(
            "punch", serial, decide, at=at, key=idempotency_key, request=request
        )
        return result

    def redeem(
        self, voucher_serial: str, proof: Proof, *, at: datetime, idempotency_key: str | None = None,
        location: str | None = None, channel: str | None = None,
    ) -> VoucherResult:
        """Redeem a stored voucher, once: a second redemption raises ``VoucherAlreadyRedeemed``.

        *location* and *channel* say where (the reward's redemption context checks them)."""
        _voucher_serial(voucher_serial)
        facts = _proof_facts(proof)
        where = {k: v for k, v in (("location", location), ("channel", channel)) if v is not None}
        return self._voucher_transition(
            "redeem", voucher_serial,
            lambda card: card.redeem(voucher_serial, proof, at=at, location=location, channel=channel),
            lambda voucher: voucher.redeem(proof, at=at),
            {"voucher": voucher_serial, "proof": facts, **where}, at=at, key=idempotency_key,
        )

    def void(
        self, voucher_serial: str, reason: str, *, at: datetime, idempotency_key: str | None = None
    ) -> VoucherResult:
        """Void a stored voucher (fraud, refund, mistake)."""
        _voucher_serial(voucher_serial)
        _checks.text(reason, "reason", fix="say why the voucher is voided, e.g. 'refund'")
        return self._voucher_transition(
            "void", voucher_serial, lambda card: card.void_voucher(voucher_serial, reason, at=at),
            lambda voucher: voucher.void(reason, at=at),
            {"voucher": voucher_serial, "reason": reason}, at=at, key=idempotency_key,
        )

    def _voucher_transition(
        self, action: str, voucher_serial: str, on_card: Callable[[StampCard], VoucherResult],
        on_final: Callable[[Voucher], object], request: dict[str, Any], *, at: datetime, key: str | None,
    ) -> VoucherResult:
        """One transition of a voucher found through its card. A voucher no longer on the card is
        final: *on_final* lets the model say why it cannot be used again (already redeemed, voided)."""

        def decide(tx: Tx, before: StampCard | None) -> _Decision:
            assert before is not None
            try:
                r = on_card(before)
            except UnknownVoucher:
                _raise_from_final(tx, voucher_serial, on_final)
                raise
            return _Decision(
                card=r.card, events=r.events, result=r, finals={voucher_serial: r.voucher}, voucher=r.voucher
            )

        result: VoucherResult = self._transition(
            action, self._by_voucher(voucher_serial), decide, at=at, key=key, request=request
        )
        return result

    def expire_due(
        self, *, at: datetime, batch: int = 200, progress: Callable[[int], object] | None = None
    ) -> tuple[Event, ...]:
        """Expire every stored voucher whose validity has ended by *at*, take away every card's stamps
        that have lapsed by then (``stamps_expired``) and record every card whose own validity has
        ended (``card_expired``); return the events written.

        Cards are read *batch* at a time (by serial, so memory stays flat however many are due) and
        each batch is expired in one transaction (one card per transaction again if another writer
        changed one of them meanwhile). *progress* is called with the number of cards done after
        each batch. Over a very large store, prefer :meth:`expire_due_count`, which keeps no events.
        """
        events: list[Event] = []
        self._expire_batches(at, batch, progress, events.extend)
        return tuple(events)

    def expire_due_count(
        self, *, at: datetime, batch: int = 200, progress: Callable[[int], object] | None = None
    ) -> int:
        """:meth:`expire_due` for the command line: how many vouchers expired, in flat memory."""
        counted = [0]

        def count(events: tuple[Event, ...]) -> None:
            counted[0] += sum(1 for e in events if e.type is EventType.VOUCHER_EXPIRED)

        self._expire_batches(at, batch, progress, count)
        return counted[0]

    def _expire_batches(
        self,
        at: datetime,
        batch: int,
        progress: Callable[[int], object] | None,
        sink: Callable[[tuple[Event, ...]], object],
    ) -> None:
        due, after, done = to_us(at), "", 0
        size = _checks.whole(batch, "batch", low=1, high=10_000, fix="e.g. 200")
        while True:
            with self._db.read() as tx:
                serials = due_cards(tx, due, after, size)
            if not serials:
                return
            for result in self._many("expire", [(s, _decide_expiry(at)) for s in serials], at):
                sink(result)
            after, done = serials[-1], done + len(serials)
            if progress is not None:
                progress(done)

    def import_cards(
        self,
        cards: Iterable[CardToImport],
        *,
        program: Program | str,
        at: datetime,
        batch: int = 1000,
        progress: Callable[[int], object] | None = None,
    ) -> ImportReport:
        """Store existing cards with the stamps they hold (a merchant moving from paper or another
        product), *batch* cards per transaction, reading *cards* as it goes (memory stays flat).

        Each card is issued at *at* on its ``program`` (default *program*) and given its stamps at
        *at*, as :meth:`issue_card` and :meth:`stamp` would (passes are marked, effect hooks run with
        action ``"issue"``). Serials already stored are skipped and counted, so an interrupted import
        can be run again. *progress* is called with the number of cards read after each batch.
        """
        default = self._program(program)
        size = _checks.whole(batch, "batch", low=1, high=100_000, fix="e.g. 1000")
        imported = skipped = read = 0
        chunk: list[CardToImport] = []
        for card in cards:
            chunk.append(card)
            if len(chunk) == size:
                done = self._import_chunk(chunk, default, at)
                imported, skipped, read = imported + done, skipped + len(chunk) - done, read + len(chunk)
                chunk = []
                if progress is not None:
                    progress(read)
        if chunk:
            done = self._import_chunk(chunk, default, at)
            imported, skipped, read = imported + done, skipped + len(chunk) - done, read + len(chunk)
            if progress is not None:
                progress(read)
        return ImportReport(imported=imported, skipped=skipped)

    def _import_chunk(self, chunk: list[CardToImport], default: Program, at: datetime) -> int:
        decisions: dict[str, _Decision] = {}
        for item in chunk:
            if not isinstance(item, CardToImport):
                raise ValidationError(
                    "must be CardToImport objects", field="cards", value=type(item).__name__,
                    fix="pass CardToImport(serial=..., member_id=..., stamps=...) items",
                )  # fmt: skip
            _serial(item.serial)
            _checks.text(item.member_id, "member_id", fix="pass the member's id as text, e.g. 'm-42'")
            chosen = default if item.program is None else self._program(item.program)
            if item.serial in decisions:
                continue
            card, events = StampCard.issue(chosen, serial=item.serial, member_id=item.member_id, at=at)
            if _checks.whole(item.stamps, "stamps", fix="give the stamps the card holds (0 or more)"):
                r = card.add_stamps(item.stamps, at=at, source="import", random=self._random)
                card, events = r.card, events + r.events
            decisions[item.serial] = _Decision(card=card, events=events, result=card)
        for attempt in range(self._retries + 1):
            try:
                with self._db.write() as tx:
                    stored = _stored_serials(tx, list(decisions))
                    fresh = [(s, d) for s, d in decisions.items() if s not in stored]
                    for _, decision in fresh:
                        self._append(tx, "issue", None, 0, decision, at, to_us(at))
                return len(fresh)
            except (Conflict, UniqueViolation):  # another process issued one of these meanwhile
                self._lost_race("", attempt)
        raise StaleVersion("kept conflicting with other writers", field="cards", value=len(chunk),
                           fix="run the import again: cards already stored are skipped")

    def _many(self, action: str, work: list[tuple[str, Decide]], at: datetime) -> list[Any]:
        """Several transitions of distinct cards in one write transaction (one commit for all); if
        another writer changed one of them meanwhile, each again in a transaction of its own."""
        try:
            done = []
            with self._db.write() as tx:
                for serial, decide in work:
                    before, version = self._load(tx, serial)
                    decision = decide(tx, before)
                    rules = self._append(tx, action, before, version, decision, at, to_us(at))
                    done.append((serial, decision, version + len(decision.events), rules))
        except Conflict:
            self.conflicts += 1
            return [self._transition(action, s, d, at=at, key=None, request={}) for s, d in work]
        for serial, decision, version, rules in done:
            self._remember(serial, decision.card, version, rules)
        return [decision.result for _, decision, _, _ in done]

    def change_program(self, serial: str, program: Program, *, at: datetime) -> StampCard:
        """Move a stored card to a newer (registered) version of its program, from its next cycle."""
        _serial(serial)
        if not isinstance(program, Program):
            raise _not_a_program(program)
        chosen = self._programs.check(program)

        def decide(tx: Tx, before: StampCard | None) -> _Decision:
            assert before is not None
            card, events = before.change_program(chosen, at=at)
            return _Decision(card=card, events=events, result=card)

        result: StampCard = self._transition("change_program", serial, decide, at=at, key=None, request={})
        return result

    def _program(self, program: object) -> Program:
        if isinstance(program, str):
            return self._programs.get(program)
        if isinstance(program, Program):
            return self._programs.check(program)
        raise _not_a_program(program)

    # --- queries -----------------------------------------------------------------------------

    def card(self, serial: str, *, version: int | None = None) -> StampCard:
        """The stored card with this serial, as of the last commit (or as it was at *version*)."""
        _serial(serial)
        with self._db.read() as tx:
            card, current = self._load(tx, serial)
            if version is not None and version != current:
                if not isinstance(version, int) or not 1 <= version < current:
                    raise ValidationError(
                        f"must be a version the card has had (1 to {current})",
                        field="version",
                        value=version,
                        fix="pass a version from wallet.card_info(serial).version or a pass update mark",
                    )
                return self._rebuild_without_cache(tx, serial, version)
        self._remember(serial, card, current)
        return card

    def card_info(self, serial: str) -> CardInfo:
        """The card's bookkeeping: version and the global position of its last event."""
        _serial(serial)
        with self._db.read() as tx:
            row = tx.one(
                "SELECT serial, member_id, program_id, program_version, version, (SELECT position FROM events"
                " WHERE events.serial = cards.serial ORDER BY version DESC LIMIT 1), updated_at"
                " FROM cards WHERE serial = ?",
                (serial,),
            )
        if row is None:
            raise _unknown_card(serial)
        return CardInfo(
            serial=row[0], member_id=row[1], program_id=row[2], program_version=int(row[3]),
            version=int(row[4]), last_position=int(row[5]), updated_at=from_us(int(row[6])),
        )  # fmt: skip

    def cards_of(self, member_id: str) -> tuple[StampCard, ...]:
        """Every stored card of a member, by serial."""
        _checks.text(member_id, "member_id", fix="pass the member's id as text, e.g. 'm-42'")
        with self._db.read() as tx:
            serials = [
                str(r[0])
                for r in tx.rows("SELECT serial FROM cards WHERE member_id = ? ORDER BY serial", (member_id,))
            ]
            return tuple(self._load(tx, s)[0] for s in serials)

    def vouchers(
        self,
        status: VoucherStatus | None = None,
        *,
        at: datetime | None = None,
        expires_from: datetime | None = None,
        expires_before: datetime | None = None,
        card_serial: str | None = None,
        limit: int = 1000,
    ) -> tuple[Voucher, ...]:
        """Stored vouchers, by serial, filtered by status and an expiry window ``[from, before)``.

        ``REDEEMED``, ``VOIDED`` and ``EXPIRED`` are the recorded final states (run :meth:`expire_due`
        to record expiries). ``ACTIVE`` and ``ISSUED`` depend on the time and need *at*: open vouchers
        valid at *at*, or not valid yet. *status* may be given as its value (``"redeemed"``).
        """
        status = _status(status)
        _checks.limit(limit)
        _checks.optional_text(card_serial, "card_serial", fix="pass a card's serial, e.g. 'CARD-1'")
        where, params = _voucher_filter(status, at, expires_from, expires_before, card_serial)
        with self._db.read() as tx:
            rows = tx.rows(
                f"SELECT data FROM vouchers WHERE {where} ORDER BY serial LIMIT ?", (*params, limit)
            )
        return tuple(Voucher.from_json(json.loads(r[0])) for r in rows)

    def voucher(self, serial: str) -> Voucher:
        """The stored voucher *serial* as last recorded (open ones: as issued; see :meth:`card`).

        Raises :class:`~walletvoucher.errors.UnknownVoucher` when none is stored.
        """
        _voucher_serial(serial)
        with self._db.read() as tx:
            row = tx.one("SELECT data FROM vouchers WHERE serial = ?", (serial,))
        if row is None:
            raise UnknownVoucher("is not stored", field="voucher", value=serial[:80],
                                 fix="check the serial (vouchers are named <card serial>-<number>)")
        return Voucher.from_json(json.loads(row[0]))

    def journal(self, since: int = 0, *, limit: int = 1000) -> tuple[JournalEntry, ...]:
        """Stored events after global position *since*, in position order (follow it by position:
        pass the last entry's ``position`` as the next *since*; no event committed later is ever
        below it). Positions increase but are not consecutive; on PostgreSQL they are large numbers
        (derived from transaction ids) and an event becomes readable once every transaction older
        than its own has ended."""
        _checks.position(since)
        _checks.limit(limit)
        with self._db.read() as tx:
            rows = tx.rows(
                "SELECT position, version, data FROM events WHERE position > ?"
                + self._db.settled("position")
                + " ORDER BY position LIMIT ?",
                (since, limit),
            )
        return tuple(
            JournalEntry(position=int(r[0]), version=int(r[1]), event=Event.from_json(json.loads(r[2])))
            for r in rows
        )

    def counts(self) -> Counts:
        """How many cards, events, vouchers (by state), pending outbox messages and free codes."""
        with self._db.read() as tx:

            def one(sql: str) -> int:
                return int((tx.one(sql) or (0,))[0])

            states = {
                str(r[0]): int(r[1]) for r in tx.rows("SELECT state, COUNT(*) FROM vouchers GROUP BY state")
            }
            return Counts(
                cards=one("SELECT COUNT(*) FROM cards"),
                events=one("SELECT COUNT(*) FROM events"),
                vouchers=states,
                outbox_pending=one("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL"),
                codes_remaining=one("SELECT COUNT(*) FROM pool_codes WHERE taken_by IS NULL"),
            )

    def snapshot(self, serial: str) -> int:
        """Store a snapshot of the card now; return the version it was taken at."""
        _serial(serial)
        with self._db.write() as tx:
            card, version = self._load(tx, serial)
            self._write_snapshot(tx, card, version)
        return version

    # --- the transaction ------------------------------------------------------------------------

    def _transition(
        self,
        action: str,
        locate: str | Locate,
        decide: Decide,
        *,
        at: datetime,
        key: str | None,
        request: Mapping[str, Any],
    ) -> Any:
        now = to_us(at)
        if key is not None:
            _check_key(key)
        fingerprint = _fingerprint(action, locate, request) if key is not None else ""
        for attempt in range(self._retries + 1):
            serial = locate if isinstance(locate, str) else ""
            cached: tuple[StampCard, int] | None = None
            try:
                with self._db.write() as tx:
                    if key is not None:
                        stored = self._claim_key(tx, key, fingerprint, at)
                        if stored is not None:
                            return self._replayed(tx, stored)
                    serial, known, fetched = (locate, None, None) if isinstance(locate, str) else locate(tx)
                    cached = self._cache.get(serial) if action != "issue" and attempt == 0 else None
                    if cached is not None and known is not None and cached[1] != known:
                        cached = None  # the version read with the serial says the cache is stale
                    if action == "issue":
                        before, version = None, 0
                    elif cached is not None:  # trusted until the version check of the append
                        before, version = cached
                    else:
                        before, version = self._load(tx, serial, known, fetched)
                    try:
                        decision = decide(tx, before)
                    except WalletVoucherError as exc:  # the model's refusal (not the database's)
                        if (
                            cached is not None
                            and not isinstance(exc, StoreError)
                            and self._version(tx, serial) != version
                        ):
                            raise _StaleCache(serial) from None  # decided on an older card: again
                        raise
                    if key is not None:
                        self._store_result(tx, key, action, serial, version, decision)
                    rules = self._append(tx, action, before, version, decision, at, now)
            except (Conflict, UniqueViolation) as exc:
                if isinstance(exc, UniqueViolation) and exc.what.startswith(("cards", "vouchers")):
                    raise _duplicate(serial, exc.what) from None
                if cached is not None:  # another process moved the card: reload it, no need to wait
                    self._cache.pop(serial, None)
                    continue
                self._lost_race(serial, attempt)
                continue
            self._remember(serial, decision.card, version + len(decision.events), rules)
            return decision.result
        raise StaleVersion(
            f"kept changing through {self._retries} retries",
            field="card",
            value=serial or None,
            fix="the card is under heavy contention: retry the call later, or raise Wallet.open(retries=...)",
        )

    def _by_voucher(self, voucher_serial: str) -> Locate:
        """Find a voucher's card, with the card's version, snapshot and events, in one statement.

        The events come from after the version this wallet has cached for the card the voucher's
        serial names (vouchers are numbered after their card, ``CARD-1-3``), otherwise from the
        first, with the card's snapshot (a load checks every event, those the snapshot covers
        against its digest). A serial that names another card only costs the events read ahead,
        never correctness: they are the located card's own, used only when they start where its load
        starts.
        """
        guess = self._cache.get(voucher_serial.rsplit("-", 1)[0])
        after = guess[1] if guess is not None else 0
        snapshot = not after and self._snapshot_every > 0

        def locate(tx: Tx) -> tuple[str, int | None, _Fetched | None]:
            rows = tx.rows(_LOCATE[snapshot], (voucher_serial, voucher_serial, voucher_serial, after)
                           if snapshot else (voucher_serial, voucher_serial, after))  # fmt: skip
            if not rows or rows[0][0] != 0:
                raise UnknownVoucher(
                    "is not a stored voucher",
                    field="voucher",
                    value=voucher_serial,
                    fix="check the serial printed on the voucher (e.g. 'CARD-1-1')",
                )
            serial, version = str(rows[0][1]), rows[0][2]
            if version is None:
                return serial, None, None  # no such card: the load says so
            stored = next(((r[2], r[3]) for r in rows if r[0] == 1), None)
            return serial, int(version), (after, [(r[2], r[3]) for r in rows if r[0] == 2], stored)

        return locate

    def _lost_race(self, serial: str, attempt: int) -> None:
        """Another writer committed first: forget the cached card and wait a little (jittered, growing)."""
        self.conflicts += 1
        self._cache.pop(serial, None)
        time.sleep(min(0.05, 0.0005 * 2 ** min(attempt, 8)) * (0.5 + self._jitter.random()))

    def _load(
        self, tx: Tx, serial: str, version: int | None = None, fetched: _Fetched | None = None
    ) -> tuple[StampCard, int]:
        """The card and its version (*version*, *fetched*: already read in this transaction)."""
        if version is None:
            version = self._version(tx, serial)
        return self._rebuild(tx, serial, version, fetched), version

    def _version(self, tx: Tx, serial: str) -> int:
        row = tx.one("SELECT version FROM cards WHERE serial = ?", (serial,))
        if row is None:
            raise _unknown_card(serial)
        return int(row[0])

    def _rebuild(self, tx: Tx, serial: str, version: int, fetched: _Fetched | None = None) -> StampCard:
        cached = self._cache.get(serial)
        if cached is not None and cached[1] == version:
            self._cache.move_to_end(serial)
            return cached[0]
        if cached is not None and cached[1] < version:  # the events since the cached version
            if fetched is not None and fetched[0] == cached[1]:
                rows = fetched[1]  # read ahead with the card's version, exactly the ones needed
            else:
                rows = _stored_rows(tx, serial, cached[1], version)
            return _complete(fold(cached[0], _events_of(rows), programs=self._programs.lookup), version)
        if fetched is not None and fetched[0] == 0:
            return self._from_rows(version, fetched[2], fetched[1])
        return self._rebuild_without_cache(tx, serial, version)

    def _rebuild_without_cache(self, tx: Tx, serial: str, version: int) -> StampCard:
        """The card at *version* from its snapshot and every stored event up to *version*, read in one
        statement."""
        rows = tx.rows(
            _CARD_ROWS if self._snapshot_every else _CARD_EVENTS,
            (serial, version, serial, version) if self._snapshot_every else (serial, version),
        )
        if rows and rows[0][0] == -1:  # the snapshot first, then the events as (version, _, data)
            return self._from_rows(version, (rows[0][1], rows[0][2]), rows[1:])
        return self._from_rows(version, None, rows)

    def _from_rows(self, version: int, stored: Row | None, rows: list[Row]) -> StampCard:
        """The card at *version* from its stored events (all, from the first) and its snapshot row
        *stored*: the events the snapshot covers are checked against its digest and not applied
        again; if they do not match, every event is replayed (:mod:`walletvoucher.store._snapshot`)."""
        base = None
        found = _snapshot.read(str(stored[1]), self._programs, int(stored[0])) if stored else None
        if found is not None and stored is not None and self._snapshot_every and int(stored[0]) <= version:
            card, coverage = found
            if coverage is not None and _snapshot.covers(coverage, rows):
                base, rows = card, rows[int(stored[0]) :]  # event v is at index v - 1: the rest
            elif coverage is None:  # format 2: the events it covers are trusted, as before
                base, rows = card, [r for r in rows if int(r[0]) > int(stored[0])]
        events = _events_of(rows)
        if base is None:
            if events and events[0].type is EventType.CARD_ISSUED:
                self._programs.get(events[0].data["program_id"], events[0].data["program_version"])
            return _complete(replay(events, self._programs), version)
        return _complete(fold(base, events, programs=self._programs.lookup), version)

    def _append(
        self, tx: Tx, action: str, before: StampCard | None, version: int, decision: _Decision, at: datetime,
        now: int,
    ) -> _Rules | None:
        """Write the transition; return the card row's rule columns as written, for :meth:`_remember`
        once the transaction has committed (None: no events, nothing written).

        It runs on every transition, so it does what every one needs once and the rest only when an
        event calls for it (a voucher issued, redeemed, expired or voided: ``touched``)."""
        events = decision.events
        if not events:
            return None
        card, count, db = decision.card, len(events), self._db
        new_version = version + count
        lapse, ends = rule_columns(card)  # when expire_due must look at the card again (issue 16)
        # The card's own statement also marks its pass, at the position its last event is to take.
        # SQLite: known ahead under the write lock, the statement checked at once. PostgreSQL: a
        # number this transaction claims, the statement sent with COMMIT and checked by the server
        # (Database.expect), as are the events and the marks, so a transition is one round trip.
        deferred = db.defers_writes
        first = db.claim(tx, count) if deferred else 0
        inserts, updates = self._marking
        at_us, last = ceil_second_us(now), first + count - 1
        pushes = (PUSH_TOPIC, now, now) if deferred else ()
        serial = card.serial
        if before is None:
            params: tuple[Any, ...] = (
                serial, card.member_id, card.program.id, card.program.version, new_version,
                to_us(card.issued_at), now, lapse, ends, at_us, last, *pushes,
            )  # fmt: skip
            sql = inserts
        else:
            # An indexed column set to the value it holds still rewrites its index entry (a page per
            # commit on SQLite): set the rule columns only when this wallet has not itself committed
            # the row at this version with the same values (a card with a validity or rolling stamp
            # expiry keeps them for days).
            written = self._rules.get(serial)
            if written is not None and written[0] == version:
                keep_lapse, keep_ends = written[1] == lapse, written[2] == ends
            else:
                keep_lapse = keep_ends = False
            params = (
                new_version, card.program.version, now, *(() if keep_lapse else (lapse,)),
                *(() if keep_ends else (ends,)), at_us, at_us, last, serial, version, *pushes,
            )  # fmt: skip
            sql = updates[keep_lapse, keep_ends]
        if deferred:
            tx.defer(sql, params)
        elif tx.run(sql, params) != 1:
            raise Conflict(f"card {serial} moved past version {version}")
        # Effect hooks read the events' positions: then they are read back (a round trip, deferred
        # engines); otherwise nobody reads them there.
        positions = self._insert_events(
            tx, serial, version, events, first, bool(self._effects) or not deferred, (at, now)
        )
        touched = (
            events[0].type._value_ in _VOUCHER_EVENT_TYPES
            if count == 1
            else any(e.type._value_ in _VOUCHER_EVENT_TYPES for e in events)
        )
        if touched:  # after the check: a voucher another writer stored first is then a lost race
            self._project_vouchers(tx, decision, now)
        every = self._snapshot_every
        if every and (
            new_version // every > version // every
            or (touched and before is not None and any(e.type is EventType.VOUCHER_ISSUED for e in events))
        ):  # a voucher issued is soon redeemed, often by a process that has not cached the card
            self._write_snapshot(tx, card, new_version)
        change = Change(action=action, before=before, card=card, events=events, positions=positions, at=at)
        # The card's own statement marked its pass at the position its last event took (SQLite numbers
        # events in order under its write lock; PostgreSQL from the numbers this transaction claimed).
        position = (db.position_sql, last) if deferred else ("?", positions[-1])
        record_change(tx, change, version=new_version, position=position, card_pushed=deferred,
                      touched=touched, now=now)  # fmt: skip
        for effect in self._effects:
            for message in effect(change):
                self._write_message(tx, message, now)
        return new_version, lapse, ends

    def _insert_events(
        self, tx: Tx, serial: str, version: int, events: tuple[Event, ...], first: int | None = None,
        positions: bool = True, at: tuple[datetime, int] | None = None,
    ) -> tuple[int, ...]:
        """All the events of a transition (a stamp that reaches the goal writes three or four) in one
        statement, at journal positions a follower cannot miss (:meth:`Database.insert_events`;
        *first*, *positions*: as there, for engines that defer writes). *at*: the transition's time
        and its microseconds, which its events usually share (the very object)."""
        when, when_us = at if at is not None else (None, 0)
        rows = [
            (
                number,
                event.type._value_,
                when_us if event.at is when else to_us(event.at),
                event_text(event),
            )
            for number, event in enumerate(events, start=version + 1)
        ]
        return tuple(self._db.insert_events(tx, serial, rows, first=first, positions=positions))

    def _project_vouchers(self, tx: Tx, decision: _Decision, now: int) -> None:
        for event in decision.events:
            if event.type is EventType.VOUCHER_ISSUED:
                # The voucher as the card holds it (the one the event's JSON was written from).
                serial = event.data["voucher"]["serial"]
                v = next((v for v in decision.card.vouchers if v.serial == serial), None)
                if v is None:  # issued and gone in one transition: from the event, as it was issued
                    v = Voucher.from_json(dict(event.data["voucher"]))
                tx.defer(
                    "INSERT INTO vouchers (serial, card_serial, state, valid_from, expires_at, data,"
                    " updated_at) VALUES (?, ?, 'open', ?, ?, ?, ?)",
                    (v.serial, v.card_serial, to_us(v.valid_from),
                     to_us(v.expires_at) if v.expires_at else None, _dumps(v.to_json()), now),
                )  # fmt: skip
            elif event.type in _FINAL_STATE:
                serial = event.data["voucher"]
                tx.defer(  # nothing reads its result: on PostgreSQL it travels with the next statement
                    "UPDATE vouchers SET state = ?, data = ?, updated_at = ? WHERE serial = ?",
                    (_FINAL_STATE[event.type], _dumps(decision.finals[serial].to_json()), now, serial),
                )

    def _write_snapshot(self, tx: Tx, card: StampCard, version: int) -> None:
        """Store *card* as at *version* (its events already stored in *tx*), with the digest of the
        events it covers: the previous snapshot's, extended by the events after it."""
        if not _snapshot.supported() or not _snapshot.at_rest(card):
            return
        rows = tx.rows(
            "SELECT -1, data FROM snapshots WHERE serial = ? UNION ALL SELECT version, data FROM events"
            " WHERE serial = ? AND version > COALESCE((SELECT version FROM snapshots WHERE serial = ?), 0)"
            " AND version <= ? ORDER BY 1",
            (card.serial, card.serial, card.serial, version),
        )
        previous = _snapshot.coverage_of(str(rows[0][1])) if rows and rows[0][0] == -1 else None
        events = [r for r in rows if r[0] != -1]
        if previous is not None and previous.marks[-1] == version:
            coverage = previous  # taken again at the same version: the same events
        elif previous is not None and (events[0][0] if events else version + 1) == previous.marks[-1] + 1:
            coverage = _snapshot.extend(previous, events, version)
        else:  # no snapshot, or one without a digest (format 2): from the first event
            events = _stored_rows(tx, card.serial, 0, version)
            coverage = _snapshot.extend(None, events, version)
        tx.defer(
            "INSERT INTO snapshots (serial, version, data) VALUES (?, ?, ?) ON CONFLICT (serial) DO UPDATE"
            " SET version = excluded.version, data = excluded.data",
            (card.serial, version, _snapshot.dump(card, coverage)),
        )

    def _write_message(self, tx: Tx, message: Message, now: int) -> None:
        write_message(tx, message, now)

    def _remember(self, serial: str, card: StampCard, version: int, rules: _Rules | None = None) -> None:
        """Cache the card as committed at *version*; *rules*: the rule columns this wallet committed
        for it (:meth:`_append`), a fact about that version of the row whatever happens later."""
        if not serial or self._cache_size <= 0:
            return
        self._cache[serial] = (card, version)
        self._cache.move_to_end(serial)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        if rules is not None:
            self._rules[serial] = rules
            self._rules.move_to_end(serial)
            while len(self._rules) > self._cache_size:
                self._rules.popitem(last=False)

    # --- idempotency ----------------------------------------------------------------------------

    def _claim_key(self, tx: Tx, key: str, fingerprint: str, at: datetime) -> dict[str, Any] | None:
        """Take *key* for this transaction, or return the result stored under it.

        The key's row is inserted first (its result filled in at the end, in the same transaction),
        so the key itself is the lock: a concurrent request with the same key waits on the unique
        index until the first commits (then reads its result) or rolls back (then takes the key).
        Whatever the interleaving, a repeated request gets the first one's result, never a
        ``DuplicateSerial`` or ``VoucherAlreadyRedeemed`` caused by its own first attempt.
        """
        if tx.run(
            "INSERT INTO idempotency (key, fingerprint, result, created_at) VALUES (?, ?, '', ?)"
            " ON CONFLICT (key) DO NOTHING",
            (key, fingerprint, to_us(at)),
        ):
            return None
        row = tx.one("SELECT fingerprint, result FROM idempotency WHERE key = ?", (key,))
        if row is None:  # pragma: no cover - the conflicting row committed before this statement
            raise Conflict(f"idempotency key {key!r} vanished")
        if row[0] != fingerprint:
            raise IdempotencyKeyReused(
                "was already used for a different request",
                field="idempotency_key",
                value=key,
                fix="use a new key for every distinct request; reuse a key only to retry the same request",
            )
        stored: dict[str, Any] = json.loads(row[1])
        return stored

    def _store_result(
        self, tx: Tx, key: str, action: str, serial: str, version: int, decision: _Decision
    ) -> None:
        result = {
            "action": action,
            "serial": serial,
            "version": version + len(decision.events),
            "events": [e.to_json() for e in decision.events],
            "voucher": decision.voucher.to_json() if decision.voucher else None,
        }
        tx.defer("UPDATE idempotency SET result = ? WHERE key = ?", (_dumps(result), key))

    def _replayed(self, tx: Tx, stored: Mapping[str, Any]) -> Any:
        card = self._rebuild(tx, stored["serial"], int(stored["version"]))
        events = tuple(Event.from_json(e) for e in stored["events"])
        action = stored["action"]
        if action in ("stamp", "purchase"):
            vouchers = tuple(
                Voucher.from_json(dict(e.data["voucher"]))
                for e in events
                if e.type is EventType.VOUCHER_ISSUED
            )
            return StampResult(card=card, vouchers=vouchers, events=events)
        if action in ("redeem", "void"):
            return VoucherResult(card=card, voucher=Voucher.from_json(stored["voucher"]), events=events)
        return card


# --- helpers ------------------------------------------------------------------------------------


def _stored_rows(tx: Tx, serial: str, after: int, upto: int) -> list[Row]:
    """The card's stored events after version *after* up to *upto*, as ``(version, data)``."""
    return tx.rows(
        "SELECT version, data FROM events WHERE serial = ? AND version > ? AND version <= ? ORDER BY version",
        (serial, after, upto),
    )


_CARD_EVENTS = "SELECT version, NULL, data FROM events WHERE serial = ? AND version <= ? ORDER BY version"
_CARD_ROWS = (
    "SELECT -1, version, data FROM snapshots WHERE serial = ? AND version <= ? UNION ALL "
    "SELECT version, NULL, data FROM events WHERE serial = ? AND version <= ? ORDER BY 1"
)
"""A card's snapshot (first, as ``(-1, version, data)``) and every event up to a version."""
_LOCATE = {
    snapshot: "SELECT 0, vouchers.card_serial, cards.version, NULL FROM vouchers"
    " LEFT JOIN cards ON cards.serial = vouchers.card_serial WHERE vouchers.serial = ?"
    + (" UNION ALL SELECT 1, NULL, version, data FROM snapshots"
       " WHERE serial = (SELECT card_serial FROM vouchers WHERE serial = ?)" if snapshot else "")
    + " UNION ALL SELECT 2, NULL, version, data FROM events"
    " WHERE serial = (SELECT card_serial FROM vouchers WHERE serial = ?) AND version > ? ORDER BY 1, 3"
    for snapshot in (False, True)
}
"""A voucher's card serial and version, then (with a snapshot) the card's snapshot, then its events
after a version: in one statement (:meth:`Wallet._by_voucher`)."""


def _events_of(rows: Iterable[Row]) -> list[Event]:
    """Events from ``(version, ..., data)`` rows, in order, each numbered by its row.

    Rows written before events carried their version get the row's; an event whose own version
    disagrees with its row's was changed after it was written.
    """
    events = []
    for row in rows:
        event, stored = event_from_text(row[-1]), int(row[0])
        if event.version is None:
            event = attrs.evolve(event, version=stored)
        elif event.version != stored:
            raise ReplayError(f"is stored as event {stored} but says it is event {event.version}",
                              field="event.version", value=event.version, fix=_CORRUPT)
        events.append(event)
    return events


def _complete(card: StampCard, version: int) -> StampCard:
    """*card* rebuilt from its stored events, which must reach the version the card is stored at."""
    if card.version != version:
        raise ReplayError(
            f"card {card.serial}'s stored events end at event {card.version} but the card is at version "
            f"{version}: events were deleted",
            field="events", value=card.serial, fix=_CORRUPT,
        )  # fmt: skip
    return card


_CORRUPT = "restore the events table from a backup; the store only ever appends to it"


def _decide_expiry(at: datetime) -> Decide:
    def decide(tx: Tx, before: StampCard | None) -> _Decision:
        assert before is not None
        due = [v for v in before.vouchers if v.status_at(at) is VoucherStatus.EXPIRED]
        card, events = before.expire_vouchers(at=at)
        card, lapsed = card.expire_stamps(at=at)
        card, ended = card.expire_card(at=at)
        events = (*events, *lapsed, *ended)
        finals = {v.serial: v.expire(at=at)[0] for v in due}
        return _Decision(card=card, events=events, result=events, finals=finals)

    return decide


def _stored_serials(tx: Tx, serials: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(serials), 500):
        part = serials[start : start + 500]
        marks = ", ".join("?" * len(part))
        found.update(str(r[0]) for r in tx.rows(f"SELECT serial FROM cards WHERE serial IN ({marks})", part))
    return found


def _raise_from_final(tx: Tx, voucher_serial: str, attempt: Callable[[Voucher], object]) -> None:
    """A voucher gone from the card is final: let the model say why it cannot be used again."""
    row = tx.one("SELECT data FROM vouchers WHERE serial = ? AND state <> 'open'", (voucher_serial,))
    if row is not None:
        attempt(Voucher.from_json(json.loads(row[0])))


def _voucher_filter(
    status: VoucherStatus | None,
    at: datetime | None,
    expires_from: datetime | None,
    expires_before: datetime | None,
    card_serial: str | None,
) -> tuple[str, list[Any]]:
    clauses, params = ["1 = 1"], []  # type: tuple[list[str], list[Any]]
    if status in (VoucherStatus.ACTIVE, VoucherStatus.ISSUED):
        if at is None:
            raise ValidationError(
                "depends on the time",
                field="status",
                value=status.value,
                fix="pass at= with ACTIVE or ISSUED",
            )
        now = to_us(at)
        if status is VoucherStatus.ACTIVE:
            clauses.append("state = 'open' AND valid_from <= ? AND (expires_at IS NULL OR expires_at > ?)")
            params += [now, now]
        else:
            clauses.append("state = 'open' AND valid_from > ?")
            params.append(now)
    elif status is not None:
        clauses.append("state = ?")
        params.append(status.value)
    if expires_from is not None:
        clauses.append("expires_at >= ?")
        params.append(to_us(expires_from))
    if expires_before is not None:
        clauses.append("expires_at < ?")
        params.append(to_us(expires_before))
    if card_serial is not None:
        clauses.append("card_serial = ?")
        params.append(card_serial)
    return " AND ".join(clauses), params


def _proof_facts(proof: Proof) -> dict[str, Any]:
    if not isinstance(proof, (SelfRedeem, CodeEntry, StaffScan)):
        raise ValidationError(
            "must be a proof of redemption",
            field="proof",
            value=type(proof).__name__,
            fix="pass SelfRedeem(), CodeEntry(code=...) or StaffScan(...)",
        )
    facts = {"kind": type(proof).__name__, "by": getattr(proof, "by", None)}
    for name in ("code", "token"):
        if hasattr(proof, name):
            value = _checks.text(str(getattr(proof, name)), name, fix="pass the code as typed or scanned")
            facts[name] = hashlib.sha256(value.encode()).hexdigest()
    return facts


def _serial(serial: object) -> str:
    return _checks.text(serial, "serial", fix="pass the card's serial as text, e.g. 'CARD-1'")


def _voucher_serial(serial: object) -> str:
    return _checks.text(serial, "voucher", fix="pass the voucher's serial as text, e.g. 'CARD-1-1'")


def _not_a_program(program: object) -> ValidationError:
    return ValidationError(
        f"must be a Program or a program id, not {type(program).__name__}",
        field="program",
        value=program,
        fix="pass one of the programs the wallet was opened with, or its id (e.g. 'coffee')",
    )


def _status(status: object) -> VoucherStatus | None:
    if status is None or isinstance(status, VoucherStatus):
        return status
    try:
        return VoucherStatus(status)
    except ValueError:
        raise ValidationError(
            "is not a voucher status",
            field="status",
            value=status,
            fix=f"use a VoucherStatus or one of {[s.value for s in VoucherStatus]}",
        ) from None


def _fingerprint(action: str, locate: object, request: Mapping[str, Any]) -> str:
    target = locate if isinstance(locate, str) else None
    text = json.dumps({"action": action, "target": target, **request}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
"""One encoder for every stored document (``json.dumps`` with options builds a new one per call)."""


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


_STRING = json.encoder.encode_basestring  # a JSON string as ensure_ascii=False writes it
_LITERALS: dict[Any, str] = {True: "true", False: "false", None: "null"}


def event_text(event: Event) -> str:
    """``_dumps(event.to_json())``, the stored text of an event, written directly when its facts are
    flat (text, whole numbers, booleans, None): a stamp's, an issue's, a redemption's. Anything else
    goes through the encoder."""
    facts = []
    data = event.data
    for key in sorted(data):
        value = data[key]
        kind = type(value)
        if type(key) is not str:
            return _dumps(event.to_json())
        if kind is str:
            facts.append(f"{_STRING(key)}:{_STRING(value)}")
        elif kind is int:
            facts.append(f"{_STRING(key)}:{int.__repr__(value)}")
        elif value is None or kind is bool:
            facts.append(f"{_STRING(key)}:{_LITERALS[value]}")
        else:
            return _dumps(event.to_json())
    version = "" if event.version is None else f',"version":{int.__repr__(event.version)}'
    return (
        f'{{"at":{_STRING(event.at.isoformat())},"card_serial":{_STRING(event.card_serial)},'
        f'"data":{{{",".join(facts)}}},"type":{_STRING(event.type._value_)}{version}}}'
    )


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not 1 <= len(key) <= 200:
        raise ValidationError(
            "must be text of 1 to 200 characters",
            field="idempotency_key",
            value=key if not isinstance(key, str) else f"{key[:20]}... ({len(key)} characters)",
            fix="use one short key per request, e.g. 'till-1/receipt-881'",
        )


def _unknown_card(serial: str) -> UnknownCard:
    return UnknownCard(
        "is not a stored card",
        field="serial",
        value=serial,
        fix="check the serial, or issue the card first with wallet.issue_card(...)",
    )


def _duplicate(serial: str, what: str) -> DuplicateSerial:
    field = "voucher" if what.startswith("vouchers") else "serial"
    return DuplicateSerial(
        "is already stored",
        field=field,
        value=serial,
        fix="serials are unique: choose a new serial, or load the stored card with wallet.card(serial)",
    )
