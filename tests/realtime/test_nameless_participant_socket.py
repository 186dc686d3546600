"""A participant without a name (erased, as the retention purge and a withdrawal leave it)
over the call's sockets: the waiting list, the roster and the chat carry an empty name and
the role — never the German label of the role, which an English page could not show. The
pages name such a participant by their role in their own language."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from call_helpers import advisor_call, book_call, open_call
from page_helpers import Booking, login
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    citizen,
    fast_timing,
    greet,
    receive,
    send,
    session_cookie,
)
from websockets.asyncio.client import ClientConnection

from conftest import LiveServer
from videotermin.domain.appointments import ROLE_LABELS
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Participant, StaffUser

__all__ = ["fast_timing"]

GERMAN_LABELS = tuple(ROLE_LABELS.values())  # "Dolmetschung", "Kundin/Kunde", …


@pytest.fixture
async def booking(
    fast_timing: object,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> Booking:
    """Clara (citizen) and an interpreter who agreed and whose name was erased since."""
    booking = await book_call(db, settings, clock)
    async with db() as session, session.begin():
        await session.execute(
            update(Participant)
            .where(Participant.id == booking.participant_ids[1])
            .values(name=None)
        )
    return booking


class Wire:
    """One socket's messages, each kept as the text it came in."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[str] = []

    async def until(self, type: str, check: Any = lambda message: True) -> dict[str, Any]:
        """The first message of ``type`` for which ``check`` holds; others are kept too."""
        while True:
            message = await receive(self.ws)
            self.frames.append(json.dumps(message, ensure_ascii=False))
            if message["type"] == type and check(message):
                return message

    def german_labels(self) -> list[str]:
        return [label for label in GERMAN_LABELS for frame in self.frames if label in frame]


def waiting_ids(*ids: str) -> Any:
    return lambda message: {p["id"] for p in message["participants"]} == set(ids)


async def test_a_nameless_interpreter_travels_with_an_empty_name_and_no_german_word(
    live_server: LiveServer, booking: Booking, client: httpx.AsyncClient
) -> None:
    clara_id, ina_id = booking.participant_ids
    await login(client)
    async with advisor_call(live_server, session_cookie(client), booking.appointment_id) as desk:
        await open_call(desk)
        advisor = Wire(desk)
        async with citizen(live_server, booking.tokens[1]) as ina_ws:
            ina = Wire(ina_ws)
            await greet(ina_ws)
            listed = await advisor.until("waiting", waiting_ids(ina_id))
            assert [(p["name"], p["role"]) for p in listed["participants"]] == [("", "interpreter")]

            await send(desk, {"type": "admit", "participant": ina_id})
            ina_peer = (await ina.until("admitted"))["self"]
            joined = await advisor.until("peer_joined")
            assert (joined["peer"]["id"], joined["peer"]["name"]) == (ina_peer, "")
            assert joined["peer"]["role"] == "interpreter"

            async with citizen(live_server, booking.tokens[0]) as clara_ws:
                clara = Wire(clara_ws)
                await greet(clara_ws)
                listed = await advisor.until("waiting", waiting_ids(clara_id))
                assert listed["participants"][0]["name"] == "Clara Kundin"
                await send(desk, {"type": "admit", "participant": clara_id})
                peers = (await clara.until("admitted"))["peers"]
                assert {p["id"]: (p["name"], p["role"]) for p in peers}[ina_peer] == (
                    "",
                    "interpreter",
                )
                await ina.until("peer_joined")  # Clara, whom Ina now knows

                await send(ina_ws, {"type": "chat", "text": "Guten Tag"})
                line = await advisor.until("chat")
                assert (line["from"], line["name"], line["role"]) == (ina_peer, "", "interpreter")
                assert (await clara.until("chat"))["name"] == ""
                assert (await ina.until("chat"))["name"] == ""

    for wire in (advisor, ina, clara):
        assert wire.frames and wire.german_labels() == [], wire.frames
