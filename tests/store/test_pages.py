"""Pages per commit (issue 17) and the migrations that cut them (41 on SQLite, 43 on PostgreSQL).

On SQLite a commit costs about one WAL frame (a page image) per page it changed, so the pages a
transition dirties are counted here exactly: the frames its commit appends to the ``-wal`` file
(automatic checkpoints off, so the file only grows). The floor -- an INSERT of one event row and an
UPDATE of one version row -- writes three (the event, its AUTOINCREMENT counter, the version row); a
stamp writes three too (the card's row holding its version and its own pass mark, the event, the
event's ``(serial, version)`` index entry), an issue four (plus the member index). Before issue 17
a stamp wrote five and an issue eight.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from tests.store._programs import all_programs, coffee
from tests.store.conftest import NOW
from walletvoucher import SelfRedeem
from walletvoucher.store import Wallet
from walletvoucher.store._schema import MIGRATIONS, SCHEMA_VERSION, current_version, migrate
from walletvoucher.store._types import OutboxMessage
from walletvoucher.store._url import connect

_FRAME = 24 + 4096  # a WAL frame: its header and one page (SQLite's default page size)
SOON = NOW + timedelta(minutes=1)


def _pages(path: Path, conn: sqlite3.Connection, action: Callable[[], object]) -> list[str]:
    """The tables and indexes of the pages *action*'s commit wrote, one entry per WAL frame."""
    wal = path.with_name(path.name + "-wal")
    start = wal.stat().st_size
    action()
    pages = []
    with wal.open("rb") as f:
        f.seek(start)
        while header := f.read(24):
            pages.append(int.from_bytes(header[:4], "big"))
            f.seek(4096, 1)
    assert (wal.stat().st_size - start) % _FRAME == 0
    names = dict(conn.execute("SELECT pageno, name FROM dbstat").fetchall())
    return sorted(names.get(page, f"page {page}") for page in pages)


def test_a_stamp_writes_as_many_pages_as_the_floor_and_an_issue_one_more(tmp_path: Path) -> None:
    path = tmp_path / "wallet.db"
    with Wallet.open(f"sqlite:///{path}", programs=all_programs()) as wallet:
        conn: sqlite3.Connection = wallet._db._conn  # type: ignore[attr-defined]
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        wallet.stamp("C1", 1, at=NOW)
        stamp = _pages(path, conn, lambda: wallet.stamp("C1", 1, at=NOW))
        issue = _pages(path, conn, lambda: wallet.issue_card(coffee(), serial="C2", member_id="m-2", at=NOW))
        wallet.passes.register("phone", "C1", "token", at=NOW)
        pushed = _pages(path, conn, lambda: wallet.stamp("C1", 1, at=NOW))
        conn.execute(
            "CREATE TABLE floor_events (position INTEGER PRIMARY KEY AUTOINCREMENT, serial TEXT,"
            " version INTEGER, type TEXT, at BIGINT, data TEXT)"
        )
        conn.execute("CREATE TABLE floor_cards (serial TEXT PRIMARY KEY, version INTEGER)")
        conn.execute("INSERT INTO floor_cards VALUES ('FLOOR', 0)")

        def floor() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO floor_events (serial, version, type, at, data) VALUES"
                         " ('FLOOR', 1, 'stamp_added', 0, '{}')")  # fmt: skip
            conn.execute("UPDATE floor_cards SET version = version + 1 WHERE serial = 'FLOOR'")
            conn.execute("COMMIT")

        floor()
        base = _pages(path, conn, floor)
    assert len(base) == 3, base
    assert stamp == ["cards", "events", "sqlite_autoindex_events_1"], stamp
    assert issue == ["cards", "cards_member", "events", "sqlite_autoindex_events_1"], issue
    assert pushed == ["cards", "events", "outbox", "outbox_ready", "sqlite_autoindex_events_1",
                      "sqlite_sequence"], pushed  # a push: the outbox row, its index and its counter


def _before_41_and_43(url: str, tmp_path: Path) -> tuple[int, int]:
    """A database at the schema before migrations 41 and 43, holding what a wallet of that schema
    wrote: a card with its events and a voucher, the card's and the voucher's pass marks, a device
    registered for both, and a position a re-mark took above every event's. Returns the highest
    event position and the position the re-mark took."""
    with Wallet.open(f"sqlite:///{tmp_path / 'scratch.db'}", programs=all_programs()) as scratch:
        scratch.issue_card(coffee(), serial="C1", member_id="m", at=NOW)
        scratch.stamp("C1", 10, at=NOW)
        events = [(e.version, e.event.type.value, e.event) for e in scratch.journal()]
        voucher = scratch.voucher("C1-1")
    old = connect(url)
    try:
        migrate(old, at_us=0, migrations=tuple(m for m in MIGRATIONS if m.version not in (41, 43)))
        with old.write() as tx:
            for number, (version, kind, event) in enumerate(events, start=1):
                tx.run(
                    "INSERT INTO events (position, serial, version, type, at, data)"
                    " VALUES (?, 'C1', ?, ?, 0, ?)",
                    (number * 10, version, kind, json.dumps(event.to_json())),
                )
            last = len(events) * 10
            taken = last + 5  # a re-mark's position, held by no event
            if old.dialect == "sqlite":
                tx.run("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'", (taken,))
            tx.run(
                "INSERT INTO cards (serial, member_id, program_id, program_version, version, last_position,"
                " issued_at, updated_at) VALUES ('C1', 'm', 'coffee', 1, ?, ?, 0, 0)",
                (len(events), last),
            )
            tx.run(
                "INSERT INTO vouchers (serial, card_serial, state, valid_from, expires_at, data, updated_at)"
                " VALUES ('C1-1', 'C1', 'open', 0, NULL, ?, 0)",
                (json.dumps(voucher.to_json()),),
            )
            for serial, kind, position in (("C1", "card", taken), ("C1-1", "voucher", last)):
                tx.run(
                    "INSERT INTO pass_updates (serial, card_serial, kind, version, last_modified,"
                    " update_position) VALUES (?, 'C1', ?, ?, ?, ?)",
                    (serial, kind, len(events), 1_778_149_800_000_000, position),
                )
                tx.run("INSERT INTO registrations (device, serial, push_token, created) VALUES"
                       " ('phone', ?, 't', 0)", (serial,))  # fmt: skip
    finally:
        old.close()
    return last, taken


def test_migrations_41_and_43_move_a_database_of_the_schema_before_forward(url: str, tmp_path: Path) -> None:
    last, taken = _before_41_and_43(url, tmp_path)
    with Wallet.open(url, programs=all_programs()) as wallet:
        with wallet._db.read() as tx:
            assert current_version(tx) == SCHEMA_VERSION
            assert tx.rows("SELECT serial FROM pass_updates") == [("C1-1",)]  # the card's mark moved
        card_mark, voucher_mark = wallet.passes.mark("C1"), wallet.passes.mark("C1-1")
        assert card_mark is not None and voucher_mark is not None
        assert (card_mark.kind, card_mark.position, card_mark.card_serial) == ("card", taken, "C1")
        assert (voucher_mark.kind, voucher_mark.position) == ("voucher", last)
        assert card_mark.last_modified == voucher_mark.last_modified == NOW
        assert [e.position for e in wallet.journal()][-1] == last  # positions kept
        assert wallet.passes.updated_since("phone", None) == (("C1-1", "C1"), taken)
        assert wallet.passes.updated_since("phone", taken) == ((), taken)
        redeemed = wallet.redeem("C1-1", SelfRedeem(), at=SOON)
        [entry] = wallet.journal(last)
        assert entry.position > taken  # above the position the re-mark took, never below
        tag = entry.position if wallet.dialect == "sqlite" else wallet.passes.updated_since("phone", taken)[1]
        assert wallet.passes.updated_since("phone", taken) == (("C1", "C1-1"), tag)
        card_mark = wallet.passes.mark("C1")
        assert card_mark is not None and card_mark.version == redeemed.card.version
        assert card_mark.last_modified == NOW + timedelta(seconds=60)
        wallet.passes.refresh(OutboxMessage(id=1, topic="pass.refresh", payload={"card": "C1"},
                                            created_at=SOON, attempts=1, last_error=None), SOON)  # fmt: skip
        refreshed = wallet.passes.mark("C1")
        assert refreshed is not None and refreshed.position > tag
        assert refreshed.last_modified == card_mark.last_modified + timedelta(seconds=1)  # one-second rule
        assert wallet.passes.updated_since("phone", tag)[0] == ("C1",)
        after = wallet.stamp("C1", 1, at=SOON)
        assert [e.position for e in wallet.journal(refreshed.position)] != []
        assert wallet.card("C1") == after.card
