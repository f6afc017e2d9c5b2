"""A one-page PDF holding one picture: the smallest PDF a printer takes, byte for byte deterministic.

Pillow's PDF writer stores RGB pictures as JPEG (blurred QR edges) and stamps the wall-clock time
into the file; this writer keeps the pixels lossless (``FlateDecode``) and writes no date, so the same
page gives the same bytes.
"""

from __future__ import annotations

import zlib

from PIL import Image


def _obj(number: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % number + body + b"\nendobj\n"


def _text(value: str) -> bytes:
    """A PDF text string in UTF-16BE with a byte-order mark, as hex (no escaping pitfalls)."""
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def image_pdf(image: Image.Image, *, page_points: tuple[float, float], title: str) -> bytes:
    """A PDF of one page *page_points* (width, height in 1/72 inch) filled by *image* (RGB).

    >>> pdf = image_pdf(Image.new("RGB", (4, 4), "white"), page_points=(72, 72), title="t")
    >>> pdf[:8], pdf.rstrip()[-5:]
    (b'%PDF-1.4', b'%%EOF')
    """
    rgb = image.convert("RGB")
    width, height = page_points
    pixels = zlib.compress(rgb.tobytes(), 9)
    content = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (width, height)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] "
        b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>" % (width, height),
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
        % (rgb.width, rgb.height, len(pixels))
        + pixels
        + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Title " + _text(title) + b" /Producer (walletvoucher) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += _obj(number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
