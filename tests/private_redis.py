"""A Redis server of the test's own (``redis-server`` on a free port, nothing saved to disk),
so a test can stop and start it without touching the shared Redis the other tests use."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from redis import Redis
from redis.exceptions import RedisError

from conftest import free_port, skip_or_fail

REDIS_SERVER = "redis-server"
START_SECONDS = 10.0


class PrivateRedis:
    """Made stopped; :meth:`start` and :meth:`stop` as often as a test likes (same port)."""

    def __init__(self) -> None:
        if shutil.which(REDIS_SERVER) is None:
            skip_or_fail(f"{REDIS_SERVER} is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_SECONDS
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {self.port} did not start")
            time.sleep(0.05)

    def answers(self) -> bool:
        client = Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except (RedisError, OSError):
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM, as systemd stops it; every client connection is cut."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private Redis, running when the test starts (which may stop and start it) and
    gone afterwards (registered for every test by conftest's ``pytest_plugins``)."""
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
