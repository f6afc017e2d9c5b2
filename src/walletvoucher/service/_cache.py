"""A bounded render cache keyed by (serial, version, last_modified), rendering each key once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from walletvoucher.errors import ServiceConfigError
from walletvoucher.service._protocol import PassState

PassRenderer = Callable[[PassState], bytes]
"""Renders the signed .pkpass of ``state.serial``: its card at ``state.version``, as at ``last_modified``."""

CacheKey = tuple[str, int, datetime]


class PassCache:
    """Least-recently-used cache of rendered passes, at most *max_entries* and *max_bytes*.

    A thousand devices asking for the same (serial, version, last_modified) at once cause **one**
    render: the first caller renders while holding that key's lock, the others wait and reuse it.
    Different keys render in parallel. A newer mark is a new key (a pass re-marked when a voucher
    became valid keeps its version but not its ``last_modified``); the old one ages out.

    >>> calls = []
    >>> cache = PassCache(lambda s: calls.append(s.serial) or b"pkpass", max_entries=2)
    >>> from datetime import datetime, timezone
    >>> state = PassState(serial="A", version=1, last_modified=datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> cache.get(state), cache.get(state), calls
    (b'pkpass', b'pkpass', ['A'])
    """

    def __init__(self, render: PassRenderer, *, max_entries: int = 1024, max_bytes: int = 256 << 20) -> None:
        if max_entries < 0 or max_bytes < 0:
            raise ServiceConfigError(
                "must not be negative",
                field="cache size",
                value=(max_entries, max_bytes),
                fix="give 0 to turn the cache off",
            )
        self._render = render
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._key_locks: dict[CacheKey, tuple[threading.Lock, int]] = {}
        self.renders = 0

    def get(self, state: PassState) -> bytes:
        """The rendered pass for this state, from the cache or rendered now (once per key)."""
        key = (state.serial, state.version, state.last_modified)
        if self._max_entries == 0:
            return self._count(state)
        hit = self._lookup(key)
        if hit is not None:
            return hit
        key_lock = self._acquire_key_lock(key)
        try:
            with key_lock:
                hit = self._lookup(key)
                if hit is None:
                    hit = self._count(state)
                    self._store(key, hit)
                return hit
        finally:
            self._release_key_lock(key)

    def __len__(self) -> int:
        return len(self._entries)

    def _count(self, state: PassState) -> bytes:
        data = self._render(state)
        with self._lock:
            self.renders += 1
        return data

    def _lookup(self, key: CacheKey) -> bytes | None:
        with self._lock:
            data = self._entries.get(key)
            if data is not None:
                self._entries.move_to_end(key)
            return data

    def _store(self, key: CacheKey, data: bytes) -> None:
        if len(data) > self._max_bytes:
            return
        with self._lock:
            self._entries[key] = data
            self._bytes += len(data)
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                _, old = self._entries.popitem(last=False)
                self._bytes -= len(old)

    def _acquire_key_lock(self, key: CacheKey) -> threading.Lock:
        with self._lock:
            lock, waiters = self._key_locks.get(key, (threading.Lock(), 0))
            self._key_locks[key] = (lock, waiters + 1)
            return lock

    def _release_key_lock(self, key: CacheKey) -> None:
        with self._lock:
            lock, waiters = self._key_locks[key]
            if waiters == 1:
                del self._key_locks[key]
            else:
                self._key_locks[key] = (lock, waiters - 1)
