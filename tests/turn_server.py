"""A real coturn for tests: ``turnserver`` on free loopback ports with a random shared secret.

Relay-only calls must be proven through the TURN server production uses, with the
TURN REST credentials the app hands out — not through a mock. Each test gets its
own server (own listening port, own relay port range, own secret), so tests never
share allocations. The flags are those verified in RECIPES: loopback peers are
allowed because browser and peer both live on this machine.

coturn listens on this machine's own network address, not on 127.0.0.1: Firefox
does not use a TURN server on a loopback address (its ICE agent reports error 701,
unreachable), and a real TURN server is never on loopback either. Only a machine
without any route falls back to 127.0.0.1 (Chromium relays through it, Firefox not).

coturn judges a TURN REST username by its expiry against its own clock. The app under
test hands out expiries on the test's fake timeline (days away from the real date, in
either direction), so coturn runs with libfaketime preloaded, its clock started
at the fake clock's time and running on from there, as a TURN server beside a real app
would. Without that the relay tests would pass or fail by the calendar.

Use the ``turn_server`` fixture (tests/conftest.py) and :func:`relay_settings` to
point the app at it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from videotermin.settings import Settings

TURNSERVER = "turnserver"
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
"""libfaketime for a threaded program, preloaded into coturn itself (the ``faketime``
command would fork, and a test that pauses coturn must signal coturn's own pid)."""
REALM = "videotermin.test"
# Relay ports per server; a call needs one per allocation (one per browser peer connection).
RELAY_PORTS = 64
START_SECONDS = 10


@dataclass(frozen=True)
class TurnServer:
    """A running coturn: where it listens and the secret it shares with the app."""

    host: str
    port: int
    secret: str
    min_port: int
    max_port: int
    pid: int = 0
    """The turnserver process (a test may pause it to cut every relayed path)."""

    @property
    def url(self) -> str:
        return f"turn:{self.host}:{self.port}?transport=udp"

    def relays(self, address: str, port: int) -> bool:
        """Whether ``address:port`` is one of this server's relay addresses."""
        return address == self.host and self.min_port <= port <= self.max_port


def relay_settings(settings: Settings, turn: TurnServer, *, secret: str | None = None) -> Settings:
    """``settings`` with TURN pointing at ``turn`` and every browser forced to relay.

    ``secret`` replaces the app's copy of the shared secret (a wrong one proves
    that coturn checks the credentials).
    """
    return settings.model_copy(
        update={
            "turn_urls": [turn.url],
            "turn_secret": secret or turn.secret,
            "ice_transport_policy": "relay",
        }
    )


def turnserver_available() -> bool:
    return shutil.which(TURNSERVER) is not None and os.path.exists(LIBFAKETIME)


def own_address() -> str:
    """This machine's IPv4 address on its default route (no packet is sent), else loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only the route lookup happens
        except OSError:
            return "127.0.0.1"
        return str(probe.getsockname()[0])


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _free_udp_range(host: str, size: int) -> int:
    """The first port of ``size`` consecutive UDP ports that are free right now."""
    for _ in range(50):
        first = random.randrange(20000, 60000 - size)
        probes: list[socket.socket] = []
        try:
            for port in range(first, first + size):
                probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                probes.append(probe)
                probe.bind((host, port))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        return first
    raise RuntimeError(f"no {size} consecutive free UDP ports found")


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


@contextlib.contextmanager
def running_turn_server(now: datetime) -> Iterator[TurnServer]:
    """Start coturn with its clock at ``now`` (the test's fake time), wait until it accepts
    connections, stop it (and its files) afterwards."""
    host = own_address()
    first = _free_udp_range(host, RELAY_PORTS)
    turn = TurnServer(
        host=host,
        port=_free_port(host),
        secret=secrets.token_urlsafe(24),
        min_port=first,
        max_port=first + RELAY_PORTS - 1,
    )
    with tempfile.TemporaryDirectory(prefix="coturn-") as workdir:
        log = Path(workdir) / "turnserver.out"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [
                    TURNSERVER,
                    "-n",  # no config file: the system's /etc/turnserver.conf must not count
                    "--use-auth-secret",
                    f"--static-auth-secret={turn.secret}",
                    f"--realm={REALM}",
                    f"--listening-ip={host}",
                    f"--relay-ip={host}",
                    f"--listening-port={turn.port}",
                    f"--min-port={turn.min_port}",
                    f"--max-port={turn.max_port}",
                    "--allow-loopback-peers",
                    "--no-cli",
                    "--no-tls",
                    "--no-dtls",
                    "--log-file=stdout",
                    "--simple-log",
                    # its own files, not the system's (/var/run, /var/lib/turn)
                    f"--pidfile={workdir}/turnserver.pid",
                    f"--db={workdir}/turndb",
                ],
                env={
                    **os.environ,
                    "LD_PRELOAD": LIBFAKETIME,
                    "FAKETIME": "@" + now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    "TZ": "UTC",
                },
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + START_SECONDS
            while not _listening(host, turn.port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"turnserver did not start (exit {process.poll()}): "
                        + log.read_text(errors="replace")[-2000:]
                    )
                time.sleep(0.05)
            yield dataclasses.replace(turn, pid=process.pid)
        finally:
            process.send_signal(signal.SIGCONT)  # in case a test left it paused
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
