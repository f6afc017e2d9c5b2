"""The Apple part of ``walletvoucher demo``: a fresh test chain and a signed .pkpass per item.

Writes into ``out_dir/apple/``: ``root-ca.pem``, ``wwdr.pem``, ``pass.pem``, ``pass.key`` (a
throwaway chain, **not** Apple's: Wallet will not install these passes, openssl verifies
them) and ``passes/<item>.pkpass``. Check any of them with::

    unzip -o DIR/apple/passes/card-7.pkpass manifest.json signature -d /tmp/p
    openssl cms -verify -binary -inform DER -purpose any -CAfile DIR/apple/root-ca.pem \\
        -in /tmp/p/signature -content /tmp/p/manifest.json -out /dev/null
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walletvoucher.apple._options import AppleOptions
from walletvoucher.apple._render import render_pass
from walletvoucher.apple._testchain import mint_test_chain
from walletvoucher.errors import AppleWalletWarning
from walletvoucher.keys import load_apple_signer

if TYPE_CHECKING:
    from walletvoucher.demo import DemoItem

DEMO_PASS_TYPE = "pass.com.example.walletvoucher.demo"
DEMO_TEAM = "DEMOTEAM01"
DEMO_REDEEM_LINK = "https://example.com/redeem/{serial}"
# Valid for years either side of the demo clock, so `openssl cms -verify` (which checks the
# real clock) accepts the passes whenever someone runs it.
_SPAN = timedelta(days=3650)


def write_demo(items: Sequence[DemoItem], out_dir: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Mint a test chain into ``out_dir/apple/`` and write one signed .pkpass per demo item.

    Returns ``(entries, top_level_keys)`` for ``index.json``; ``top_level_keys`` is
    ``{"apple_root_ca": "apple/root-ca.pem"}``.
    """
    if not items:
        return [], {}
    apple_dir = out_dir / "apple"
    start = min(item.at for item in items)
    chain = mint_test_chain(pass_type_identifier=DEMO_PASS_TYPE, team_identifier=DEMO_TEAM,
                            organization_name="walletvoucher demo", at=start, backdate=_SPAN, valid_for=_SPAN)
    paths = chain.write(apple_dir)
    signer = load_apple_signer(pass_type_identifier=DEMO_PASS_TYPE, team_identifier=DEMO_TEAM, at=start,
                               certificate=paths["certificate"], key=paths["key"], wwdr=paths["wwdr"])
    entries = [_write_item(item, signer, apple_dir, out_dir) for item in items]
    return entries, {"apple_root_ca": paths["root"].relative_to(out_dir).as_posix()}


def _write_item(item: DemoItem, signer: Any, apple_dir: Path, out_dir: Path) -> dict[str, Any]:
    options = AppleOptions(pass_type_identifier=DEMO_PASS_TYPE, team_identifier=DEMO_TEAM,
                           scan_key=item.scan_key, redeem_link=DEMO_REDEEM_LINK, language=item.language)
    subject = item.voucher if item.kind == "voucher" and item.voucher is not None else item.card
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AppleWalletWarning)  # kept in the entry instead
        rendered = render_pass(subject, signer=signer, options=options, at=item.at, program=item.card.program)
    path = apple_dir / "passes" / f"{item.name}.pkpass"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rendered.pkpass)
    entry: dict[str, Any] = {
        "name": f"apple-{item.name}", "item": item.name, "kind": item.kind,
        "path": path.relative_to(out_dir).as_posix(), "format": "pkpass",
        "serial": rendered.pass_json["serialNumber"], "language": item.language,
    }
    voucher = item.voucher if item.kind == "voucher" else item.card.open_voucher(item.at)
    if item.kind == "voucher" and voucher is not None:
        entry.update(method=voucher.method.value, status=voucher.status_at(item.at).value)
    if voucher is not None and voucher.code is not None:
        entry.update(redeem_code=voucher.code.value, symbology=voucher.code.symbology.value)
    if rendered.warnings:
        entry["warnings"] = list(rendered.warnings)
    return entry


def demo_hook(items: Sequence[DemoItem], out_dir: Path, entries: list[dict[str, Any]]) -> dict[str, str]:
    """:func:`write_demo` shaped as a ``walletvoucher.demo.RendererHook`` (extends ``entries``)."""
    new, keys = write_demo(items, out_dir)
    entries.extend(new)
    return keys
