"""Service-account loading, the verify-link command and the demo's Google links."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.google.conftest import AT, make_card, make_options, make_program
from tests.google.discovery import schema_errors
from walletvoucher.errors import ServiceAccountKeyError, WalletVoucherError
from walletvoucher.google import MAX_LINK_LENGTH, SAVE_URL_PREFIX, ServiceAccountCredentials, _cli, save_link
from walletvoucher.keys import load_service_account


def _write(tmp_path: Path, data: Any, name: str = "key.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_loads_from_path_and_dict_alike(tmp_path: Path, sa_info: dict[str, Any]) -> None:
    from_path = load_service_account(_write(tmp_path, sa_info))
    from_dict = load_service_account(sa_info)
    assert from_path == from_dict
    assert from_path.client_email == sa_info["client_email"]
    assert from_path.private_key_id == sa_info["private_key_id"]
    assert from_path.client_id == sa_info["client_id"]


def test_repr_never_shows_the_private_key(
    credentials: ServiceAccountCredentials, sa_info: dict[str, Any]
) -> None:
    text = repr(credentials)
    assert "PRIVATE KEY" not in text and sa_info["private_key"][40:80] not in text
    assert credentials.client_email in text


@pytest.mark.parametrize("missing", ["client_email", "private_key", "private_key_id"])
def test_missing_field_is_named(sa_info: dict[str, Any], missing: str) -> None:
    broken = {k: v for k, v in sa_info.items() if k != missing}
    with pytest.raises(ServiceAccountKeyError, match=missing):
        load_service_account(broken)


def test_bad_private_key_is_refused_without_showing_it(sa_info: dict[str, Any]) -> None:
    broken = {
        **sa_info,
        "private_key": "-----BEGIN PRIVATE KEY-----\nsecretstuff\n-----END PRIVATE KEY-----\n",
    }
    with pytest.raises(ServiceAccountKeyError) as caught:
        load_service_account(broken)
    assert "secretstuff" not in str(caught.value)
    assert "<redacted>" in str(caught.value)


def test_unreadable_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(ServiceAccountKeyError, match="cannot be read"):
        load_service_account(tmp_path / "nope.json")
    with pytest.raises(ServiceAccountKeyError, match="not JSON"):
        load_service_account(_write(tmp_path, "not json at all"))
    with pytest.raises(ServiceAccountKeyError, match="not a service-account key"):
        load_service_account(
            {"type": "authorized_user", "client_email": "a", "private_key": "b", "private_key_id": "c"}
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="walletvoucher")
    _cli.add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(*argv: str) -> int:
    args = _parser().parse_args(list(argv))
    status: int = args.run(args)
    return status


def test_verify_link_command_passes_a_good_link(
    tmp_path: Path,
    sa_info: dict[str, Any],
    credentials: ServiceAccountCredentials,
    capsys: pytest.CaptureFixture[str],
) -> None:
    link = save_link(
        make_card(make_program(multilingual=False)), credentials=credentials, options=make_options(), at=AT
    )
    assert _run("verify-link", link.url, "--service-account", str(_write(tmp_path, sa_info))) == 0
    assert capsys.readouterr().out.startswith("OK: link")


def test_verify_link_command_fails_a_link_from_another_key(
    tmp_path: Path, credentials: ServiceAccountCredentials, capsys: pytest.CaptureFixture[str]
) -> None:
    link = save_link(
        make_card(make_program(multilingual=False)), credentials=credentials, options=make_options(), at=AT
    )
    other_dir = tmp_path / "other"
    from walletvoucher.demo._google import _write_key

    _write_key(other_dir / "key.json")
    assert _run("verify-link", link.url, "--service-account", str(other_dir / "key.json")) == 1
    assert "problem: jwt: InvalidSignatureError" in capsys.readouterr().out


def test_verify_link_command_reports_a_bad_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _run("verify-link", SAVE_URL_PREFIX + "x.y.z", "--service-account", str(tmp_path / "missing.json"))
        == 2
    )
    assert "cannot be read" in capsys.readouterr().err


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from walletvoucher.cli import main

    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_index_names_the_service_account_and_every_link_verifies(demo_dir: Path) -> None:
    index = json.loads((demo_dir / "index.json").read_text(encoding="utf-8"))
    key_info = json.loads((demo_dir / index["google_service_account"]).read_text(encoding="utf-8"))
    public = load_service_account(key_info).public_key()
    entries = [e for e in index["entries"] if e["kind"] in ("stamp_card", "voucher")]
    assert entries
    checked = 0
    for entry in entries:
        assert "google_save_url" in entry, entry["name"]
        urls = [entry["google_save_url"]]
        if entry["google_save_url"] is None:
            reason = entry["google_rest_required"]
            objects = json.loads((demo_dir / entry["google_objects"]).read_text(encoding="utf-8"))
            if entry["google_link_length"] is None:   # a rotating code's key never goes in a link
                assert "rotating Staff-Scan code" in reason and entry.get("method") == "staff_scan"
                assert any("rotatingBarcode" in body for body in objects.values())
            else:
                assert str(entry["google_link_length"]) in reason and "1800" in reason
                assert entry["google_link_length"] > MAX_LINK_LENGTH
            urls = [entry["google_save_url_after_rest"]]
            for collection, body in objects.items():
                assert schema_errors(body, collection[0].upper() + collection[1:]) == []
        for url in urls:
            assert len(url) <= MAX_LINK_LENGTH
            claims = jwt.decode(
                url[len(SAVE_URL_PREFIX) :],
                public,
                algorithms=["RS256"],
                audience="google",
                options={"verify_iat": False},
            )
            assert claims["typ"] == "savetowallet" and claims["iss"] == key_info["client_email"]
            assert schema_errors(claims["payload"], "Resources") == []
            checked += 1
    assert checked == len(entries)


def test_demo_links_pass_the_verify_link_command(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = json.loads((demo_dir / "index.json").read_text(encoding="utf-8"))
    key = str(demo_dir / index["google_service_account"])
    for entry in index["entries"]:
        url = entry.get("google_save_url") or entry.get("google_save_url_after_rest")
        if url:
            assert _run("verify-link", url, "--service-account", key) == 0, capsys.readouterr().out


def test_errors_are_walletvoucher_errors() -> None:
    assert issubclass(ServiceAccountKeyError, WalletVoucherError)
