"""Reading a .pkpass someone else made, without trusting it: bounded sizes, no paths, no surprises.

Only what a preview needs is read: ``pass.json``, the images, and the ``pass.strings`` of each
``xx.lproj`` folder. Sizes are bounded (the bundle, the number of entries, each entry), so a zip bomb
costs a few milliseconds; a missing image or field leaves its slot empty rather than failing.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from walletvoucher.errors import PreviewError

MAX_BUNDLE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 500
MAX_ENTRY_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 60 * 1024 * 1024
_WANTED = re.compile(
    r"^(?:([A-Za-z0-9_-]{1,40})\.lproj/)?(pass\.json|pass\.strings|[A-Za-z0-9_@-]{1,40}\.png)\Z"
)
_STRING = r'"((?:[^"\\]|\\.)*)"'
_PAIR = re.compile(_STRING + r"\s*=\s*" + _STRING + r"\s*;")
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "'": "'"}


@attrs.frozen(kw_only=True)
class PassBundle:
    """What a preview reads from a .pkpass: pass.json, images by name, strings by language."""

    pass_json: dict[str, Any] = attrs.field(repr=False)
    files: Mapping[str, bytes] = attrs.field(repr=False)
    strings: Mapping[str, Mapping[str, str]] = attrs.field(repr=False)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the pass carries texts for (its ``xx.lproj`` folders), sorted."""
        return tuple(sorted(self.strings))

    def pick_language(self, wanted: str | None) -> str | None:
        """The lproj language to show: *wanted* (or its base, ``zh`` for ``zh-Hans``), else English.

        >>> bundle = PassBundle(pass_json={}, files={}, strings={"en": {}, "zh-Hans": {}})
        >>> bundle.pick_language("zh"), bundle.pick_language("zh-Hans"), bundle.pick_language("fr")
        ('zh-Hans', 'zh-Hans', 'en')
        """
        langs = self.languages
        if wanted:
            base = wanted.split("-")[0].lower()
            for lang in (
                wanted,
                *(x for x in langs if x.lower() == wanted.lower()),
                *(x for x in langs if x.split("-")[0].lower() == base),
            ):
                if lang in self.strings:
                    return lang
        return "en" if "en" in self.strings else None


def parse_strings(data: bytes) -> dict[str, str]:
    r"""Read a ``pass.strings`` file (UTF-8, or UTF-16 with a byte-order mark); bad lines are skipped.

    >>> parse_strings('/* c */ "Stamps" = "印章";\n"A \\"b\\"" = "x\\ny";'.encode())
    {'Stamps': '印章', 'A "b"': 'x\ny'}
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8-sig", errors="replace")
    text = _COMMENTS.sub("", text)
    return {_unescape(key): _unescape(value) for key, value in _PAIR.findall(text)}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(1)), text)


def read_bundle(data: bytes) -> PassBundle:
    """Read a .pkpass defensively; raises :class:`PreviewError` only when there is no pass.json to show.

    >>> read_bundle(b"not a zip")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    PreviewError: pkpass='<9 bytes>': is not a zip archive. Fix: give a .pkpass file
    """
    files = _read_zip(data)
    raw = files.pop("pass.json", None)
    if raw is None:
        raise PreviewError(
            "has no pass.json",
            field="pkpass",
            value=f"<{len(data)} bytes>",
            fix="give a .pkpass file (a zip with pass.json at its top level)",
        )
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PreviewError(
            f"pass.json is not UTF-8 JSON ({exc})",
            field="pass.json",
            value=f"<{len(raw)} bytes>",
            fix="check the pass with walletvoucher verify",
        ) from exc
    if not isinstance(doc, dict):
        raise PreviewError(
            "pass.json is not a JSON object",
            field="pass.json",
            value=type(doc).__name__,
            fix="check the pass with walletvoucher verify",
        )
    strings = {
        name.split(".lproj/")[0]: parse_strings(body)
        for name, body in files.items()
        if name.endswith(".lproj/pass.strings")
    }
    images = {name: body for name, body in files.items() if name.endswith(".png")}
    return PassBundle(
        pass_json=doc,
        files=MappingProxyType(images),
        strings=MappingProxyType({k: MappingProxyType(v) for k, v in strings.items()}),
    )


def _read_zip(data: bytes) -> dict[str, bytes]:
    shown = f"<{len(data)} bytes>"
    if len(data) > MAX_BUNDLE_BYTES:
        raise PreviewError(
            f"is larger than any pass ({MAX_BUNDLE_BYTES} bytes)",
            field="pkpass",
            value=shown,
            fix="give a .pkpass file",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PreviewError(
            "is not a zip archive",
            field="pkpass",
            value=shown,
            fix="give a .pkpass file (a zip with pass.json)",
        ) from exc
    if len(infos) > MAX_ENTRIES:
        raise PreviewError(
            f"has {len(infos)} entries, more than any pass ({MAX_ENTRIES})",
            field="pkpass",
            value=shown,
            fix="give a .pkpass file",
        )
    files: dict[str, bytes] = {}
    budget = MAX_TOTAL_BYTES
    for info in infos:
        if info.is_dir() or not _WANTED.match(info.filename) or info.filename in files:
            continue
        content = _read_entry(archive, info, min(budget, MAX_ENTRY_BYTES))
        if content is not None:
            files[info.filename] = content
            budget -= len(content)
    return files


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """An entry's bytes, or ``None`` when it is too big or unreadable (its slot stays empty)."""
    if info.file_size > limit:
        return None
    try:
        with archive.open(info) as handle:
            content = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, RuntimeError):
        return None
    return content if len(content) <= limit else None
