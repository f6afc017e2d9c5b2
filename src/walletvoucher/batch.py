"""Render many passes: streaming, in order, across processes, one failure per item.

A rebrand re-issues every card; a backend re-renders passes in bulk. :func:`render_many`
takes any iterable of cards and vouchers (a generator reading a file is fine: it is never
held whole), renders and signs each as an Apple Wallet ``.pkpass`` and writes it into a
directory (``<name>.pkpass``) or a zip of passes, yielding one :class:`BatchResult` per item
**in input order**. A failing item (a voucher without its program, a Staff-Scan voucher
without a scan key, a name already written) is reported in its result and the batch goes on.
A pass that is already there fails its item (``existing="fail"``, the default), is replaced
(``"replace"``) or is kept and its item skipped without rendering (``"skip"``, for a directory:
rerun an interrupted batch). Every file appears whole or not at all: each pass and the zip are
written under a temporary name and renamed at the end; a zip batch that does not run to its end
leaves no zip.

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
import secrets
import shutil
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, Union

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
Existing = Literal["fail", "replace", "skip"]
_EXISTING = ("fail", "replace", "skip")


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
    skipped: bool = False
    """True when its pass was already there and kept (``existing="skip"``): nothing was rendered."""

    @property
    def ok(self) -> bool:
        """True when the pass was written (or, skipped, is already there)."""
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
    skipped: bool = False  # its pass was already in the output directory and kept


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
    existing: Existing = "fail"  # what to do with a pass already in the output directory


_WORKER_JOB: _Job | None = None  # set once per worker process by _start_worker, read by _render_chunk


def _start_worker(material: _SignerMaterial, options: AppleOptions, at: datetime,
                  directory: Path | None, spool: bool, existing: Existing) -> None:
    global _WORKER_JOB
    _WORKER_JOB = _Job(signer=material.load(), options=options, at=at, directory=directory, spool=spool,
                       existing=existing)
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
    if wrapped.problem is not None:  # a line that could not be read: its own words say why
        return _Rendered(index=index, name=wrapped.name or name, error=wrapped.problem)
    target = None
    try:
        name = wrapped.file_stem
        if wrapped.item is None:
            raise BatchError("nothing to render", field="item", value=name, fix="give a card or a voucher")
        if job.directory is not None:
            target = job.directory / (f"{index}.spool" if job.spool else f"{name}.pkpass")
            if not job.spool and job.existing != "replace" and target.exists():
                if job.existing == "skip":
                    return _Rendered(index=index, name=name, skipped=True)
                return _Rendered(index=index, name=name, error=_exists(target))
        rendered = render_pass(wrapped.item, signer=job.signer, options=job.options, at=job.at,
                               program=wrapped.program)
    except Exception as exc:
        return _Rendered(index=index, name=name, error=f"{type(exc).__name__}: {exc}")
    if target is not None:  # write here: the pass never travels back to the parent process
        try:
            _write_whole(target, rendered.pkpass, replace=job.existing == "replace" and not job.spool)
        except FileExistsError:
            return _Rendered(index=index, name=name, error=_exists(target))
        except OSError as exc:
            return _Rendered(index=index, name=name, error=f"{type(exc).__name__}: {exc}")
        crc = zlib.crc32(rendered.pkpass) if job.spool else 0
        return _Rendered(index=index, name=name, written=len(rendered.pkpass), crc=crc,
                         warnings=rendered.warnings)
    return _Rendered(index=index, name=name, pkpass=rendered.pkpass, crc=zlib.crc32(rendered.pkpass),
                     warnings=rendered.warnings)


def _exists(target: Path) -> str:
    return (f"{target} exists already (from an earlier run, or a name repeated in this batch). Fix: give "
            "--force to replace it, --skip-existing to keep it, or another --out "
            "(existing='replace' / 'skip' in Python)")


def _write_whole(target: Path, data: bytes, *, replace: bool) -> None:
    """Write *target* under a temporary name, then rename it: a reader (or a rerun) never sees half a pass.

    Without *replace* an existing file is kept and :class:`FileExistsError` raised (the rename is a
    hard link, which never overwrites; where links are not supported, an exclusive create).
    """
    fd, temp = _create_part(target)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        _publish(Path(temp), target, replace=replace)
    finally:
        Path(temp).unlink(missing_ok=True)


def _create_part(target: Path) -> tuple[int, Path]:
    """A new file beside *target* to write it under (``.NAME.RANDOM.part``), with the usual
    permissions (the umask's, as an ordinary create), opened for writing."""
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue


def _publish(temp: Path, target: Path, *, replace: bool) -> None:
    if replace:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system: an exclusive create and a copy
        with target.open("xb") as out, temp.open("rb") as source:
            shutil.copyfileobj(source, out)


class _Sink:
    """Where passes go: a directory (one file each) or a streamed zip (written as a temporary file
    beside its final name, and renamed there only when the batch ran to its end)."""

    def __init__(self, out: Path, existing: Existing = "fail") -> None:
        self._zip: ZipStream | None = None
        self._file: BinaryIO | None = None
        self._names = NameSet()  # 16 bytes a name at most: memory stays flat in practice
        self._dir = out
        self._spool: Path | None = None
        self._out = out
        self._existing = existing
        self._part: Path | None = None
        if out.suffix.lower() == ".zip":
            self._open_zip(out)
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
        if done.skipped:
            return BatchResult(index=done.index, name=done.name, path=member, skipped=True)
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

    def _open_zip(self, out: Path) -> None:
        if self._existing == "skip":
            raise BatchError("cannot skip passes already in a zip", field="existing", value="skip",
                             fix="write into a directory to skip the passes already there, or give a new zip")
        if self._existing == "fail" and out.exists():
            raise BatchError("is already there", field="out", value=str(out),
                             fix="give --force to replace it (existing='replace'), or name a new zip")
        try:
            fd, self._part = _create_part(out)
        except OSError as exc:
            raise BatchError(f"cannot create the zip: {exc.strerror}", field="out", value=str(out),
                             fix="name a new zip file in a writable directory") from exc
        self._file = os.fdopen(fd, "wb")
        self._zip = ZipStream(self._file)

    def close(self, *, complete: bool = True) -> None:
        """Finish the output; a zip is renamed to its final name only when *complete*, else removed."""
        try:
            if self._zip is not None and self._file is not None:
                try:
                    if complete:
                        self._zip.close()
                finally:
                    self._file.close()
                if complete and self._part is not None:
                    _publish(self._part, self._out, replace=self._existing == "replace")
        except FileExistsError as exc:
            raise BatchError("appeared while the batch ran", field="out", value=str(self._out),
                             fix="give --force to replace it, or name a new zip") from exc
        finally:
            if self._part is not None:
                self._part.unlink(missing_ok=True)
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
    existing: Existing = "fail",
) -> Iterator[BatchResult]:
    """Render and sign every item into ``out`` (a directory, or a path ending in ``.zip``).

    Yields a :class:`BatchResult` per item, in input order, as soon as it is written.
    ``workers`` processes (default ``os.cpu_count()``; 1 renders in this process) take
    ``chunk`` items at a time, with at most ``window`` chunks in flight (default two per
    worker). ``at`` is the render clock of every pass. A pass already in the directory fails
    its item (``existing="fail"``), is replaced (``"replace"``) or kept, its item skipped
    (``"skip"``); an existing zip is refused unless ``"replace"``. Stop iterating early and the
    rest is not rendered, and a zip is not written (its temporary file is removed).
    Arguments are checked, and ``out`` created, when iteration starts (it is a generator).

    Workers are started with ``spawn`` (never ``fork``), so, as with any Python
    multiprocessing, a script that calls this with ``workers > 1`` must do so under
    ``if __name__ == "__main__":``.
    """
    count = _check_counts(workers, chunk, window)
    if existing not in _EXISTING:
        raise BatchError("is not a choice", field="existing", value=existing,
                         fix="use 'fail', 'replace' or 'skip'")
    sink = _Sink(Path(out), existing)
    complete = False
    try:
        if count[0] == 1:
            job = _Job(signer=signer, options=options, at=at, directory=sink.directory, existing=existing)
            for part in _chunks(items, chunk):
                for rendered in _render_part(job, part):
                    yield sink.write(rendered)
        else:
            yield from _pooled(items, sink, _SignerMaterial.of(signer), options, at, count, existing)
        complete = True
    finally:
        sink.close(complete=complete)


def _check_counts(workers: int | None, chunk: int, window: int | None) -> tuple[int, int, int]:
    resolved = workers if workers is not None else os.cpu_count() or 1
    for field, value in (("workers", resolved), ("chunk", chunk), ("window", window if window else 1)):
        if not isinstance(value, int) or value < 1:
            raise BatchError("must be a whole number of at least 1", field=field, value=value,
                             fix=f"pass {field}=1 or more")
    return resolved, chunk, window or 2 * resolved


def _pooled(items: Iterable[BatchInput], sink: _Sink, material: _SignerMaterial, options: AppleOptions,
            at: datetime, counts: tuple[int, int, int], existing: Existing) -> Iterator[BatchResult]:
    workers, size, window = counts
    context = multiprocessing.get_context("spawn")  # no fork: nothing of the caller's threads or locks
    pending: collections.deque[tuple[list[tuple[int, BatchInput]], concurrent.futures.Future[Any]]]
    pending = collections.deque()
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                initializer=_start_worker,
                                                initargs=(material, options, at, *_output(sink),
                                                          existing)) as pool:
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
