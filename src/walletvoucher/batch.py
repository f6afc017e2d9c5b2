"""Render many passes: streaming, in order, across processes, one failure per item.

A rebrand re-issues every card; a backend re-renders passes in bulk. :func:`render_many`
takes any iterable of cards and vouchers (a generator reading a file is fine: it is never
held whole), renders and signs each as an Apple Wallet ``.pkpass`` and writes it into a
directory (``<name>.pkpass``) or a zip of passes, yielding one :class:`BatchResult` per item
**in input order**. A failing item (a voucher without its program, a Staff-Scan voucher
without a scan key, a name already written) is reported in its result and the batch goes on.

Work is spread over ``workers`` processes (default: every core). At most ``window`` chunks
of ``chunk`` items are in flight, so memory stays flat however many passes there are. The
signer's key crosses to the workers once, at pool start, as PKCS#8 DER in the pool's
initialisation arguments (a private pipe to each worker); it is never logged or put in a repr.

>>> # for result in render_many(cards, signer=signer, options=options, at=now, out="passes/"):
>>> #     if not result.ok: print(result.name, result.error)
"""

from __future__ import annotations

import collections
import concurrent.futures
import gc
import multiprocessing
import os
import re
import shutil
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Union

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from walletvoucher._zipstream import NameSet, ZipStream
from walletvoucher.apple import AppleOptions, AppleSigner, render_pass
from walletvoucher.errors import BatchError
from walletvoucher.model import Program, StampCard, Voucher

__all__ = ["BatchItem", "BatchResult", "render_many"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
DEFAULT_CHUNK = 32


@attrs.frozen(kw_only=True)
class BatchItem:
    """One thing to render: a card, or a voucher with its program; ``name`` defaults to the serial."""

    item: StampCard | Voucher | None
    program: Program | None = None
    name: str | None = None
    problem: str | None = None
    """Why the item could not be read (e.g. a bad input line): reported as its failure."""

    @property
    def file_stem(self) -> str:
        """The name its ``.pkpass`` gets (checked: letters, digits, ``.``, ``_``, ``-``).

        >>> BatchItem(item=None, name="CARD-1").file_stem
        'CARD-1'
        """
        stem = self.name if self.name is not None else str(getattr(self.item, "serial", ""))
        if not _NAME.fullmatch(stem):
            raise BatchError("is not a safe file name", field="name", value=stem,
                             fix="use 1-200 letters, digits, '.', '_' and '-', not starting with '.'")
        return stem


BatchInput = Union[StampCard, Voucher, BatchItem]  # noqa: UP007 (3.10 runtime)


@attrs.frozen(kw_only=True)
class BatchResult:
    """What happened to one item: where its pass went, or why it has none."""

    index: int
    """Position in the input, from 0."""
    name: str
    path: str | None = None
    """Where the pass was written: a path inside the directory, or the member name in the zip."""
    size: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the pass was written."""
        return self.error is None


@attrs.frozen(kw_only=True)
class _Rendered:
    index: int
    name: str
    pkpass: bytes | None = attrs.field(default=None, repr=False)
    crc: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()
    written: int | None = None  # bytes the worker wrote itself into the output directory


@attrs.frozen(kw_only=True)
class _SignerMaterial:
    """An :class:`AppleSigner` as bytes, to rebuild it in a worker. The key never shows in a repr."""

    pass_type_identifier: str
    team_identifier: str
    certificate: bytes = attrs.field(repr=False)
    wwdr: bytes = attrs.field(repr=False)
    key: bytes = attrs.field(repr=False)
    warnings: tuple[str, ...] = ()

    @classmethod
    def of(cls, signer: AppleSigner) -> _SignerMaterial:
        der = serialization.Encoding.DER
        key = signer.key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return cls(pass_type_identifier=signer.pass_type_identifier, team_identifier=signer.team_identifier,
                   certificate=signer.certificate.public_bytes(der), wwdr=signer.wwdr.public_bytes(der),
                   key=key, warnings=signer.warnings)

    def load(self) -> AppleSigner:
        key = serialization.load_der_private_key(self.key, password=None)
        return AppleSigner(pass_type_identifier=self.pass_type_identifier,
                           team_identifier=self.team_identifier,
                           certificate=x509.load_der_x509_certificate(self.certificate),
                           key=key,  # type: ignore[arg-type]  # the signer's own key type came in
                           wwdr=x509.load_der_x509_certificate(self.wwdr), warnings=self.warnings)


@attrs.frozen(kw_only=True)
class _Job:
    signer: AppleSigner
    options: AppleOptions
    at: datetime
    directory: Path | None = None  # where each pass is written by whoever renders it (directory output)
    spool: bool = False  # directory is a spool: files named by index, with their CRC, for the zip writer


_WORKER_JOB: _Job | None = None  # set once per worker process by _start_worker, read by _render_chunk


def _start_worker(material: _SignerMaterial, options: AppleOptions, at: datetime,
                  directory: Path | None, spool: bool) -> None:
    global _WORKER_JOB
    _WORKER_JOB = _Job(signer=material.load(), options=options, at=at, directory=directory, spool=spool)
    gc.freeze()  # what a worker holds from here on lives as long as it: keep it out of every GC pass


def _render_chunk(chunk: list[tuple[int, BatchInput]]) -> list[_Rendered]:
    if _WORKER_JOB is None:  # pragma: no cover - the pool always runs _start_worker first
        raise RuntimeError("worker not started")
    return _render_part(_WORKER_JOB, chunk)


def _render_part(job: _Job, part: list[tuple[int, BatchInput]]) -> list[_Rendered]:
    with warnings.catch_warnings():  # once a chunk: the texts are kept in each result instead
        warnings.simplefilter("ignore")
        return [_render_one(job, index, entry) for index, entry in part]


def _render_one(job: _Job, index: int, entry: BatchInput) -> _Rendered:
    wrapped = entry if isinstance(entry, BatchItem) else BatchItem(item=entry)
    name = f"item-{index}"
    try:
        name = wrapped.file_stem
        if wrapped.problem is not None or wrapped.item is None:
            raise BatchError(wrapped.problem or "nothing to render", field="item", value=name,
                             fix="correct this item of the input")
        rendered = render_pass(wrapped.item, signer=job.signer, options=job.options, at=job.at,
                               program=wrapped.program)
    except Exception as exc:
        return _Rendered(index=index, name=name, error=f"{type(exc).__name__}: {exc}")
    if job.directory is not None:  # write here: the pass never travels back to the parent process
        target = job.directory / (f"{index}.spool" if job.spool else f"{name}.pkpass")
        try:
            with target.open("xb") as f:  # never overwrite
                f.write(rendered.pkpass)
        except OSError as exc:
            return _Rendered(index=index, name=name, error=f"{type(exc).__name__}: {exc}")
        crc = zlib.crc32(rendered.pkpass) if job.spool else 0
        return _Rendered(index=index, name=name, written=len(rendered.pkpass), crc=crc,
                         warnings=rendered.warnings)
    return _Rendered(index=index, name=name, pkpass=rendered.pkpass, crc=zlib.crc32(rendered.pkpass),
                     warnings=rendered.warnings)


class _Sink:
    """Where passes go: a directory (one file each, never overwritten) or a streamed zip."""

    def __init__(self, out: Path) -> None:
        self._zip: ZipStream | None = None
        self._file: BinaryIO | None = None
        self._names = NameSet()  # 16 bytes a name at most: memory stays flat in practice
        self._dir = out
        self._spool: Path | None = None
        if out.suffix.lower() == ".zip":
            try:
                self._file = out.open("xb")
            except OSError as exc:
                raise BatchError(f"cannot create the zip: {exc.strerror}", field="out", value=str(out),
                                 fix="name a new zip file in a writable directory") from exc
            self._zip = ZipStream(self._file)
        else:
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BatchError(f"cannot create the directory: {exc.strerror}", field="out", value=str(out),
                                 fix="name a writable directory (or a path ending in .zip)") from exc

    @property
    def directory(self) -> Path | None:
        """The output directory, when passes go into one (each renderer then writes its own)."""
        return self._dir if self._zip is None else None

    def spool(self) -> Path:
        """A directory beside the zip where workers leave their passes for :meth:`write` to copy in:
        passes then never cross a pipe whole, so the writer's memory stays flat."""
        if self._spool is None:
            self._spool = Path(tempfile.mkdtemp(prefix=".walletvoucher-spool-", dir=self._dir.parent))
        return self._spool

    def write(self, done: _Rendered) -> BatchResult:
        member = f"{done.name}.pkpass"
        size = done.written if done.written is not None else len(done.pkpass or b"")
        if done.written is None and done.pkpass is None:
            return BatchResult(index=done.index, name=done.name, error=done.error)
        if self._zip is not None:
            try:
                self._add(member, done)
            except (BatchError, OSError, ValueError) as exc:
                return BatchResult(index=done.index, name=done.name, error=f"{type(exc).__name__}: {exc}")
        return BatchResult(index=done.index, name=done.name, path=member, size=size, warnings=done.warnings)

    def _add(self, member: str, done: _Rendered) -> None:
        """Put one pass into the zip: from memory (in-process), or from the workers' spool."""
        assert self._zip is not None  # directory output is written by the renderers themselves
        part = None if done.pkpass is not None or self._spool is None else self._spool / f"{done.index}.spool"
        try:
            if not self._names.add(member):
                raise BatchError("was already written in this batch", field="name", value=member,
                                 fix="give every item a unique name (serials are unique per pass type)")
            if done.pkpass is not None:
                self._zip.add(member, done.pkpass, crc=done.crc)
                return
            assert part is not None and done.written is not None
            with part.open("rb") as source:
                self._zip.add_file(member, source, size=done.written, crc=done.crc)
        finally:
            if part is not None:
                part.unlink(missing_ok=True)

    def close(self) -> None:
        if self._zip is not None and self._file is not None:
            self._zip.close()
            self._file.close()
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)


def _chunks(items: Iterable[BatchInput], size: int) -> Iterator[list[tuple[int, BatchInput]]]:
    chunk: list[tuple[int, BatchInput]] = []
    for index, entry in enumerate(items):
        chunk.append((index, entry))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def render_many(
    items: Iterable[BatchInput],
    *,
    signer: AppleSigner,
    options: AppleOptions,
    at: datetime,
    out: str | os.PathLike[str],
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    window: int | None = None,
) -> Iterator[BatchResult]:
    """Render and sign every item into ``out`` (a directory, or a path ending in ``.zip``).

    Yields a :class:`BatchResult` per item, in input order, as soon as it is written.
    ``workers`` processes (default ``os.cpu_count()``; 1 renders in this process) take
    ``chunk`` items at a time, with at most ``window`` chunks in flight (default two per
    worker). ``at`` is the render clock of every pass. Existing files are never overwritten:
    an item whose file exists fails. Stop iterating early and the rest is not rendered.
    Arguments are checked, and ``out`` created, when iteration starts (it is a generator).

    Workers are started with ``spawn`` (never ``fork``), so, as with any Python
    multiprocessing, a script that calls this with ``workers > 1`` must do so under
    ``if __name__ == "__main__":``.
    """
    count = _check_counts(workers, chunk, window)
    sink = _Sink(Path(out))
    try:
        if count[0] == 1:
            job = _Job(signer=signer, options=options, at=at, directory=sink.directory)
            for part in _chunks(items, chunk):
                for rendered in _render_part(job, part):
                    yield sink.write(rendered)
        else:
            yield from _pooled(items, sink, _SignerMaterial.of(signer), options, at, count)
    finally:
        sink.close()


def _check_counts(workers: int | None, chunk: int, window: int | None) -> tuple[int, int, int]:
    resolved = workers if workers is not None else os.cpu_count() or 1
    for field, value in (("workers", resolved), ("chunk", chunk), ("window", window if window else 1)):
        if not isinstance(value, int) or value < 1:
            raise BatchError("must be a whole number of at least 1", field=field, value=value,
                             fix=f"pass {field}=1 or more")
    return resolved, chunk, window or 2 * resolved


def _pooled(items: Iterable[BatchInput], sink: _Sink, material: _SignerMaterial, options: AppleOptions,
            at: datetime, counts: tuple[int, int, int]) -> Iterator[BatchResult]:
    workers, size, window = counts
    context = multiprocessing.get_context("spawn")  # no fork: nothing of the caller's threads or locks
    pending: collections.deque[tuple[list[tuple[int, BatchInput]], concurrent.futures.Future[Any]]]
    pending = collections.deque()
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                initializer=_start_worker,
                                                initargs=(material, options, at, *_output(sink))) as pool:
        for part in _chunks(items, size):
            pending.append((part, pool.submit(_render_chunk, part)))
            if len(pending) >= window:
                yield from _drain(pending.popleft(), sink)
        while pending:
            yield from _drain(pending.popleft(), sink)


def _output(sink: _Sink) -> tuple[Path, bool]:
    """Where workers write: the output directory itself, or a spool beside the zip."""
    directory = sink.directory
    return (directory, False) if directory is not None else (sink.spool(), True)


def _drain(task: tuple[list[tuple[int, BatchInput]], concurrent.futures.Future[Any]],
           sink: _Sink) -> Iterator[BatchResult]:
    part, future = task
    try:
        done: list[_Rendered] = future.result()
    except Exception as exc:
        done = [_Rendered(index=i, name=f"item-{i}", error=f"{type(exc).__name__}: {exc}") for i, _ in part]
    for rendered in done:
        yield sink.write(rendered)
