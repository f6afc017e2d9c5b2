"""A pool of POS codes: a batch exported from the business's till, each handed out once.

Unlike the model, a :class:`CodePool` is mutable on purpose: it is an *edge resource* standing for a
finite stock (like a roll of printed coupons), and its whole job is to change state each time a code is
taken, safely across threads. It never decides what is redeemed (server state does that); it only makes
sure no code is given to two vouchers. Persist :attr:`CodePool.issued` (for
instance after each :meth:`CodePool.next_code`) and rebuild the pool with :meth:`CodePool.restore` after a
restart.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from walletvoucher.codes._pos import pos_code
from walletvoucher.codes._symbology import RedeemCode, Symbology
from walletvoucher.errors import CodeError, CodePoolEmpty


@runtime_checkable
class CodeSource(Protocol):
    """Anything that hands out the next redeem code; the model calls it when issuing a voucher."""

    def next_code(self) -> RedeemCode:
        """Return a code no other voucher has been given."""
        ...


@runtime_checkable
class CodeBatchSource(CodeSource, Protocol):
    """A code source that can hand out several codes at once, all or none.

    The model asks for every code an ``add_stamps`` call needs in one :meth:`take`, after it has
    decided the call succeeds, so a failed call never uses up codes.
    """

    def take(self, count: int) -> tuple[RedeemCode, ...]:
        """Return *count* codes no other voucher has been given, or raise and hand out none."""
        ...


class CodePool:
    """Codes exported from the POS, handed out once each, in the order given; thread-safe.

    >>> pool = CodePool(["SAVE-001", "SAVE-002"], Symbology.CODE_128)
    >>> pool.next_code().value, pool.remaining
    ('SAVE-001', 1)
    >>> pool.issued
    ('SAVE-001',)
    """

    def __init__(self, codes: Iterable[str], symbology: Symbology) -> None:
        self._symbology = symbology
        self._codes = _validated(codes, symbology)
        self._pending: deque[RedeemCode] = deque(self._codes)
        self._issued: list[RedeemCode] = []
        self._lock = threading.Lock()

    @classmethod
    def restore(cls, codes: Iterable[str], symbology: Symbology, *, issued: Iterable[str]) -> CodePool:
        """Rebuild a pool after a restart from the codes and the persisted :attr:`issued` values.

        Codes in ``issued`` are not handed out again; the others follow in the order given, so a new
        POS export can be appended to the old one.

        >>> pool = CodePool.restore(["A1", "A2", "A3"], Symbology.CODE_128, issued=["A1"])
        >>> pool.next_code().value, pool.issued
        ('A2', ('A1', 'A2'))
        """
        pool = cls(codes, symbology)
        done = _validated(issued, symbology, field="issued")
        known = {code.value for code in pool._codes}
        unknown = [code.value for code in done if code.value not in known]
        if unknown:
            raise CodeError(
                "was handed out but is not in the pool's codes",
                field="issued",
                value=unknown[0],
                fix="restore with the full code list the pool was built from (old and new exports)",
            )
        taken = {code.value for code in done}
        pool._issued = list(done)
        pool._pending = deque(code for code in pool._codes if code.value not in taken)
        return pool

    @property
    def symbology(self) -> Symbology:
        """The symbology every code of the pool is shown in."""
        return self._symbology

    @property
    def remaining(self) -> int:
        """How many codes are left to hand out."""
        with self._lock:
            return len(self._pending)

    @property
    def issued(self) -> tuple[str, ...]:
        """Values handed out so far, in order: persist this and pass it to :meth:`restore`."""
        with self._lock:
            return tuple(code.value for code in self._issued)

    def next_code(self) -> RedeemCode:
        """Hand out the next code; raise :class:`~walletvoucher.errors.CodePoolEmpty` when none is left."""
        with self._lock:
            if not self._pending:
                raise CodePoolEmpty(
                    f"all {len(self._codes)} codes have been handed out",
                    field="pool",
                    value=self._symbology.value,
                    fix="import more codes from the POS",
                )
            code = self._pending.popleft()
            self._issued.append(code)
            return code

    def take(self, count: int) -> tuple[RedeemCode, ...]:
        """Hand out *count* codes at once, or none: raise :class:`CodePoolEmpty` if fewer are left.

        >>> pool = CodePool(["A1", "A2"], Symbology.CODE_128)
        >>> [c.value for c in pool.take(2)], pool.remaining
        (['A1', 'A2'], 0)
        """
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise CodeError("must be a whole number of 0 or more", field="count", value=count,
                            fix="ask for the number of codes needed")
        with self._lock:
            if len(self._pending) < count:
                raise CodePoolEmpty(
                    f"{count} codes are needed but {len(self._pending)} of {len(self._codes)} are left",
                    field="pool",
                    value=self._symbology.value,
                    fix="import more codes from the POS",
                )
            taken = tuple(self._pending.popleft() for _ in range(count))
            self._issued.extend(taken)
            return taken

    def __len__(self) -> int:
        """Total number of codes, handed out or not."""
        return len(self._codes)

    def __repr__(self) -> str:
        return f"<CodePool {self._symbology.name}: {self.remaining} of {len(self._codes)} remaining>"


def _validated(codes: Iterable[str], symbology: Symbology, field: str = "codes") -> tuple[RedeemCode, ...]:
    """Every code validated with :func:`pos_code`; a duplicate (as shown) is an error."""
    if isinstance(codes, str):
        raise CodeError(
            "must be an iterable of codes, not a single str",
            field=field,
            value=codes,
            fix="wrap the code in a list: CodePool([code], symbology)",
        )
    result: list[RedeemCode] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(codes):
        code = pos_code(raw, symbology)
        if code.value in seen:
            raise CodeError(
                f"appears twice (positions {seen[code.value]} and {position})",
                field=field,
                value=code.value,
                fix="remove the duplicate: each code can be handed out only once",
            )
        seen[code.value] = position
        result.append(code)
    return tuple(result)
