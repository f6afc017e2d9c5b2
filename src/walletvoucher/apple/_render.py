"""The recipe layer: a card or voucher in, a signed .pkpass out."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import attrs

from walletvoucher.apple._bundle import assemble_zip, make_entry, manifest_of
from walletvoucher.apple._cms import sign_manifest_at
from walletvoucher.apple._options import AppleOptions
from walletvoucher.apple._passjson import PassContent, build_pass_content
from walletvoucher.apple._pieces import SHARED_ENTRIES, EntryCache
from walletvoucher.apple._rules import validate_pass_json
from walletvoucher.apple._sign import AppleSigner
from walletvoucher.errors import AppleError
from walletvoucher.model import Program, StampCard, Voucher

_MADE_PER_PASS = frozenset({"manifest.json", "signature"})


@attrs.frozen(kw_only=True)
class RenderedPass:
    """A signed pass: the ``.pkpass`` bytes, the pass.json it carries and any warnings."""

    pkpass: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    # The repr names the pass only: pass.json carries the authentication token and scan tokens.
    pass_json: dict[str, Any] = attrs.field(repr=lambda d: f"<pass.json {d.get('serialNumber')!r}>")
    warnings: tuple[str, ...] = ()


def pass_json_bytes(doc: dict[str, Any]) -> bytes:
    """Serialise pass.json: UTF-8, no ASCII escaping, compact, keys in the builder's stable order.

    Compact on purpose: the standard library's C encoder writes it in a third of the time the
    indenting encoder needs, on the hot path of every render (benchmarks/throughput.py).

    >>> pass_json_bytes({"a": [1, "é"], "b": {}})
    b'{"a":[1,"\\xc3\\xa9"],"b":{}}'
    """
    return _PASS_JSON.encode(doc).encode("utf-8")


_PASS_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _check_signer(signer: AppleSigner, options: AppleOptions) -> None:
    for name in ("pass_type_identifier", "team_identifier"):
        if getattr(signer, name) != getattr(options, name):
            raise AppleError(
                f"the signer is for {getattr(signer, name)!r} but the options say {getattr(options, name)!r}",
                field=name, value=getattr(options, name), fix="render with the signer's identifiers",
            )


def render_pass(
    item: StampCard | Voucher,
    *,
    signer: AppleSigner,
    options: AppleOptions,
    at: datetime,
    program: Program | None = None,
    cache: EntryCache | None = None,
) -> RenderedPass:
    """Render, check, sign and zip a card (storeCard) or voucher (coupon); keep the warnings.

    ``at`` is also the PKCS#7 signing time. ``cache`` holds the zip entries of files shared
    between passes (images, pass.strings); by default a bounded cache keyed by content.

    >>> # rendered = render_pass(card, signer=signer, options=options, at=now)
    >>> # Path("card.pkpass").write_bytes(rendered.pkpass); rendered.warnings
    """
    _check_signer(signer, options)
    content = build_pass_content(item, options=options, at=at, program=program)
    validate_pass_json(content.pass_json)
    pkpass = bundle_pass(content, signer=signer, at=at, cache=SHARED_ENTRIES if cache is None else cache)
    return RenderedPass(pkpass=pkpass, pass_json=content.pass_json, warnings=content.warnings)


def bundle_pass(content: PassContent, *, signer: AppleSigner, at: datetime, cache: EntryCache) -> bytes:
    """Zip and sign checked content: the per-design files come from ``cache``, the rest is made here.

    Same bytes as ``zip_bundle`` over the files plus ``build_manifest`` and a signature made at
    ``at`` (the PKCS#7 signing time is the render clock, so the whole bundle is deterministic),
    except that the three files made per pass (pass.json, manifest.json, signature) are
    STORED on purpose: DEFLATE would be redone for every pass and cost about a sixth of the
    signature's time (measured in benchmarks/throughput.py) to save about 1.7 kB of a ~40 kB
    bundle (certificates barely shrink). Wallet accepts STORED and DEFLATE entries alike.
    Files shared between passes (images, pass.strings) stay DEFLATEd, once per content.
    """
    files = {"pass.json": pass_json_bytes(content.pass_json), **content.files}
    entries = [make_entry(name, data, stored=True) if name == "pass.json" else cache.entry(name, data)
               for name, data in files.items() if name not in _MADE_PER_PASS]
    manifest = manifest_of(entries)
    entries.append(make_entry("manifest.json", manifest, stored=True))
    entries.append(make_entry("signature", sign_manifest_at(manifest, signer, at=at), stored=True))
    return assemble_zip(entries)


def render_pkpass(
    item: StampCard | Voucher,
    *,
    signer: AppleSigner,
    options: AppleOptions,
    at: datetime,
    program: Program | None = None,
) -> bytes:
    """The signed ``.pkpass`` bytes of a card or voucher (warnings go to :mod:`warnings`).

    >>> # Path("card.pkpass").write_bytes(render_pkpass(card, signer=signer, options=options, at=now))
    """
    return render_pass(item, signer=signer, options=options, at=at, program=program).pkpass
