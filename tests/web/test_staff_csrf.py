"""Every staff POST needs the session's CSRF token; without it: 403 and nothing changed."""

from __future__ import annotations

import httpx
import pytest
from page_helpers import VALID, book, count, csrf_token, login
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Appointment, OutboxMail, StaffUser

REFUSED = "Das Formular konnte nicht angenommen werden"


@pytest.mark.parametrize("token", [None, "", "falsch", "A" * 32])
async def test_create_without_valid_token_is_refused(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    token: str | None,
) -> None:
    await login(client)
    data = dict(VALID) if token is None else {**VALID, "csrf_token": token}

    response = await client.post("/termine/neu", data=data)

    assert response.status_code == 403
    assert REFUSED in response.text
    assert "nichts gespeichert und nichts geändert" in response.text
    assert await count(db, Appointment) == 0


async def test_token_of_another_session_is_refused(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    live_server,
) -> None:
    booking = await book(db, settings, clock)
    await login(client)
    foreign = csrf_token((await client.get("/termine")).text)
    async with httpx.AsyncClient(base_url=live_server.url) as other:
        await login(other)
        url = f"/termine/{booking.appointment_id}"
        responses = [
            await other.post(f"{url}/absagen", data={"csrf_token": foreign}),
            await other.post(
                f"{url}/teilnehmende/{booking.participant_ids[0]}/einladung",
                data={"csrf_token": foreign},
            ),
        ]

    assert [r.status_code for r in responses] == [403, 403]
    async with db() as session:
        appointment = await session.get(Appointment, booking.appointment_id)
        assert appointment is not None and appointment.status == "scheduled"
    assert await count(db, OutboxMail) == 1


async def test_post_without_session_goes_to_login(
    client: httpx.AsyncClient, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post("/termine/neu", data={**VALID, "csrf_token": "A" * 32})

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert await count(db, Appointment) == 0
