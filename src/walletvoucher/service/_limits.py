"""Rate limits for the customer pages: at most *count* attempts per *seconds*, per key.

A key is a client address or a card; the window slides (the timestamps of the last *count*
attempts are kept), and at most *max_keys* keys are remembered (the least recently seen are
forgotten first), so a flood of addresses cannot grow memory without bound.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict, deque
from datetime import datetime

import attrs

from walletvoucher.errors import ServiceConfigError

_RATE = re.compile(r"(\d{1,6})/(\d{1,7})")


@attrs.frozen
class Rate:
    """*count* attempts per *seconds* (``Rate.parse("30/600")``)."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str, *, field: str = "rate") -> Rate:
        """Read ``"COUNT/SECONDS"``, e.g. ``"30/600"`` (30 every ten minutes)."""
        match = _RATE.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None or int(match[1]) < 1 or int(match[2]) < 1:
            raise ServiceConfigError(
                "must be COUNT/SECONDS, both at least 1",
                field=field,
                value=text,
                fix='write e.g. "30/600" for 30 attempts every ten minutes',
            )
        return cls(int(match[1]), int(match[2]))


class RateLimiter:
    """Allow at most ``rate.count`` attempts per ``rate.seconds`` for each key; thread-safe.

    >>> from datetime import datetime, timezone, timedelta
    >>> t = datetime(2026, 5, 7, tzinfo=timezone.utc)
    >>> limits = RateLimiter(Rate(2, 60))
    >>> [limits.allow("1.2.3.4", at=t) for _ in range(3)]
    [True, True, False]
    >>> limits.allow("1.2.3.4", at=t + timedelta(seconds=61))
    True
    """

    def __init__(self, rate: Rate, *, max_keys: int = 10_000) -> None:
        self.rate = rate
        self._max_keys = max_keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, *, at: datetime) -> bool:
        """Count one attempt for *key* at *at*; False when the key is over its rate."""
        now = at.timestamp()
        with self._lock:
            times = self._seen.pop(key, None) or deque()
            while times and times[0] <= now - self.rate.seconds:
                times.popleft()
            allowed = len(times) < self.rate.count
            if allowed:
                times.append(now)
            self._seen[key] = times
            while len(self._seen) > self._max_keys:
                self._seen.popitem(last=False)
            return allowed
