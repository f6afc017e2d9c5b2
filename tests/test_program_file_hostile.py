"""Hostile program files and artwork given to `walletvoucher build` (issue 18): every one is a one-line
error naming the file, the key and the fix, in bounded time and memory; files outside the program's
folder, devices and pipes are never read."""

from __future__ import annotations

import io
import json
import os
import resource
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.apple.helpers import AT, PASS_TYPE, TEAM
from walletvoucher.apple import StripDesign, mint_test_chain, strip_images
from walletvoucher.cli import main
from walletvoucher.errors import AppleImageError, ValidationError
from walletvoucher.model import Brand, LocalizedText

BASE: dict[str, Any] = {
    "program": {"id": "coffee", "name": "Coffee card", "goal": 10, "redemption": "redeem_code"},
    "brand": {"name": "Kahve", "foreground": "#FFFFFF", "background": "#1E3A5F", "label": "#F2C14E"},
    "reward": {"title": "Free coffee", "description": "Any size"},
    "apple": {"pass_type_identifier": PASS_TYPE, "team_identifier": TEAM, "certificate": "chain/pass.pem",
              "key": "chain/pass.key", "wwdr": "chain/wwdr.pem"},
}


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims *width* x *height* (IHDR) with an empty image stream: about 60 bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "shop"
    chain = mint_test_chain(pass_type_identifier=PASS_TYPE, team_identifier=TEAM, at=AT)
    chain.write(root / "chain")
    monkeypatch.delenv("WALLETVOUCHER_KEY_PASSWORD", raising=False)
    return root


def write(folder: Path, edit: dict[str, dict[str, Any]] | None = None, raw: str | None = None) -> Path:
    doc = json.loads(json.dumps(BASE))
    for table, values in (edit or {}).items():
        doc[table] = values if not isinstance(values, dict) else {**doc.get(table, {}), **values}
    path = folder / "coffee.json"
    path.write_text(raw if raw is not None else json.dumps(doc), encoding="utf-8")
    return path


def build(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str]:
    status = main(["build", str(path), "--card", "C-1", "--stamps", "3", "--at", AT.isoformat(),
                   "--pkpass", str(path.parent / "out.pkpass"), "--force"])
    return status, capsys.readouterr().err


def assert_one_line(stderr: str, *expected: str) -> None:
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr[:2000]
    assert len(stderr) < 1000, stderr[:1000]
    for text in expected:
        assert text in stderr, (text, stderr)
    assert "Fix:" in stderr


# --- artwork: a pixel cap read from the header, before decoding ---------------------------------------

@pytest.mark.parametrize(("key", "size"), [("logo", 60000), ("stamp_icon", 12000), ("icon", 4097)])
def test_artwork_over_4096_pixels_a_side_is_refused_from_its_header(
    folder: Path, capsys: pytest.CaptureFixture[str], key: str, size: int
) -> None:
    (folder / "big.png").write_bytes(png_header(size, size))
    status, stderr = build(capsys, write(folder, {"brand": {key: "big.png"}}))
    assert status == 2
    assert_one_line(stderr, f"[brand] {key}", f"{size} x {size}", "4096")


def test_the_renderer_refuses_a_decompression_bomb_with_an_apple_image_error() -> None:
    design = StripDesign(goal=3, background=(0, 0, 0), stamp=(255, 255, 255),
                         stamp_icon=png_header(60000, 60000))
    with pytest.raises(AppleImageError, match="60000 x 60000"):
        strip_images(design, 2, "storeCard")
    with pytest.raises(ValidationError, match="4096"):
        Brand(name="K", foreground="#FFFFFF", background="#000000", label="#FFFFFF",
              logo=png_header(5000, 10))


def test_large_allowed_artwork_is_drawn_from_a_working_copy_of_at_most_1024_pixels() -> None:
    from walletvoucher.apple._artwork import WORKING_SIDE, open_artwork

    buffer = io.BytesIO()
    Image.new("RGB", (4096, 2048), "#F2C14E").save(buffer, format="PNG")
    opened = open_artwork(buffer.getvalue(), "stamp_icon")
    assert opened.size == (WORKING_SIDE, WORKING_SIDE // 2) and opened.mode == "RGBA"


# --- only regular files, only inside the program file's folder ----------------------------------------

@pytest.mark.parametrize("target", ["../../../../../../etc/passwd", "/proc/self/environ", "../outside.png"])
def test_artwork_outside_the_program_folder_is_refused(
    folder: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    Image.new("RGB", (40, 40), "red").save(folder.parent / "outside.png")
    status, stderr = build(capsys, write(folder, {"brand": {"logo": target}}))
    assert status == 2
    assert_one_line(stderr, "[brand] logo", "outside the program file's folder", str(folder.resolve()))


def test_a_symlink_leading_out_of_the_folder_is_refused_and_one_inside_is_followed(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Image.new("RGB", (40, 40), "red").save(folder.parent / "outside.png")
    (folder / "art").mkdir()
    (folder / "art" / "logo.png").symlink_to(folder.parent / "outside.png")
    status, stderr = build(capsys, write(folder, {"brand": {"logo": "art/logo.png"}}))
    assert status == 2
    assert_one_line(stderr, "[brand] logo", "outside the program file's folder")
    (folder / "art" / "logo.png").unlink()
    Image.new("RGB", (40, 40), "red").save(folder / "real.png")
    (folder / "art" / "logo.png").symlink_to(folder / "real.png")
    status, stderr = build(capsys, write(folder, {"brand": {"logo": "art/logo.png"}}))
    assert (status, stderr) == (0, "")


def _build_in_a_child(path: Path, *, timeout: float) -> subprocess.CompletedProcess[str]:
    """`walletvoucher build` in a child capped at 1 GiB of memory: a hang or a blow-up fails the test."""
    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    argv = [sys.executable, "-m", "walletvoucher", "build", str(path), "--card", "C-1",
            "--at", AT.isoformat(), "--pkpass", str(path.parent / "out.pkpass")]
    env = {k: v for k, v in os.environ.items() if k != "WALLETVOUCHER_KEY_PASSWORD"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, preexec_fn=cap_memory,
                          env=env, check=False)


def test_a_device_as_the_key_is_refused_without_reading_it(folder: Path) -> None:
    done = _build_in_a_child(write(folder, {"apple": {"key": "/dev/zero"}}), timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]  # a file that cannot be a key: a usage mistake
    assert_one_line(done.stderr, "key", "/dev/zero", "not a regular file")


def test_a_named_pipe_as_artwork_is_refused_without_blocking(folder: Path) -> None:
    os.mkfifo(folder / "pipe.png")
    started = time.monotonic()
    done = _build_in_a_child(write(folder, {"brand": {"logo": "pipe.png"}}), timeout=30)
    assert done.returncode == 2 and time.monotonic() - started < 30
    assert_one_line(done.stderr, "[brand] logo", "named pipe")


# --- numbers, paths and tables that used to print tracebacks ------------------------------------------

@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"program": {"validity": {"start_delay_hours": 2**63 - 1}}}, "[program.validity] start_delay_hours"),
        ({"program": {"earn_policy": {"min_interval_minutes": 2**63 - 1}}},
         "[program.earn_policy] min_interval_minutes"),
        ({"brand": {"logo": "art/lo\0go.png"}}, "[brand] logo"),
        ({"apple": 5}, "apple"),
        ({"google": [1, 2]}, "google"),
        ({"scan": "till"}, "scan"),
        ({"apple": {"language": "e" * 900_000}}, "[apple] language"),
        ({"apple": {"key": "k/" * 400_000}}, "[apple] key"),
        ({"google": {"service_account": "sa.json", "issuer_id": "1" * 900_000, "logo_url": "https://x.example/l.png",
                     "origins": ["https://x.example"]}}, "[google] issuer_id"),
        ({"google": {"service_account": "sa.json", "issuer_id": "3388000000022222222"}}, "[google] origins"),
    ],
)
def test_values_that_printed_tracebacks_are_one_line_errors(
    folder: Path, capsys: pytest.CaptureFixture[str], edit: dict[str, Any], expected: str
) -> None:
    status, stderr = build(capsys, write(folder, edit))
    assert status == 2
    assert_one_line(stderr, expected, "coffee.json")


def test_a_goal_of_ten_to_the_400_is_refused_by_name(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = json.dumps(BASE).replace('"goal": 10', '"goal": 1' + "0" * 400)
    status, stderr = build(capsys, write(folder, raw=raw))
    assert status == 2
    assert_one_line(stderr, "[program] goal", "1000000")


def test_a_megabyte_brand_name_is_refused_quickly_and_shown_short(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, stderr = build(capsys, write(folder, {"brand": {"name": "K" * 1_000_000}}))
    assert status == 2
    assert_one_line(stderr, "[brand] name", "1000000 characters", "10000")


def test_the_model_bounds_goals_and_texts() -> None:
    with pytest.raises(ValidationError, match="more than 10000"):
        LocalizedText(default="x" * 10_001)
    with pytest.raises(ValidationError, match="translations"):
        LocalizedText(default="x", translations={"de": "y" * 10_001})
    from walletvoucher.model import Program, RedemptionMethod, Reward

    brand = Brand(name="K", foreground="#FFFFFF", background="#000000", label="#FFFFFF")
    reward = Reward(title="T", description="D")
    with pytest.raises(ValidationError, match="goal"):
        Program(id="p", name="P", brand=brand, goal=10**400, reward=reward,
                redemption=RedemptionMethod.REDEEM_CODE)
    assert Program(id="p", name="P", brand=brand, goal=1_000_000, reward=reward,
                   redemption=RedemptionMethod.REDEEM_CODE).goal == 1_000_000


def test_a_huge_value_in_any_error_is_shown_by_its_start() -> None:
    from walletvoucher.errors import WalletVoucherError

    text = str(WalletVoucherError("is wrong", field="name", value="x" * 1_000_000, fix="shorten it"))
    assert len(text) < 400 and "(1000002 characters)" in text and text.endswith("Fix: shorten it")
