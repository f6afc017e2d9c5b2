"""The programs a wallet knows: every version, because a card replays through each one it used."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from walletvoucher.errors import UnknownProgram, ValidationError
from walletvoucher.model import Program


class ProgramRegistry:
    """Programs by ``(id, version)``, given when the wallet is opened.

    >>> from walletvoucher.model import Brand, RedemptionMethod, Reward
    >>> coffee = Program(id="coffee", name="Coffee card", goal=10,
    ...     brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
    ...     reward=Reward(title="Free coffee", description="Any size"),
    ...     redemption=RedemptionMethod.SELF_REDEEM)
    >>> registry = ProgramRegistry([coffee, coffee.revise(goal=8)])
    >>> registry.get("coffee").goal, registry.get("coffee", 1).goal
    (8, 10)
    """

    def __init__(self, programs: Iterable[Program]) -> None:
        self._known: dict[tuple[str, int], Program] = {}
        for program in programs:
            if not isinstance(program, Program):
                raise ValidationError(
                    "must hold Program objects",
                    field="programs",
                    value=type(program).__name__,
                    fix="pass every Program (each version) the wallet's cards use",
                )
            key = (program.id, program.version)
            if key in self._known and self._known[key] != program:
                raise ValidationError(
                    "holds two different programs with the same id and version",
                    field="programs",
                    value=key,
                    fix="give each changed program a new version with program.revise(...)",
                )
            self._known[key] = program

    def get(self, program_id: str, version: int | None = None) -> Program:
        """The program with this id and version (the newest version when *version* is None)."""
        if version is None:
            versions = [v for (pid, v) in self._known if pid == program_id]
            if versions:
                return self._known[(program_id, max(versions))]
        elif (program_id, version) in self._known:
            return self._known[(program_id, version)]
        raise UnknownProgram(
            "is not a program the wallet was opened with",
            field="program",
            value=program_id if version is None else (program_id, version),
            fix=f"pass it in Wallet.open(..., programs=[...]); known: {sorted(self._known)}",
        )

    def check(self, program: Program) -> Program:
        """*program* itself, if the registry holds exactly this program."""
        if self.get(program.id, program.version) != program:
            raise UnknownProgram(
                "differs from the registered program with the same id and version",
                field="program",
                value=(program.id, program.version),
                fix="give a changed program a new version with program.revise(...) and register it",
            )
        return program

    def lookup(self, program_id: str, version: int) -> Program:
        """Same as :meth:`get` with a version: the callable :func:`~walletvoucher.model.fold` takes."""
        return self.get(program_id, version)

    def __iter__(self) -> Iterator[Program]:
        return iter(self._known.values())

    def __len__(self) -> int:
        return len(self._known)
