"""The citizen's consent journey in Debian's Chromium: decline and change one's mind,
withdraw (and nothing personal is left), every citizen page free of axe-core
violations, the consent buttons by keyboard, and the enter button opening itself when
the server's clock says the window is open.

The server's clock is the test's FakeClock; where the page's own timers matter,
Playwright's ``page.clock`` moves the browser's time — set far from the server's on
purpose, because the page must trust the server's time, not the device's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from chromium import launch_chromium
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token
from videotermin.services import appointments as scheduling
from videotermin.services.consent_texts import consent_text
from videotermin.settings import Settings
from videotermin.store.models import Appointment, ConsentRecord, DeviceCheck, StaffUser
from videotermin.store.personal_data import personal_columns

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
DEVICE_KEY = "this-browser-device-key-000000000"
OPENS_AT = NOW + timedelta(days=1, minutes=-5)  # Thursday 09:55 in Berlin
DEVICE_CHECK_URL = re.compile(r"/v/[A-Za-z0-9_-]{32}/geraete$")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium(ARGS) as browser:
        yield browser


async def phone(browser: Browser) -> tuple[BrowserContext, Page, list[str]]:
    """A 360px phone in a fresh context, and the console errors its pages report."""
    context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="de-DE")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


async def fits_width(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def app_context(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> AppContext:
    return AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)


async def book(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock, name: str
) -> tuple[str, str, str]:
    """An appointment tomorrow at 10:00 with one citizen: (appointment, participant, token)."""
    async with db() as session, session.begin():
        advisor = await scheduling.find_advisor(session, "berater")
        assert advisor is not None
        appointment, [link] = await scheduling.create_appointment(
            session,
            app_context(db, settings, clock),
            advisor=advisor,
            start=NOW + timedelta(days=1),
            duration_minutes=30,
            subject=None,
            participants=[
                ParticipantDraft(name=name, email="person@example.org", customer_number="9X")
            ],
        )
    return appointment.id, link.participant.id, link.link.rsplit("/", 1)[1]


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


async def add_passed_check(db: async_sessionmaker[AsyncSession], participant_id: str) -> None:
    async with db() as session, session.begin():
        session.add(
            DeviceCheck(
                participant_id=participant_id,
                checked_at=NOW,
                verdict="green",
                device_key_hash=hash_token(DEVICE_KEY),
                os_family="Linux",
                browser_family="Chromium",
                ip_address="127.0.0.1",
            )
        )


async def remember_device(context: BrowserContext) -> None:
    """The cookie the device check leaves in a browser whose check passed."""
    await context.add_cookies(
        [{"name": "vt_device", "value": DEVICE_KEY, "domain": "127.0.0.1", "path": "/v/"}]
    )


async def decisions_of(db: async_sessionmaker[AsyncSession], participant_id: str) -> list[str]:
    async with db() as session:
        rows = await session.scalars(
            select(ConsentRecord.decision)
            .where(ConsentRecord.participant_id == participant_id)
            .order_by(ConsentRecord.id)
        )
        return list(rows)


async def personal_data_left(
    db: async_sessionmaker[AsyncSession], participant_id: str
) -> dict[str, list[object]]:
    """Every non-empty personal column, in every table that refers to the participant."""
    left: dict[str, list[object]] = {}
    async with db() as session:
        for column in personal_columns():
            table = column.table
            owner = table.c.id if table.name == "participants" else table.c.get("participant_id")
            if owner is None:
                continue
            values = list(await session.scalars(select(column).where(owner == participant_id)))
            if any(v is not None for v in values):
                left[f"{table.name}.{column.name}"] = values
    return left


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
