"""Store fixtures: every test runs on SQLite and on a real PostgreSQL server the suite starts."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.store._pg import PostgresCluster
from tests.store._programs import all_programs

NOW = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
FIGURES: list[str] = []
"""Concurrency figures recorded by the tests; printed in pytest's terminal summary."""

_databases = itertools.count(1)


def _fresh_database(cluster: PostgresCluster) -> str:
    name = f"wallet_{next(_databases)}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return cluster.url(name)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    """The engine under test."""
    return str(request.param)


@pytest.fixture
def url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of the engine under test."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'wallet.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return _fresh_database(cluster)


@pytest.fixture
def programs() -> list[Any]:
    """Every program version the store tests use."""
    return all_programs()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("walletvoucher store: concurrency figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
