"""Packaging: the licence file matches the metadata, the extras exist, and the core import stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_the_licence_file_matches_the_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])


def test_the_extras_users_install_exist() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert {"google", "test"} <= set(extras)
    assert any(dep.startswith("google-api-python-client") for dep in extras["google"])


def test_import_walletvoucher_loads_no_image_network_or_crypto_library() -> None:
    heavy = ["PIL", "qrcode", "barcode", "pdf417gen", "aztec_code_generator", "requests", "jwt",
             "cryptography", "google.auth", "urllib.request", "psycopg", "starlette", "httpx"]
    code = f"import sys, walletvoucher; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_package_data_names_every_template_and_static_file_of_the_pages() -> None:
    # (a wheel built from this checkout was checked by hand to hold them: pip wheel --no-deps .)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["walletvoucher.web"]
    web = ROOT / "src" / "walletvoucher" / "web"
    shipped = {p for pattern in patterns for p in web.glob(pattern)}
    files = {p for p in web.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert files and files == shipped
    assert any(dep.startswith("jinja2") for dep in config["project"]["optional-dependencies"]["server"])
