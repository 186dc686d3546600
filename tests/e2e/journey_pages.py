"""The citizen's journey from her personal link, as the Chromium journeys walk it: her
appointment booked for tomorrow at 10:00 (the room opens at ``OPENS_AT``), a 360 px phone
in Debian's Chromium with a fake camera and microphone (the ``browser`` fixture), the steps
she clicks through — agree, check her devices, be in the waiting room — counted by
``Clicks``, a device check left passed on this device (``DEVICE_KEY``), and what the
database keeps of her decisions and her personal data.

The consent and whole journeys in Chromium and in Firefox, the Firefox call and the
journey through nginx share these, so they live here rather than in one of those test
modules."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from chromium import ARGS, FAKE_MEDIA, launch_chromium
from device_check_pages import VERDICT
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token
from videotermin.services import appointments as scheduling
from videotermin.settings import Settings
from videotermin.store.models import ConsentRecord, DeviceCheck
from videotermin.store.personal_data import personal_columns

DEVICE_KEY = "this-browser-device-key-000000000"
OPENS_AT = NOW + timedelta(days=1, minutes=-5)  # Thursday 09:55 in Berlin
DEVICE_CHECK_URL = re.compile(r"/v/[A-Za-z0-9_-]{32}/geraete$")
WAITING_ROOM_URL = re.compile(r"/v/[A-Za-z0-9_-]{32}/warteraum$")
# The automatic part of the check takes at most ten seconds; the test call may queue.
CHECK_TIMEOUT_MS = 30_000


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium([*ARGS, *FAKE_MEDIA]) as browser:
        yield browser


async def phone(browser: Browser) -> tuple[BrowserContext, Page, list[str]]:
    """A 360px phone in a fresh context, and the console errors its pages report."""
    context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="de-DE")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


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


class Clicks:
    """Every click the citizen makes goes through here, so the test can count them."""

    def __init__(self) -> None:
        self.made: list[str] = []

    async def click(self, target: Locator, name: str) -> None:
        await target.click()
        self.made.append(name)


async def agree(page: Page, clicks: Clicks) -> None:
    """The consent page of a first visit: read, agree, and be on the device check."""
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Videotermin")
    await expect(page.get_by_role("heading", name="Welche Daten wir speichern")).to_be_visible()
    await clicks.click(page.get_by_role("button", name="Ich stimme zu"), "Ich stimme zu")
    await expect(page).to_have_url(DEVICE_CHECK_URL)


async def check_devices(page: Page, clicks: Clicks) -> None:
    """The device check: the prompt is explained, the steps run by themselves, the one
    question is answered, and the verdict is shown."""
    await expect(page.locator("#check-ask")).to_contain_text(
        "Ihr Browser fragt Sie gleich, ob diese Seite Ihre Kamera und Ihr Mikrofon benutzen darf."
    )
    heard = page.get_by_role("button", name="Ich höre den Ton")
    await expect(heard).to_be_visible(timeout=CHECK_TIMEOUT_MS)
    await expect(page.locator("#check-ask")).to_be_hidden()  # the browser granted access
    await clicks.click(heard, "Ich höre den Ton")
    await expect(page.get_by_role("heading", level=2, name=VERDICT)).to_be_visible(
        timeout=CHECK_TIMEOUT_MS
    )
    findings = page.locator("#check-findings li")
    await expect(findings.filter(has_text="Testanruf:")).to_contain_text("in Ordnung")
    await expect(findings.filter(has_text="Lautsprecher:")).to_contain_text(
        "Sie hören den Testton."
    )


async def in_the_waiting_room(room: Page) -> None:
    await expect(room).to_have_url(WAITING_ROOM_URL)
    await expect(room.get_by_role("heading", level=1)).to_have_text("Warteraum")
    await expect(room.locator("#connection-state")).to_have_text(
        "Verbunden. Sie sind im Warteraum."
    )
