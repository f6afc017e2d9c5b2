"""Whatever ``pos_code`` accepts, the image writers draw, and zxing-cpp reads back (issue 18).

``pos_code("-5, 1", AZTEC)`` was accepted and then the Aztec encoder raised ``ValueError`` in every
writer and in the preview; the same property found that a Code 128 starting with ``99`` lost those
digits (``"9912"`` scanned as ``"12"``). The property: for each symbology, any value ``pos_code``
accepts is drawn by ``render_png`` (and ``render_svg``) and decoded back to the same text by an
independent decoder; TEXT codes have no image and say so with a :class:`SymbologyError`.
``WALLETVOUCHER_FUZZ_EXAMPLES=1500`` runs a longer campaign.
"""

from __future__ import annotations

import io
import os

import PIL.Image
import pytest
import zxingcpp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from walletvoucher.codes import Symbology, pos_code
from walletvoucher.codes._images import render_png, render_svg
from walletvoucher.errors import SymbologyError

F = zxingcpp.BarcodeFormat
FORMATS = {
    Symbology.QR: F.QRCode, Symbology.CODE_128: F.Code128, Symbology.EAN_13: F.EAN13,
    Symbology.UPC_A: F.UPCA, Symbology.PDF417: F.PDF417, Symbology.AZTEC: F.Aztec,
}  # fmt: skip
PUNCTUATION = list("0123456789 ,.:;-!\"#$%&'()*+/<=>?[]{}@\\^_`|~\r\n\tAZaz")
"""The characters that move Aztec's encoder between its DIGIT, PUNCT, MIXED and text modes."""
EXAMPLES = int(os.environ.get("WALLETVOUCHER_FUZZ_EXAMPLES", "60"))
RENDER = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decoded(value: str, symbology: Symbology) -> list[str]:
    png = render_png(value, symbology, module_size=2)
    image = PIL.Image.open(io.BytesIO(png))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(FORMATS[symbology]))
    return [result.text for result in found]


def _accepted(value: str, symbology: Symbology) -> str | None:
    try:
        return pos_code(value, symbology).value
    except SymbologyError:
        return None


_ANY = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
_TWO_D_TEXT = st.one_of(st.text(st.sampled_from(PUNCTUATION), min_size=1, max_size=40), _ANY)


@RENDER
@given(_TWO_D_TEXT, st.sampled_from([Symbology.AZTEC, Symbology.QR, Symbology.PDF417]))
@example("-5, 1", Symbology.AZTEC)
@example("1. 2, 3: 4", Symbology.AZTEC)
@example("A-1. 2", Symbology.AZTEC)
@example("a\r\nb. c", Symbology.AZTEC)
def test_every_accepted_2d_code_is_drawn_and_reads_back(value: str, symbology: Symbology) -> None:
    shown = _accepted(value, symbology)
    if shown is None:
        return
    assert _decoded(shown, symbology) == [shown]
    assert render_svg(shown, symbology).startswith(b"<?xml")


@RENDER
@given(st.one_of(st.text(st.sampled_from(PUNCTUATION), min_size=1, max_size=40), _ANY))
@example("99")  # python-barcode took the data value 99 for a code-set switch: no data at all
@example("9912")  # ... and "12" was scanned
@example("99AB")
def test_every_accepted_code_128_is_drawn_and_reads_back(value: str) -> None:
    shown = _accepted(value, Symbology.CODE_128)
    if shown is not None:
        assert _decoded(shown, Symbology.CODE_128) == [shown]


@RENDER
@given(st.text(st.sampled_from("0123456789"), min_size=11, max_size=13), st.sampled_from([
    Symbology.EAN_13, Symbology.UPC_A]))
def test_every_accepted_ean_and_upc_is_drawn_and_reads_back(value: str, symbology: Symbology) -> None:
    shown = _accepted(value, symbology)
    if shown is not None:  # zxing-cpp reports a UPC-A in its EAN-13 form (a leading 0)
        assert _decoded(shown, symbology) == [("0" if symbology is Symbology.UPC_A else "") + shown]


@RENDER
@given(_ANY)
def test_an_accepted_text_code_has_no_image_and_says_so(value: str) -> None:
    shown = _accepted(value, Symbology.TEXT)
    if shown is not None:
        with pytest.raises(SymbologyError, match="shown as text"):
            render_png(shown, Symbology.TEXT)


def test_a_fault_inside_a_third_party_encoder_is_a_symbology_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from walletvoucher.codes import _images

    def broken(value: str) -> _images.Symbol:
        raise ValueError(f"{value!r} is not in list")

    monkeypatch.setitem(_images._ENCODERS, Symbology.AZTEC, broken)
    with pytest.raises(SymbologyError, match="AZTEC encoder could not draw this code") as caught:
        render_png("-5, 1", Symbology.AZTEC)
    assert caught.value.fix and "QR" in caught.value.fix
