"""The app as deployed — real ``videotermin serve`` processes on the real clock, behind
nginx over HTTPS or alone — as the browser tests against those processes meet it: Clara's
appointment two minutes from the real now, a page that accepts the self-signed certificate
and keeps its peer connections for the test, and the advisor admitting Clara.

The journey through nginx and the app restarted mid-call both start from these, so they
live here rather than in one of those test modules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from call_pages import PEER_CONNECTIONS
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import system_clock
from videotermin.services import appointments as scheduling
from videotermin.services.consent_texts import current_version
from videotermin.settings import Settings
from videotermin.store.models import ConsentRecord


async def book_now(
    db: async_sessionmaker[AsyncSession], public_url: str, db_url: str, *, agreed: bool
) -> tuple[str, str]:
    """An appointment of the advisor's starting in two minutes of real time, with Clara;
    (appointment id, her link's token)."""
    settings = Settings(database_url=db_url, public_url=public_url)
    ctx = AppContext(settings=settings, clock=system_clock, engine=db.kw["bind"], sessions=db)
    now = datetime.now(UTC)
    async with db() as session, session.begin():
        advisor = await scheduling.find_advisor(session, "berater")
        assert advisor is not None
        appointment, [link] = await scheduling.create_appointment(
            session,
            ctx,
            advisor=advisor,
            start=now.replace(second=0, microsecond=0) + timedelta(minutes=2),
            duration_minutes=30,
            subject="Beratung",
            participants=[ParticipantDraft(name="Clara Kundin", email="clara@example.org")],
        )
        if agreed:
            session.add(
                ConsentRecord(
                    participant_id=link.participant.id,
                    version=current_version(settings),
                    language="de",
                    text_hash="0" * 64,
                    decision="agreed",
                    decided_at=now,
                )
            )
    return appointment.id, link.link.rsplit("/", 1)[1]


async def open_page(browser: Browser, width: int, height: int = 900) -> tuple[Page, list[str]]:
    """A page in a fresh context that accepts the self-signed certificate and keeps its
    peer connections for the test (call_pages.PEER_CONNECTIONS)."""
    context = await browser.new_context(
        viewport={"width": width, "height": height}, locale="de-DE", ignore_https_errors=True
    )
    await context.add_init_script(PEER_CONNECTIONS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


async def advisor_admits(browser: Browser, url: str, appointment_id: str) -> tuple[Page, list[str]]:
    """The advisor logs in at ``url``, opens the call page and admits Clara."""
    desk, errors = await open_page(browser, 1280)
    await desk.goto(f"{url}/login")
    await desk.get_by_label("Benutzername").fill("berater")
    await desk.get_by_label("Passwort").fill(PASSWORD)
    await desk.get_by_role("button", name="Anmelden").click()
    await expect(desk).to_have_url(re.compile(r"/termine$"))
    await desk.goto(f"{url}/appointments/{appointment_id}/call")
    await expect(desk.locator("#call .call-status")).to_have_text(
        "Sie sind im Gespräch. Noch ist niemand sonst da."
    )
    await desk.get_by_role("button", name="Abholen: Clara Kundin").click()
    return desk, errors
