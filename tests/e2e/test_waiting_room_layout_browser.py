"""The waiting room's layout in Debian's Chromium with a fake camera, from a 360px phone
to a 1920px screen: at the top the heading, the calm sentence, the connection state and
the advisor's message; below it (beside it on wide screens) the self-view and both device
selects — all of it on the first screen, nothing wider than the screen, no axe-core
violation. One page, resized; a screenshot per size goes to $VIDEOTERMIN_SCREENSHOTS
(or the test's tmp folder) for a person to look at."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from call_pages import CLARA, START, appointment_with, axe_violations, browser, waiting
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.services import waiting_message
from videotermin.settings import Settings
from videotermin.store.models import Appointment, StaffUser

__all__ = ["browser"]  # the fixture, launched with the fake camera and microphone

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

SIZES = [(360, 740), (390, 844), (740, 360), (768, 1024), (1280, 720), (1920, 1080)]
WIDE = 1280
CALM_EN = "Your advisor will come and get you shortly."
MESSAGE = (
    "Guten Tag, ich bin noch in einem anderen Gespräch und komme etwa 5 Minuten später. "
    "Bitte bleiben Sie im Warteraum, ich hole Sie dann ab."
)
LONGEST = ("Bitte halten Sie Ihren Bescheid vom März bereit. " * 11)[: waiting_message.MAX_LENGTH]

# Each part's box in CSS pixels, the page's width against the window's.
BOXES = """(selectors) => {
  const boxes = {};
  for (const [name, selector] of Object.entries(selectors)) {
    const r = document.querySelector(selector).getBoundingClientRect();
    boxes[name] = {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
  }
  const message = document.querySelector('.advisor-message');
  return {boxes, scrollWidth: document.documentElement.scrollWidth,
          messageScrolls: message.scrollHeight > message.clientHeight,
          innerWidth: window.innerWidth, innerHeight: window.innerHeight, scrollY: window.scrollY};
}"""
PARTS = {
    "heading": "#waiting-view h1",
    "calm": ".waiting-calm",
    "state": "#connection-state",
    "message": ".advisor-message",
    "message_text": ".advisor-message__text",
    "video": "#self-view",
    "camera": "#camera",
    "microphone": "#microphone",
}


def shots() -> Path | None:
    folder = os.environ.get("VIDEOTERMIN_SCREENSHOTS")
    return Path(folder) if folder else None


async def set_message(db: async_sessionmaker[AsyncSession], appointment_id: str, text: str) -> None:
    async with db() as session, session.begin():
        appointment = await session.get_one(Appointment, appointment_id)
        appointment.waiting_message = text
        appointment.waiting_message_at = START - timedelta(minutes=3)


async def check_sizes(page: Page, folder: Path, label: str, *, whole_text: bool) -> list[str]:
    """Every size: the parts inside the window, the message above the picture (beside it on
    a wide screen), no sideways scrolling, no axe-core violation; a screenshot each.
    Returns what is wrong; the figures per size go to the test's output."""
    wrong = []
    for width, height in SIZES:
        size = f"{label} {width}x{height}"
        await page.set_viewport_size({"width": width, "height": height})
        await page.evaluate("window.scrollTo(0, 0)")
        found = await page.evaluate(BOXES, PARTS)
        boxes = found["boxes"]
        await page.screenshot(path=folder / f"waiting-room-{label}-{width}x{height}.png")
        print(size, {name: f"{box['top']:.0f}-{box['bottom']:.0f}" for name, box in boxes.items()})
        if found["scrollWidth"] > found["innerWidth"]:
            wrong.append(f"{size}: {found['scrollWidth']}px wide, scrolls sideways")
        for name, box in boxes.items():
            if name == "message_text" and not whole_text:
                continue
            if box["top"] < 0 or box["left"] < 0 or box["bottom"] > height or box["right"] > width:
                wrong.append(f"{size}: {name} not inside the window: {box}")
        if whole_text and found["messageScrolls"]:
            wrong.append(f"{size}: the message does not fit its box")
        message, video = boxes["message"], boxes["video"]
        if width >= WIDE and message["right"] > video["left"]:
            wrong.append(f"{size}: the message is not beside the picture")
        if width < WIDE and min(width, height) < 500 and width > height:
            pass  # a phone turned sideways: beside or above, both fit
        elif width < WIDE and message["bottom"] > video["top"]:
            wrong.append(f"{size}: the message is not above the picture")
        if violations := await axe_violations(page):
            wrong.append(f"{size}: axe-core: {violations}")
    return wrong


async def test_the_waiting_room_fits_the_first_screen(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    folder = shots() or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    appointment_id, [(_, token)] = await appointment_with(db, settings, clock, [CLARA])
    await set_message(db, appointment_id, MESSAGE)
    clock.set(START - timedelta(minutes=2))
    room, errors = await waiting(browser, live_server, token, 360)
    await room.wait_for_function(
        "() => { const v = document.getElementById('self-view');"
        " return v.videoWidth > 0 && !v.paused && v.currentTime > 0; }"
    )
    await room.locator("#camera option").first.wait_for(state="attached")
    assert await room.locator(".advisor-message__text").text_content() == MESSAGE

    wrong = await check_sizes(room, folder, "message", whole_text=True)

    await set_message(db, appointment_id, LONGEST)
    await room.reload()
    await room.locator("#camera option").first.wait_for(state="attached")
    wrong += await check_sizes(room, folder, "longest", whole_text=False)

    await room.goto(f"{live_server.url}/v/{token}/warteraum?lang=en")
    await room.locator("#camera option").first.wait_for(state="attached")
    assert await room.locator(".waiting-calm").text_content() == CALM_EN
    wrong += await check_sizes(room, folder, "longest-en", whole_text=False)

    assert wrong == []

    assert errors == [], "no script errors, no CSP refusals"
