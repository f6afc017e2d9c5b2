"""The README's Python examples run as written, in order, after the README's demo command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from walletvoucher.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_readme_python_blocks_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--out", "demo-out"]) == 0  # the README's first set-up command
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in BLOCKS:
        exec(compile(block, str(README), "exec"), namespace)
    assert (tmp_path / "card.pkpass").stat().st_size > 0


def test_readme_has_examples_for_model_apple_and_google() -> None:
    assert len(BLOCKS) >= 3
