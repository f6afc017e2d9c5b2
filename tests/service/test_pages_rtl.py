"""Right-to-left pages in a real browser: Arabic, served in process by uvicorn over TLS on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import Browser, Tab, find_chromium
from walletvoucher.apple import AppleSigner
from walletvoucher.service import PassTokens, WalletPerThread
from walletvoucher.web import create_site

from .pages_setup import PROGRAMS, make_pages
from .servers import UvicornThread

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="Chromium is not installed (.ci/run installs Debian's chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, signer: AppleSigner,
         server_cert: tuple[Path, Path]) -> Iterator[str]:
    wallets = WalletPerThread(f"sqlite:///{tmp_path_factory.mktemp('rtl') / 'wallet.db'}", programs=PROGRAMS)
    pages = make_pages(wallets, signer, PassTokens(b"r" * 32))
    certfile, keyfile = server_cert
    try:
        app = create_site(pages, passkit=pages.passes)
        with UvicornThread(app, certfile=certfile, keyfile=keyfile) as server:
            yield server.url
    finally:
        wallets.close()


def test_arabic_pages_run_right_to_left_in_arabic_type(site: str, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as browser:
        tab = Tab(browser, language="ar")
        tab.open(f"{site}/join/coffee")
        assert tab.state() == "join"
        assert tab.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
        assert tab.evaluate("getComputedStyle(document.querySelector('h1')).direction") == "rtl"
        # the heading hugs the right edge of the phone, as Arabic is read
        left, right = tab.evaluate("(() => { const r = document.createRange();"
                                   " r.selectNodeContents(document.querySelector('h1'));"
                                   " const b = r.getBoundingClientRect(); return [b.left, b.right]; })()")
        assert right > 390 - 40 and left > 40
        tab.evaluate("document.fonts.ready.then(() => true)")
        used = tab.fonts_used()
        assert "Noto Sans Arabic" in used and all(family.startswith("Noto Sans") for family in used), used
        tab.screenshot(Path(os.environ["WV_PAGE_SHOTS"]) / "join-ar.png" if os.environ.get("WV_PAGE_SHOTS")
                       else tmp_path / "join-ar.png")
