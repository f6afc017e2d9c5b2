"""The tree drawn in errors.py's docstring is the real class hierarchy, and names every class."""

from __future__ import annotations

import inspect
import re

import pytest

from walletvoucher import errors

_LINE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z][A-Za-z]+)\b")


def _drawn() -> dict[str, str | None]:
    """Each class named in the drawing, with the class drawn as its parent."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = _LINE.match(line.strip("\n")[4:] if line.startswith("    ") else "")
        if not match or match.group("name") not in vars(errors):
            continue
        depth = len(match.group("indent"))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group("name")] = stack[-1][1] if stack else None
        stack.append((depth, match.group("name")))
    return parents


def _classes() -> dict[str, type]:
    return {name: cls for name, cls in vars(errors).items()
            if inspect.isclass(cls) and issubclass(cls, (errors.WalletVoucherError, Warning))
            and cls.__module__ == errors.__name__}


def test_every_error_and_warning_class_is_drawn() -> None:
    assert set(_classes()) - set(_drawn()) == set()


@pytest.mark.parametrize("name", sorted(_drawn()))
def test_each_drawn_parent_is_a_base_class(name: str) -> None:
    parent = _drawn()[name]
    if parent is not None:
        assert issubclass(_classes()[name], _classes()[parent]), (name, parent)
