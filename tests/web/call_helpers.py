"""Helpers for the call's WebSocket tests: Clara and Ina's appointment with the window
open, the advisor's session and call socket, admitting someone, and "nothing of the call
arrived" checked with a ping round trip.

The fixtures (``booking``, ``cookie``) need ``fast_timing`` imported into the test module."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from page_helpers import Booking, book, login
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    IN_WINDOW,
    greet,
    receive,
    receive_until,
    record_consent,
    send,
    session_cookie,
    socket,
)
from websockets.asyncio.client import ClientConnection

from conftest import LiveServer
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Appointment, Participant, StaffUser

# A minimal SDP offer: the server relays signals without reading them.
OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
CALL_TYPES = {"admitted", "peer_joined", "peer_updated", "peer_left", "signal", "chat"}
CLARA = ParticipantDraft(name="Clara Kundin", email="clara@example.org")
INA = ParticipantDraft(name="Ina Dolmetscherin", email="ina@example.org", role="interpreter")


async def book_call(
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    *,
    clara: ParticipantDraft = CLARA,
    agreed: int = 2,
) -> Booking:
    """Berater's appointment with Clara (citizen) and Ina (interpreter), of whom the first
    ``agreed`` agreed; the clock moved into the join window."""
    booking = await book(db, settings, clock, participants=[clara, INA])
    for participant_id in booking.participant_ids[:agreed]:
        await record_consent(db, settings, participant_id)
    clock.set(IN_WINDOW)
    return booking


@pytest.fixture
async def booking(
    fast_timing: object,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> Booking:
    """Clara (citizen) and Ina (interpreter) agreed; the window is open."""
    return await book_call(db, settings, clock)


@pytest.fixture
async def cookie(booking: Booking, client: httpx.AsyncClient) -> str:
    """The advisor logged in on ``client``: the session cookie."""
    await login(client)
    return session_cookie(client)


async def admit(advisor_ws: ClientConnection, participant_id: str) -> None:
    await send(advisor_ws, {"type": "admit", "participant": participant_id})


async def let_in(
    advisor_ws: ClientConnection, ws: ClientConnection, participant_id: str
) -> dict[str, Any]:
    """``ws`` (the participant's socket) says hello and shows on the advisor's waiting list;
    the advisor admits them. The ``admitted`` message ``ws`` receives."""
    await greet(ws)
    await receive_until(advisor_ws, {"type": "waiting"})
    await admit(advisor_ws, participant_id)
    return await receive_until(ws, {"type": "admitted"})


def advisor_call(
    server: LiveServer, cookie: str, appointment_id: str, origin: str | None = None
) -> Any:
    return socket(server, f"/ws/call/{appointment_id}", origin=origin or server.url, cookie=cookie)


async def open_call(ws: ClientConnection) -> tuple[dict[str, Any], dict[str, Any]]:
    """Say hello on the advisor's call socket; returns ``admitted`` and the first ``waiting``."""
    await send(ws, {"type": "hello", "version": 1})
    welcome = await receive(ws)
    assert welcome["type"] == "welcome" and welcome["role"] == "advisor", welcome
    admitted = await receive(ws)
    assert admitted["type"] == "admitted", admitted
    waiting = await receive(ws)
    assert waiting["type"] == "waiting", waiting
    return admitted, waiting


async def until_pong(ws: ClientConnection, ping_id: int = 4711) -> list[dict[str, Any]]:
    """Everything the socket receives before the answer to a ping sent now: the server
    handles one thing at a time, so whatever it had to deliver before arrives first."""
    await send(ws, {"type": "ping", "id": ping_id})
    seen = []
    while True:
        message = await receive(ws)
        if message == {"type": "pong", "id": ping_id}:
            return seen
        seen.append(message)


async def admitted_at(db: async_sessionmaker[AsyncSession], participant_id: str) -> Any:
    async with db() as session:
        return await session.scalar(
            select(Participant.admitted_at).where(Participant.id == participant_id)
        )


async def status_of(db: async_sessionmaker[AsyncSession], appointment_id: str) -> str | None:
    async with db() as session:
        return await session.scalar(
            select(Appointment.status).where(Appointment.id == appointment_id)
        )


async def collect(ws: ClientConnection, *types: str) -> dict[str, dict[str, Any]]:
    """Read until a message of each of ``types`` arrived (in any order); the first of each."""
    found: dict[str, dict[str, Any]] = {}
    while set(types) - found.keys():
        message = await receive(ws)
        if message["type"] in types:
            found.setdefault(message["type"], message)
    return found
