"""The citizen's consent journey in Debian's Chromium: decline and change one's mind,
withdraw (and nothing personal is left), every citizen page free of axe-core
violations, the consent buttons by keyboard, and the enter button opening itself when
the server's clock says the window is open.

The server's clock is the test's FakeClock; where the page's own timers matter,
Playwright's ``page.clock`` moves the browser's time — set far from the server's on
purpose, because the page must trust the server's time, not the device's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from journey_pages import (
    DEVICE_CHECK_URL,
    DEVICE_KEY,
    OPENS_AT,
    add_passed_check,
    app_context,
    book,
    browser,
    decisions_of,
    personal_data_left,
    phone,
)
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.services import appointments as scheduling
from videotermin.services.consent_texts import consent_text
from videotermin.settings import Settings
from videotermin.store.models import Appointment, ConsentRecord, StaffUser

__all__ = ["browser"]  # the fixture, launched with the fake camera and microphone

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


async def fits_width(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def add_decisions(
    db: async_sessionmaker[AsyncSession], settings: Settings, participant_id: str, *decisions: str
) -> None:
    text = consent_text(settings, "de")
    async with db() as session, session.begin():
        for decision in decisions:
            session.add(
                ConsentRecord(
                    participant_id=participant_id,
                    version=text.version,
                    language=text.language,
                    text_hash=text.hash,
                    decision=decision,
                    decided_at=NOW,
                )
            )


async def remember_device(context: BrowserContext) -> None:
    """The cookie the device check leaves in a browser whose check passed."""
    await context.add_cookies(
        [{"name": "vt_device", "value": DEVICE_KEY, "domain": "127.0.0.1", "path": "/v/"}]
    )


async def test_declining_then_changing_ones_mind_leads_to_the_device_check(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment, participant, token = await book(db, settings, clock, "Chris Bürger")
    _context, page, errors = await phone(browser)

    await page.goto(f"{live_server.url}/v/{token}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Videotermin")
    await expect(page.get_by_role("heading", name="Welche Daten wir speichern")).to_be_visible()
    assert await fits_width(page), "the consent page fits a 360px phone"
    await page.get_by_role("button", name="Ich stimme nicht zu").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Sie haben nicht zugestimmt")
    main = page.locator("main")
    await expect(main).to_contain_text("kein Nachteil")
    await expect(main).to_contain_text("Hauptstraße 1, 12345 Musterstadt")
    await expect(page.get_by_role("link", name="+49 30 5555-0")).to_be_visible()
    await expect(page.get_by_role("link", name="musterstadt@agentur.example")).to_be_visible()
    await expect(main).to_contain_text("Ihr Support-Code:")
    assert await fits_width(page), "the declined page fits a 360px phone"
    await page.get_by_text("Einwilligungserklärung lesen").click()
    await expect(page.get_by_role("heading", name="Welche Daten wir speichern")).to_be_visible()
    assert errors == [], "no CSP refusals or script errors"
    await page.get_by_role("button", name="Ich stimme zu").click()

    await expect(page).to_have_url(DEVICE_CHECK_URL)
    assert page.url.endswith(f"/v/{token}/geraete")
    assert await decisions_of(db, participant) == ["declined", "agreed"]


async def test_withdrawal_in_the_browser_leaves_no_personal_data(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment, participant, token = await book(db, settings, clock, "Wanda Widerruf")
    context, page, errors = await phone(browser)
    await page.goto(f"{live_server.url}/v/{token}")
    await page.get_by_role("button", name="Ich stimme zu").click()
    await expect(page).to_have_url(DEVICE_CHECK_URL)
    await add_passed_check(db, participant)
    await remember_device(context)
    assert await personal_data_left(db, participant), "there was personal data to erase"

    await page.goto(f"{live_server.url}/v/{token}")
    await page.get_by_role("link", name="Einwilligung widerrufen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Einwilligung widerrufen?")
    await page.get_by_role("button", name="Ja, Einwilligung widerrufen").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sie haben Ihre Einwilligung widerrufen"
    )
    await expect(page.locator("main")).not_to_contain_text("Wanda")
    assert page.url == f"{live_server.url}/v/{token}"
    assert await personal_data_left(db, participant) == {}
    assert await decisions_of(db, participant) == ["agreed", "withdrawn"]
    assert errors == []


async def test_every_citizen_page_passes_axe(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _, _, consent_token = await book(db, settings, clock, "Anna Neu")
    _, declined, declined_token = await book(db, settings, clock, "Bodo Nein")
    _, agreed, agreed_token = await book(db, settings, clock, "Carla Ja")
    _, withdrawn, withdrawn_token = await book(db, settings, clock, "Dora Weg")
    cancelled_id, _, cancelled_token = await book(db, settings, clock, "Emil Abgesagt")
    await add_decisions(db, settings, declined, "declined")
    await add_decisions(db, settings, agreed, "agreed")
    await add_decisions(db, settings, withdrawn, "agreed", "withdrawn")
    await add_passed_check(db, agreed)
    async with db() as session, session.begin():
        appointment = await session.get_one(Appointment, cancelled_id)
        await scheduling.cancel(session, app_context(db, settings, clock), appointment)
    context, page, errors = await phone(browser)
    await remember_device(context)
    base = f"{live_server.url}/v/"

    pages = {
        "consent": base + consent_token,
        "consent (English)": base + consent_token + "?lang=en",
        "declined": base + declined_token + "?lang=de",
        "hub before window": base + agreed_token,
        "withdrawal confirmation": base + agreed_token + "/widerruf",
        "withdrawn": base + withdrawn_token,
        "cancelled": base + cancelled_token,
        "unknown link": base + "A" * 32,
    }
    results = {name: await axe_page(page, url) for name, url in pages.items()}
    await page.goto(base + consent_token)
    await page.locator("input[name=csrf_token]").evaluate("field => { field.value = 'x'; }")
    await page.get_by_role("button", name="Ich stimme zu").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ihre Auswahl konnte nicht angenommen werden"
    )
    results["refused form"] = await axe_current(page)
    clock.set(OPENS_AT)
    results["hub window open"] = await axe_page(page, base + agreed_token)
    await expect(page.get_by_role("link", name="Beratungsraum betreten")).to_be_visible()
    clock.set(OPENS_AT + timedelta(hours=1))
    results["ended"] = await axe_page(page, base + agreed_token)

    assert {name: found for name, found in results.items() if found} == {}
    assert [e for e in errors if "403" not in e and "404" not in e] == []


async def axe_page(page: Page, url: str) -> list[str]:
    await page.goto(url)
    return await axe_current(page)


async def axe_current(page: Page) -> list[str]:
    """axe-core's violations on the page (by rule id), plus a page wider than the phone."""
    found = [v["id"] for v in (await Axe().run(page)).response["violations"]]
    assert await page.get_by_role("heading", level=1).count() == 1
    return found if await fits_width(page) else [*found, "wider than 360px"]


async def test_the_consent_buttons_work_by_keyboard(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment, participant, token = await book(db, settings, clock, "Kim Tastatur")
    _context, page, _errors = await phone(browser)
    await page.goto(f"{live_server.url}/v/{token}")
    agree = page.get_by_role("button", name="Ich stimme zu")
    decline = page.get_by_role("button", name="Ich stimme nicht zu")

    for _ in range(60):
        await page.keyboard.press("Tab")
        if await agree.evaluate("button => button === document.activeElement"):
            break
    await expect(agree).to_be_focused()
    outline = await agree.evaluate("button => getComputedStyle(button).outlineStyle")
    assert outline == "solid", "focus is visible"
    await page.keyboard.press("Tab")
    await expect(decline).to_be_focused()
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("heading", level=1)).to_have_text("Sie haben nicht zugestimmt")
    assert await decisions_of(db, participant) == ["declined"]


async def test_the_enter_button_opens_when_the_servers_clock_reaches_the_window(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment, participant, token = await book(db, settings, clock, "Olga Offen")
    await add_decisions(db, settings, participant, "agreed")
    await add_passed_check(db, participant)
    context, page, errors = await phone(browser)
    await remember_device(context)
    await page.clock.install(time=datetime(2031, 5, 1, 12, 0, tzinfo=UTC))  # a wrong device clock
    clock.set(OPENS_AT - timedelta(minutes=1))

    await page.goto(f"{live_server.url}/v/{token}")
    waiting = page.get_by_role("button", name="Beratungsraum betreten")
    await expect(waiting).to_be_disabled()
    await expect(page.locator("#opens-at")).to_contain_text("heute ab 09:55 Uhr")
    clock.set(OPENS_AT)
    await page.clock.run_for(59_000)
    await expect(waiting).to_be_disabled()
    await page.clock.run_for(2_000)

    enter = page.get_by_role("link", name="Beratungsraum betreten")
    await expect(enter).to_be_visible()
    assert (await enter.get_attribute("href")) == f"/v/{token}/warteraum"
    assert errors == []
