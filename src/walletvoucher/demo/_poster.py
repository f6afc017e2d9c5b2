"""The demo's join poster: what a shop prints so customers can join by scanning.

Its QR code opens ``https://127.0.0.1:8080/join/<program>``, the join page ``walletvoucher serve`` (demo
mode, its default host and port) serves for the demo's stamp card. Top-level index keys (never
renamed): ``poster_pdf``, ``poster_png`` and ``poster_url``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from walletvoucher.demo import DemoItem
from walletvoucher.poster import PaperSize, render_poster

DEMO_JOIN_BASE = "https://127.0.0.1:8080/join/"


def write_poster(items: Sequence[DemoItem], out_dir: Path, entries: list[dict[str, Any]]) -> dict[str, str]:
    """Write ``poster/join-a5.pdf`` and ``poster/join-a6.png`` for the demo's first stamp card."""
    card = next(item for item in items if item.voucher is None)
    program = card.card.program
    url = DEMO_JOIN_BASE + program.id
    folder = out_dir / "poster"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "join-a5.pdf").write_bytes(render_poster(program, url=url, size=PaperSize.A5, fmt="pdf"))
    (folder / "join-a6.png").write_bytes(
        render_poster(program, url=url, size=PaperSize.A6, fmt="png", dpi=150)
    )
    return {"poster_pdf": "poster/join-a5.pdf", "poster_png": "poster/join-a6.png", "poster_url": url}
