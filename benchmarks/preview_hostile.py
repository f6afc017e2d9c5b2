"""How long ``preview_pkpass`` takes on hostile files (issue 18), in CPU seconds, and how each ends.

    .venv/bin/python benchmarks/preview_hostile.py

Each input is built here (nothing downloaded). Before issue 18 a 1 KB 65535x1 strip was scaled to 16
gigapixels (MemoryError), a 40 KB pass.strings took 10 s, 600 KB of text in a field over 60 s, and a
zip of many entries was parsed whole before it was counted. Now each is bounded; the slowest case
is a pass whose every field is full of text that changes script at every letter (each change is
shaped on its own by the font engine), bounded by the 400 characters and 16 script runs a line lays out.
The back (``side="back"``) is bounded the same way, and by 24 rows of at most 12 lines, 120 in all.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zipfile
from collections.abc import Callable

from PIL import Image

from walletvoucher.errors import PreviewError
from walletvoucher.preview import preview_pkpass

STORE_CARD = {"formatVersion": 1, "storeCard": {"primaryFields": [{"key": "p", "value": "7/10"}]}}


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _thin_strip() -> bytes:
    out = io.BytesIO()
    Image.new("1", (65535, 1)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _many_entries(count: int) -> bytes:
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, 1, 0) + b"a"
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
                          0, 0) + b"a"
    directory = central * count
    return local + directory + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(directory),
                                           len(local), 0)


def _every_field(unit: str) -> bytes:
    def field(key: str) -> dict[str, str]:
        return {"key": key, "label": "big", "value": "big"}

    card = {
        "headerFields": [field(f"h{i}") for i in range(3)], "primaryFields": [field("p")],
        "secondaryFields": [field(f"s{i}") for i in range(4)],
        "auxiliaryFields": [field(f"a{i}") for i in range(4)],
    }  # fmt: skip
    barcode = {"format": "PKBarcodeFormatQR", "message": "CODE-1", "altText": "big"}
    doc = {"logoText": "big", "organizationName": "big", "barcode": barcode, "storeCard": card}
    strings = f'"big" = "{unit * (300_000 // len(unit))}";'.encode()
    return _zip({"pass.json": json.dumps(doc).encode(), "en.lproj/pass.strings": strings})


def inputs() -> dict[str, Callable[[], bytes]]:
    plain = json.dumps(STORE_CARD).encode()
    return {
        "65535x1 strip (1 KB)": lambda: _zip({"pass.json": plain, "strip@2x.png": _thin_strip()}),
        'pass.strings  " + \\" x 500k': lambda: _zip({"pass.json": plain, "en.lproj/pass.strings":
                                                     b'"' + b'\\"' * 500_000}),
        "600 KB in one field": lambda: _zip({"pass.json": json.dumps({"storeCard": {"primaryFields": [
            {"key": "p", "value": "x " * 300_000}]}}).encode()}),
        "every field, Latin": lambda: _every_field("x "),
        "every field, Devanagari/Latin": lambda: _every_field("कa"),
        "every field, five scripts": lambda: _every_field("aกعक咖"),
        "65535 zip entries": lambda: _many_entries(65_535),
        "5000-digit integer": lambda: _zip({"pass.json": b'{"a": ' + b"9" * 5000 + b"}"}),
    }


def _back(unit: str, fields: int, chars: int) -> bytes:
    """The back (``side="back"``, issue 16): *fields* back fields, each value *chars* of *unit*, with
    line breaks every 40 characters (so the values wrap and are cut to 12 lines, 120 in all)."""
    text = "\n".join(unit * (40 // len(unit)) for _ in range(max(1, chars // 40)))
    doc = {"organizationName": "big", "storeCard": {"backFields": [
        {"key": f"b{i}", "label": "big", "value": "big"} for i in range(fields)]}}
    strings = f'"big" = "{text}";'.encode().replace(b"\n", b"\\n")
    return _zip({"pass.json": json.dumps(doc).encode(), "en.lproj/pass.strings": strings})


def back_inputs() -> dict[str, Callable[[], bytes]]:
    return {
        "back: 1000 fields, Latin": lambda: _back("x ", 1000, 400),
        "back: 24 fields, five scripts": lambda: _back("aกعक咖", 24, 20_000),
        "back: one 300 KB word": lambda: _back("咖", 1, 300_000).replace(b"\\n", b""),
    }


def main() -> None:
    cases = [(name, make, "front") for name, make in inputs().items()]
    cases += [(name, make, "back") for name, make in back_inputs().items()]
    for name, make, side in cases:
        data = make()
        start = time.process_time()
        try:
            outcome = f"PNG of {len(preview_pkpass(data, side=side))} bytes"
        except PreviewError as exc:
            outcome = f"PreviewError: {str(exc)[:70]}"
        print(f"{name:32} {len(data):>9} bytes  {time.process_time() - start:6.2f} s CPU  {outcome}")


if __name__ == "__main__":
    main()
