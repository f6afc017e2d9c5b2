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
            assert current_version(tx) == SCHEMA_VERSION == MIGRATIONS[-1].version
            versions = [r[0] for r in tx.rows("SELECT version FROM schema_version ORDER BY version")]
            assert versions == [step.version for step in MIGRATIONS]
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
            versions = [r[0] for r in tx.rows("SELECT version FROM schema_version ORDER BY version")]
            assert versions == [m.version for m in (*MIGRATIONS, step)]
    finally:
        db.close()


def test_migration_versions_increase() -> None:
    versions = [step.version for step in MIGRATIONS]
    assert versions == sorted(set(versions)) and versions[0] == 1


def _placeholder(version: int) -> Migration:
    """A stand-in for a migration written on another branch (the Apple web service's version 2)."""
    return Migration(
        version=version,
        description="placeholder for a parallel branch's tables",
        statements=(f"CREATE TABLE placeholder_{version} (id {{pk}}, note TEXT)",),
    )


def _versions(url: str) -> list[int]:
    db = connect(url)
    try:
        with db.read() as tx:
            return [int(r[0]) for r in tx.rows("SELECT version FROM schema_version ORDER BY version")]
    finally:
        db.close()


def test_a_migration_merged_below_one_already_applied_is_still_applied(url: str) -> None:
    # This branch's databases have 1 and 3; once version 2 is merged in, opening applies 2 as well.
    google = next(step for step in MIGRATIONS if step.version == 3)
    first = next(step for step in MIGRATIONS if step.version == 1)
    db = connect(url)
    try:
        assert migrate(db, at_us=1, migrations=(first, google)) == 3
        assert migrate(db, at_us=2, migrations=(first, _placeholder(2), google)) == 3
        with db.write() as tx:
            tx.run("INSERT INTO placeholder_2 (note) VALUES (?)", ("made",))
            tx.run(
                "INSERT INTO google_classes (class_id, program_version, digest, recorded_at)"
                " VALUES (?, 1, ?, 0)",
                ("c", "d"),
            )
    finally:
        db.close()
    assert _versions(url) == [1, 2, 3]


def test_the_google_migration_applies_after_a_parallel_version_2(url: str) -> None:
    google = next(step for step in MIGRATIONS if step.version == 3)
    first = next(step for step in MIGRATIONS if step.version == 1)
    db = connect(url)
    try:
        assert migrate(db, at_us=1, migrations=(first, _placeholder(2))) == 2
        assert migrate(db, at_us=2, migrations=(first, _placeholder(2), google)) == 3
    finally:
        db.close()
    assert _versions(url) == [1, 2, 3]


def test_migration_44_moves_a_database_of_43_to_the_open_voucher_expiry_index(
    url: str, programs: list[Any]
) -> None:
    """A database written by schema 43 (vouchers indexed by state and expiry) gets the index of open
    vouchers that expire (issue 17): expire_due still finds what is due, listings by state still
    work, and a redemption no longer touches the index of a voucher that never expires."""
    from datetime import timedelta

    from walletvoucher import SelfRedeem
    from walletvoucher.model import VoucherStatus
    from walletvoucher.store._wallet import Wallet as Direct

    # Schema 43 with 45 (PostgreSQL's walletvoucher_expect, which today's writes use; 44 does not
    # depend on it): a database gets every step it has not recorded, so opening it applies 44.
    before = tuple(m for m in MIGRATIONS if m.version != 44)
    db = connect(url)
    try:
        assert migrate(db, at_us=1, migrations=before) == 45
        old = Direct(db, programs=programs)  # the constructor does not migrate
        old.issue_card(coffee(), serial="C1", member_id="m-1", at=NOW)
        old.issue_card(coffee(), serial="C2", member_id="m-2", at=NOW)
        first = old.stamp("C1", 10, at=NOW).vouchers[0]
        old.stamp("C2", 10, at=NOW)
        old.redeem(first.serial, SelfRedeem(), at=NOW)
    finally:
        db.close()

    def indexes() -> set[str]:
        found = connect(url)
        try:
            with found.read() as tx:
                sql = (
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'vouchers'"
                    if found.dialect == "postgres"
                    else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'vouchers'"
                )
                return {str(r[0]) for r in tx.rows(sql)}
        finally:
            found.close()

    assert "vouchers_state_expiry" in indexes()
    with Wallet.open(url, programs=programs) as wallet:
        assert {"vouchers_open_expiry"} <= indexes() and "vouchers_state_expiry" not in indexes()
        assert [v.serial for v in wallet.vouchers(VoucherStatus.REDEEMED)] == [first.serial]
        expired = wallet.expire_due(at=NOW + timedelta(days=31))
        assert [e.data["voucher"] for e in expired if e.type.value == "voucher_expired"] == ["C2-1"]
        assert [v.serial for v in wallet.vouchers(VoucherStatus.EXPIRED)] == ["C2-1"]
