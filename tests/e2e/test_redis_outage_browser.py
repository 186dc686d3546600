"""What is said during a Redis outage mid-call is not lost, in Debian's Chromium.

The app's bus is a Redis of the test's own (``tests/private_redis.py``), which the
tests stop mid-call while the media keeps flowing peer to peer.

- A chat line Clara sends then cannot reach anyone, and the server refuses it with
  ``error`` ``unavailable`` (``ref`` ``chat``). Her page must give it back — the line
  returns to the text field with a notice instead of vanishing. Once Redis is back,
  sending it again brings it to the advisor, exactly once (a try lost while the bus's
  subscribers reconnect comes back to the field after a few seconds, too).
- A screen the advisor shares then needs an offer the server cannot pass on. Her page
  sends an unanswered offer again, so once Redis is back Clara sees the screen without
  anyone doing anything — and the picture of the camera never stopped meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from call_pages import (  # noqa: F401
    browser,
    clara_admitted,
    received_video,
    sees_video_and_hears,
    tile,
)
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import channel_prefix

from conftest import LiveServer, start_server
from private_redis import PrivateRedis
from videotermin.bus.redis_bus import RedisBus
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

FIRST = "Guten Tag, ich bin da."
SECOND = "Können Sie meine Unterlagen sehen?"
FAILED = "Die Nachricht konnte gerade nicht gesendet werden."


@pytest.fixture
def live_server(
    settings: Settings, clock: FakeClock, private_redis: PrivateRedis
) -> Iterator[LiveServer]:
    """The app with its bus on the private Redis."""
    on_redis = settings.model_copy(update={"redis_url": private_redis.url})
    server = start_server(
        on_redis, clock, RedisBus(private_redis.url, channel_prefix=channel_prefix())
    )
    try:
        yield server
    finally:
        server.stop()


async def test_a_line_refused_while_redis_is_down_goes_back_into_the_field(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    private_redis: PrivateRedis,
) -> None:
    admitted = await clara_admitted(browser, live_server, db, settings, clock)
    room, desk = admitted.room, admitted.desk
    await sees_video_and_hears(room, "Bea Berater")
    await room.get_by_role("button", name="Chat").click()
    field = room.get_by_label("Ihre Nachricht")
    problem = room.locator(".call-chat__problem")
    at_advisor = desk.locator(".call-chat__line")

    await field.fill(FIRST)
    await field.press("Enter")
    await expect(at_advisor.filter(has_text=FIRST)).to_have_count(1)
    await expect(field).to_have_value("")

    await asyncio.to_thread(private_redis.stop)
    await field.fill(SECOND)
    await room.get_by_role("button", name="Senden").click()
    await expect(problem).to_contain_text(FAILED)
    await expect(field).to_have_value(SECOND)

    await asyncio.to_thread(private_redis.start)
    # The bus reconnects by itself. Until it has, a try is refused, or lost between
    # Redis and the subscribers, and the page gives the line back again each time.
    for _ in range(60):
        if await field.input_value() == SECOND:
            await room.get_by_role("button", name="Senden").click()
        try:
            await expect(at_advisor.filter(has_text=SECOND)).to_have_count(1, timeout=1_000)
            break
        except AssertionError:
            continue
    await expect(field).to_have_value("")
    await expect(problem).to_be_hidden()
    await expect(at_advisor.filter(has_text=SECOND)).to_have_count(1)
    await expect(room.locator(".call-chat__line").filter(has_text=SECOND)).to_have_count(1)
    assert admitted.room_errors == [] and admitted.desk_errors == []


async def test_a_screen_shared_while_redis_is_down_reaches_the_citizen_once_it_is_back(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    private_redis: PrivateRedis,
) -> None:
    admitted = await clara_admitted(browser, live_server, db, settings, clock)
    room, desk = admitted.room, admitted.desk
    await sees_video_and_hears(room, "Bea Berater")
    screen = tile(room, "Bildschirm von Bea Berater")

    await asyncio.to_thread(private_redis.stop)
    share = desk.get_by_role("button", name="Bildschirm teilen")
    await share.click()
    await expect(share).to_have_attribute("aria-pressed", "true")
    await asyncio.sleep(3)  # the offer for the screen is dropped meanwhile
    await expect(screen).to_have_count(0)
    await sees_video_and_hears(room, "Bea Berater")  # the camera's picture goes on

    await asyncio.to_thread(private_redis.start)
    await expect(screen).to_be_visible(timeout=20_000)
    await received_video(room, screen.locator("video"))
    await share.click()  # and negotiation goes on as before
    await expect(screen).to_have_count(0)
    await sees_video_and_hears(room, "Bea Berater")
    assert admitted.room_errors == [] and admitted.desk_errors == []
