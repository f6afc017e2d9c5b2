"""The wallet store: cards, vouchers and codes kept consistent across processes and hosts.

:class:`Wallet` loads a card, lets the model decide, and appends the events with optimistic
concurrency, all in one transaction, on SQLite (stdlib, embedded default) or PostgreSQL (psycopg 3,
``pip install "walletvoucher[postgres]"``).

Why hand-written SQL over ``sqlite3`` and psycopg 3, rather than a library:

- **SQLAlchemy Core** would write the DDL and placeholders for both engines, but those are a few
  lines here (``{pk}`` and ``?``→``%s``); what actually differs — ``BEGIN IMMEDIATE`` on SQLite,
  ``FOR UPDATE SKIP LOCKED`` and an advisory lock on PostgreSQL, and which driver errors mean
  "conflict, retry" — would still be dialect code of ours, and the embedded default would then need
  a large dependency that ``sqlite3`` makes unnecessary.
- **eventsourcing** has exactly the right recorders ((id, version) optimistic concurrency, a
  notification log ordered by position), and we follow its shape. But it persists its own aggregate
  and event classes through its mapper, and its recorder owns the transaction that inserts events;
  our promises need more rows in *that same* transaction — the code taken from a pool, the voucher
  projection, the idempotency record and the outbox messages — and our model is plain frozen attrs
  objects with its own ``fold``/``replay``. Adapting both sides would cost more than the ~40
  statements this package holds, and hide the transaction boundary that the guarantees rest on.

**Round trips.** A stamp on a card this wallet has cached is five statements on SQLite (``BEGIN
IMMEDIATE``, the version-checked ``UPDATE`` of the card, one ``INSERT`` of all its events, one upsert of
all the pass marks returning which passes have devices, ``COMMIT``) against the floor's four (begin,
insert one event, update one version row, commit); pushes are queued only for passes with devices.
The cached card is trusted until the ``UPDATE ... WHERE version = ?``: when another process moved the
card, that update changes no row and the transition is decided again on a fresh load (a model error
raised on a cached card is re-checked against the stored version the same way). PostgreSQL uses
prepared statements (psycopg's ``prepare=True``) and takes the journal lock inside the events'
``INSERT``. ``benchmarks/store.py`` measures a stamp, a redemption and an issue against the floor
in the same run.

**Where a transition's time goes** (issue 17, measured with cProfile, py-spy and SQLite's trace hook).
On SQLite a statement costs a few microseconds; a commit costs about one WAL frame (a 4 KiB page
image) per page it changed, some 7 us each on the benchmark machine, so the floor changes three pages
(the event row, the ``AUTOINCREMENT`` counter, the version row) and a stamp five (also the event's
``(serial, version)`` index entry and the card's pass mark): its SQL alone runs at about half the
floor's rate before any Python runs. A redemption on a card the process has not cached (the counter
rarely stamped the card it redeems) also reads and replays the card's events -- replay re-checks
every event, which is what notices a tampered log -- so it reads the voucher's card, version and
events in one statement, and the model's *apply* checks only the fields an event changes
(``evolve_card``), copies plain event facts instead of a JSON round trip, and looks a program's zone
up once; stored events are parsed once, and a ``voucher_issued`` that is exactly the voucher the
stamps earn is not built twice. Setting an indexed column to the value it holds still rewrites its
index entry (a page), so a card's ``UPDATE`` leaves out ``stamps_lapse_at`` and ``expires_at`` when
this wallet itself committed that version of the row with the same values. On PostgreSQL each
statement is a round trip, so the count of statements, not their Python, dominates.

**Ordering the journal on PostgreSQL.** Followers (pass-update tags, the Google sync, webhooks) read
"everything after position N" and must never miss a position. Positions come from an identity
sequence, drawn in one order and committed in another: a transaction holding position 10 may commit
after one holding 11, and a follower that already read 11 would skip 10 for good. The choices known:

- *a lock from the first position drawn to commit* (what this store does, as the eventsourcing
  library does with ``LOCK TABLE ... IN EXCLUSIVE MODE``): a transaction-scoped advisory lock, taken
  by the events' ``INSERT`` itself, so it is held only from the append to the commit -- the card's
  row lock, the model's decision, pool codes, the voucher rows, the snapshot and the idempotency
  record all come before it; only the pass marks, the effect hooks' messages and the commit follow
  (for a stamp: three round trips under the lock, five before this change). Commits
  of events still pass one at a time, so throughput across processes is bounded by one commit's
  latency (``benchmarks/store.py`` prints 1, 2, 4 and 8 writers on distinct cards);
- *transaction ids* (``pg_current_xact_id()`` stored with each event; followers read only events of
  transactions older than ``pg_snapshot_xmin(pg_current_snapshot())``, all of which have ended):
  no lock at all, but it is correct only if followers order and page by ``(xid, position)``, not by
  position alone -- an older transaction can draw a later position -- so the follower cursor becomes
  a pair (or an opaque tag) in ``journal(since=...)``, ``pass_updates.update_position`` and the Apple
  web service's ``lastUpdated``; a long-running transaction anywhere in the database also holds every
  follower back until it ends. This is the way to lift the cap; it is a change of the public cursor,
  so it needs its own migration and release note;
- *gap detection with a timeout* (Marten's high-water mark): no lock, followers wait for a missing
  position to appear or time out, trading latency for ordering, and a timed-out gap that then
  commits is still missed unless it is re-scanned;
- *per-stream positions* (Message DB's stream versions, our cards' ``version``) order one card
  completely without any global lock; only cross-card followers need one of the above.

**Beyond one database.** Every per-card table is keyed by the card's serial (``cards``, ``events``
by ``(serial, version)``, ``snapshots``, ``vouchers.card_serial``, ``pass_updates.card_serial``,
``idempotency`` through the result's serial), and a transition touches one card, so the schema can be
distributed by serial (Citus: ``create_distributed_table('events', 'serial')`` and the same for the
other per-card tables, co-located) and each transition stays a single-shard transaction. What it
would take: the journal's global position cannot come from one lock or one sequence across shards
-- followers would read per shard (a position per shard, or the transaction-id scheme above per
shard) and merge; ``vouchers`` would need the card's serial in its key (a voucher serial is the card
serial plus a number, so routing by prefix works); code pools and the outbox are cross-card and would
stay reference tables or a coordinator-local table (a code draw is then a distributed transaction,
or pools are split per shard); ``idempotency`` keys would be routed by the card they name. What it
would not change: the model, the one-transaction-per-transition guarantee, the retries on a version
conflict, and exactly-once redemption, all of which are per card.
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
