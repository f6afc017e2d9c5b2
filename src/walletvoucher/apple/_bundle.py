"""The bundle: manifest.json (SHA-1 of every file) and a deterministic zip."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping

#: Every entry gets this timestamp so the same files always zip to the same bytes.
ZIP_TIMESTAMP = (2001, 1, 1, 0, 0, 0)

_RESERVED = frozenset({"manifest.json", "signature"})


def build_manifest(files: Mapping[str, bytes]) -> bytes:
    """Return manifest.json: ``{"path": sha1-hex}`` for every file, sorted keys, UTF-8.

    >>> build_manifest({"pass.json": b"{}"})
    b'{"pass.json":"bf21a9e8fbc5a3846fb05b4fa0859e0917b2202f"}'
    """
    hashes = {name: hashlib.sha1(data).hexdigest() for name, data in files.items()}
    return json.dumps(hashes, sort_keys=True, separators=(",", ":")).encode("utf-8")


def zip_bundle(files: Mapping[str, bytes]) -> bytes:
    """Zip ``files`` with sorted entries, fixed timestamps and fixed permissions (deterministic).

    >>> zip_bundle({"b": b"2", "a": b"1"}) == zip_bundle({"a": b"1", "b": b"2"})
    True
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, files[name])
    return buffer.getvalue()


def content_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Drop ``manifest.json`` and ``signature`` from a file map (they are made, not given)."""
    return {name: data for name, data in files.items() if name not in _RESERVED}
