"""Helpers for the call's WebSocket tests: the advisor's call socket, a citizen already
greeted, and "nothing of the call arrived" checked with a ping round trip."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import receive, send, socket
from websockets.asyncio.client import ClientConnection

from conftest import LiveServer
from videotermin.store.models import Appointment, Participant

# A minimal SDP offer: the server relays signals without reading them.
OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
CALL_TYPES = {"admitted", "peer_joined", "peer_updated", "peer_left", "signal", "chat"}


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
