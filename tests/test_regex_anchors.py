"""No pattern in src ends in ``$`` (which also matches before a trailing newline): fullmatch or \\Z only.

A guard over the whole source tree (issue 7, section 5), and behaviour checks of the patterns that
had it in the Apple rules and the model.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.apple.helpers import AT, card_with, make_program
from walletvoucher.apple import AppleOptions, build_pass_json, check_pass_json

SRC = Path(__file__).resolve().parents[1] / "src" / "walletvoucher"
_RE_CALLS = {"compile", "match", "search", "fullmatch"}


def _dollar_patterns(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _RE_CALLS or not node.args:
            continue
        pattern = node.args[0]
        if isinstance(pattern, ast.Constant) and isinstance(pattern.value, str):
            text = pattern.value
            if (text.endswith("$") and not text.endswith("\\$")) or "$|" in text or "$)" in text:
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: {text}")
    return found


def test_no_regular_expression_in_src_anchors_with_dollar() -> None:
    offenders = [hit for path in sorted(SRC.rglob("*.py")) for hit in _dollar_patterns(path)]
    assert offenders == []


@pytest.mark.parametrize(
    ("key", "value"),
    [("backgroundColor", "rgb(1, 2, 3)\n"), ("relevantDate", "2026-05-07T10:30:00Z\n")],
)
def test_pass_json_colours_and_dates_refuse_a_trailing_newline(key: str, value: str) -> None:
    options = AppleOptions(pass_type_identifier="pass.com.example.walletvoucher",
                           team_identifier="TEAMID1234")
    doc = build_pass_json(card_with(make_program(), 1), options=options, at=AT)
    assert not [p for p in check_pass_json(doc) if p.where == key]
    doc[key] = value
    assert [p for p in check_pass_json(doc) if p.where == key]
