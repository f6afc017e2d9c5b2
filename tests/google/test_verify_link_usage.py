"""``walletvoucher verify-link --discovery`` with a file that is not a discovery document: one line and
exit status 2, from the real command (a subprocess), never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.google.conftest import AT, make_card, make_options, make_program
from walletvoucher.google import ServiceAccountCredentials, save_link


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ({}, "no schemas.Resources"),
        ([1], "no schemas.Resources"),
        ("walletobjects", "no schemas.Resources"),
        ({"schemas": []}, "no schemas.Resources"),
        ({"schemas": {"Resources": {"type": "object", "properties": {
            "loyaltyObjects": {"type": "array", "items": {"$ref": "Missing"}}}}}}, "broken: KeyError"),
    ],
    ids=["empty-object", "list", "string", "schemas-list", "dangling-ref"],
)
def test_a_file_that_is_not_a_discovery_document_is_one_line_exit_2(
    tmp_path: Path, sa_info: dict[str, Any], credentials: ServiceAccountCredentials, document: Any, why: str
) -> None:
    link = save_link(make_card(make_program(multilingual=False)), credentials=credentials,
                     options=make_options(), at=AT)
    key, discovery = tmp_path / "key.json", tmp_path / "discovery.json"
    key.write_text(json.dumps(sa_info), encoding="utf-8")
    discovery.write_text(json.dumps(document), encoding="utf-8")
    argv = ["verify-link", link.url, "--service-account", str(key), "--discovery", str(discovery)]
    done = subprocess.run([sys.executable, "-m", "walletvoucher", *argv], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert f"discovery='{discovery}'" in done.stderr and why in done.stderr and "Fix:" in done.stderr
