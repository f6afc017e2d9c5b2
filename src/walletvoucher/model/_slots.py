"""Copying the model's frozen attrs objects field by field, without their ``__init__`` (issue 17).

A transition derives its new card, voucher or event from objects the model already checked: running
every validator again on each copy only repeats the same answer, and was most of what a stored
stamp or redemption cost in the model. :func:`copier` gives a function that copies every field of
an instance into a new one through the slots' own setters (the route ``object.__setattr__`` takes,
which is how attrs' ``__init__`` sets the fields of a frozen class), written out field by field as
attrs writes its ``__init__``, so no loop or lookup runs per field.

Nothing here checks anything: the callers (``evolve_card``, ``evolve_voucher``, the trusted
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


def copier(cls: type[T]) -> Callable[[T], T]:
    """A function returning a new *cls* holding the very values of every field of the one it is given.

    *cls* must be a slotted attrs class (every field a slot of *cls* itself); the copy runs no
    converter, validator or ``__attrs_post_init__``.
    """
    names = _names(cls)
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = ["def copy(source):", "    new = _new(_cls)"]
    for index, name in enumerate(names):
        scope[f"_set{index}"] = cls.__dict__[name].__set__  # KeyError: a field not a slot of cls itself
        lines.append(f"    _set{index}(new, source.{name})")
    lines.append("    return new")
    exec(compile("\n".join(lines), f"<walletvoucher copier of {cls.__qualname__}>", "exec"), scope)
    copy: Callable[[T], T] = scope["copy"]
    return copy


def maker(cls: type[T], fixed: dict[str, Any], *given: str) -> Callable[..., T]:
    """A function ``make(*values)`` returning a new *cls* whose fields named in *given* hold *values*
    (in that order) and whose other fields hold *fixed*'s values (every field must be in one or the
    other). Nothing is checked or converted: the caller passes values of the type each field holds."""
    names = _names(cls)
    if sorted(names) != sorted([*fixed, *given]):
        raise TypeError(f"maker({cls.__name__}) needs every field once: {names}")
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params = [f"v{index}" for index in range(len(given))]
    lines = [f"def make({', '.join(params)}):", "    new = _new(_cls)"]
    for index, name in enumerate(names):
        scope[f"_set{index}"] = cls.__dict__[name].__set__
        if name in fixed:
            scope[f"_fixed{index}"] = fixed[name]
            lines.append(f"    _set{index}(new, _fixed{index})")
        else:
            lines.append(f"    _set{index}(new, {params[given.index(name)]})")
    lines.append("    return new")
    exec(compile("\n".join(lines), f"<walletvoucher maker of {cls.__qualname__}>", "exec"), scope)
    make: Callable[..., T] = scope["make"]
    return make


def changer(cls: type[T], *changed: str) -> Callable[..., T]:
    """A function ``change(source, *values)``: a copy of *source* (as :func:`copier` makes) whose
    fields named in *changed* hold *values* instead, in that order. Nothing is checked or converted."""
    names = _names(cls)
    unknown = set(changed) - set(names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params = [f"v{index}" for index in range(len(changed))]
    lines = [f"def change(source, {', '.join(params)}):", "    new = _new(_cls)"]
    for index, name in enumerate(names):
        scope[f"_set{index}"] = cls.__dict__[name].__set__
        value = params[changed.index(name)] if name in changed else f"source.{name}"
        lines.append(f"    _set{index}(new, {value})")
    lines.append("    return new")
    exec(compile("\n".join(lines), f"<walletvoucher changer of {cls.__qualname__}>", "exec"), scope)
    change: Callable[..., T] = scope["change"]
    return change
