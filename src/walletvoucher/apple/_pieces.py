"""The per-design pieces of a pass, computed once per distinct content and reused.

A pass is pass.json (different for every card), manifest.json and signature (made per pass),
and files that are the same for every card of one design at one stamp count: icon, logo,
strip images, ``xx.lproj/pass.strings``. Their SHA-1 and their compressed zip records are
what an :class:`EntryCache` keeps.

The cache is **keyed by content**: the key is the file's name and its bytes, so whatever
code produced the bytes (and however that code changes), equal bytes share one entry and
different bytes never do. Looking up the same ``bytes`` object again is cheap because Python
caches a bytes object's hash and compares identical objects by identity first; the artwork
caches in ``_images`` hand out the same objects for the same design. Values are immutable
:class:`ZipEntry` objects; the cache is bounded by entry count and by bytes held, evicts the
least recently used entry, and is safe to share between threads (one lock). Nothing in it is
secret and nothing crosses processes: each worker process fills its own.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from walletvoucher.apple._bundle import ZipEntry, make_entry

DEFAULT_MAX_ENTRIES = 1024
DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # artwork of a design is ~100 kB with its zip records


class EntryCache:
    """A bounded, thread-safe LRU of :class:`ZipEntry` keyed by ``(name, bytes)``.

    >>> cache = EntryCache(max_entries=2)
    >>> cache.entry("a.txt", b"x") is cache.entry("a.txt", b"x")
    True
    >>> cache.stats()
    {'entries': 1, 'bytes': 86, 'hits': 1, 'misses': 1}
    """

    def __init__(self, *, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("an entry cache needs room for at least one entry")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, bytes], ZipEntry] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0

    def entry(self, name: str, data: bytes) -> ZipEntry:
        """The entry for ``name`` holding ``data``: made on first sight, then reused."""
        key = (name, data)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self._hits += 1
                return found
            self._misses += 1
        made = make_entry(name, data)
        self._store(key, made)
        return made

    def _store(self, key: tuple[str, bytes], made: ZipEntry) -> None:
        cost = made.size + len(key[1])
        if cost > self._max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = made
            self._bytes += cost
            while len(self._items) > self._max_entries or self._bytes > self._max_bytes:
                (_, old_data), old = self._items.popitem(last=False)
                self._bytes -= old.size + len(old_data)

    def stats(self) -> dict[str, int]:
        """Entries and bytes held, hits and misses so far."""
        with self._lock:
            return {"entries": len(self._items), "bytes": self._bytes, "hits": self._hits,
                    "misses": self._misses}

    def renew_lock(self) -> None:
        """A fresh lock: for a child made by ``fork`` (the parent's lock may have been held)."""
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._items.clear()
            self._bytes = 0


SHARED_ENTRIES = EntryCache()
"""The cache :func:`walletvoucher.apple.render_pass` uses unless given one (bounded, content-keyed)."""
if hasattr(os, "register_at_fork"):  # a forked child gets the entries (immutable) and a new lock
    os.register_at_fork(after_in_child=SHARED_ENTRIES.renew_lock)


_Render = TypeVar("_Render", bound=Callable[..., bytes])


def memo_by_content(maxsize: int) -> Callable[[_Render], _Render]:
    """Remember a ``(Mapping[str, str], *hashable options) -> bytes`` renderer's output per content.

    For files that are the same for every card of a design (``pass.strings``): the key is the
    mapping's items and any further (hashable) arguments, so equal texts share one result and
    any change of text or option is a new key. Results are immutable bytes; the cache is a
    bounded, thread-safe ``functools.lru_cache``. Unhashable arguments are passed straight on.

    >>> calls = []
    >>> @memo_by_content(8)
    ... def render(entries):
    ...     calls.append(1)
    ...     return repr(sorted(entries.items())).encode()
    >>> render({"a": "1"}) is render({"a": "1"}), len(calls)
    (True, 1)
    """

    def wrap(render: _Render) -> _Render:
        @functools.lru_cache(maxsize=maxsize)
        def cached(items: tuple[tuple[str, str], ...], args: tuple[Any, ...],
                   kwargs: tuple[tuple[str, Any], ...]) -> bytes:
            return render(dict(items), *args, **dict(kwargs))

        @functools.wraps(render)
        def memo(entries: Mapping[str, str], *args: Any, **kwargs: Any) -> bytes:
            try:
                return cached(tuple(entries.items()), args, tuple(sorted(kwargs.items())))
            except TypeError:  # unhashable content: render it directly
                return render(entries, *args, **kwargs)

        return cast(_Render, memo)

    return wrap
