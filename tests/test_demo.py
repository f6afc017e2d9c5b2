"""The demo as a user runs it: ``walletvoucher demo --out DIR`` and its index."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from walletvoucher.cli import main
from walletvoucher.codes import Symbology

ZXING_FORMATS = {
    "qr": zxingcpp.BarcodeFormat.QRCode,
    "code128": zxingcpp.BarcodeFormat.Code128,
    "ean13": zxingcpp.BarcodeFormat.EAN13,
    "upca": zxingcpp.BarcodeFormat.UPCA,
    "pdf417": zxingcpp.BarcodeFormat.PDF417,
    "aztec": zxingcpp.BarcodeFormat.Aztec,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    return out, json.loads((out / "index.json").read_text(encoding="utf-8"))


def test_every_entry_has_name_kind_and_existing_path(demo: tuple[Path, dict[str, Any]]) -> None:
    out, index = demo
    assert index["format"] == "walletvoucher-demo/1"
    for entry in index["entries"]:
        assert {"name", "kind", "path"} <= entry.keys()
        assert (out / entry["path"]).is_file(), entry["path"]
        assert not Path(entry["path"]).is_absolute() and ".." not in Path(entry["path"]).parts


def test_demo_walks_the_model(demo: tuple[Path, dict[str, Any]]) -> None:
    out, index = demo
    cards = {e["name"]: e for e in index["entries"] if e["kind"] == "stamp_card" and e["format"] == "json"}
    assert cards["card-0-stamps"]["stamps"] == 0
    assert cards["card-7-stamps"]["stamps"] == 7
    ready = json.loads((out / cards["card-12-stamps-reward-ready"]["path"]).read_text(encoding="utf-8"))
    assert (ready["stamps"], ready["cycle"], ready["lifetime_stamps"], len(ready["vouchers"])) == (
        2,
        2,
        12,
        1,
    )
    after = json.loads((out / cards["card-after-redemption"]["path"]).read_text(encoding="utf-8"))
    assert after["serial"] == ready["serial"] and after["vouchers"] == []
    vouchers = {e["name"]: e for e in index["entries"] if e["kind"] == "voucher" and e["format"] == "json"}
    assert {v["method"] for v in vouchers.values()} == {"self_redeem", "staff_scan", "redeem_code"}
    assert vouchers["voucher-redeem-code-redeemed"]["status"] == "redeemed"
    assert vouchers["voucher-pos-ean13"]["redeem_code"] == "5901234123457"
    events = json.loads((out / "model/events.json").read_text(encoding="utf-8"))
    assert [e["type"] for e in events][:2] == ["card_issued", "stamp_added"]


def test_every_code_image_decodes_to_its_value(demo: tuple[Path, dict[str, Any]]) -> None:
    out, index = demo
    images = [e for e in index["entries"] if e["kind"] == "code_image"]
    symbologies = {e["symbology"] for e in images}
    assert symbologies == {s.value for s in Symbology} - {"text"}
    for entry in images:
        path = out / entry["path"]
        if entry["format"] == "svg":
            root = ET.fromstring(path.read_bytes())
            assert root.tag.endswith("svg")
            continue
        fmt = ZXING_FORMATS[entry["symbology"]]
        results = zxingcpp.read_barcodes(Image.open(path), formats=zxingcpp.BarcodeFormats(fmt))
        # zxing-cpp reports a UPC-A in its EAN-13 form, with the leading 0 the two share.
        want = "0" + entry["value"] if entry["symbology"] == "upca" else entry["value"]
        assert [(r.format, r.text) for r in results] == [(fmt, want)], path


def test_demo_is_deterministic(tmp_path: Path, demo: tuple[Path, dict[str, Any]]) -> None:
    out, _ = demo
    main(["demo", "--out", str(tmp_path)])
    for rel in [
        "model/events.json",
        "model/card-12-stamps-reward-ready.json",
        "codes/code-DEMO-CARD-1-1.qr.png",
        "previews/apple/card-12-stamps-reward-ready.png",
        "previews/apple/card-7-stamps-th.png",
        "previews/google/card-7-stamps-zh-Hans.png",
        "previews/google/voucher-staff-scan.png",
        "google/hero/7-10.png",
    ]:
        assert (tmp_path / rel).read_bytes() == (out / rel).read_bytes()


def test_every_card_and_voucher_has_a_pass_and_a_save_link_or_a_reason(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, index = demo
    shown = [e for e in index["entries"] if e["kind"] in ("stamp_card", "voucher")]
    items = {e["item"] for e in shown}
    pkpass_items = {e["item"] for e in shown if e["format"] == "pkpass"}
    assert items == pkpass_items
    for entry in shown:
        assert entry["google_save_url"] or "REST" in entry["google_rest_required"], entry["name"]
    english = next(e for e in shown if e["name"] == "card-7-stamps-english-only")
    url = english["google_save_url"]
    assert url.startswith("https://pay.google.com/gp/v/save/") and len(url) <= 1800
    assert (out / index["apple_root_ca"]).is_file() and (out / index["google_service_account"]).is_file()


def test_the_demo_prints_a_poster_whose_qr_opens_the_join_page(demo: tuple[Path, dict[str, Any]]) -> None:
    import pypdf

    out, index = demo
    url = index["poster_url"]
    assert url.startswith("https://127.0.0.1:8080/join/")
    [picture] = pypdf.PdfReader(out / index["poster_pdf"]).pages[0].images
    for image in (picture.image, Image.open(out / index["poster_png"])):
        assert [found.text for found in zxingcpp.read_barcodes(image)] == [url]
