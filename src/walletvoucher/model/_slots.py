"""Copying the model's frozen attrs objects field by field, without their ``__init__`` (issue 17).

A transition derives its new card, voucher or event from objects the model already checked: running
every validator again on each copy only repeats the same answer, and was most of what a stored
stamp or redemption cost in the model. :func:`copier` gives a function that copies every field of
an instance into a new one through the slots' own setters (the route ``object.__setattr__`` takes,
which is how attrs' ``__init__`` sets the fields of a frozen class), written out field by field as
attrs writes its ``__init__``, so no loop or lookup runs per field.

Nothing here checks anything: the callers (``evolve_card``, the trusted
constructors) say what they check and what they may skip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

T = TypeVar("T")


def _names(cls: Any) -> list[str]:
    return [field.name for field in attrs.fields(cls)]


def setters(cls: type) -> dict[str, Callable[[Any, Any], None]]:
    """Each attrs field of the slotted class *cls*, by name, with its slot's setter."""
    return {field.name: cls.__dict__[field.name].__set__ for field in attrs.fields(cls)}


def _generate(cls: Any, kind: str, params: list[str], value_of: Callable[[str], str],
              scope: dict[str, Any] | None = None) -> Any:
    """Write, compile and return ``def <kind>(<params>)``: a new *cls* whose field *name* is set to
    the expression ``value_of(name)``, field by field through the slots' own setters. *scope*: the
    names those expressions use."""
    names: dict[str, Any] = {**(scope or {}), "_new": object.__new__, "_cls": cls}
    lines = [f"def {kind}({', '.join(params)}):", "    new = _new(_cls)"]
    for index, name in enumerate(_names(cls)):
        names[f"_set{index}"] = cls.__dict__[name].__set__  # KeyError: a field not a slot of cls itself
        lines.append(f"    _set{index}(new, {value_of(name)})")
    lines.append("    return new")
    exec(compile("\n".join(lines), f"<walletvoucher {kind} of {cls.__qualname__}>", "exec"), names)
    return names[kind]


def copier(cls: type[T]) -> Callable[[T], T]:
    """A function returning a new *cls* holding the very values of every field of the one it is given.

    *cls* must be a slotted attrs class (every field a slot of *cls* itself); the copy runs no
    converter, validator or ``__attrs_post_init__``.
    """
    copy: Callable[[T], T] = _generate(cls, "copy", ["source"], lambda name: f"source.{name}")
    return copy


def maker(cls: type[T], fixed: dict[str, Any], *given: str) -> Callable[..., T]:
    """A function ``make(*values)`` returning a new *cls* whose fields named in *given* hold *values*
    (in that order) and whose other fields hold *fixed*'s values (every field must be in one or the
    other). Nothing is checked or converted: the caller passes values of the type each field holds."""
    names = _names(cls)
    if sorted(names) != sorted([*fixed, *given]):
        raise TypeError(f"maker({cls.__name__}) needs every field once: {names}")
    params = [f"v{index}" for index in range(len(given))]
    scope = {f"_fixed_{name}": value for name, value in fixed.items()}
    make: Callable[..., T] = _generate(
        cls, "make", params,
        lambda name: f"_fixed_{name}" if name in fixed else params[given.index(name)], scope,
    )
    return make


def changer(cls: type[T], *changed: str) -> Callable[..., T]:
    """A function ``change(source, *values)``: a copy of *source* (as :func:`copier` makes) whose
    fields named in *changed* hold *values* instead, in that order. Nothing is checked or converted."""
    unknown = set(changed) - set(_names(cls))
    if unknown:
        raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
    params = [f"v{index}" for index in range(len(changed))]
    change: Callable[..., T] = _generate(
        cls, "change", ["source", *params],
        lambda name: params[changed.index(name)] if name in changed else f"source.{name}",
    )
    return change
