"""Check Wallet JSON against a walletobjects v1 discovery document (for ``verify-link``).

The library does not depend on google-api-python-client; when it happens to be installed
its bundled discovery document is used, otherwise a path can be given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import util
from pathlib import Path
from typing import Any

__all__ = ["find_discovery_document", "load_discovery_document", "payload_problems"]

_DOCUMENT = ("discovery_cache", "documents", "walletobjects.v1.json")
_SIMPLE = {"boolean": (bool,), "number": (int, float)}


def find_discovery_document() -> Path | None:
    """The walletobjects v1 document inside an installed ``googleapiclient``, if any."""
    spec = util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_DOCUMENT)
    return path if path.is_file() else None


def load_discovery_document(path: str | Path) -> dict[str, Any]:
    """Read a discovery document (JSON)."""
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def payload_problems(value: Any, schema: str, document: Mapping[str, Any]) -> list[str]:
    """Every way ``value`` breaks the named schema: unknown fields, types, enums, empty lists.

    >>> int64 = {"type": "string", "format": "int64"}
    >>> doc = {"schemas": {"X": {"type": "object", "properties": {"n": int64}}}}
    >>> payload_problems({"n": 3, "m": 1}, "X", doc)
    ['X.n: int64 must be a JSON string', 'X.m: unknown field']
    """
    problems: list[str] = []
    _walk(value, {"$ref": schema}, schema, document["schemas"], problems)
    return problems


def _walk(
    value: Any, spec: Mapping[str, Any], where: str, schemas: Mapping[str, Any], out: list[str]
) -> None:
    spec = schemas[spec["$ref"]] if "$ref" in spec else spec
    kind = spec.get("type")
    if kind == "object":
        _walk_object(value, spec, where, schemas, out)
    elif kind == "array":
        if not isinstance(value, list) or not value:
            out.append(f"{where}: must be a non-empty list")
            return
        for index, item in enumerate(value):
            _walk(item, spec["items"], f"{where}[{index}]", schemas, out)
    elif kind == "string":
        _string(value, spec, where, out)
    elif kind == "integer":
        if type(value) is not int:
            out.append(f"{where}: must be an integer")
    elif kind in _SIMPLE and (
        isinstance(value, bool) != (kind == "boolean") or not isinstance(value, _SIMPLE[kind])
    ):
        out.append(f"{where}: must be a {kind}")


def _walk_object(
    value: Any, spec: Mapping[str, Any], where: str, schemas: Mapping[str, Any], out: list[str]
) -> None:
    if not isinstance(value, dict):
        out.append(f"{where}: must be an object")
        return
    fields = spec.get("properties", {})
    for key, item in value.items():
        if key not in fields:
            out.append(f"{where}.{key}: unknown field")
        else:
            _walk(item, fields[key], f"{where}.{key}", schemas, out)


def _string(value: Any, spec: Mapping[str, Any], where: str, out: list[str]) -> None:
    if spec.get("format") in ("int64", "uint64") and not isinstance(value, str):
        out.append(f"{where}: int64 must be a JSON string")
    elif not isinstance(value, str):
        out.append(f"{where}: must be a string")
    elif "enum" in spec and (value not in spec["enum"] or value.endswith("UNSPECIFIED")):
        out.append(f"{where}: {value!r} is not an allowed value")
