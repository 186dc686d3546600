"""The speed test on emulated lines (Chromium's ``Network.emulateNetworkConditions``).

The speed test answers "does this line carry a call", not "how fast is it": a fast line
proves twice the rate a call needs and stops there, well within the server's budget for
each direction, and is judged good; a line of 300 kbit/s is judged too slow for a video
appointment, as before the speed test learned to stop early. (Chromium's emulation
throttles HTTP, not WebRTC, so it is the speed test's figures that tell the slow line.)
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from chromium import ARGS, FAKE_MEDIA, launch_chromium
from device_check_pages import agreed_participant
from playwright.async_api import Page, Request, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.domain.quality import LIMITS, Item
from videotermin.settings import Settings
from videotermin.store.models import DeviceCheck, StaffUser
from videotermin.web.citizen.speed_test import MAX_SPEED_BYTES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


def line(down_kbps: int, up_kbps: int, latency_ms: int) -> dict[str, Any]:
    return {
        "offline": False,
        "latency": latency_ms,
        "downloadThroughput": down_kbps * 1000 / 8,
        "uploadThroughput": up_kbps * 1000 / 8,
    }


class SpeedTraffic:
    """The speed test's transfers as the page asked for them: bytes down, bytes up."""

    def __init__(self, page: Page) -> None:
        self.down: list[int] = []
        self.up: list[int] = []
        page.on("request", self.seen)

    def seen(self, request: Request) -> None:
        path = urlsplit(request.url).path
        if path == "/check/speed/down":
            self.down.append(int(parse_qs(urlsplit(request.url).query)["bytes"][0]))
        elif path == "/check/speed/up":
            self.up.append(len(request.post_data_buffer or b""))


async def check_on_line(
    live_server: LiveServer, token: str, conditions: dict[str, Any]
) -> tuple[SpeedTraffic, str]:
    """Run the personal check on the emulated line; its traffic and the verdict shown."""
    async with launch_chromium([*ARGS, *FAKE_MEDIA]) as browser:
        context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="de-DE")
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.emulateNetworkConditions", conditions)
        traffic = SpeedTraffic(page)
        await page.goto(f"{live_server.url}/v/{token}/geraete")
        await page.get_by_role("button", name="Ich höre den Ton").click(timeout=30_000)
        verdict = page.get_by_role("heading", level=2, name=re.compile(r"^Ergebnis: "))
        await expect(verdict).to_be_visible(timeout=60_000)
        return traffic, await verdict.inner_text()


async def stored_check(db: async_sessionmaker[AsyncSession]) -> tuple[DeviceCheck, dict[str, str]]:
    async with db() as session:
        [check] = list(await session.scalars(select(DeviceCheck)))
    grades = {f["item"]: f["grade"] for f in json.loads(check.findings or "[]")}
    return check, grades


async def test_a_fast_line_proves_the_call_rate_within_the_budget(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_participant(db, settings, clock)

    traffic, _ = await check_on_line(live_server, token, line(50_000, 50_000, 10))

    check, grades = await stored_check(db)
    assert (grades["upload"], grades["download"]) == ("green", "green")
    proven = 2 * LIMITS[Item.UPLOAD].green
    assert check.upload_kbps and check.upload_kbps >= proven
    assert check.download_kbps and check.download_kbps >= proven
    assert traffic.down and traffic.up
    assert sum(traffic.down) < MAX_SPEED_BYTES, "stopped once proven, before the budget"
    assert sum(traffic.up) < MAX_SPEED_BYTES, "stopped once proven, before the budget"


async def test_a_slow_line_is_judged_too_slow(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_participant(db, settings, clock)

    traffic, shown = await check_on_line(live_server, token, line(300, 300, 100))

    check, grades = await stored_check(db)
    assert (grades["upload"], grades["download"]) == ("red", "red")
    assert check.verdict == "red"
    assert shown.startswith("Ergebnis: rot")
    assert check.upload_kbps is not None and check.upload_kbps < LIMITS[Item.UPLOAD].red
    assert check.download_kbps is not None and check.download_kbps < LIMITS[Item.DOWNLOAD].red
    assert sum(traffic.down) <= MAX_SPEED_BYTES and sum(traffic.up) <= MAX_SPEED_BYTES
