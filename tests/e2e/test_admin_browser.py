"""The agency's pages in Debian's Chromium: an admin creates an advisor by keyboard; the
advisor opens the one-time link, sets a password and logs in. An admin drafts, previews
and activates a consent version, and a new citizen sees and agrees to it. axe-core finds
no violations on any administration page, the support desk, the advisor's pages, the
login and the privacy notice, at 360 px and 1280 px, and none is wider than its window."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from chromium import ARGS, launch_chromium
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD, LiveServer, add_staff
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.services import appointments as scheduling
from videotermin.settings import Settings
from videotermin.store.models import ConsentRecord, Participant, StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

NEW_PASSWORD = "mein eigener langer Satz 42"
OTHER_PAGES = (
    "/admin/personal",
    "/admin/personal/neu",
    "/admin/protokoll",
    "/admin/dienststellen",
    "/admin/dienststellen/neu",
    "/admin/dienststellen/1",
    "/admin/api-tokens",
    "/admin/einwilligung",
    "/admin/datenschutz",
    "/admin/statistik",
    "/support",
)


async def problems(page: Page) -> list[str]:
    found = [v["id"] for v in (await Axe().run(page)).response["violations"]]
    wide = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    return [*found, "wider than the window"] if wide else found


async def logged_in(
    browser: Browser, server: LiveServer, width: int, name: str, password: str
) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = await context.new_page()
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Benutzername").fill(name)
    await page.get_by_label("Passwort").fill(password)
    await page.keyboard.press("Enter")
    await page.wait_for_url(lambda url: "/login" not in url)
    return page


async def test_an_admin_creates_an_advisor_who_sets_a_password_and_logs_in(
    live_server: LiveServer, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await add_staff(db, "admin-anna", role="admin", display_name="Anna Admin")
    found: dict[str, list[str]] = {}
    async with launch_chromium(ARGS) as browser:
        admin = await logged_in(browser, live_server, 1280, "admin-anna", PASSWORD)
        await admin.get_by_role("link", name="Verwaltung").click()
        await expect(admin.get_by_role("heading", level=1)).to_have_text(
            "Konten der Mitarbeitenden"
        )
        found["list"] = await problems(admin)
        await admin.get_by_role("link", name="Neues Konto anlegen").click()
        found["new"] = await problems(admin)
        await admin.get_by_label("Benutzername").fill("nina.neu")
        await admin.keyboard.press("Tab")
        await admin.keyboard.type("Nina Neu")
        await admin.get_by_label("Rolle").select_option("advisor")
        await admin.get_by_role("button", name="Konto anlegen").press("Enter")
        await expect(admin.get_by_role("heading", level=1)).to_have_text("Konto angelegt")
        found["link shown"] = await problems(admin)
        link = await admin.get_by_label("Link für Nina Neu").input_value()
        assert "/passwort/" in link

        context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="de-DE")
        nina = await context.new_page()
        await nina.goto(link)
        await expect(nina.get_by_role("heading", level=1)).to_have_text("Passwort setzen")
        found["set password"] = await problems(nina)
        await nina.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
        await nina.get_by_label("Neues Passwort noch einmal").fill(NEW_PASSWORD)
        await nina.get_by_role("button", name="Passwort setzen").click()
        await expect(nina.get_by_role("status")).to_contain_text("Ihr Passwort ist gesetzt")
        await nina.get_by_label("Benutzername").fill("nina.neu")
        await nina.get_by_label("Passwort").fill(NEW_PASSWORD)
        await nina.get_by_role("button", name="Anmelden").click()
        await expect(nina).to_have_url(f"{live_server.url}/termine")
        await expect(nina.get_by_role("button", name="Abmelden (Nina Neu)")).to_be_visible()

        await admin.goto(f"{live_server.url}/admin/personal")
        await admin.get_by_role("link", name="Nina Neu").click()
        found["edit"] = await problems(admin)
        await admin.goto(f"{live_server.url}/admin/protokoll")
        await expect(admin.get_by_role("cell", name="Passwort gesetzt")).to_be_visible()
        found["audit"] = await problems(admin)

        phone = await logged_in(browser, live_server, 360, "admin-anna", PASSWORD)
        for page, width in ((admin, 1280), (phone, 360)):
            for path in OTHER_PAGES:
                await page.goto(f"{live_server.url}{path}")
                found[f"{path} at {width}"] = await problems(page)

    assert found == {key: [] for key in found}


async def test_an_admin_activates_a_new_consent_version_and_a_new_citizen_sees_it(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    await add_staff(db, "admin-anna", role="admin", display_name="Anna Admin")
    async with launch_chromium(ARGS) as browser:
        admin = await logged_in(browser, live_server, 1280, "admin-anna", PASSWORD)
        await admin.goto(f"{live_server.url}/admin/einwilligung")
        await admin.get_by_role("textbox", name="Fassung").fill("2027-01-01")
        await admin.get_by_label("Text (Markdown)").fill(
            "# Unsere neue Erklärung\n\nWir löschen alles nach {retention_days} Tagen."
        )
        await admin.get_by_role("button", name="Vorschau").click()
        preview = admin.get_by_role("region", name="Vorschau")
        await expect(preview.get_by_role("heading", level=3)).to_have_text("Unsere neue Erklärung")
        await expect(preview).to_contain_text("nach 14 Tagen")
        await admin.get_by_role("button", name="Als Entwurf speichern").click()
        await expect(admin.get_by_role("status")).to_contain_text("als Entwurf gespeichert")
        activate = re.compile(r"^Aktivieren\W+Fassung 2027-01-01$")
        await admin.get_by_role("button", name=activate).click()
        await expect(admin.get_by_role("status")).to_contain_text("Die Fassung ist aktiviert")
        await expect(admin.get_by_role("row", name="2027-01-01")).to_contain_text("aktuell")

        token, participant_id = await invited(db, settings, clock)
        context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="de-DE")
        citizen = await context.new_page()
        await citizen.goto(f"{live_server.url}/v/{token}")
        await expect(citizen.get_by_role("heading", name="Unsere neue Erklärung")).to_be_visible()
        await citizen.get_by_role("button", name="Ich stimme zu").click()
        await expect(citizen).to_have_url(re.compile(r"/geraete$"))
    async with db() as session:
        versions = list(
            await session.scalars(
                select(ConsentRecord.version).where(ConsentRecord.participant_id == participant_id)
            )
        )
    assert versions == ["2027-01-01"]


async def invited(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> tuple[str, str]:
    """A citizen invited to an appointment tomorrow: her link token and participant id."""
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    async with db() as session, session.begin():
        found = await scheduling.find_advisor(session, "berater")
        assert found is not None
        _appointment, links = await scheduling.create_appointment(
            session,
            ctx,
            advisor=found,
            start=clock() + timedelta(days=1),
            duration_minutes=30,
            subject=None,
            participants=[ParticipantDraft(name="Nora Neu", email="nora@example.org")],
        )
    return links[0].link.rsplit("/", 1)[1], links[0].participant.id


async def test_every_advisor_page_and_the_privacy_notice_are_clean_at_both_widths(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token, participant_id = await invited(db, settings, clock)
    async with db() as session:
        appointment = (await session.get_one(Participant, participant_id)).appointment_id
    pages = (
        "/termine",
        "/termine/neu",
        f"/termine/{appointment}",
        f"/termine/{appointment}/absagen",
        "/datenschutz",
        f"/v/{token}",
    )
    found: dict[str, list[str]] = {}
    async with launch_chromium(ARGS) as browser:
        for width in (1280, 360):
            context = await browser.new_context(
                viewport={"width": width, "height": 900}, locale="de-DE"
            )
            anonymous = await context.new_page()
            await anonymous.goto(f"{live_server.url}/login")
            found[f"/login at {width}"] = await problems(anonymous)
            page = await logged_in(browser, live_server, width, "berater", PASSWORD)
            for path in pages:
                await page.goto(f"{live_server.url}{path}")
                found[f"{path} at {width}"] = await problems(page)
    assert found == {key: [] for key in found}
