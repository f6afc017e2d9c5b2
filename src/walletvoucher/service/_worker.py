"""The outbox worker: perform what transitions queued (pushes, Google updates) after their commit.

A transition writes its outbox messages in its own transaction, so after a crash anywhere the
messages are still there; the worker claims them (a lease: a message claimed by a worker that died
comes back when the lease ends), hands each to the handler of its topic, and completes it, or gives
it back with a capped exponential backoff when the handler raises. A message is therefore performed
**at least once**: handlers must tolerate a repeat (an APNs push is harmless twice).

Handlers are plain callables ``handler(message, at) -> None`` keyed by topic; raising means "retry
later". Topics without a handler are not claimed, so they wait for a worker that has one.

>>> # drain_outbox(wallet, {"apple.push": ApplePushHandler(store, apns)}, at=now)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import attrs

from walletvoucher.errors import ValidationError
from walletvoucher.store import OutboxMessage, Wallet

Handler = Callable[[OutboxMessage, datetime], None]
"""Performs one outbox message at a time; raises to have it retried later."""

_logger = logging.getLogger("walletvoucher.worker")
MAX_ERROR_CHARS = 500


@attrs.frozen(kw_only=True)
class DrainReport:
    """What one :func:`drain_outbox` call did: messages completed, messages given back, why."""

    completed: int = 0
    retried: int = 0
    errors: tuple[str, ...] = ()


def backoff_delay(attempts: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """The wait before attempt ``attempts + 1``: *base* doubled per failed attempt, at most *cap*.

    >>> [backoff_delay(n, base=timedelta(seconds=5), cap=timedelta(minutes=1)).seconds for n in (1, 2, 3, 9)]
    [5, 10, 20, 60]
    """
    factor: int = 2 ** min(max(attempts - 1, 0), 30)
    grown: timedelta = base * factor if base * factor < cap else cap
    return grown


def drain_outbox(
    wallet: Wallet,
    handlers: Mapping[str, Handler],
    *,
    at: datetime,
    limit: int = 1000,
    batch: int = 50,
    lease: timedelta = timedelta(minutes=5),
    backoff: timedelta = timedelta(seconds=5),
    backoff_cap: timedelta = timedelta(hours=1),
) -> DrainReport:
    """Perform up to *limit* due messages of the topics in *handlers*, *batch* per claim.

    A handler that raises leaves its message in the outbox, due again after :func:`retry_delay`
    (the server's ``Retry-After`` when the error carries one, else :func:`backoff_delay` from
    *backoff*; capped at *backoff_cap*), with the error recorded as ``last_error``.
    Returns how many were completed and retried.
    """
    _check_handlers(handlers)
    completed, retried, errors = 0, 0, []
    while completed + retried < limit:
        size = min(batch, limit - completed - retried)
        claimed = wallet.outbox.claim(at=at, limit=size, lease=lease, topics=handlers)
        done_before = completed
        for message in claimed:
            failure = _perform(handlers[message.topic], message, at)
            if failure is None:
                wallet.outbox.complete(message.id, at=at)
                completed += 1
                continue
            error, exc = failure
            delay = retry_delay(exc, message.attempts, base=backoff, cap=backoff_cap)
            wallet.outbox.retry(message.id, error=error, at=at, delay=delay)
            retried += 1
            errors.append(f"#{message.id} {message.topic}: {error}")
        # Claim again after a short batch that completed something: a handler may have queued more
        # (pass.refresh queues a push). A batch of failures only ends the drain.
        if len(claimed) < size and completed == done_before:
            break
    return DrainReport(completed=completed, retried=retried, errors=tuple(errors))


def retry_delay(error: BaseException, attempts: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """The wait before retrying after *error*: what the server asked for (an error's ``retry_after``
    in seconds, e.g. Google's or APNs' ``Retry-After``) when it said, else :func:`backoff_delay`;
    never more than *cap*.

    >>> from walletvoucher.errors import GoogleUnavailable
    >>> retry_delay(GoogleUnavailable("429", status=429, retry_after=120.0), 1,
    ...             base=timedelta(seconds=5), cap=timedelta(hours=1)).seconds
    120
    >>> retry_delay(RuntimeError("down"), 3, base=timedelta(seconds=5), cap=timedelta(hours=1)).seconds
    20
    """
    hinted = getattr(error, "retry_after", None)
    if isinstance(hinted, (int, float)) and not isinstance(hinted, bool) and 0 <= hinted < 1e9:
        return min(timedelta(seconds=float(hinted)), cap)
    return backoff_delay(attempts, base=base, cap=cap)


def _perform(handler: Handler, message: OutboxMessage, at: datetime) -> tuple[str, Exception] | None:
    try:
        handler(message, at)
    except Exception as exc:  # any failure of a handler means "retry later"
        text = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        _logger.warning("outbox message %d (%s) failed, attempt %d: %s", message.id, message.topic,
                        message.attempts, text)
        return text, exc
    return None


def _check_handlers(handlers: Mapping[str, Handler]) -> None:
    if not isinstance(handlers, Mapping) or not handlers or not all(callable(h) for h in handlers.values()):
        raise ValidationError(
            "must map at least one topic to a callable(message, at)",
            field="handlers",
            value=type(handlers).__name__,
            fix='e.g. {"apple.push": ApplePushHandler(store, apns)}',
        )
