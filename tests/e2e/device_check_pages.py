"""The device check as the browser tests meet it: a participant who has agreed and may
open her check, the check's page opened with its peer connections recorded, and the
verdict a check that works ends with.

The device-check tests, the support desk's, the lines' and the whole journeys all start
from these, so they live here rather than in one of those test modules."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webrtc_probe import RECORD_PEER_CONNECTIONS

from conftest import NOW
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.services import appointments as scheduling
from videotermin.services.consent_texts import current_version
from videotermin.settings import Settings
from videotermin.store.models import ConsentRecord

VERDICT = re.compile(r"Ergebnis: (grün|gelb)")


async def agreed_participant(
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    starts_in: timedelta = timedelta(minutes=3),
) -> str:
    """A participant of an appointment starting in ``starts_in`` who has agreed."""
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    async with db() as session, session.begin():
        advisor = await scheduling.find_advisor(session, "berater")
        assert advisor is not None
        _appointment, links = await scheduling.create_appointment(
            session,
            ctx,
            advisor=advisor,
            start=NOW + starts_in,
            duration_minutes=30,
            subject=None,
            participants=[ParticipantDraft(name="Clara Kundin", email="clara@example.org")],
        )
        session.add(
            ConsentRecord(
                participant_id=links[0].participant.id,
                version=current_version(settings),
                language="de",
                text_hash="0" * 64,
                decision="agreed",
                decided_at=NOW,
            )
        )
    return links[0].link.rsplit("/", 1)[1]


async def open_check(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """The check at ``url`` in a fresh context whose peer connections are recorded
    (webrtc_probe.RECORD_PEER_CONNECTIONS), and the console errors it reports."""
    context = await browser.new_context(locale="de-DE")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.add_init_script(RECORD_PEER_CONNECTIONS)
    await page.goto(url)
    return page, errors
