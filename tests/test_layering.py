"""Imports point one way: the renderer packages (apple/, google/) know nothing of the demo or previews."""

from __future__ import annotations

import ast
from pathlib import Path

import walletvoucher

PACKAGE = Path(walletvoucher.__file__).parent
ABOVE_THE_RENDERERS = ("walletvoucher.demo", "walletvoucher.preview", "walletvoucher._demo_cli")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_renderer_packages_import_no_demo_or_preview() -> None:
    offenders = {}
    for renderer in ("apple", "google", "codes", "model"):
        for path in sorted((PACKAGE / renderer).rglob("*.py")):
            bad = {name for name in _imports(path) if name.startswith(ABOVE_THE_RENDERERS)}
            if bad:
                offenders[path.relative_to(PACKAGE).as_posix()] = sorted(bad)
    assert offenders == {}


def test_renderer_packages_hold_no_demo_module() -> None:
    assert [p.name for p in PACKAGE.glob("*/*demo*.py") if p.parent.name != "demo"] == []


def test_only_the_web_package_knows_templates_and_cookies() -> None:
    offenders = {}
    for package in ("model", "codes", "apple", "google", "store", "service"):
        for path in sorted((PACKAGE / package).rglob("*.py")):
            if path.name == "_cli.py":  # the command line (``serve``) sits above the web app
                continue
            bad = {name for name in _imports(path) if name.startswith(("walletvoucher.web", "jinja2"))}
            if bad:
                offenders[path.relative_to(PACKAGE).as_posix()] = sorted(bad)
    assert offenders == {}
