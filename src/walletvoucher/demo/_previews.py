"""Previews for ``walletvoucher demo``: a picture of every demo pass as Apple and as Google shows it.

Apple previews are drawn from the signed ``.pkpass`` files the Apple hook wrote (so they show exactly
what Wallet gets); Google previews from the class and object the save link carries. The hero image
the Google objects point at (``https://wv.example/s/{stamps}-{goal}.png``) is drawn too, into
``google/hero/``: that is the picture a business would host at that URL.

Entry keys added (never renamed): ``preview`` on each ``.pkpass`` entry (``previews/apple/<item>.png``)
and ``google_preview`` on each card or voucher JSON entry (``previews/google/<item>.png``); top-level
``google_hero_images``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from walletvoucher.apple import StripDesign, strip_images
from walletvoucher.demo import DemoItem
from walletvoucher.demo._google import DEMO_OPTIONS
from walletvoucher.google import loyalty_class, loyalty_object, offer_class, offer_object
from walletvoucher.model import StampCard
from walletvoucher.preview import preview_google, preview_pkpass

HERO_DIR = "google/hero"


def write_previews(items: Sequence[DemoItem], out_dir: Path, entries: list[dict[str, Any]]) -> dict[str, str]:
    """Write ``previews/apple/<item>.png`` and ``previews/google/<item>.png``; add their keys to entries.

    Runs after the Apple hook (it reads the ``.pkpass`` files it wrote).
    """
    by_name = {item.name: item for item in items}
    heroes = _write_heroes(items, out_dir)
    for entry in entries:
        item = by_name.get(entry.get("item", ""))
        if item is None or entry.get("kind") not in ("stamp_card", "voucher"):
            continue
        if entry.get("format") == "pkpass":
            data = (out_dir / entry["path"]).read_bytes()
            png = preview_pkpass(data, language=item.language, at=item.at)
            entry["preview"] = _write(out_dir, f"previews/apple/{item.name}.png", png)
        elif entry.get("format") == "json":
            png = _google_png(item, heroes)
            entry["google_preview"] = _write(out_dir, f"previews/google/{item.name}.png", png)
    return {"google_hero_images": HERO_DIR}


def _google_png(item: DemoItem, heroes: Mapping[str, bytes]) -> bytes:
    options = attrs.evolve(DEMO_OPTIONS, scan_key=item.scan_key)
    program = item.card.program
    if item.kind == "voucher" and item.voucher is not None:
        bodies = (
            offer_class(item.voucher, program, options),
            offer_object(item.voucher, program, options, at=item.at),
        )
    else:
        bodies = loyalty_class(program, options), loyalty_object(item.card, options, at=item.at)
    return preview_google(*bodies, language=item.language, images=heroes, at=item.at).png


def hero_url(card: StampCard) -> str:
    """The demo's hero image URL for a card (what its LoyaltyObject's ``heroImage`` says)."""
    template = DEMO_OPTIONS.hero_image_url_template or ""
    return template.format(stamps=card.stamps, goal=card.goal, program=card.program.id)


def _write_heroes(items: Sequence[DemoItem], out_dir: Path) -> dict[str, bytes]:
    """Draw each card's hero image (its stamps, like the Apple strip) for the URLs the objects carry."""
    heroes: dict[str, bytes] = {}
    for item in items:
        card, brand = item.card, item.card.program.brand
        url = hero_url(card)
        if url in heroes:
            continue
        design = StripDesign(
            goal=card.goal,
            background=brand.background.rgb,
            stamp=brand.label.rgb,
            stamp_icon=brand.stamp_icon,
        )
        heroes[url] = strip_images(design, card.stamps, "storeCard")["strip@3x.png"]
        _write(out_dir, f"{HERO_DIR}/{url.rsplit('/', 1)[-1]}", heroes[url])
    return heroes


def _write(out_dir: Path, rel: str, data: bytes) -> str:
    path = out_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return rel
