"""Blocking store calls run on a few dedicated threads, handed over from the event loop.

The till API's handlers call the wallet store, which blocks (SQLite or PostgreSQL), so they cannot run
on the event loop. Starlette's ``run_in_threadpool`` hands each request to anyio's pool of 40 threads:
on SQLite, where one writer at a time is all the file allows, that buys nothing but 40 threads taking
turns at the GIL and at the writer lock, and 40 wallets each with its own cold card cache (a card
stamped by one thread and redeemed by another is read back from the database).
:class:`CallThreads` runs the calls on a fixed number of threads of its own (one for SQLite, a few
for PostgreSQL, whose connections work in parallel), in arrival order, through a lock-free queue,
each thread keeping its own wallet (:class:`~walletvoucher.service.WalletPerThread`) warm.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

T = TypeVar("T")

_Item = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
Group = Callable[[], AbstractContextManager[Any]]


def _settle(future: asyncio.Future[Any], outcome: Any, failed: bool) -> None:
    if future.cancelled():
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _work(
    calls: queue.SimpleQueue[_Item | None], group: Group | None, failed: Callable[[BaseException], Any],
    most: int,
) -> None:
    while True:
        item = calls.get()
        if item is None:
            return
        batch = [item]
        while group is not None and len(batch) < most:  # whatever else is waiting goes with it
            try:
                waiting = calls.get_nowait()
            except queue.Empty:
                break
            if waiting is None:
                calls.put(None)  # this thread's stop signal: after this batch
                break
            batch.append(waiting)
        batch = [entry for entry in batch if not entry[2].cancelled()]
        if len(batch) == 1 or (batch and group is None):
            outcomes = [_outcome(entry[0]) for entry in batch]
        elif batch:
            assert group is not None
            try:
                with group():
                    outcomes = [_outcome(entry[0]) for entry in batch]
            except BaseException as exc:  # the group's commit failed: none of them happened
                outcomes = [_outcome(functools.partial(failed, exc)) for _ in batch]
        for (_, loop, future), (outcome, is_error) in zip(batch, outcomes, strict=True):
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
                loop.call_soon_threadsafe(_settle, future, outcome, is_error)
        del item, batch, outcomes  # hold nothing while waiting for the next call


def _outcome(call: Callable[[], Any]) -> tuple[Any, bool]:
    try:
        return call(), False
    except BaseException as exc:  # handed to the awaiting task, raised there
        return exc, True


def _reraise(exc: BaseException) -> Any:
    raise exc


def _stop(calls: queue.SimpleQueue[_Item | None], threads: int) -> None:
    for _ in range(threads):
        calls.put(None)


class CallThreads:
    """Run blocking calls on *threads* dedicated threads (started on first use), first come first served.

    With *group* and a single thread (one connection), the thread that finds several calls waiting
    (at most *most*) runs them together inside ``with group():`` (group commit:
    :func:`walletvoucher.store._group.grouped`) and hands each its own outcome only after the block
    ends; if the block itself fails, every call of the group gets ``failed(exception)`` as its
    outcome instead (none of them happened).

    >>> # calls = CallThreads(1, name="walletvoucher-till")
    >>> # answer = await calls.run(lambda: till.handle(request, at=now))
    """

    def __init__(
        self,
        threads: int | Callable[[], int] = 1,
        *,
        name: str = "walletvoucher-calls",
        group: Group | None = None,
        failed: Callable[[BaseException], Any] | None = None,
        most: int = 32,
    ) -> None:
        self._size = threads
        self._name = name
        self._group, self._most = group, most
        self._failed = failed or _reraise
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    async def run(self, call: Callable[[], T]) -> T:
        """``call()`` on one of the threads; its result or its exception here.

        A call already handed over runs to its end even if the awaiting task is cancelled (a store
        transition is never cut off half-way); its outcome is then dropped.
        """
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((call, loop, future))
        return await future

    def _start(self) -> None:
        with self._lock:
            if self._threads or self._closed:
                if self._closed:
                    raise RuntimeError("the call threads are closed")
                return
            size = max(1, self._size() if callable(self._size) else self._size)
            for number in range(size):
                thread = threading.Thread(
                    target=_work,
                    # one thread is one connection: only its calls can share a transaction
                    args=(self._queue, self._group if size == 1 else None, self._failed, self._most),
                    name=f"{self._name}-{number}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
            # the threads hold the queue, not this object: once it is gone (an app dropped), they stop
            weakref.finalize(self, _stop, self._queue, size)

    def close(self, timeout: float = 10.0) -> None:
        """Let the threads finish the calls queued so far, then stop them."""
        with self._lock:
            self._closed = True
            threads, self._threads = self._threads, []
        _stop(self._queue, len(threads))
        for thread in threads:
            thread.join(timeout)
