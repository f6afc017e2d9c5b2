"""The demo, written once for the preview tests: real signed passes and the previews drawn from them."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import attrs
import pytest
import zxingcpp
from PIL import Image

from walletvoucher.cli import main
from walletvoucher.demo import DemoItem, build_story

ZXING = {
    "PKBarcodeFormatQR": zxingcpp.BarcodeFormat.QRCode,
    "PKBarcodeFormatCode128": zxingcpp.BarcodeFormat.Code128,
    "PKBarcodeFormatPDF417": zxingcpp.BarcodeFormat.PDF417,
    "PKBarcodeFormatAztec": zxingcpp.BarcodeFormat.Aztec,
    "QR_CODE": zxingcpp.BarcodeFormat.QRCode,
    "CODE_128": zxingcpp.BarcodeFormat.Code128,
    "EAN_13": zxingcpp.BarcodeFormat.EAN13,
    "UPC_A": zxingcpp.BarcodeFormat.UPCA,
}


@attrs.frozen
class Demo:
    out: Path
    index: dict[str, Any]
    items: dict[str, DemoItem]

    def entry(self, item: str, fmt: str) -> dict[str, Any]:
        return next(e for e in self.index["entries"] if e.get("item") == item and e["format"] == fmt)

    def pkpass(self, item: str) -> bytes:
        return (self.out / self.entry(item, "pkpass")["path"]).read_bytes()

    def apple_preview(self, item: str) -> Image.Image:
        return Image.open(self.out / self.entry(item, "pkpass")["preview"]).convert("RGB")

    def google_preview(self, item: str) -> Image.Image:
        return Image.open(self.out / self.entry(item, "json")["google_preview"]).convert("RGB")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    return Demo(out=out, index=index, items={i.name: i for i in build_story().items})


def png_image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def decode(image: Image.Image, fmt: Any) -> list[str]:
    """Every code of *fmt* that zxing-cpp finds in *image*."""
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(fmt))]
