"""An in-memory :class:`PassUpdateStore`: for the demo server, tests and benchmarks. Not persistent."""

from __future__ import annotations

import threading
from datetime import datetime

from walletvoucher.service._protocol import PassState, UpdatedSerials, next_last_modified


class MemoryPassStore:
    """Registrations and update marks in dictionaries, behind one lock. Lost when the process ends.

    :meth:`mark_updated` is what a real store does inside the transaction that changes a card.

    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
    >>> store = MemoryPassStore()
    >>> store.mark_updated("CARD-1", at=now).version
    1
    >>> store.register_device("dev-1", "CARD-1", "push-1", at=now)
    True
    >>> store.serials_updated_since("dev-1", None)
    UpdatedSerials(serials=('CARD-1',), last_updated=1)
    >>> store.serials_updated_since("dev-1", 1).serials
    ()
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registrations: dict[tuple[str, str], str] = {}
        self._passes: dict[str, tuple[PassState, int]] = {}
        self._position = 0

    def mark_updated(self, serial: str, *, at: datetime) -> PassState:
        """Record that the pass changed at *at*: new version, last-modified and update position."""
        with self._lock:
            previous = self._passes.get(serial)
            version = 1 if previous is None else previous[0].version + 1
            modified = next_last_modified(None if previous is None else previous[0].last_modified, at)
            self._position += 1
            state = PassState(serial=serial, version=version, last_modified=modified)
            self._passes[serial] = (state, self._position)
            return state

    def register_device(self, device: str, serial: str, push_token: str, *, at: datetime) -> bool:
        """See :meth:`PassUpdateStore.register_device`."""
        with self._lock:
            created = (device, serial) not in self._registrations
            self._registrations[(device, serial)] = push_token
            return created

    def unregister_device(self, device: str, serial: str, *, at: datetime) -> bool:
        """See :meth:`PassUpdateStore.unregister_device`."""
        with self._lock:
            return self._registrations.pop((device, serial), None) is not None

    def serials_updated_since(self, device: str, since: int | None) -> UpdatedSerials:
        """See :meth:`PassUpdateStore.serials_updated_since`."""
        floor = -1 if since is None else since
        with self._lock:
            rows = sorted(
                (self._passes[serial][1], serial)
                for (dev, serial) in self._registrations
                if dev == device and serial in self._passes and self._passes[serial][1] > floor
            )
        last = rows[-1][0] if rows else max(floor, 0)
        return UpdatedSerials(serials=tuple(serial for _, serial in rows), last_updated=last)

    def push_tokens(self, serial: str) -> tuple[str, ...]:
        """See :meth:`PassUpdateStore.push_tokens`."""
        with self._lock:
            tokens = {token for (_, s), token in self._registrations.items() if s == serial}
        return tuple(sorted(tokens))

    def remove_push_token(self, push_token: str, *, at: datetime) -> int:
        """See :meth:`PassUpdateStore.remove_push_token`."""
        with self._lock:
            dead = [key for key, token in self._registrations.items() if token == push_token]
            for key in dead:
                del self._registrations[key]
            return len(dead)

    def pass_state(self, serial: str) -> PassState | None:
        """See :meth:`PassUpdateStore.pass_state`."""
        with self._lock:
            entry = self._passes.get(serial)
        return None if entry is None else entry[0]
