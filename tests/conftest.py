"""Fixtures shared by the store and service tests: one real PostgreSQL server per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.store._pg import PostgresCluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One PostgreSQL 18 server for the session, on 127.0.0.1, in a temporary directory."""
    cluster = PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.stop()
