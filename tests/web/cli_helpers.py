"""The ``videotermin`` command as the tests run it: a real process of this venv, on the
test database, with its data directory in the test's own temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

VIDEOTERMIN = str(Path(sys.executable).parent / "videotermin")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VIDEOTERMIN, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"VIDEOTERMIN_DATABASE_URL": db_url, "VIDEOTERMIN_DATA_DIR": str(tmp_path / "var")}
