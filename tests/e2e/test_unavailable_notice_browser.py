"""What the call pages say while the database cannot be reached, in Debian's Chromium.

The app runs on a PostgreSQL of the test's own (``tests/private_postgres.py``), which the
test stops mid-call: the server then answers a message that needs the database with
``error`` ``unavailable``, and turns a new connection away with ``error`` ``unavailable``
and a close with 1013 (docs/signaling.md). Each page says so in its own words, not with
a generic "that did not work": the advisor's "end for everyone" did not work, the call
goes on, try again in a moment; Clara's (English) call and Ivo's waiting room, whose
signaling lines dropped, are asked to stay on the page, which reconnects by itself — and
it does, as soon as PostgreSQL is back, into the same call.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from call_pages import (
    CLARA,
    IVO,
    LINE_CUTTER,
    START,
    advisor_call_page,
    appointment_with,
    browser,  # noqa: F401 - the Chromium fixture with fake devices (CALL_ARGS)
    open_page,
    sees_video_and_hears,
)
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from private_postgres import PrivatePostgres
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.db import create_engine
from videotermin.store.migrate import upgrade
from videotermin.store.models import StaffUser

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

ACTION_REFUSED = (
    "Der Dienst ist gerade kurz nicht erreichbar, deshalb hat das nicht geklappt. Das "
    "Gespräch selbst läuft weiter. Bitte versuchen Sie es in einem Moment noch einmal."
)
CALL_WAITS = (
    "The service is briefly unavailable. Please stay on this page – as soon as the service "
    "is back, it reconnects by itself and you are back in the call."
)
ROOM_WAITS = (
    "Der Dienst ist gerade kurz nicht erreichbar. Bitte bleiben Sie auf dieser Seite – sie "
    "verbindet sich von selbst wieder, sobald der Dienst zurück ist."
)
GENERIC = "Das hat nicht geklappt"


@pytest.fixture
async def db_url(private_postgres: PrivatePostgres) -> str:
    """The app, the test's arrangements and the advisor all on the private PostgreSQL."""
    engine = create_engine(private_postgres.url)
    try:
        await upgrade(engine, "Europe/Berlin")
    finally:
        await engine.dispose()
    return private_postgres.url


async def room(
    browser: Browser,  # noqa: F811 - a helper taking the fixture
    live_server: LiveServer,
    token: str,
    lang: str,
    connected: str,
) -> tuple[Page, list[str]]:
    """A waiting room whose signaling line the test can cut (``LINE_CUTTER``)."""
    page, errors = await open_page(browser, 1024, LINE_CUTTER)
    await page.goto(f"{live_server.url}/v/{token}/warteraum?lang={lang}")
    await expect(page.locator("#connection-state")).to_have_text(connected)
    return page, errors


async def test_each_call_page_says_that_the_service_is_briefly_unavailable(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    private_postgres: PrivatePostgres,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    appointment_id, [(clara_id, clara_token), (_, ivo_token)] = await appointment_with(
        db, settings, clock, [CLARA, IVO]
    )
    clock.set(START - timedelta(minutes=2))
    clara, clara_errors = await room(
        browser, live_server, clara_token, "en", "Connected. You are in the waiting room."
    )
    ivo, ivo_errors = await room(
        browser, live_server, ivo_token, "de", "Verbunden. Sie sind im Warteraum."
    )
    desk, desk_errors = await advisor_call_page(browser, live_server, appointment_id)
    await desk.locator(f'[data-participant-id="{clara_id}"] .call-waiting__admit').click()
    await expect(clara.locator("#call .call-status")).to_have_text("You are in the call.")
    await sees_video_and_hears(desk, "Clara Kundin")

    await asyncio.to_thread(private_postgres.stop)

    # The advisor's "end for everyone" needs the database: refused, the call goes on.
    await desk.get_by_role("button", name="Gespräch für alle beenden").click()
    await desk.get_by_role("button", name="Ja, für alle beenden").click()
    notice = desk.locator("#call-notice")
    await expect(notice).to_have_text(ACTION_REFUSED)
    await expect(notice).to_be_visible()
    await expect(notice).not_to_contain_text(GENERIC)
    await expect(desk.locator("#call .call-status")).to_have_text("Sie sind im Gespräch.")
    await sees_video_and_hears(desk, "Clara Kundin")

    # Clara's and Ivo's lines drop; coming back, they are turned away (1013) and wait.
    await clara.evaluate("() => window.__cutLine(0)")
    await ivo.evaluate("() => window.__cutLine(0)")
    await expect(clara.locator("#call .call-status")).to_have_text(CALL_WAITS)
    await expect(ivo.locator("#connection-state")).to_have_text(ROOM_WAITS)

    # PostgreSQL is back: both pages reconnect by themselves, nobody reloads.
    await asyncio.to_thread(private_postgres.start)
    await expect(clara.locator("#call .call-status")).to_have_text(
        "You are in the call.", timeout=40_000
    )
    await expect(ivo.locator("#connection-state")).to_have_text(
        "Verbunden. Sie sind im Warteraum.", timeout=40_000
    )
    assert clara_errors == [] and ivo_errors == [] and desk_errors == []
