"""A PostgreSQL cluster of a test's own, made with Debian's ``initdb`` and ``pg_ctl`` on a free
port, so the test can stop and start it without touching the machine's server.

PostgreSQL refuses to run as root: as root the cluster belongs to the ``postgres`` user and
its commands run through ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.harness import free_port


def _bin_dir() -> Path:
    """The newest installed server's programs."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major)
    if not found:
        pytest.fail("initdb is missing: install the postgresql package")
    return Path(found[-1]).parent


def _major(initdb: str) -> int:
    return int(Path(initdb).parts[-3])


@dataclass
class ThrowawayCluster:
    """A cluster in ``directory`` listening on 127.0.0.1:``port``."""

    directory: Path
    port: int
    programs: Path

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        command = [str(self.programs / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr

    def create(self) -> None:
        self._run(
            "initdb", "-D", str(self.directory / "data"), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", "-D", str(self.directory / "data"), "-o", options,
            "-l", str(self.directory / "server.log"), "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``immediate`` is a crash (the restart replays the WAL)."""
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", mode, "-w", "stop")


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    """A started cluster, stopped and removed afterwards."""
    # Not pytest's tmp_path: the postgres user cannot enter root's private directories.
    directory = Path(tempfile.mkdtemp(prefix="pikir-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = ThrowawayCluster(directory, free_port(), _bin_dir())
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(AssertionError):  # already stopped
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)
