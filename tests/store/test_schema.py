"""Schema creation, the version table and forward migrations."""

from __future__ import annotations

from typing import Any

from tests.store._programs import coffee
from tests.store.conftest import NOW
from walletvoucher.store import MIGRATIONS, SCHEMA_VERSION, Migration, Wallet
from walletvoucher.store._schema import current_version, migrate
from walletvoucher.store._url import connect


def test_first_open_creates_the_schema_and_reopening_keeps_data(url: str, programs: list[Any]) -> None:
    with Wallet.open(url, programs=programs) as wallet:
        wallet.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
    with Wallet.open(url, programs=programs) as wallet:
        assert wallet.counts().cards == 1
    db = connect(url)
    try:
        with db.read() as tx:
            assert current_version(tx) == SCHEMA_VERSION == len(MIGRATIONS)
            assert len(tx.rows("SELECT version FROM schema_version")) == len(MIGRATIONS)
    finally:
        db.close()


def test_a_later_migration_is_applied_once_in_order(url: str, programs: list[Any]) -> None:
    Wallet.open(url, programs=programs).close()
    step = Migration(
        version=SCHEMA_VERSION + 1,
        description="device registrations (as the next issue might add)",
        statements=("CREATE TABLE devices (id {pk}, device TEXT NOT NULL, serial TEXT NOT NULL)",),
    )
    db = connect(url)
    try:
        assert migrate(db, at_us=1, migrations=(*MIGRATIONS, step)) == SCHEMA_VERSION + 1
        assert migrate(db, at_us=2, migrations=(*MIGRATIONS, step)) == SCHEMA_VERSION + 1
        with db.write() as tx:
            tx.run("INSERT INTO devices (device, serial) VALUES (?, ?)", ("d1", "C1"))
            assert tx.rows("SELECT id, device FROM devices") == [(1, "d1")]
            applied = [r[0] for r in tx.rows("SELECT version FROM schema_version ORDER BY version")]
            assert applied == [*range(1, SCHEMA_VERSION + 2)]
    finally:
        db.close()
