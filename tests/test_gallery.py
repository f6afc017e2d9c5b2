"""The demo gallery, opened from disk in a real browser (headless Chromium over the DevTools pipe)."""

from __future__ import annotations

import html.parser
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser import file_url, find_chromium, load_page
from walletvoucher.cli import main
from walletvoucher.demo import build_story
from walletvoucher.demo._gallery import SECTIONS, render_gallery

CHROMIUM = find_chromium()
SAVE_LINK = "https://pay.google.com/gp/v/save/"
IMAGES_SCRIPT = """JSON.stringify({
  images: [...document.images].map(i => ({src: i.getAttribute('src'), complete: i.complete,
                                          width: i.naturalWidth, height: i.naturalHeight})),
  sections: [...document.querySelectorAll('main section')].map(s => [s.id, s.querySelector('h2').textContent,
                                                                      s.querySelectorAll('article').length]),
  scripts: document.scripts.length,
  title: document.title,
})"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("gallery")
    assert main(["demo", "--out", str(out)]) == 0
    return out, json.loads((out / "index.json").read_text(encoding="utf-8"))


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.refs += [(tag, name, value or "") for name, value in attrs if name in ("src", "href")]


# CI installs Chromium (.ci/run), so there a missing browser fails the test instead of skipping it.
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_gallery_opens_from_disk_with_every_image_loaded_and_every_section(
    demo: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, index = demo
    assert index["gallery"] == "index.html"
    assert CHROMIUM is not None
    value, screenshot, requested = load_page(CHROMIUM, file_url(out / "index.html"), script=IMAGES_SCRIPT)
    page = json.loads(value)
    broken = [i["src"] for i in page["images"] if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert broken == []
    items = [i for i in build_story().items]
    assert len(page["images"]) >= 2 * len(items)  # an Apple and a Google preview each, plus code images
    shown = {i["src"] for i in page["images"]}
    for entry in index["entries"]:
        if entry.get("preview"):
            assert entry["preview"] in shown
        if entry.get("google_preview"):
            assert entry["google_preview"] in shown
    assert [s[:2] for s in page["sections"]] == [
        *[[sid, heading] for sid, heading, _, _ in SECTIONS],
        ["files", "Files"],
    ]
    assert sum(s[2] for s in page["sections"]) == len(items) and page["scripts"] == 0
    assert requested and all(url.startswith("file://") for url in requested), (
        requested
    )  # nothing from the net
    shot = Image.open(io.BytesIO(screenshot))
    assert shot.width == 1280 and shot.height > 2000
    (tmp_path / "gallery.png").write_bytes(screenshot)  # look at it: pytest --basetemp=... keeps it


def test_gallery_links_are_relative_files_that_exist_or_google_save_links(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, index = demo
    parser = _Links()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    pkpass_links = 0
    for tag, attribute, value in parser.refs:
        if value.startswith("#"):
            continue
        if value.startswith(SAVE_LINK):
            assert tag == "a" and attribute == "href"
            continue
        assert "://" not in value and not value.startswith("/"), value
        assert (out / value).is_file() or (out / value).is_dir(), value
        pkpass_links += value.endswith(".pkpass")
    assert pkpass_links == len([e for e in index["entries"] if e["format"] == "pkpass"])
    text = (out / "index.html").read_text(encoding="utf-8")
    for entry in index["entries"]:
        if entry.get("google_save_url"):
            assert entry["google_save_url"] in text
        if entry.get("google_rest_required"):
            assert entry["google_save_url_after_rest"] in text and entry["google_objects"] in text


def test_gallery_escapes_every_text_it_shows() -> None:
    items = [i for i in build_story().items if i.name == "card-7-stamps"]
    hostile = '"><script>alert(1)</script>'
    index = {
        "clock": hostile,
        "apple_root_ca": hostile,
        "entries": [
            {"item": "card-7-stamps", "format": "pkpass", "path": hostile, "preview": hostile},
            {
                "item": "card-7-stamps",
                "format": "json",
                "google_save_url": SAVE_LINK + hostile,
                "google_link_length": hostile,
                "google_preview": hostile,
            },
        ],
    }
    page = render_gallery(items, index)
    assert "<script" not in page and "&lt;script&gt;" in page


def test_demo_summary_says_what_was_written_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    for words in (
        f"open {tmp_path / 'index.html'} in a browser",
        "signed .pkpass files",
        "an iPhone will not install them",
        "need the REST path",
        "1800-character limit",
        "google_save_url_after_rest",
        "Previews",
        "index.json",
    ):
        assert words in said, words
