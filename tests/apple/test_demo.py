"""The demo's Apple passes: every one verifies with openssl against the index's root; strips count right."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.apple.helpers import openssl_verify, unzip
from walletvoucher.apple import stamp_layout, verify_pkpass
from walletvoucher.demo import DemoItem, build_story
from walletvoucher.demo._apple import demo_hook, write_demo
from walletvoucher.keys import load_certificate


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]], dict[str, str]]:
    out = tmp_path_factory.mktemp("demo")
    entries, keys = write_demo(build_story().items, out)
    return out, entries, keys


def test_index_names_the_root_and_one_pass_per_item(
    demo: tuple[Path, list[dict[str, object]], dict[str, str]]
) -> None:
    out, entries, keys = demo
    assert keys == {"apple_root_ca": "apple/root-ca.pem"}
    items = build_story().items
    assert [e["item"] for e in entries] == [i.name for i in items]
    for entry, item in zip(entries, items, strict=True):
        assert entry["kind"] == item.kind and entry["format"] == "pkpass"
        assert (out / str(entry["path"])).is_file()
        if item.kind == "voucher" and item.voucher is not None and item.voucher.code is not None:
            assert entry["redeem_code"] == item.voucher.code.value
            assert entry["symbology"] == item.voucher.code.symbology.value
    kinds = {e["kind"] for e in entries}
    assert kinds == {"stamp_card", "voucher"}


def test_every_demo_pass_verifies_with_openssl_and_verify(
    demo: tuple[Path, list[dict[str, object]], dict[str, str]], tmp_path: Path
) -> None:
    out, entries, keys = demo
    root = out / keys["apple_root_ca"]
    for entry in entries:
        data = (out / str(entry["path"])).read_bytes()
        files = unzip(data)
        result = openssl_verify(files, root, tmp_path)
        assert result.returncode == 0, (entry["name"], result.stderr)
        manifest = json.loads(files["manifest.json"])
        for name, digest in manifest.items():
            assert hashlib.sha1(files[name]).hexdigest() == digest
        report = verify_pkpass(data, ca=[load_certificate(root)])
        assert report.ok, (entry["name"], str(report))


def test_demo_card_strips_show_the_cards_stamps(
    demo: tuple[Path, list[dict[str, object]], dict[str, str]]
) -> None:
    out, entries, _ = demo
    by_item = {i.name: i for i in build_story().items}
    for entry in entries:
        item: DemoItem = by_item[str(entry["item"])]
        if item.kind != "stamp_card":
            continue
        files = unzip((out / str(entry["path"])).read_bytes())
        image = Image.open(io.BytesIO(files["strip@2x.png"])).convert("RGB")
        stamp = item.card.program.brand.label.rgb
        primary = bool(json.loads(files["pass.json"])["storeCard"].get("primaryFields"))  # reward ready
        filled = 0
        for x, y, _ in stamp_layout(item.card.goal, image.size, primary_field=primary):
            pixel = image.getpixel((round(x), round(y)))
            assert isinstance(pixel, tuple)
            filled += all(abs(a - b) < 12 for a, b in zip(pixel, stamp, strict=True))
        assert filled == min(item.card.stamps, item.card.goal), entry["name"]


def test_hook_shape_extends_entries(tmp_path: Path) -> None:
    items = build_story().items[:1]
    entries: list[dict[str, object]] = [{"name": "existing"}]
    keys = demo_hook(items, tmp_path, entries)
    assert keys == {"apple_root_ca": "apple/root-ca.pem"} and len(entries) == 2
