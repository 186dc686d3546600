"""Browser journey in Debian's Chromium: an advisor logs in and books an appointment through
the forms, then a citizen opens a personal link. The server's clock is the fake NOW; the
browser's own clock is real time and plays no part, because only the server validates."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from chromium import ARGS, launch_chromium
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.services import appointments as scheduling
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

TOMORROW = (NOW + timedelta(days=1)).strftime("%Y-%m-%d")  # Thursday, 3 December 2026

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium(ARGS) as browser:
        yield browser


async def new_page(browser: Browser, width: int = 1024) -> tuple[Page, list[str]]:
    """A page in a fresh context, and the console errors it reports (CSP refusals among them)."""
    context = await browser.new_context(viewport={"width": width, "height": 800}, locale="de-DE")
    page = await context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return page, errors


async def fits_width(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def test_advisor_books_through_the_forms_and_citizen_opens_a_link(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    page, console_errors = await new_page(browser)

    await page.goto(live_server.url + "/")
    await expect(page).to_have_url(re.compile(r"/login$"))
    username = page.get_by_label("Benutzername")
    await expect(username).to_be_focused()
    await page.keyboard.type("berater")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Passwort")).to_be_focused()
    await page.keyboard.type("richtig-geheim-42")
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(re.compile(r"/termine$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Meine Termine")

    await page.get_by_role("link", name="Neuen Termin anlegen").click()
    await page.get_by_label("Datum", exact=True).fill(TOMORROW)
    await page.get_by_label("Uhrzeit (Ortszeit Europe/Berlin)", exact=True).fill("11:30")
    await page.get_by_label("Betreff (optional)").fill("Erstgespräch")
    citizen = page.get_by_role("group", name="Kundin oder Kunde")
    await citizen.get_by_label("Name", exact=True).fill("Clara Kundin")
    await citizen.get_by_label("E-Mail-Adresse").fill("clara@example.org")
    interpreter = page.get_by_role("group", name="Person 1")
    await interpreter.get_by_label("Rolle").select_option("interpreter")
    await interpreter.get_by_label("Name", exact=True).fill("Ivan Dolmetscher")
    await interpreter.get_by_label("E-Mail-Adresse").fill("ivan@example.org")
    await page.get_by_role("button", name="Termin anlegen und Einladungen senden").click()

    await expect(page.get_by_role("status")).to_contain_text("Der Termin ist angelegt.")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Termin am Donnerstag, 3. Dezember 2026"
    )

    await page.get_by_role("navigation").get_by_role("link", name="Meine Termine").click()
    entry = page.locator(".appointment", has_text="Erstgespräch")
    await expect(entry).to_contain_text("11:30 Uhr")
    for name in ("Clara Kundin", "Ivan Dolmetscher"):
        person = entry.locator("li", has_text=name)
        await expect(person).to_contain_text(re.compile(r"Einladung (wird versendet|zugestellt)"))

    await page.set_viewport_size({"width": 360, "height": 740})
    assert await fits_width(page), "Meine Termine fits a 360px phone"
    await page.goto(live_server.url + "/termine/neu")
    assert await fits_width(page), "the new appointment form fits a 360px phone"

    token = await book_directly(db, settings, clock)
    citizen_page, citizen_errors = await new_page(browser, width=360)
    await citizen_page.goto(f"{live_server.url}/v/{token}")
    await expect(citizen_page.get_by_role("heading", level=1)).to_have_text("Ihr Videotermin")
    await expect(citizen_page.locator("main")).to_contain_text("Donnerstag, 3. Dezember 2026")
    await expect(citizen_page.locator("main")).to_contain_text("Guten Tag, Chris Bürger!")
    assert await fits_width(citizen_page), "the link page fits a 360px phone"
    await citizen_page.get_by_role("link", name="English").click()
    await expect(citizen_page.locator("main")).to_contain_text("Thursday, 3 December 2026")
    assert await citizen_page.evaluate("document.documentElement.lang") == "en"

    assert console_errors == [] and citizen_errors == [], "no CSP refusals or script errors"


async def test_login_and_skip_link_work_by_keyboard(
    browser: Browser, live_server: LiveServer, advisor: StaffUser
) -> None:
    page, _ = await new_page(browser)
    await page.goto(live_server.url + "/login")
    await expect(page.get_by_label("Benutzername")).to_be_focused()  # autofocus has landed

    await page.keyboard.press("Shift+Tab")  # the header's language choice comes first
    await expect(page.get_by_role("link", name="English")).to_be_focused()
    await page.keyboard.press("Shift+Tab")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    await expect(skip).to_be_focused()
    assert (await skip.bounding_box() or {"y": -1})["y"] >= 0, "visible when focused"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "inhalt"

    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Benutzername")).to_be_focused()
    await page.keyboard.type("berater")
    await page.keyboard.press("Tab")
    await page.keyboard.type("falsches-passwort")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Anmelden")).to_be_focused()
    await page.keyboard.press("Enter")

    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("Benutzername oder Passwort stimmen nicht.")
    await expect(summary).to_be_focused()


async def book_directly(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> str:
    """A second appointment, made the way the integration API makes one; returns its token."""
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    async with db() as session, session.begin():
        advisor = await scheduling.find_advisor(session, "berater")
        assert advisor is not None
        _appointment, links = await scheduling.create_appointment(
            session,
            ctx,
            advisor=advisor,
            start=NOW + timedelta(days=1),
            duration_minutes=30,
            subject=None,
            participants=[ParticipantDraft(name="Chris Bürger", email="chris@example.org")],
        )
    return links[0].link.rsplit("/", 1)[1]
