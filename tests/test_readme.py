"""The README's Python examples run as written, in order, after the README's demo command."""

from __future__ import annotations

import glob
import re
import shlex
from pathlib import Path

import pytest

from walletvoucher.cli import build_parser, main

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.DOTALL)
LONG_RUNNING = {"serve", "worker"}
TOML_FILES = re.findall(r"```toml\n# (\S+)\n(.*?)```", TEXT, flags=re.DOTALL)
COMMANDS = [line for block in re.findall(r"```sh\n(.*?)```", TEXT, flags=re.DOTALL)[1:]
            for line in block.splitlines() if line.startswith("walletvoucher ")]


def test_readme_python_blocks_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--out", "demo-out"]) == 0  # the README's first set-up command
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in BLOCKS:
        exec(compile(block, str(README), "exec"), namespace)
    assert (tmp_path / "card.pkpass").stat().st_size > 0
    for name, body in TOML_FILES:  # the README's program files, then its commands, in order
        (tmp_path / name).write_text(body, encoding="utf-8")
    for line in COMMANDS:
        argv = [arg for word in shlex.split(line, comments=True)[1:]
                for arg in (sorted(glob.glob(word)) or [word])]
        if argv[0] in LONG_RUNNING:  # a server: its flags must parse; tests/service starts it for real
            build_parser().parse_args(argv)
            continue
        assert main(argv) == 0, line
    assert (tmp_path / "card-7.png").read_bytes().startswith(b"\x89PNG")
    assert len(list((tmp_path / "passes").glob("*.pkpass"))) == 20


def test_readme_has_examples_for_model_apple_and_google() -> None:
    assert len(BLOCKS) >= 3


def test_readme_shows_the_command_line() -> None:
    assert [name for name, _ in TOML_FILES] == ["coffee.toml"]
    assert {shlex.split(line)[1] for line in COMMANDS} >= {"build", "verify", "preview", "certs", "serve"}
