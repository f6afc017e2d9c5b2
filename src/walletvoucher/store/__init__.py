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
"""

from walletvoucher.store._access import Access, Credential, IssuedSecret, Principal
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
