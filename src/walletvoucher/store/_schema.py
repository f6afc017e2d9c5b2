"""The store's tables, created on first open and moved forward by an ordered list of migrations.

``schema_version`` holds one row per migration applied. Opening a database applies the migrations it
lacks, in order, in one transaction (so two processes opening a new database at once do not both
create it). A database whose version is above :data:`SCHEMA_VERSION` was written by a newer
walletvoucher and is refused with :class:`~walletvoucher.errors.SchemaTooNew` rather than guessed at.

To add tables, append a :class:`Migration` with the next version; never edit a released one.
Versions must increase but need not be consecutive (the Google sync's version 3 was written beside
the Apple web service's version 2, and the tables of one never refer to the other): a database gets
every step it has not recorded, in list order, so one that already has 3 still gets 2.
Statements may use ``{pk}`` for an auto-numbered primary key (SQLite ``INTEGER PRIMARY KEY
AUTOINCREMENT``: numbers are never reused; PostgreSQL an identity column). Times are stored as
integer microseconds since the Unix epoch (UTC), which compare and index the same on both engines.
"""

from __future__ import annotations

import attrs

from walletvoucher.errors import DatabaseUnavailable, SchemaTooNew
from walletvoucher.store._callbacks import CALLBACKS_DESCRIPTION, CALLBACKS_STATEMENTS
from walletvoucher.store._engine import Database, Tx
from walletvoucher.store._postgres import EXPECT_FUNCTION, SHIFT_SQL_40
from walletvoucher.store._url import redact

_PK = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgres": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
}
_MIGRATION_LOCK = 0x77765F736368656D  # "wv_schem"


@attrs.frozen(kw_only=True)
class Migration:
    """One forward step of the schema."""

    version: int
    description: str
    statements: tuple[str, ...]
    dialects: tuple[str, ...] = ("sqlite", "postgres")
    """The engines whose databases run the statements (the others only record the version)."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="cards, events, snapshots, vouchers, idempotency keys, code pools, outbox",
        statements=(
            """CREATE TABLE cards (
                serial TEXT PRIMARY KEY, member_id TEXT NOT NULL, program_id TEXT NOT NULL,
                program_version INTEGER NOT NULL, version INTEGER NOT NULL,
                last_position BIGINT NOT NULL, issued_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)""",
            "CREATE INDEX cards_member ON cards (member_id)",
            """CREATE TABLE events (
                position {pk}, serial TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL,
                at BIGINT NOT NULL, data TEXT NOT NULL, UNIQUE (serial, version))""",
            """CREATE TABLE snapshots (
                serial TEXT PRIMARY KEY, version INTEGER NOT NULL, data TEXT NOT NULL)""",
            """CREATE TABLE vouchers (
                serial TEXT PRIMARY KEY, card_serial TEXT NOT NULL, state TEXT NOT NULL,
                valid_from BIGINT NOT NULL, expires_at BIGINT, data TEXT NOT NULL,
                updated_at BIGINT NOT NULL)""",
            "CREATE INDEX vouchers_state_expiry ON vouchers (state, expires_at)",
            "CREATE INDEX vouchers_card ON vouchers (card_serial)",
            """CREATE TABLE idempotency (
                key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, result TEXT NOT NULL,
                created_at BIGINT NOT NULL)""",
            """CREATE TABLE code_pools (
                name TEXT PRIMARY KEY, symbology TEXT NOT NULL, low_stock INTEGER NOT NULL)""",
            """CREATE TABLE pool_codes (
                id {pk}, pool TEXT NOT NULL, value TEXT NOT NULL, taken_by TEXT, taken_at BIGINT,
                UNIQUE (pool, value))""",
            "CREATE INDEX pool_codes_free ON pool_codes (pool, id) WHERE taken_by IS NULL",
            """CREATE TABLE outbox (
                id {pk}, topic TEXT NOT NULL, payload TEXT NOT NULL, created_at BIGINT NOT NULL,
                available_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                done_at BIGINT)""",
            "CREATE INDEX outbox_ready ON outbox (available_at, id) WHERE done_at IS NULL",
        ),
    ),
    Migration(
        version=2,
        description="pass update marks, device registrations, card_saved/card_removed activity",
        statements=(
            """CREATE TABLE pass_updates (
                serial TEXT PRIMARY KEY, card_serial TEXT NOT NULL, kind TEXT NOT NULL,
                version INTEGER NOT NULL, last_modified BIGINT NOT NULL, update_position BIGINT NOT NULL)""",
            "CREATE INDEX pass_updates_position ON pass_updates (update_position)",
            """INSERT INTO pass_updates (serial, card_serial, kind, version, last_modified, update_position)
                SELECT serial, serial, 'card', version, (updated_at / 1000000) * 1000000, last_position
                FROM cards""",
            """CREATE TABLE registrations (
                device TEXT NOT NULL, serial TEXT NOT NULL, push_token TEXT NOT NULL,
                created BIGINT NOT NULL, PRIMARY KEY (device, serial))""",
            "CREATE INDEX registrations_serial ON registrations (serial)",
            "CREATE INDEX registrations_token ON registrations (push_token)",
            """CREATE TABLE pass_activity (
                position {pk}, type TEXT NOT NULL, serial TEXT NOT NULL, device TEXT NOT NULL,
                at BIGINT NOT NULL, reason TEXT NOT NULL)""",
        ),
    ),
    Migration(
        version=3,
        description="Google sync: classes per program version, notification budget, reward messages",
        statements=(
            """CREATE TABLE google_classes (
                class_id TEXT PRIMARY KEY, program_version INTEGER NOT NULL, digest TEXT NOT NULL,
                recorded_at BIGINT NOT NULL)""",
            """CREATE TABLE google_objects (
                object_id TEXT PRIMARY KEY, notifications INTEGER NOT NULL DEFAULT 0)""",
            """CREATE TABLE google_notifications (
                object_id TEXT NOT NULL, sync_key TEXT NOT NULL, sent_at BIGINT NOT NULL,
                PRIMARY KEY (object_id, sync_key))""",
            "CREATE INDEX google_notifications_window ON google_notifications (object_id, sent_at)",
            """CREATE TABLE google_messages (
                object_id TEXT NOT NULL, message_id TEXT NOT NULL, voucher TEXT NOT NULL,
                added_at BIGINT NOT NULL, PRIMARY KEY (object_id, message_id))""",
        ),
    ),
    Migration(
        version=10,
        description="the counter: API keys, staff devices and kiosks (hashed), rotating-code steps used",
        statements=(
            """CREATE TABLE credentials (
                id {pk}, kind TEXT NOT NULL, name TEXT NOT NULL, location TEXT NOT NULL,
                scopes TEXT NOT NULL, token_hash TEXT UNIQUE, enrol_hash TEXT UNIQUE,
                created_at BIGINT NOT NULL, enrolled_at BIGINT, last_used_at BIGINT, revoked_at BIGINT)""",
            "CREATE UNIQUE INDEX credentials_live_name ON credentials (kind, name) WHERE revoked_at IS NULL",
            """CREATE TABLE scan_steps (
                serial TEXT NOT NULL, step BIGINT NOT NULL, used_at BIGINT NOT NULL,
                PRIMARY KEY (serial, step))""",
        ),
    ),
    Migration(
        version=14,
        description="join details a customer chose to give (name, e-mail, phone), one row per card",
        statements=(
            """CREATE TABLE card_details (
                serial TEXT PRIMARY KEY, data TEXT NOT NULL, given_at BIGINT NOT NULL)""",
        ),
    ),
    Migration(
        version=20,
        description="merchants' rules: when each card's stamps lapse, for expire_due",
        statements=(
            "ALTER TABLE cards ADD COLUMN stamps_lapse_at BIGINT",
            "CREATE INDEX cards_stamps_lapse ON cards (stamps_lapse_at) WHERE stamps_lapse_at IS NOT NULL",
        ),
    ),
    Migration(
        version=21,
        description="merchants' rules: when each card's validity ends, for expire_due",
        statements=(
            "ALTER TABLE cards ADD COLUMN expires_at BIGINT",
            "CREATE INDEX cards_expiry ON cards (expires_at) WHERE expires_at IS NOT NULL",
        ),
    ),
    Migration(
        version=30,
        description="every transition rewrites its pass marks: no index on their position (a device's "
        "updates are found from its registrations), so fewer pages per commit and HOT updates on PostgreSQL",
        statements=("DROP INDEX IF EXISTS pass_updates_position",),
    ),
    Migration(
        version=40,
        description="PostgreSQL: journal positions from transaction ids, no journal lock (issue 17); "
        "journal_clock.shift keeps them above every position already stored",
        statements=(
            "CREATE TABLE journal_clock (shift BIGINT NOT NULL)",
            f"INSERT INTO journal_clock (shift) SELECT {SHIFT_SQL_40}",
            "ALTER TABLE events ALTER COLUMN position DROP IDENTITY",
            "ALTER TABLE pass_activity ALTER COLUMN position DROP IDENTITY",
        ),
        dialects=("postgres",),
    ),
    Migration(
        version=41,
        description="SQLite: fewer pages per commit (issue 17): events numbered without AUTOINCREMENT "
        "(positions_taken keeps what a re-mark took), cards and pass_updates clustered on their serial, "
        "a card's own pass mark kept in its row (pass_modified, pass_position)",
        statements=(
            "CREATE TABLE positions_taken (position INTEGER NOT NULL)",
            "INSERT INTO positions_taken (position) SELECT MAX(IFNULL((SELECT seq FROM sqlite_sequence"
            " WHERE name = 'events'), 0), IFNULL((SELECT MAX(position) FROM events), 0))",
            """CREATE TABLE events_41 (
                position INTEGER PRIMARY KEY, serial TEXT NOT NULL, version INTEGER NOT NULL,
                type TEXT NOT NULL, at BIGINT NOT NULL, data TEXT NOT NULL, UNIQUE (serial, version))""",
            "INSERT INTO events_41 (position, serial, version, type, at, data)"
            " SELECT position, serial, version, type, at, data FROM events ORDER BY position",
            "DROP TABLE events",
            "ALTER TABLE events_41 RENAME TO events",
            "DELETE FROM sqlite_sequence WHERE name IN ('events', 'events_41')",
            """CREATE TABLE cards_41 (
                serial TEXT PRIMARY KEY NOT NULL, member_id TEXT NOT NULL, program_id TEXT NOT NULL,
                program_version INTEGER NOT NULL, version INTEGER NOT NULL,
                last_position BIGINT NOT NULL, issued_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                stamps_lapse_at BIGINT, expires_at BIGINT, pass_modified BIGINT, pass_position BIGINT)
                WITHOUT ROWID""",
            "INSERT INTO cards_41 (serial, member_id, program_id, program_version, version, last_position,"
            " issued_at, updated_at, stamps_lapse_at, expires_at, pass_modified, pass_position)"
            " SELECT c.serial, c.member_id, c.program_id, c.program_version, c.version, c.last_position,"
            " c.issued_at, c.updated_at, c.stamps_lapse_at, c.expires_at, p.last_modified, p.update_position"
            " FROM cards c LEFT JOIN pass_updates p ON p.serial = c.serial AND p.kind = 'card'",
            "DROP TABLE cards",
            "ALTER TABLE cards_41 RENAME TO cards",
            "CREATE INDEX cards_member ON cards (member_id)",
            "CREATE INDEX cards_stamps_lapse ON cards (stamps_lapse_at) WHERE stamps_lapse_at IS NOT NULL",
            "CREATE INDEX cards_expiry ON cards (expires_at) WHERE expires_at IS NOT NULL",
            """CREATE TABLE pass_updates_41 (
                serial TEXT PRIMARY KEY NOT NULL, card_serial TEXT NOT NULL, kind TEXT NOT NULL,
                version INTEGER NOT NULL, last_modified BIGINT NOT NULL, update_position BIGINT NOT NULL)
                WITHOUT ROWID""",
            "INSERT INTO pass_updates_41 (serial, card_serial, kind, version, last_modified, update_position)"
            " SELECT serial, card_serial, kind, version, last_modified, update_position FROM pass_updates"
            " WHERE kind <> 'card'",
            "DROP TABLE pass_updates",
            "ALTER TABLE pass_updates_41 RENAME TO pass_updates",
        ),
        dialects=("sqlite",),
    ),
    Migration(version=42, description=CALLBACKS_DESCRIPTION, statements=CALLBACKS_STATEMENTS),
    Migration(
        version=43,
        description="PostgreSQL: a card's own pass mark kept in its row (pass_modified, pass_position), "
        "written by the card's UPDATE (issue 17; SQLite got it with version 41)",
        statements=(
            "ALTER TABLE cards ADD COLUMN pass_modified BIGINT",
            "ALTER TABLE cards ADD COLUMN pass_position BIGINT",
            "UPDATE cards SET pass_modified = p.last_modified, pass_position = p.update_position"
            " FROM pass_updates p WHERE p.serial = cards.serial AND p.kind = 'card'",
            "DELETE FROM pass_updates WHERE kind = 'card'",
        ),
        dialects=("postgres",),
    ),
    Migration(
        version=44,
        description="a redemption leaves the expiry index alone: it holds only open vouchers that "
        "expire (what expire_due reads), so redeeming one that never expires changes no index page "
        "and one that expires removes its entry instead of moving it (issue 17)",
        statements=(
            "DROP INDEX IF EXISTS vouchers_state_expiry",
            "CREATE INDEX vouchers_open_expiry ON vouchers (expires_at)"
            " WHERE state = 'open' AND expires_at IS NOT NULL",
        ),
    ),
    Migration(
        version=45,
        description="PostgreSQL: walletvoucher_expect(), which fails a statement sent with COMMIT that "
        "changed another number of rows than the store counted on (a card that moved), so a "
        "transition's writes travel in one round trip (issue 17)",
        statements=(EXPECT_FUNCTION,),
        dialects=("postgres",),
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema version this walletvoucher writes."""


def current_version(tx: Tx) -> int:
    """The highest migration applied (0 for a new database)."""
    row = tx.one("SELECT MAX(version) FROM schema_version")
    return int(row[0]) if row and row[0] is not None else 0


def migrate(db: Database, *, at_us: int, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Bring *db* up to the last of *migrations*; return the version it is at.

    An up-to-date database is only read (so a read-only one opens). Raises
    :class:`~walletvoucher.errors.SchemaTooNew` for a database ahead of the code.
    """
    last = migrations[-1].version
    with db.read() as tx:
        applied = _applied(tx) if _has_version_table(tx, db.dialect) else set()
        if not applied:
            _refuse_foreign(tx, db, migrations)
    _refuse_newer(max(applied, default=0), last)
    if {step.version for step in migrations} <= applied:
        db.upkeep()
        return last
    with db.write() as tx:
        if db.dialect == "postgres":
            tx.rows("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
        tx.run(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at BIGINT NOT NULL)"
        )
        applied = _applied(tx)
        _refuse_newer(max(applied, default=0), last)
        for step in migrations:
            if step.version not in applied:
                for statement in step.statements if db.dialect in step.dialects else ():
                    tx.run(statement.format(pk=_PK[db.dialect]))
                tx.run(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (step.version, at_us)
                )
    db.upkeep()
    return last


def _applied(tx: Tx) -> set[int]:
    """Every migration version recorded in ``schema_version``."""
    return {int(r[0]) for r in tx.rows("SELECT version FROM schema_version")}


def _refuse_newer(found: int, known: int) -> None:
    if found > known:
        raise SchemaTooNew(
            f"is newer than this walletvoucher understands (it knows up to {known})",
            field="schema_version",
            value=found,
            fix="upgrade walletvoucher to the version that migrated this database",
        )


def _refuse_foreign(tx: Tx, db: Database, migrations: tuple[Migration, ...]) -> None:
    """A database without our ``schema_version`` must not hold a table we would create."""
    ours = sorted(
        {
            statement.split("(")[0].split()[-1]
            for step in migrations
            for statement in step.statements
            if statement.lstrip().startswith("CREATE TABLE")
        }
    )
    marks = ", ".join("?" * len(ours))
    if db.dialect == "postgres":
        query = f"SELECT relname FROM pg_class WHERE relkind IN ('r', 'p', 'v') AND relname IN ({marks})" \
            " AND pg_table_is_visible(oid)"
    else:
        query = f"SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name IN ({marks})"
    found = [str(r[0]) for r in tx.rows(query, ours)]
    if found:
        raise DatabaseUnavailable(
            f"holds tables walletvoucher did not create ({', '.join(sorted(found))})",
            field="url",
            value=redact(str(getattr(db, "url", "") or getattr(db, "target", ""))),
            fix="give the wallet a database of its own (a new SQLite file, or a new PostgreSQL database)",
        )


def _has_version_table(tx: Tx, dialect: str) -> bool:
    if dialect == "postgres":
        row = tx.one("SELECT to_regclass('schema_version') IS NOT NULL")
        return bool(row and row[0])
    return tx.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") is not None
