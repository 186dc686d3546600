"""Helpers for the page tests: logging in through the real form, booking appointments
directly through the scheduling service, and reading CSRF tokens out of pages.

Plain functions, not fixtures: a second ``conftest.py`` would shadow the root one
for every ``from conftest import …``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, PASSWORD
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.services import appointments as scheduling
from videotermin.settings import Settings

TOMORROW_10 = NOW + timedelta(days=1)  # Thursday, 3 December 2026, 10:00 in Berlin
# A complete "Neuer Termin" form: tomorrow 10:00, a citizen, one empty and one filled extra row.
VALID = {
    "date": "2026-12-03",
    "time": "10:00",
    "duration_minutes": "45",
    "subject": "Beratung zur Arbeitssuche",
    "participants.0.name": "Clara Kundin",
    "participants.0.email": "clara@example.org",
    "participants.0.customer_number": "123D456",
    "participants.0.language": "de",
    "participants.1.role": "interpreter",
    "participants.1.name": "",
    "participants.1.email": "",
    "participants.1.language": "de",
    "participants.2.role": "interpreter",
    "participants.2.name": "Ivan Dolmetscher",
    "participants.2.email": "ivan@example.org",
    "participants.2.language": "en",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


async def login(
    client: httpx.AsyncClient, username: str = "berater", password: str = PASSWORD, **extra: str
) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page.text),
            "username": username,
            "password": password,
            **extra,
        },
    )


async def post_form(
    client: httpx.AsyncClient, page_url: str, action: str, data: dict[str, str]
) -> httpx.Response:
    """Submit a form the way a browser does: with the CSRF token of the page it sits on."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf_token": csrf_token(page.text), **data})


async def count(db: async_sessionmaker[AsyncSession], model: type) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@dataclass(frozen=True)
class Booking:
    appointment_id: str
    participant_ids: list[str]
    tokens: list[str]


async def book(
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    *,
    advisor: str = "berater",
    start: datetime = TOMORROW_10,
    participants: list[ParticipantDraft] | None = None,
    subject: str | None = "Beratung",
) -> Booking:
    """Create an appointment through :func:`scheduling.create_appointment`, as the API would."""
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    drafts = participants or [
        ParticipantDraft(name="Clara Kundin", email="clara@example.org", customer_number="123D456")
    ]
    async with db() as session, session.begin():
        user = await scheduling.find_advisor(session, advisor)
        assert user is not None
        appointment, links = await scheduling.create_appointment(
            session,
            ctx,
            advisor=user,
            start=start,
            duration_minutes=30,
            subject=subject,
            participants=drafts,
        )
    return Booking(
        appointment.id,
        [link.participant.id for link in links],
        [link.link.rsplit("/", 1)[1] for link in links],
    )
