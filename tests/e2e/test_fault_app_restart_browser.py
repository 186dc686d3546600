"""The app process restarted mid-call, in Debian's Chromium.

One ``videotermin serve`` process on PostgreSQL (``tests/app_processes.py``'s environment,
without Redis: the process is all there is). Clara and the advisor are in the call, each in
a browser of their own, when the process is stopped as systemd restarts it (SIGTERM). While
nothing answers on its port, both pages say that the connection is interrupted — and the
call goes on: the media runs between the browsers, not through the server, so each page's
own peer connections keep decoding the other's video frames and receiving their sound.
The process starts again on the same port; both pages reconnect by themselves and are in
the same call again (nobody admitted anyone anew, nobody shows twice), and see and hear
each other.

The process runs on the real clock, so the appointment starts two minutes from now.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from call_pages import (
    browser,  # noqa: F401 - the Chromium fixture with fake devices (CALL_ARGS)
    grows,
    sees_video_and_hears,
    tile,
)
from deployment_pages import advisor_admits, book_now, open_page
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app_processes import START_SECONDS, VIDEOTERMIN, app_environment
from conftest import free_port, skip_or_fail
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True),
]

IN_CALL = "Sie sind im Gespräch."
INTERRUPTED = "Die Verbindung ist unterbrochen. Wir verbinden Sie wieder …"


class RestartedApp:
    """One ``videotermin serve`` process that can be stopped and started on its port."""

    def __init__(self, db_url: str, folder: Path) -> None:
        if not VIDEOTERMIN.exists():
            skip_or_fail(f"{VIDEOTERMIN} is missing (pip install -e .)")
        self.port = free_port()
        env = app_environment(db_url, self.url, folder / "var")
        del env["VIDEOTERMIN_REDIS_URL"], env["VIDEOTERMIN_REDIS_CHANNEL_PREFIX"]
        self.env = env
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = self.folder / f"app-{self.starts}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(VIDEOTERMIN), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the app did not get ready:\n{log.read_text(errors='replace')}")

    def stop(self) -> None:
        """SIGTERM, as systemd stops (and restarts) the service."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def down(self) -> bool:
        return self.process is not None and self.process.poll() is not None


@pytest.fixture
def app(db_url: str, advisor: StaffUser, tmp_path: Path) -> Iterator[RestartedApp]:
    """The app on its own port; the advisor "berater" exists."""
    app = RestartedApp(db_url, tmp_path)
    app.start()
    try:
        yield app
    finally:
        app.stop()


REFUSED = re.compile(
    r"^WebSocket connection to 'ws://[^']+/ws/[^']+' failed: .*net::ERR_CONNECTION_REFUSED$"
)


def unexpected(errors: list[str]) -> list[str]:
    return [error for error in errors if not REFUSED.match(error)]


async def keeps_decoding(page: Page) -> None:
    """The page's own peer connections decode more video frames and receive more sound."""
    await grows(page, "video", "framesDecoded")
    await grows(page, "audio", "packetsReceived")


async def test_the_call_survives_a_restart_of_the_app_process(
    app: RestartedApp,
    browser: Browser,  # noqa: F811 - the imported fixture
    db: async_sessionmaker[AsyncSession],
    db_url: str,
) -> None:
    appointment_id, token = await book_now(db, app.url, db_url, agreed=True)
    room, room_errors = await open_page(browser, 1024)
    await room.goto(f"{app.url}/v/{token}/warteraum")
    await expect(room.locator("#connection-state")).to_have_text(
        "Verbunden. Sie sind im Warteraum."
    )
    desk, desk_errors = await advisor_admits(browser, app.url, appointment_id)
    await sees_video_and_hears(room, "Bea Berater")
    await sees_video_and_hears(desk, "Clara Kundin")

    await asyncio.to_thread(app.stop)
    assert app.down
    for page in (room, desk):
        await expect(page.locator("#call .call-status")).to_have_text(INTERRUPTED)
    # Nothing answers on the port, and still both browsers decode each other's media.
    await keeps_decoding(room)
    await keeps_decoding(desk)
    assert app.down, "measured while the process was gone"
    await expect(tile(desk, "Clara Kundin").locator("video")).to_be_visible()
    await expect(tile(room, "Bea Berater").locator("video")).to_be_visible()

    await asyncio.to_thread(app.start)
    # Both pages come back by themselves, into the same call: nobody admitted anyone.
    for page, other in ((room, "Bea Berater"), (desk, "Clara Kundin")):
        await expect(page.locator("#call .call-status")).to_have_text(IN_CALL, timeout=40_000)
        their = tile(page, other)
        await expect(their).to_have_count(1)
        await expect(their).to_have_attribute("data-reconnecting", "false", timeout=20_000)
    await expect(desk.locator("#waiting-summary")).to_have_text("Niemand wartet gerade.")
    await sees_video_and_hears(desk, "Clara Kundin")
    await sees_video_and_hears(room, "Bea Berater")
    # The browser itself logs each refused reconnect while the port is closed; nothing else.
    assert unexpected(room_errors) == [] and unexpected(desk_errors) == []
    await room.context.close()
    await desk.context.close()
