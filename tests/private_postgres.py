"""A PostgreSQL server of the test's own (Debian's binaries, a fresh cluster in a temporary
folder, a free port), so a test can stop and start it without touching the shared server
the other tests use. PostgreSQL refuses to run as root: as root, it runs as ``postgres``."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import free_port, skip_or_fail
from videotermin.store.db import create_engine

INITDB_OPTIONS = ("-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """Made stopped; :meth:`start`, :meth:`stop`, and :meth:`remove` at the end."""

    def __init__(self) -> None:
        binaries = _binaries()
        if binaries is None:
            skip_or_fail("PostgreSQL's server binaries (pg_ctl, initdb) are not installed")
        assert binaries is not None
        self.bin = binaries
        # Not under pytest's tmp_path: its folders are the owner's only, and the server
        # runs as another user.
        self.folder = Path(tempfile.mkdtemp(prefix="vt-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(
            [*self.as_user, str(self.bin / "initdb"), "-D", str(self.data), *INITDB_OPTIONS],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("start", "-w", "-t", "30", "-o", options, "-l", str(self.folder / "log"))

    def stop(self) -> None:
        self._ctl("stop", "-w", "-t", "30", "-m", "fast")

    def remove(self) -> None:
        subprocess.run(
            [
                *self.as_user,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "stop",
                "-m",
                "immediate",
            ],
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)

    def _ctl(self, *arguments: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), *arguments],
            check=True,
            capture_output=True,
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL, started; removed after the test."""
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


async def until_accepting(server: PrivatePostgres) -> None:
    """Wait until the restarted PostgreSQL takes connections (the test's own engine)."""
    engine = create_engine(server.url)
    try:
        for _ in range(100):
            try:
                async with engine.connect():
                    return
            except OSError:
                await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
