"""Start-up cost: ``walletvoucher --version`` and ``import walletvoucher.service`` import nothing heavy,
and a save link is built without the REST client's ``requests`` / ``google-auth``. Checked in fresh
processes by what lands in ``sys.modules`` (timings live in benchmarks/cli_startup.py)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from walletvoucher.cli import COMMANDS, build_parser

HEAVY = ("requests", "google.auth", "PIL", "cryptography.x509",
         "cryptography.hazmat.primitives.serialization", "uvicorn", "starlette", "httpx", "jwt", "tqdm",
         "walletvoucher.model", "walletvoucher.apple")


def _heavy_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    found = next(line[6:] for line in done.stdout.splitlines() if line.startswith("HEAVY:"))
    return [name for name in found.split(",") if name]


def test_version_imports_no_subcommand_and_nothing_heavy() -> None:
    code = ("import runpy, sys\nsys.argv = ['walletvoucher', '--version']\ntry:\n"
            "    runpy.run_module('walletvoucher', run_name='__main__')\nexcept SystemExit as exc:\n"
            "    assert exc.code == 0\n"
            "assert not [m for m in sys.modules if m.endswith('_cli') or m == 'walletvoucher.batch']")
    assert _heavy_after(code) == []


def test_importing_the_service_package_imports_nothing_heavy() -> None:
    assert _heavy_after("import walletvoucher.service") == []


def test_a_save_link_needs_no_rest_client() -> None:
    found = _heavy_after("from walletvoucher.google import save_link, loyalty_object, Resource")
    assert "requests" not in found and "google.auth" not in found


@pytest.mark.parametrize("package", ["walletvoucher", "walletvoucher.service", "walletvoucher.google"])
def test_every_public_name_still_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
        assert name in dir(module)
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_the_command_table_names_every_subcommand() -> None:
    full = build_parser()
    sub = next(a for a in full._actions if a.__class__.__name__ == "_SubParsersAction")
    assert sorted(sub.choices) == sorted(COMMANDS)
    for command in COMMANDS:  # each command parses with its own module alone
        lone = next(a for a in build_parser(command)._actions if a.__class__.__name__ == "_SubParsersAction")
        assert command in lone.choices
