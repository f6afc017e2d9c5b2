"""Reading a .pkpass someone else made, without trusting it: bounded sizes, no paths, no surprises.

Only what a preview needs is used: ``pass.json``, the images, and the ``pass.strings`` of each
``xx.lproj`` folder. The zip is read by the same bounded reader as ``walletvoucher verify``
(:mod:`walletvoucher.apple._zipread`: the entry count refused before the directory is parsed, only
plain names, overlapping entries and zip bombs refused, every entry inflated with a cap) and
pass.json is parsed with verify's bounds on size, depth, value count and number length. A missing or
refused image or field leaves its slot empty, and says why in :attr:`PassBundle.problems`; only a
file with no readable pass.json raises :class:`~walletvoucher.errors.PreviewError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from walletvoucher.apple._rules import Problem
from walletvoucher.apple._untrusted import JsonRejected, load_json, shown
from walletvoucher.apple._zipread import ZipLimits, read_zip
from walletvoucher.errors import PreviewError
from walletvoucher.preview._bounds import MAX_STRINGS_BYTES, image_refusal, image_size

LIMITS = ZipLimits()
"""The bundle's bounds: those of ``walletvoucher verify``."""
MAX_BUNDLE_BYTES = LIMITS.max_archive_bytes
MAX_ENTRIES = LIMITS.max_entries
MAX_ENTRY_BYTES = LIMITS.max_entry_bytes
MAX_TOTAL_BYTES = LIMITS.max_total_bytes
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "'": "'"}
_TOKEN = re.compile(
    r'"([^"\\]*(?:\\.[^"\\]*)*)("?)'  # a string: its body (escapes kept), and its closing quote
    r"|/\*.*?\*/|/\*.*|//[^\n]*"  # comments (one never closed runs to the end)
    r"|([=;])|\s+"
    r'|((?:[^"/=;\s]|/(?![*/]))+)',  # anything else
    re.S,
)
_PAIR = re.compile(r"s=s;")
_ESCAPE = re.compile(r"\\(.)", re.S)


@attrs.frozen(kw_only=True)
class PassBundle:
    """What a preview reads from a .pkpass: pass.json, images by name, strings by language.

    ``problems`` says what was left out while reading and why (``"strip@2x.png: 65535x1 pixels:
    larger than any pass image ..."``); the picture is drawn without it.
    """

    pass_json: dict[str, Any] = attrs.field(repr=False)
    files: Mapping[str, bytes] = attrs.field(repr=False)
    strings: Mapping[str, Mapping[str, str]] = attrs.field(repr=False)
    problems: tuple[str, ...] = ()

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

    The text is cut into tokens by one regular expression that never backtracks more than a
    character, so parsing is linear in the file (a ``"`` never closed ends it: everything after is
    inside that string); pairs are then found in the string of token kinds. Files over
    ``MAX_STRINGS_BYTES`` are not read.

    >>> parse_strings('/* c */ "Stamps" = "印章";\n"A \\"b\\"" = "x\\ny"; "url" = "http://x";'.encode())
    {'Stamps': '印章', 'A "b"': 'x\ny', 'url': 'http://x'}
    """
    if len(data) > MAX_STRINGS_BYTES:
        return {}
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8-sig", errors="replace")
    kinds: list[str] = []  # one letter a token: s (string), = or ; (themselves), x (anything else)
    bodies: list[str] = []
    for match in _TOKEN.finditer(text):
        body, closed, mark, other = match.groups()
        if body is not None and not closed:
            break  # never closed: the rest of the file is inside it
        if body is not None or mark or other:
            kinds.append("s" if body is not None else mark or "x")
            bodies.append(body or "")
    return {
        _unescape(bodies[pair.start()]): _unescape(bodies[pair.start() + 2])
        for pair in _PAIR.finditer("".join(kinds))  # "key" = "value" ;
    }


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(1)), text) if "\\" in text else text


def read_bundle(data: bytes) -> PassBundle:
    """Read a .pkpass defensively; raises :class:`PreviewError` only when there is no pass.json to show.

    >>> read_bundle(b"not a zip")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    PreviewError: pkpass='<9 bytes>': is not a zip archive. Fix: give a .pkpass file
    """
    problems: list[Problem] = []
    files = _read_zip(data, problems)
    doc = _pass_json(files.pop("pass.json", None), problems, len(data))
    strings: dict[str, Mapping[str, str]] = {}
    images: dict[str, bytes] = {}
    budget = MAX_STRINGS_BYTES  # for all the pass.strings files together
    for name, body in sorted(files.items()):
        if name.endswith(".lproj/pass.strings"):
            if len(body) > budget:
                why = f"{len(body)} bytes, over the {MAX_STRINGS_BYTES} all pass.strings files may have"
                problems.append(Problem("strings", name, f"{why}: not read"))
                continue
            budget -= len(body)
            strings[name.split(".lproj/")[0]] = MappingProxyType(parse_strings(body))
        elif name.endswith(".png"):
            refusal = image_refusal(image_size(body))
            if refusal is None:
                images[name] = body
            else:
                problems.append(Problem("image", name, refusal))
    return PassBundle(
        pass_json=doc,
        files=MappingProxyType(images),
        strings=MappingProxyType(strings),
        problems=tuple(f"{p.where}: {p.why}" for p in problems),
    )


def _read_zip(data: bytes, problems: list[Problem]) -> dict[str, bytes]:
    files = read_zip(data, LIMITS, problems)
    if files is None:
        why = problems[-1].why if problems else "not a zip archive"
        raise PreviewError(
            "is not a zip archive" if why.startswith("not a zip") else f"cannot be read: {why}",
            field="pkpass",
            value=f"<{len(data)} bytes>",
            fix="give a .pkpass file (a zip with pass.json at its top level; "
            "walletvoucher verify says what else is wrong with it)",
        )
    return files


def _pass_json(raw: bytes | None, problems: list[Problem], size: int) -> dict[str, Any]:
    if raw is None:
        why = next((p.why for p in problems if p.where == "pass.json"), None)
        raise PreviewError(
            f"has no readable pass.json ({why})" if why else "has no pass.json",
            field="pkpass",
            value=f"<{size} bytes>",
            fix="give a .pkpass file (a zip with pass.json at its top level)",
        )
    try:
        doc = load_json(raw.removeprefix(b"\xef\xbb\xbf"))
    except JsonRejected as exc:
        raise PreviewError(
            f"pass.json is not UTF-8 JSON walletvoucher reads ({shown(str(exc))})",
            field="pass.json",
            value=f"<{len(raw)} bytes>",
            fix="check the pass with walletvoucher verify",
        ) from None
    if not isinstance(doc, dict):
        raise PreviewError(
            "pass.json is not a JSON object",
            field="pass.json",
            value=type(doc).__name__,
            fix="check the pass with walletvoucher verify",
        )
    return doc
