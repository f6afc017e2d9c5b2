"""What a customer chose to give when joining (a name, an e-mail, a phone number), kept with the card.

Nothing is asked by default; a program file's ``[join] ask = [...]`` names the fields. The details
are personal data: they live in their own table (``card_details``), one row per card serial, so a
deletion request removes one row, and they are never written to the journal, the outbox or a log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from walletvoucher.store._engine import Database
from walletvoucher.store._types import to_us


class CardDetails:
    """The join details of each card (``wallet.details``); every method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, serial: str, details: Mapping[str, str], *, consent: str, at: datetime) -> None:
        """Store (or replace) the details given for *serial*, with the consent text that was shown."""
        data = json.dumps({"details": dict(details), "consent": consent}, ensure_ascii=False, sort_keys=True)
        with self._db.write() as tx:
            tx.run(
                "INSERT INTO card_details (serial, data, given_at) VALUES (?, ?, ?) ON CONFLICT (serial)"
                " DO UPDATE SET data = excluded.data, given_at = excluded.given_at",
                (serial, data, to_us(at)),
            )

    def get(self, serial: str) -> dict[str, str]:
        """The details stored for *serial* (empty when none were given)."""
        with self._db.read() as tx:
            row = tx.one("SELECT data FROM card_details WHERE serial = ?", (serial,))
        if row is None:
            return {}
        return dict(json.loads(str(row[0]))["details"])

    def forget(self, serial: str) -> bool:
        """Delete the details of *serial* (a deletion request); True when there were any."""
        with self._db.write() as tx:
            return tx.run("DELETE FROM card_details WHERE serial = ?", (serial,)) > 0
