"""What the web service needs from storage: one small Protocol, easy to implement over SQL.

Two kinds of data, both owned by the store:

* **registrations**: ``(device_library_identifier, serial) -> push_token``. A device registers
  once per pass it holds; one push token may serve several passes on that device.
* **pass update marks**, one row per serial: ``version`` (the card version the pass is drawn
  from), ``last_modified`` (for HTTP ``Last-Modified``, and the moment the pass is drawn at; the
  render cache is keyed by both) and
  ``update_position``, a number taken from **one counter shared by every pass** when the pass
  changes. "Serials changed since tag" is then a single indexed query::

      SELECT p.serial, p.update_position FROM registrations r JOIN pass_updates p USING (serial)
      WHERE r.device = :device AND p.update_position > :since ORDER BY p.update_position

  (the wallet store keeps a card's own mark in its ``cards`` row and a voucher's in
  ``pass_updates``, and reads both with ``UNION ALL``)

  and ``lastUpdated`` is the largest position returned. A device that missed three updates gets
  all three serials; the tag only grows. The store must hand positions out in commit order (e.g.
  increment a counter row inside the transaction that changes the pass), or answer only below a
  position no running transaction can still commit under (the wallet store on PostgreSQL), or a
  reader could see position 8 before 7 commits and skip 7 forever.

The service treats the tag as opaque towards Wallet (it is sent as a decimal string).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import attrs

from walletvoucher.model._validate import aware
from walletvoucher.store import next_last_modified

__all__ = ["PassState", "PassUpdateStore", "UpdatedSerials", "next_last_modified"]


@attrs.frozen(kw_only=True)
class PassState:
    """The current update mark of one pass.

    ``version`` is the version of the card the pass is drawn from (the store's card version), and
    the pass is drawn as at ``last_modified``; the render cache is keyed by the two together.
    ``last_modified`` is timezone-aware, at or after the change (rounded **up**), and grows by **at
    least one second** per change, because HTTP dates have one-second resolution: two changes in
    the same second would otherwise look unmodified to ``If-Modified-Since``. Use
    :func:`next_last_modified`. A change due to time alone (a voucher becoming valid) moves
    ``last_modified`` and the update position but not ``version``.
    """

    serial: str
    version: int
    last_modified: datetime = attrs.field(validator=aware)


@attrs.frozen(kw_only=True)
class UpdatedSerials:
    """The answer to "which of this device's passes changed since a tag".

    ``last_updated`` is the highest update position among ``serials`` (or the ``since`` asked
    for when none changed); Wallet sends it back as ``passesUpdatedSince`` next time.
    """

    serials: tuple[str, ...]
    last_updated: int


class PassUpdateStore(Protocol):
    """Storage behind the PassKit web service and the push fan-out.

    Every method is one short transaction. ``device`` is Wallet's device library identifier,
    ``serial`` the pass's serial number, ``push_token`` the APNs device token. The service has
    already checked the caller's authentication token and the pass type identifier.
    """

    def register_device(self, device: str, serial: str, push_token: str, *, at: datetime) -> bool:
        """Record (or refresh the push token of) a registration; True if it is new, False if it existed."""
        ...

    def unregister_device(self, device: str, serial: str, *, at: datetime) -> bool:
        """Delete a registration; True if there was one."""
        ...

    def serials_updated_since(self, device: str, since: int | None) -> UpdatedSerials:
        """The serials registered by *device* whose update position is above *since* (all when None)."""
        ...

    def push_tokens(self, serial: str) -> tuple[str, ...]:
        """The distinct push tokens of every device registered for *serial*."""
        ...

    def remove_push_token(self, push_token: str, *, at: datetime) -> int:
        """Delete every registration using *push_token* (APNs said it is dead); return how many."""
        ...

    def pass_state(self, serial: str) -> PassState | None:
        """The current update mark of *serial*, or None when the store has no such pass."""
        ...
