"""Public names imported on first use, so ``import walletvoucher.service`` (or ``.google``) stays light.

A package lists where each of its names lives (``{module: (name, ...)}``) and takes the module-level
``__getattr__`` and ``__dir__`` this returns; a name is imported from its module the first time it is
read and then kept in the package's namespace.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_attributes(
    package: str, homes: Mapping[str, Iterable[str]], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for *package*, whose names live in the modules *homes* names.

    >>> space = {"__all__": ["sqrt"]}
    >>> get, names = lazy_attributes("demo", {"math": ("sqrt",)}, space)
    >>> get("sqrt")(9.0), "sqrt" in space, names()
    (3.0, True, ['__all__', 'sqrt'])
    """
    where = {name: module for module, names in homes.items() for name in names}

    def get(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def names() -> list[str]:
        return sorted({*namespace, *namespace.get("__all__", ())})

    return get, names
