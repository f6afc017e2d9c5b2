"""The wallet store: cards, vouchers and codes kept consistent across processes and hosts.

:class:`Wallet` loads a card, lets the model decide, and appends the events with optimistic
concurrency, all in one transaction, on SQLite (stdlib, embedded default) or PostgreSQL (psycopg 3,
``pip install "walletvoucher[postgres]"``).

Why hand-written SQL over ``sqlite3`` and psycopg 3, rather than a library:

- **SQLAlchemy Core** would write the DDL and placeholders for both engines, but those are a few
  lines here (``{pk}`` and ``?``→``%s``); what actually differs — ``BEGIN IMMEDIATE`` on SQLite,
  ``FOR UPDATE SKIP LOCKED`` and journal positions from transaction ids on PostgreSQL, and which
  driver errors mean "conflict, retry" — would still be dialect code of ours, and the embedded
  default would then need a large dependency that ``sqlite3`` makes unnecessary.
- **eventsourcing** has exactly the right recorders ((id, version) optimistic concurrency, a
  notification log ordered by position), and we follow its shape. But it persists its own aggregate
  and event classes through its mapper, and its recorder owns the transaction that inserts events;
  our promises need more rows in *that same* transaction — the code taken from a pool, the voucher
  projection, the idempotency record and the outbox messages — and our model is plain frozen attrs
  objects with its own ``fold``/``replay``. Adapting both sides would cost more than the ~40
  statements this package holds, and hide the transaction boundary that the guarantees rest on.

**Round trips.** A stamp on a card this wallet has cached is, on SQLite, ``BEGIN IMMEDIATE``, the
version-checked ``UPDATE`` of the card (which also marks the card's pass), one ``INSERT`` of all its
events, one ``INSERT ... WHERE EXISTS`` that queues the pass's push only if devices are registered,
and ``COMMIT``, against the floor's four (begin, insert one event, update one version row, commit).
No statement of a transition has a ``RETURNING`` clause: SQLite runs one through a temporary table,
which cost more than the whole push statement; the card's row count says whether it moved, the
events' positions are their rowids (read from the last one inserted), and the server decides the
pushes. The cached card is trusted until the ``UPDATE ... WHERE version = ?``: when another process
moved the card, that update changes no row and the transition is decided again on a fresh load (a
model error raised on a cached card is re-checked against the stored version the same way).

PostgreSQL uses prepared statements (psycopg's ``prepare=True``), takes no journal lock (below), and
sends a transition's writes with ``COMMIT``, in one round trip (psycopg's pipeline mode; issue 17):
``BEGIN`` travels with the first statement, and nothing a transition writes is read back before the
commit. What the store would otherwise check between statements, the server checks
(``Database.expect``): the card's ``UPDATE`` and the events' ``INSERT`` are each wrapped in a
data-modifying ``WITH`` that calls ``walletvoucher_expect()`` (migration 45), which raises a
serialisation failure -- a conflict, retried like any other -- unless the statement changed the rows
counted on; the failure aborts the pipeline, so nothing sent with it, before or after, is committed.
The positions the card's and the vouchers' pass marks take are computed in SQL from the numbers the
transaction claimed (``Database.claim``, ``position_sql``), and each pass's push is queued in the
statement that marks it, where devices are registered. A stamp and an issue are one round trip (the
floor, sent one statement at a time, four), a redemption on a card not cached two (the voucher's
card read with ``BEGIN``, then the writes with ``COMMIT``), a one-query read two. Effect hooks read
the events' positions, so with hooks the events come back first (two round trips for a stamp). What
must be read mid-transaction still is: a pool's codes, an idempotency key, a card not cached.
``benchmarks/store.py`` measures a stamp, a redemption and an issue against the floor in the same
run.

**Where a transition's time goes** (issue 17, measured with cProfile, py-spy, SQLite's trace hook
and the WAL frames each commit appends). On SQLite a statement costs a few microseconds; a commit
costs about one WAL frame (a 4 KiB page image) per page it changed, some 7 us each on the benchmark
machine, more with the work of changing it. The floor changes three pages (the event row, the
``AUTOINCREMENT`` counter, the version row). Before migration 41 a stamp changed five (also the
event's ``(serial, version)`` index entry and the card's pass mark in ``pass_updates``) and an issue
eight (the ``cards`` table and its primary-key index, ``pass_updates`` and its index). Migration 41
(SQLite) cut them: events are numbered by a plain ``INTEGER PRIMARY KEY`` (one above the highest
stored; events are never deleted, and a position a pass re-mark takes without an event is kept in
``positions_taken`` and the next event numbered above it) so no counter page is written; ``cards``
and ``pass_updates`` are ``WITHOUT ROWID`` tables clustered on their serial (one B-tree each, not a
table and an index); and a card's own pass mark lives in its ``cards`` row (``pass_modified``,
``pass_position``; migration 43 on PostgreSQL), a page the transition changes anyway -- on SQLite
even in the card's own statement, since under its one write lock the position the transition's
last event will take is known before the events are inserted (``Database.next_position``). A stamp
now runs the floor's statements (BEGIN, the card's UPDATE, the event's INSERT, COMMIT) and changes
three pages, as many as the floor; an issue four (plus the member index);
``tests/store/test_pages.py`` and ``test_round_trips.py`` count them.

A redemption on a card the process has not cached (the counter rarely stamped the card it redeems)
also loads the card: it reads the voucher's card, version, snapshot and events in one statement.
Replay re-checks every event, which is what notices a tampered log, and costs some 10 us per event in
Python (a card that earned its voucher in ten visits has 14); so the transition that issues a voucher
also stores a snapshot of the card, and a snapshot records a digest of the stored text of every event
it covers (:mod:`walletvoucher.store._snapshot`): the load hashes those events' text against it, a
small part of parsing and applying them, and folds only the events after the snapshot (none, when the
voucher is redeemed before the next stamp). A deleted, moved or rewritten event no longer matches and
the load replays every event, which raises for a tampered log. Migration 44 keeps only open vouchers
that expire in the expiry index (what ``expire_due`` reads), so redeeming a voucher that never
expires changes no index page and one that expires removes its entry rather than moving it. When the
model replays, its *apply* checks only the fields an event changes (``evolve_card``), copies plain
event facts instead of a JSON round trip, and looks a program's zone up once; stored events are
parsed once, and a ``voucher_issued`` that is exactly the voucher the stamps earn is not built twice.
Setting an indexed column to the value it holds still rewrites its index entry (a page), so a card's
``UPDATE`` leaves out ``stamps_lapse_at`` and ``expires_at`` when this wallet itself committed that
version of the row with the same values. The model's share of a stamp (about 6 us: a decided stamp
is applied without checking again what the decision checked, through copy routines generated once,
as attrs generates its own ``__init__``; :mod:`walletvoucher.model._slots`) and of a redemption
(about 8 us) is now smaller than the store's bookkeeping around it, which is what remains of a stamp
beyond the floor's statements. On PostgreSQL each round trip costs more than the server's work for
the statements it carries (loopback, a busy 2-core machine: some 60 to 130 us), so the count of round
trips, not of statements, dominates.

**Ordering the journal on PostgreSQL.** Followers (``journal(since=...)``, a device's
``passesUpdatedSince`` tag from ``passes.updated_since``, ``passes.activity``) read "everything
after position N" and must never miss a position. Positions drawn from a sequence are drawn in one
order and committed in another: a transaction holding position 10 may commit after one holding 11,
and a follower that already read 11 would skip 10 for good. (The outbox, which drives the Google
sync, webhooks and pushes, is claimed by row, not followed by a cursor, so it cannot skip.) The
choices known:

- *a lock from the first position drawn to the commit* (eventsourcing's PostgreSQL recorder locks
  its table ``IN EXCLUSIVE MODE``; Message DB takes an advisory lock per category; this store took
  one transaction-scoped advisory lock before issue 17): simple, but every commit of every card
  passes one at a time, so throughput across processes and hosts is capped by one commit's
  latency, round trips included;
- *gap detection with a timeout* (Marten's high-water mark): no lock, followers wait for a missing
  position and skip it after a while; a slow transaction that commits after the timeout is missed
  (Marten now also asks the server whether a transaction that could fill the gap is alive);
- *transaction ids with a pair cursor*: store ``pg_current_xact_id()`` with each event and let
  followers read only below ``pg_snapshot_xmin(pg_current_snapshot())``, the oldest transaction
  still running. No lock, but the cursor must be ``(xid, position)``: an older transaction can
  draw a later position, so a position-only cursor still skips (xid 100 draws 11 and commits, xid
  101 holding 10 is still running: a follower reads 11, then never 10). Every public cursor would
  become a pair;
- *a published sequence*: readers number, under a lock only they take, the events of transactions
  that have ended; cursors stay integers, but reading becomes writing (no read replica can serve
  it), and every event is written twice;
- *positions derived from the transaction id* (what this store does, migration 40): a position is
  ``(xid + shift) * 2**20 + n``, with ``n`` counting the positions one transaction takes, so
  position order *is* ``(xid, n)`` order and the pair cursor fits in one integer; followers read
  below ``(xmin + shift) * 2**20``. Every transaction that may still commit has an id at or above
  the ``xmin`` a follower read with, so its positions lie above everything that follower has read.
  Writers take no lock and share no sequence; followers only read. The costs: positions are large,
  sparse numbers (still 64-bit integers, cursors and tags unchanged in type and meaning); one
  transaction takes at most 2**20 positions (a bulk import batch above that is refused with a
  ``batch`` error); a long-running transaction anywhere on the server holds followers back until
  it ends (they see nothing newer meanwhile, and miss nothing); and a card's events stay in version
  order only because a transaction older than the one that wrote the card's previous event retries
  (:mod:`walletvoucher.store._postgres`). ``journal_clock.shift`` lifts positions above every
  stored one when a database is restored into a server whose ids start again.
- *per-stream positions* (Message DB's stream versions, our cards' ``version``) order one card
  completely without any global lock; only cross-card followers need one of the above.

On SQLite nothing changes: its one writer at a time numbers positions (one above the highest
stored or taken, migration 41) and commits them in order.
``benchmarks/store.py`` prints the total rate of 1, 2, 4 and 8 writer processes on distinct cards.

**Beyond one database.** Every per-card table is keyed by the card's serial (``cards``, ``events``
by ``(serial, version)``, ``snapshots``, ``vouchers.card_serial``, ``pass_updates.card_serial``,
``idempotency`` through the result's serial), and a transition touches one card, so the schema can
be distributed by serial (Citus: ``create_distributed_table('events', 'serial')`` and the same for
the other per-card tables, co-located) and each transition stays a single-shard transaction. What it
would take: the journal's positions come from one server's transaction ids, which shards do not
share -- followers would read per shard (each shard's positions and ``xmin`` are its own) and merge,
with a cursor per shard; ``vouchers`` would need the card's serial in its key (a voucher serial is
the card serial plus a number, so routing by prefix works); code pools and the outbox are cross-card
and would stay reference tables or a coordinator-local table (a code draw is then a distributed
transaction, or pools are split per shard); ``idempotency`` keys would be routed by the card they
name. What it would not change: the model, the one-transaction-per-transition guarantee, the retries
on a version conflict, and exactly-once redemption, all of which are per card.
"""

from walletvoucher.store._access import Access, Credential, IssuedSecret, Principal
from walletvoucher.store._details import CardDetails
from walletvoucher.store._google import GoogleRecords, RecordedClass
from walletvoucher.store._outbox import Outbox
from walletvoucher.store._passes import (
    PASS_REFRESH_TOPIC,
    PUSH_TOPIC,
    ActivityEffect,
    PassActivity,
    PassMark,
    PassUpdates,
    next_last_modified,
)
from walletvoucher.store._pools import CodePools, PoolCodes
from walletvoucher.store._programs import ProgramRegistry
from walletvoucher.store._schema import MIGRATIONS, SCHEMA_VERSION, Migration
from walletvoucher.store._types import (
    CardInfo,
    CardToImport,
    Change,
    Counts,
    Effect,
    ImportReport,
    JournalEntry,
    Message,
    OutboxMessage,
    PoolStatus,
)
from walletvoucher.store._wallet import Wallet

__all__ = [
    "MIGRATIONS",
    "PASS_REFRESH_TOPIC",
    "PUSH_TOPIC",
    "SCHEMA_VERSION",
    "Access",
    "ActivityEffect",
    "CardDetails",
    "CardInfo",
    "CardToImport",
    "Change",
    "CodePools",
    "Counts",
    "Credential",
    "Effect",
    "GoogleRecords",
    "ImportReport",
    "IssuedSecret",
    "JournalEntry",
    "Message",
    "Migration",
    "Outbox",
    "OutboxMessage",
    "PassActivity",
    "PassMark",
    "PassUpdates",
    "PoolCodes",
    "PoolStatus",
    "Principal",
    "ProgramRegistry",
    "RecordedClass",
    "Wallet",
    "next_last_modified",
]
