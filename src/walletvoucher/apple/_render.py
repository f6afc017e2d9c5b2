"""The recipe layer: a card or voucher in, a signed .pkpass out."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import attrs

from walletvoucher.apple._bundle import build_manifest, zip_bundle
from walletvoucher.apple._options import AppleOptions
from walletvoucher.apple._passjson import build_pass_content
from walletvoucher.apple._rules import validate_pass_json
from walletvoucher.apple._sign import AppleSigner, sign_manifest
from walletvoucher.errors import AppleError
from walletvoucher.model import Program, StampCard, Voucher


@attrs.frozen(kw_only=True)
class RenderedPass:
    """A signed pass: the ``.pkpass`` bytes, the pass.json it carries and any warnings."""

    pkpass: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    # The repr names the pass only: pass.json carries the authentication token and scan tokens.
    pass_json: dict[str, Any] = attrs.field(repr=lambda d: f"<pass.json {d.get('serialNumber')!r}>")
    warnings: tuple[str, ...] = ()


def pass_json_bytes(doc: dict[str, Any]) -> bytes:
    """Serialise pass.json: UTF-8, no ASCII escaping, stable layout."""
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


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
) -> RenderedPass:
    """Render, check, sign and zip a card (storeCard) or voucher (coupon); keep the warnings.

    >>> # rendered = render_pass(card, signer=signer, options=options, at=now)
    >>> # Path("card.pkpass").write_bytes(rendered.pkpass); rendered.warnings
    """
    _check_signer(signer, options)
    content = build_pass_content(item, options=options, at=at, program=program)
    validate_pass_json(content.pass_json)
    files = {"pass.json": pass_json_bytes(content.pass_json), **content.files}
    manifest = build_manifest(files)
    files["manifest.json"] = manifest
    files["signature"] = sign_manifest(manifest, signer, at=at)
    return RenderedPass(pkpass=zip_bundle(files), pass_json=content.pass_json, warnings=content.warnings)


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
