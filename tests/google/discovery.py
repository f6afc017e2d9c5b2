"""An independent checker of Google Wallet JSON against the walletobjects v1 discovery document.

The discovery document ships inside the ``google-api-python-client`` wheel (a test dependency
only), so this oracle does not share code with the library it checks. Rules:

- every field must be declared by the schema (``$ref`` resolved), no unknown fields;
- JSON types must match ``string``/``integer``/``number``/``boolean``/``array``/``object``;
- ``format: int64``/``uint64`` values must be JSON strings of digits; ``int32`` in range;
- enum values must be listed, and ``*_UNSPECIFIED`` placeholders are padding, not data;
- no empty lists and no ``null``.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import util
from pathlib import Path
from typing import Any

_INT64 = re.compile(r"-?[0-9]+")


def discovery_path() -> Path:
    spec = util.find_spec("googleapiclient")
    assert spec is not None and spec.submodule_search_locations, "google-api-python-client is not installed"
    base = Path(next(iter(spec.submodule_search_locations)))
    return base / "discovery_cache" / "documents" / "walletobjects.v1.json"


@functools.lru_cache(maxsize=1)
def discovery() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(discovery_path().read_text(encoding="utf-8"))
    return data


def schema_errors(value: Any, schema_name: str) -> list[str]:
    """All problems of ``value`` against the named schema (``LoyaltyObject``, ``Resources``...)."""
    errors: list[str] = []
    _check(value, {"$ref": schema_name}, schema_name, errors)
    return errors


def _check(value: Any, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if "$ref" in schema:
        schema = discovery()["schemas"][schema["$ref"]]
    kind = schema.get("type")
    if value is None:
        errors.append(f"{path}: null")
    elif kind == "object":
        _check_object(value, schema, path, errors)
    elif kind == "array":
        _check_array(value, schema, path, errors)
    elif kind == "string":
        _check_string(value, schema, path, errors)
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: expected integer, got {type(value).__name__}")
        elif schema.get("format") == "int32" and not -(2**31) <= value < 2**31:
            errors.append(f"{path}: {value} is outside int32")
    elif kind == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(f"{path}: expected number, got {type(value).__name__}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{path}: expected boolean, got {type(value).__name__}")
    elif kind != "any":
        errors.append(f"{path}: schema type {kind!r} not understood by the checker")


def _check_object(value: Any, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append(f"{path}: expected object, got {type(value).__name__}")
        return
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], f"{path}.{key}", errors)
        elif isinstance(extra, dict):
            _check(item, extra, f"{path}[{key!r}]", errors)
        else:
            errors.append(f"{path}.{key}: unknown field")


def _check_array(value: Any, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if not isinstance(value, list):
        errors.append(f"{path}: expected array, got {type(value).__name__}")
        return
    if not value:
        errors.append(f"{path}: empty list")
    for index, item in enumerate(value):
        _check(item, schema["items"], f"{path}[{index}]", errors)


def _check_string(value: Any, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if not isinstance(value, str):
        errors.append(f"{path}: expected string, got {type(value).__name__} {value!r}")
        return
    if schema.get("format") in ("int64", "uint64") and not _INT64.fullmatch(value):
        errors.append(f"{path}: {value!r} is not an int64 string")
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        errors.append(f"{path}: {value!r} is not one of {enum}")
    if enum is not None and value.upper().endswith("UNSPECIFIED"):
        errors.append(f"{path}: {value!r} is padding")
