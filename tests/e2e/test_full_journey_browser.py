"""The citizen's whole journey in Debian's Chromium with fake devices, and the clicks it takes.

One journey crosses every part: the personal link, consent, the browser's permission
(explained on the check page, granted by ``--use-fake-ui-for-media-stream``), the device
check with its test call up to a verdict, the wait for the join window, the waiting room,
and the advisor — logged in in a second browser context — who sees the citizen waiting
without a reload and sends a message the citizen reads without a reload.

Two more journeys prove the promised click counts by making exactly those clicks and no
others (the link is opened once, everything else follows from the clicks or from the pages
themselves): a first visit inside the window reaches the waiting room in three clicks
(consent, "Ich höre den Ton", "Beratungsraum betreten"), a returning visit on a device
whose check passed in one. The browser's own permission prompt is not a click of ours.

The server's clock is the test's FakeClock. Where a page waits for the window by itself,
Playwright's ``page.clock`` lets the device's time pass as far as the server's clock was
moved, from a device clock that is wrong on purpose: the pages must count from the
server's time, not the device's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from chromium import new_page
from journey_pages import (
    OPENS_AT,
    Clicks,
    agree,
    book,
    browser,
    check_devices,
    in_the_waiting_room,
    phone,
)
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD, LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

WRONG_DEVICE_TIME = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
MESSAGE = "Ich bin gleich bei Ihnen. Bitte bleiben Sie im Warteraum."

__all__ = ["browser"]  # the fixture: fake camera, microphone and permission prompt

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


async def citizen_phone(browser: Browser) -> tuple[BrowserContext, Page, list[str]]:
    """A phone whose clock runs from a date years off; the test can move it on."""
    context, page, errors = await phone(browser)
    await page.clock.install(time=WRONG_DEVICE_TIME)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


async def advisor_desk(browser: Browser, live_server: LiveServer) -> tuple[Page, list[str]]:
    """The advisor's own browser context, logged in on "Meine Termine" with the live list."""
    desk, errors = await new_page(browser, 1024)
    await desk.goto(f"{live_server.url}/login")
    await desk.get_by_label("Benutzername").fill("berater")
    await desk.get_by_label("Passwort").fill(PASSWORD)
    await desk.get_by_role("button", name="Anmelden").click()
    await expect(desk).to_have_url(re.compile(r"/termine$"))
    await expect(desk.locator("#live-state")).to_have_text("Live-Anzeige: aktiv")
    return desk, errors


async def test_the_whole_journey_from_the_link_to_the_advisors_message(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment, participant, token = await book(db, settings, clock, "Clara Kundin")
    clock.set(OPENS_AT - timedelta(minutes=2))
    desk, desk_errors = await advisor_desk(browser, live_server)
    row = desk.locator(f'[data-participant-id="{participant}"]')
    await expect(row).to_contain_text("Gerätetest: noch nicht gemacht")
    await desk.evaluate("window.stayedOnThisPage = true")

    _context, page, errors = await citizen_phone(browser)
    clicks = Clicks()
    await page.goto(f"{live_server.url}/v/{token}")
    await agree(page, clicks)
    await expect(row).to_contain_text("Einwilligung: zugestimmt")
    await check_devices(page, clicks)
    await expect(row).to_contain_text(re.compile(r"Gerätetest: (grün|gelb)"))

    # Before the window the room is announced, not open.
    later = page.locator("#check-enter-later")
    await expect(later.get_by_role("button", name="Beratungsraum betreten")).to_be_disabled()
    await expect(later).to_contain_text("ab 09:55")
    enter = page.get_by_role("link", name="Beratungsraum betreten")
    await expect(enter).to_be_hidden()
    # The window opens on the server; the device's time passes as much, and the page
    # opens the room by itself.
    clock.set(OPENS_AT)
    await page.clock.run_for(2 * 60_000)
    await expect(enter).to_be_visible()
    await expect(later).to_be_hidden()
    await clicks.click(enter, "Beratungsraum betreten")

    await in_the_waiting_room(page)
    await expect(page.locator("#advisor-message")).to_contain_text("Noch keine Nachricht.")
    await page.evaluate("window.stayedOnThisPage = true")
    await expect(row).to_contain_text("wartet seit 09:55 Uhr")
    await expect(desk.get_by_role("alert")).to_contain_text(
        "Clara Kundin (Kundin/Kunde) wartet im Warteraum – Termin um 10:00 Uhr."
    )
    assert await desk.evaluate("window.stayedOnThisPage === true"), "the list updated live"

    # The message form is a plain form: the advisor's page loads anew, the citizen's not.
    await desk.get_by_text("Nachricht an den Warteraum", exact=True).first.click()
    await desk.get_by_label("Nachricht an den Warteraum").fill(MESSAGE)
    await desk.get_by_role("button", name="Nachricht senden").click()
    await expect(desk.get_by_role("status").first).to_contain_text(
        "Die Nachricht ist jetzt im Warteraum zu sehen."
    )
    await expect(page.locator("#advisor-message")).to_contain_text(MESSAGE)
    await expect(page.locator("#advisor-message")).to_contain_text("Gesendet um 09:55 Uhr")

    assert await page.evaluate("window.stayedOnThisPage === true"), "the citizen did not reload"
    assert clicks.made == ["Ich stimme zu", "Ich höre den Ton", "Beratungsraum betreten"]
    assert errors == [] and desk_errors == [], "no script errors, no CSP refusals"


async def test_a_first_visit_inside_the_window_takes_three_clicks(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment, _participant, token = await book(db, settings, clock, "Erik Erstbesuch")
    clock.set(OPENS_AT + timedelta(minutes=1))
    _context, page, errors = await citizen_phone(browser)
    clicks = Clicks()

    await page.goto(f"{live_server.url}/v/{token}")
    await agree(page, clicks)
    await check_devices(page, clicks)
    await clicks.click(
        page.get_by_role("link", name="Beratungsraum betreten"), "Beratungsraum betreten"
    )

    await in_the_waiting_room(page)
    assert clicks.made == ["Ich stimme zu", "Ich höre den Ton", "Beratungsraum betreten"]
    assert errors == []


async def test_a_returning_visit_after_a_passed_check_takes_one_click(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment, _participant, token = await book(db, settings, clock, "Rita Wiederkehr")
    context, first, errors = await citizen_phone(browser)
    await first.goto(f"{live_server.url}/v/{token}")  # the day before: consent and check
    await agree(first, Clicks())
    await check_devices(first, Clicks())
    await first.close()

    clock.set(OPENS_AT + timedelta(minutes=1))
    page = await context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    clicks = Clicks()
    await page.goto(f"{live_server.url}/v/{token}")
    await expect(page.locator("main")).to_contain_text(
        re.compile(r"Ihre Geräte (haben die Prüfung|funktionieren) auf diesem Gerät")
    )
    await clicks.click(
        page.get_by_role("link", name="Beratungsraum betreten"), "Beratungsraum betreten"
    )

    await in_the_waiting_room(page)
    assert clicks.made == ["Beratungsraum betreten"]
    assert errors == []
