"""The invitation's state in the advisor's live list: when the outbox worker has sent an
invitation, or given it up, the row changes without a reload.

The mail folder is made unusable (a file stands in its place), so the first attempt fails
and the next one waits on the fake clock; the test then repairs the folder or not and
moves the clock. The live list re-reads a row only when told, so only the worker's
announcement can change it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from page_helpers import Booking, book, login
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import eventually, greet, receive, session_cookie, staff
from websockets.asyncio.client import ClientConnection

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import OutboxMail, StaffUser


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Two attempts 30 seconds apart (on the fake clock), looked for every tenth second."""
    return settings.model_copy(
        update={"mail_max_attempts": 2, "mail_retry_base_seconds": 30, "outbox_poll_seconds": 0.1}
    )


@pytest.fixture
async def booking(
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> Booking:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.mail_dir.write_text("not a folder")
    return await book(db, settings, clock)


async def first_attempt_failed(booking: Booking, db: async_sessionmaker[AsyncSession]) -> None:
    async def attempted() -> bool:
        async with db() as session:
            mail = await session.scalar(
                select(OutboxMail).where(OutboxMail.appointment_id == booking.appointment_id)
            )
            return mail is not None and mail.attempts == 1

    assert await eventually(attempted), "the worker tried once and failed"


async def row_saying(ws: ClientConnection, text: str, timeout: float = 10) -> dict[str, Any]:
    while True:
        message = await receive(ws, timeout)
        if message.get("type") == "participant" and text in message["html"]:
            return message


async def test_a_delivered_invitation_shows_in_the_live_list(
    live_server: LiveServer,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    settings: Settings,
    clock: FakeClock,
) -> None:
    await first_attempt_failed(booking, db)
    await login(client)
    async with staff(live_server, session_cookie(client)) as ws:
        await greet(ws, watch=[booking.appointment_id], view="appointment")
        await row_saying(ws, "Einladung wird versendet")

        settings.mail_dir.unlink()
        clock.advance(timedelta(minutes=1))
        row = await row_saying(ws, "Einladung zugestellt")

    assert row["participant_id"] == booking.participant_ids[0]
    assert list(settings.mail_dir.glob("*.eml")), "the mail was written"


async def test_a_failed_invitation_shows_in_the_live_list(
    live_server: LiveServer,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    await first_attempt_failed(booking, db)
    await login(client)
    async with staff(live_server, session_cookie(client)) as ws:
        await greet(ws, watch=[booking.appointment_id])
        await row_saying(ws, "Einladung wird versendet")

        clock.advance(timedelta(minutes=1))
        row = await row_saying(ws, "Einladung fehlgeschlagen")

    assert row["participant_id"] == booking.participant_ids[0]
    assert "Einladung erneut senden" in row["html"], "the list offers to send it again"
