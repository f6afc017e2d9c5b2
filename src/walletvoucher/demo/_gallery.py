"""The demo gallery: ``DIR/index.html``, every demo pass as a picture, opened straight from disk.

Plain static HTML and CSS: no script, no build step, nothing fetched from the network. The only
external addresses are the "Add to Google Wallet" save links, as anchors the reader may click.
Every text put into the page is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from walletvoucher.demo import DemoItem

PAGE = "index.html"

#: (section id, heading, introduction, item names in order)
SECTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "story",
        "The state story",
        "One card through its life: a new card, 7 stamps, 12 stamps (the goal of 10 is reached, a voucher "
        "is issued and the 2 extra stamps carry over), the reward redeemed at the till, and the same card "
        "collecting again in its next cycle.",
        ("card-0-stamps", "card-7-stamps", "card-12-stamps-reward-ready", "card-after-redemption"),
    ),
    (
        "languages",
        "Languages",
        "The 7-stamp card in each language of the program (the passes carry every language; each preview "
        "shows one), and an English-only card whose Google link is short enough to carry its class.",
        (
            "card-7-stamps-zh-Hans",
            "card-7-stamps-hi",
            "card-7-stamps-th",
            "card-7-stamps-uz",
            "card-7-stamps-english-only",
        ),
    ),
    (
        "vouchers",
        "Vouchers",
        "The reward as a pass of its own (Apple coupon, Google offer), once per way of redeeming it, with "
        "the code images a shop can print or put in an email.",
        (
            "voucher-redeem-code",
            "voucher-redeem-code-redeemed",
            "voucher-self-redeem",
            "voucher-staff-scan",
            "voucher-pos-ean13",
            "voucher-pos-upca",
        ),
    ),
)

CAPTIONS: Mapping[str, str] = {
    "card-0-stamps": "A new card: 0 of 10 stamps.",
    "card-7-stamps": "7 of 10 stamps.",
    "card-12-stamps-reward-ready": (
        "12 stamps: reward ready. The card shows the redeem code; 2 stamps carried over."
    ),
    "card-after-redemption": "Redeemed: the same card (same serial) collects again, in its next cycle.",
    "card-7-stamps-zh-Hans": "Chinese (Simplified).",
    "card-7-stamps-hi": "Hindi.",
    "card-7-stamps-th": "Thai.",
    "card-7-stamps-uz": "Uzbek.",
    "card-7-stamps-english-only": "English only: its full Google link fits in 1800 characters.",
    "voucher-redeem-code": "Redeem Code: staff type or scan the code.",
    "voucher-redeem-code-redeemed": (
        "The same voucher after redemption: both previews say Redeemed (Apple's pass is voided, "
        "Google's object COMPLETED)."
    ),
    "voucher-self-redeem": "Self-Redeem: the customer opens the redeem link at the till.",
    "voucher-staff-scan": "Staff-Scan: the QR carries a signed token a staff app checks offline.",
    "voucher-pos-ean13": "A point-of-sale EAN-13 code, shown exactly as the till made it.",
    "voucher-pos-upca": "A point-of-sale UPC-A code.",
}

STYLE = """
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #dde2ea; --accent: #1e3a5f; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
       color: var(--ink); background: #f4f6f9; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 32px; }
h1 { font-size: 28px; margin: 0 0 6px; }
h2 { font-size: 22px; margin: 40px 0 4px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0; font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
p { margin: 6px 0; max-width: 80ch; }
nav a { margin-right: 16px; }
a { color: #1a5fb4; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 13px;
       background: #e9edf3; padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 20px;
        margin-top: 16px; }
.item { background: #fff; border: 1px solid var(--line); border-radius: 14px; padding: 16px 18px; }
.caption { color: var(--muted); margin: 2px 0 12px; }
.wallets { display: flex; gap: 16px; align-items: flex-start; }
figure { margin: 0; flex: 1 1 0; min-width: 0; }
figure img { width: 100%; height: auto; display: block;
             filter: drop-shadow(0 4px 10px rgba(20, 30, 50, .18)); }
figcaption { font-size: 13px; color: var(--muted); margin-bottom: 6px; font-weight: 600; }
.links { margin-top: 12px; font-size: 14px; }
.links li { margin: 4px 0; }
.note { background: #fff7e0; border: 1px solid #f0d890; border-radius: 8px; padding: 8px 10px;
        font-size: 13px; }
.codes { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 12px; align-items: flex-start; }
.codes figure { flex: 0 0 auto; }
.codes img { width: auto; max-width: 220px; max-height: 120px; filter: none; border: 1px solid var(--line); }
footer { padding-bottom: 40px; }
"""


def write_gallery(items: Sequence[DemoItem], out_dir: Path, index: dict[str, Any]) -> dict[str, str]:
    """Write ``index.html`` from the finished index; returns ``{"gallery": "index.html"}``.

    Shaped as a :data:`walletvoucher.demo.PageHook`.
    """
    (out_dir / PAGE).write_text(render_gallery(items, index), encoding="utf-8")
    return {"gallery": PAGE}


def render_gallery(items: Sequence[DemoItem], index: Mapping[str, Any]) -> str:
    """The gallery page as a string (every text escaped, every address relative but the save links)."""
    entries = [e for e in index.get("entries", []) if isinstance(e, dict)]
    known = {item.name: item for item in items}
    parts = [_head(index), "<main>"]
    for section_id, heading, intro, names in SECTIONS:
        parts.append(f'<section id="{section_id}"><h2>{_e(heading)}</h2><p>{_e(intro)}</p><div class="grid">')
        parts += [_item(known[name], entries) for name in names if name in known]
        parts.append("</div></section>")
    parts += [_files(index), "</main>", _foot(), "</body></html>\n"]
    return "\n".join(parts)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _head(index: Mapping[str, Any]) -> str:
    nav = "".join(f'<a href="#{sid}">{_e(heading)}</a>' for sid, heading, _, _ in SECTIONS)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>walletvoucher demo</title><style>{STYLE}</style></head><body><header>"
        "<h1>walletvoucher demo</h1>"
        f"<p>Every card and voucher of the demo, drawn as Apple Wallet and Google Wallet show them, at the "
        f"demo clock <code>{_e(index.get('clock', ''))}</code>. Each preview is drawn from what the wallet "
        "receives: the signed <code>.pkpass</code> for Apple, the class and object in the save link for "
        "Google.</p>"
        f'<nav>{nav}<a href="#files">Files</a></nav></header>'
    )


def _item(item: DemoItem, entries: Iterable[dict[str, Any]]) -> str:
    mine = [e for e in entries if e.get("item") == item.name]
    pkpass = next((e for e in mine if e.get("format") == "pkpass"), {})
    model = next((e for e in mine if e.get("format") == "json"), {})
    figures = []
    if pkpass.get("preview"):
        figures.append(_figure("Apple Wallet", pkpass["preview"], f"Apple Wallet preview of {item.name}"))
    if model.get("google_preview"):
        figures.append(
            _figure("Google Wallet", model["google_preview"], f"Google Wallet preview of {item.name}")
        )
    return (
        f'<article class="item" id="item-{_e(item.name)}"><h3>{_e(item.name)}</h3>'
        f'<p class="caption">{_e(CAPTIONS.get(item.name, item.kind))}</p>'
        f'<div class="wallets">{"".join(figures)}</div>'
        f"{_codes(item, entries)}{_links(pkpass, model)}</article>"
    )


def _figure(title: str, path: str, alt: str) -> str:
    return (
        f"<figure><figcaption>{_e(title)}</figcaption>"
        f'<img src="{_e(path)}" alt="{_e(alt)}" loading="eager"></figure>'
    )


def _links(pkpass: Mapping[str, Any], model: Mapping[str, Any]) -> str:
    links = []
    if pkpass.get("path"):
        links.append(
            f'<li><a href="{_e(pkpass["path"])}" download>Download the .pkpass</a> '
            "(signed with the demo's test chain)</li>"
        )
    if model.get("google_save_url"):
        links.append(
            f'<li><a href="{_e(model["google_save_url"])}" rel="noreferrer">Add to Google Wallet</a> '
            f"({_e(model.get('google_link_length', '?'))} characters)</li>"
        )
    elif model.get("google_rest_required"):
        links.append(
            '<li><div class="note"><strong>Add to Google Wallet needs the REST path.</strong> '
            f"A link carrying this pass would be {_e(model.get('google_link_length', '?'))} characters, over "
            "Google's safe maximum of 1800 (the class carries every language of the program). "
            "Insert the class and object "
            f'in <a href="{_e(model.get("google_objects", ""))}">{_e(model.get("google_objects", ""))}</a> '
            "through the Wallet REST API (<code>WalletRestClient.upsert</code>); then "
            f'<a href="{_e(model.get("google_save_url_after_rest", ""))}" rel="noreferrer">'
            "this short link</a>, "
            "which carries only the object's id, adds it.</div></li>"
        )
    return f'<ul class="links">{"".join(links)}</ul>' if links else ""


def _codes(item: DemoItem, entries: Iterable[dict[str, Any]]) -> str:
    voucher = item.voucher
    if item.kind != "voucher" or voucher is None:
        return ""
    prefixes = (f"code-{voucher.serial}.", f"scan-token-{voucher.serial}.")
    images = [
        e for e in entries if e.get("kind") == "code_image" and str(e.get("name", "")).startswith(prefixes)
    ]
    figures = [
        f"<figure><figcaption>{_e(e.get('symbology', ''))} "
        f'(<a href="{_e(str(e["path"])[:-3] + "svg")}">SVG</a>)</figcaption>'
        f'<img src="{_e(e["path"])}" alt="{_e(e.get("symbology", ""))} code of {_e(voucher.serial)}">'
        "</figure>"
        for e in images
        if e.get("format") == "png"
    ]
    return f'<div class="codes">{"".join(figures)}</div>' if figures else ""


def _files(index: Mapping[str, Any]) -> str:
    rows = [
        ("index.json", "every file of the demo, described (the format is in the README)"),
        ("model/events.json", "the events the cards went through, replayable"),
    ]
    if index.get("apple_root_ca"):
        rows.append(
            (
                index["apple_root_ca"],
                "the test root that signed the passes: verify any pass with "
                "openssl cms -verify ... -CAfile this file, or walletvoucher verify FILE.pkpass --ca it. "
                "An iPhone will not install them: Wallet only trusts passes signed with Apple's certificates",
            )
        )
    if index.get("google_service_account"):
        rows.append(
            (
                index["google_service_account"],
                "the throwaway key that signed the save links (check a link "
                "with walletvoucher verify-link URL --service-account it); the issuer id is made up, so "
                "Google will not save these passes",
            )
        )
    if index.get("google_hero_images"):
        rows.append(
            (
                index["google_hero_images"],
                "the hero images the Google objects point at: what a shop would host at its hero image URLs",
            )
        )
    items = "".join(f'<li><a href="{_e(path)}">{_e(path)}</a>: {_e(text)}</li>' for path, text in rows)
    return f'<section id="files"><h2>Files</h2><ul>{items}</ul></section>'


def _foot() -> str:
    return (
        "<footer><p>Made by <code>walletvoucher demo</code>. Plain HTML: open it from disk, "
        "nothing is fetched.</p></footer>"
    )
