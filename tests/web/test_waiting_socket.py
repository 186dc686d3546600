"""The citizen's waiting-room WebSocket against the real app: who gets in, what a broken
client is told, one connection per link, and the journey rule checked again and again."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from datetime import timedelta

import httpx
import pytest
from page_helpers import Booking, book, login, post_form
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    IN_WINDOW,
    START,
    booking,
    citizen,
    closed,
    fast_timing,
    greet,
    receive,
    receive_until,
    record_consent,
    send,
)

from conftest import LiveServer
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.realtime import timing
from videotermin.realtime.protocol import MAX_FRAME_BYTES
from videotermin.settings import Settings
from videotermin.store.models import Appointment, StaffUser

__all__ = ["booking", "fast_timing"]


@pytest.fixture
def token(booking: Booking) -> str:
    return booking.tokens[0]


async def refusal(live_server: LiveServer, token: str) -> tuple[int | None, str | None]:
    async with citizen(live_server, token) as ws:
        return await closed(ws)


# --- who gets in ---------------------------------------------------------------------


async def test_inside_the_window_the_citizen_is_welcomed(
    token: str, live_server: LiveServer
) -> None:
    async with citizen(live_server, token) as ws:
        welcome = await greet(ws, role="citizen")

        assert welcome == {
            "type": "welcome",
            "version": 1,
            "role": "citizen",
            "ping_interval": 10.0,
            "waiting_since": IN_WINDOW.isoformat().replace("+00:00", "Z"),
            "message": None,
        }
        await send(ws, {"type": "ping", "id": 7})
        assert await receive(ws) == {"type": "pong", "id": 7}


async def test_unknown_link_is_refused(live_server: LiveServer, advisor: StaffUser) -> None:
    assert await refusal(live_server, "A" * 32) == (4404, "unknown_link")
    assert await refusal(live_server, "kein-token") == (4404, "unknown_link")


async def test_before_the_window_is_refused(
    token: str, live_server: LiveServer, clock: FakeClock
) -> None:
    clock.set(START - timedelta(minutes=6))
    assert await refusal(live_server, token) == (4415, "before_window")


async def test_after_the_end_is_refused(
    token: str, live_server: LiveServer, clock: FakeClock
) -> None:
    clock.set(START + timedelta(minutes=30))
    assert await refusal(live_server, token) == (4411, "ended")


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (None, (4412, "consent_needed")),
        ("declined", (4413, "consent_declined")),
        ("withdrawn", (4414, "consent_withdrawn")),
    ],
)
async def test_without_consent_is_refused(
    fast_timing: object,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    live_server: LiveServer,
    decision: str | None,
    expected: tuple[int, str],
) -> None:
    booking = await book(db, settings, clock)
    participant = booking.participant_ids[0]
    if decision == "withdrawn":
        await record_consent(db, settings, participant)
    if decision:
        await record_consent(db, settings, participant, decision)
    clock.set(IN_WINDOW)

    assert await refusal(live_server, booking.tokens[0]) == expected


async def test_a_cancelled_appointment_is_refused(
    token: str, live_server: LiveServer, db: async_sessionmaker[AsyncSession]
) -> None:
    async with db() as session, session.begin():
        await session.execute(update(Appointment).values(status="cancelled"))

    assert await refusal(live_server, token) == (4410, "cancelled")


# --- a broken client is told, not dropped ------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code", "ref"),
    [
        ("this is not json", "invalid_json", None),
        ('{"type": "hello", "version": 1', "invalid_json", None),
        ("[1, 2, 3]", "not_an_object", None),
        ('{"version": 1}', "invalid_message", None),
        ('{"type": "offer", "sdp": "v=0"}', "unknown_type", "offer"),
        ('{"type": "ping", "id": "seven"}', "invalid_message", "ping"),
        ('{"type": "ping", "id": -1}', "invalid_message", "ping"),
        ('{"type": "hello", "version": 1, "role": "staff"}', "invalid_message", "hello"),
        ('{"type": "hello", "version": 1, "admin": true}', "invalid_message", "hello"),
        ('{"type": "ping", "pad": "' + "x" * 70_000 + '"}', "too_large", None),
        (b"\x00\x01binary", "binary_frame", None),
        (b"\xff\xfe not utf-8 but binary", "binary_frame", None),
    ],
)
async def test_invalid_messages_get_an_error_and_the_connection_stays(
    token: str, live_server: LiveServer, frame: str | bytes, code: str, ref: str | None
) -> None:
    async with citizen(live_server, token) as ws:
        await greet(ws)

        await ws.send(frame)
        error = await receive(ws)

        assert error["type"] == "error" and error["code"] == code and error["ref"] == ref
        assert error["message"]
        await send(ws, {"type": "ping", "id": 1})
        assert await receive(ws) == {"type": "pong", "id": 1}


async def test_messages_before_hello_and_a_second_hello_are_errors(
    token: str, live_server: LiveServer
) -> None:
    async with citizen(live_server, token) as ws:
        await send(ws, {"type": "ping"})
        assert (await receive(ws))["code"] == "hello_required"
        await greet(ws)
        await send(ws, {"type": "hello", "version": 1})
        assert (await receive(ws))["code"] == "already_greeted"
        await send(ws, {"type": "ping"})
        assert await receive(ws) == {"type": "pong", "id": None}


async def test_an_unsupported_version_is_told_and_closed(
    token: str, live_server: LiveServer
) -> None:
    async with citizen(live_server, token) as ws:
        await send(ws, {"type": "hello", "version": 2})
        error = await receive(ws)
        assert error["code"] == "unsupported_version"
        assert await closed(ws) == (4426, "unsupported_version")


async def test_invalid_utf8_closes_only_that_connection(
    token: str, live_server: LiveServer
) -> None:
    """A text frame that is not UTF-8 breaks the WebSocket protocol itself (RFC 6455
    requires closing with 1007); the server survives and serves the next connection."""
    async with citizen(live_server, token) as ws:
        await greet(ws)
        await ws.send(b"\xff\xfe\xfd", text=True)
        code, _reason = await closed(ws)
        assert code == 1007

    async with citizen(live_server, token) as again:
        assert (await greet(again))["type"] == "welcome"


async def test_oversized_socket_frames_close_at_the_server_limit_and_others_go_on(
    booking: Booking,
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    """Failure class "oversized socket frames": a frame above the server's own limit
    (``MAX_FRAME_BYTES``, uvicorn's ``ws_max_size``) is refused with 1009 as its header
    arrives, instead of being buffered up to uvicorn's 16 MiB default; one below it is
    answered with an error by the app, and the connection stays. A neighbour notices
    nothing."""
    nora = ParticipantDraft(name="Nora Nachbar", email="nora@example.org")
    neighbours = await book(db, settings, clock, participants=[nora])
    await record_consent(db, settings, neighbours.participant_ids[0])
    async with citizen(live_server, neighbours.tokens[0]) as neighbour:
        await greet(neighbour)
        for size in (MAX_FRAME_BYTES + 1, 10 * 1024 * 1024):
            async with citizen(live_server, booking.tokens[0]) as ws:
                await greet(ws)
                await ws.send('{"type": "ping", "pad": "' + "x" * size + '"}')
                code, _reason = await closed(ws)
                assert code == 1009, size
        async with citizen(live_server, booking.tokens[0]) as ws:
            await greet(ws)
            await ws.send('{"type": "ping", "pad": "' + "x" * (MAX_FRAME_BYTES - 100) + '"}')
            assert (await receive(ws))["code"] == "too_large"
            await send(ws, {"type": "ping", "id": 3})
            assert await receive(ws) == {"type": "pong", "id": 3}
        await send(neighbour, {"type": "ping", "id": 4})
        assert await receive(neighbour) == {"type": "pong", "id": 4}


async def test_a_flood_is_closed_with_4429_and_a_steady_client_never_is(
    booking: Booking,
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    """A client sending frames faster than its budget (``frames_burst`` at once, then
    ``frames_per_second``) is closed with 4429 before it is read any further; one that
    keeps to the rate is never closed, and a neighbour notices nothing."""
    budget = timing.DEFAULT
    nora = ParticipantDraft(name="Nora Nachbar", email="nora@example.org")
    neighbours = await book(db, settings, clock, participants=[nora])
    await record_consent(db, settings, neighbours.participant_ids[0])
    async with citizen(live_server, neighbours.tokens[0]) as neighbour:
        await greet(neighbour)
        async with citizen(live_server, booking.tokens[0]) as steady:
            await greet(steady)
            for n in range(int(budget.frames_burst) + 50):  # past the burst, at the rate
                await send(steady, {"type": "ping", "id": n})
                assert await receive(steady) == {"type": "pong", "id": n}
                await asyncio.sleep(1.2 / budget.frames_per_second)
        async with citizen(live_server, booking.tokens[0]) as flooder:
            await greet(flooder)
            for n in range(int(budget.frames_burst) * 3):
                await flooder.send(json.dumps({"type": "ping", "id": n}))
            code, reason = await closed(flooder)
            assert (code, reason) == (4429, "rate_limited")
        await send(neighbour, {"type": "ping", "id": 7})
        assert await receive(neighbour) == {"type": "pong", "id": 7}


# --- one connection per link ----------------------------------------------------------------


async def test_a_second_connection_replaces_the_first(token: str, live_server: LiveServer) -> None:
    async with citizen(live_server, token) as first:
        welcome = await greet(first)
        async with citizen(live_server, token) as second:
            again = await greet(second)

            assert await receive(first) == {"type": "replaced"}
            assert await closed(first) == (4409, "replaced")
            assert again["waiting_since"] == welcome["waiting_since"], "the place is kept"
            await send(second, {"type": "ping", "id": 2})
            assert await receive(second) == {"type": "pong", "id": 2}


# --- the rule, again and again -----------------------------------------------------------------


async def test_the_window_closing_ends_the_waiting_without_any_message_from_the_client(
    token: str, live_server: LiveServer, clock: FakeClock
) -> None:
    """An alarm at the window's end, not a message and not a periodic read, ends it."""
    async with citizen(live_server, token) as ws:
        await greet(ws)
        clock.set(START + timedelta(minutes=30))

        assert await receive(ws) == {"type": "state", "state": "ended"}
        assert await closed(ws) == (4411, "ended")


async def test_a_withdrawal_ends_the_waiting_without_any_message_from_the_client(
    booking: Booking,
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """Nobody announces this withdrawal on the bus: the periodic check finds it."""
    async with citizen(live_server, booking.tokens[0]) as ws:
        await greet(ws)
        await record_consent(db, settings, booking.participant_ids[0], "withdrawn")

        assert await receive(ws) == {"type": "state", "state": "consent_withdrawn"}
        assert await closed(ws) == (4414, "consent_withdrawn")


# --- the advisor's message ------------------------------------------------------------------------


async def test_an_advisor_message_reaches_the_waiting_citizen_as_text(
    token: str, live_server: LiveServer, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await login(client)
    listing = (await client.get("/termine")).text
    appointment_id = listing.split('data-appointment-id="')[1].split('"')[0]
    text = "Ich komme <b>5 Minuten</b> später & bitte warten Sie."

    async with citizen(live_server, token) as ws:
        await greet(ws)
        sent = await post_form(
            client,
            "/termine",
            f"/termine/{appointment_id}/warteraum-nachricht",
            {"waiting_message": text, "back": "/termine"},
        )
        assert sent.status_code == 303

        message = await receive_until(ws, {"type": "message"})
        assert message["message"]["text"] == text
        assert message["message"]["at"] == IN_WINDOW.isoformat().replace("+00:00", "Z")

        await post_form(
            client,
            "/termine",
            f"/termine/{appointment_id}/warteraum-nachricht",
            {"waiting_message": "  ", "back": "/termine"},
        )
        assert await receive_until(ws, {"type": "message"}) == {"type": "message", "message": None}

    async with citizen(live_server, token) as late:
        assert (await greet(late))["message"] is None


async def test_a_greeted_citizen_gets_the_latest_message_in_welcome(
    token: str, live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    await login(client)
    listing = (await client.get("/termine")).text
    appointment_id = listing.split('data-appointment-id="')[1].split('"')[0]
    await post_form(
        client,
        f"/termine/{appointment_id}",
        f"/termine/{appointment_id}/warteraum-nachricht",
        {"waiting_message": "Gleich geht es los."},
    )

    async with citizen(live_server, token) as ws:
        welcome = await greet(ws)

    assert welcome["message"]["text"] == "Gleich geht es los."


# --- a client that falls silent ----------------------------------------------------


def served_with(
    monkeypatch: pytest.MonkeyPatch, base: timing.Timing, **changes: float
) -> timing.Timing:
    """The server's timing: ``base`` with ``changes`` (request before ``live_server``)."""
    changed = dataclasses.replace(base, **changes)
    monkeypatch.setattr(timing, "DEFAULT", changed)
    return changed


@pytest.fixture
def short_idle(fast_timing: timing.Timing, monkeypatch: pytest.MonkeyPatch) -> timing.Timing:
    """Silence ends a connection after 2 s."""
    return served_with(monkeypatch, fast_timing, idle_seconds=2.0)


async def test_a_client_that_falls_silent_is_closed_and_one_that_speaks_is_not(
    short_idle: timing.Timing, token: str, live_server: LiveServer
) -> None:
    async with citizen(live_server, token) as ws:
        await greet(ws)
        for ping in range(15):  # 3 s of talk: past the idle time, never silent that long
            await asyncio.sleep(0.2)
            last_spoke = time.monotonic()
            await send(ws, {"type": "ping", "id": ping})
            assert await receive(ws) == {"type": "pong", "id": ping}

        assert await closed(ws, timeout=5) == (4408, "timeout")
        assert time.monotonic() - last_spoke >= short_idle.idle_seconds


@pytest.fixture
def short_hello(fast_timing: timing.Timing, monkeypatch: pytest.MonkeyPatch) -> timing.Timing:
    """A connection must say hello within 1 s."""
    return served_with(monkeypatch, fast_timing, hello_seconds=1.0)


async def test_a_connection_that_never_says_hello_is_closed_and_a_greeted_one_is_not(
    short_hello: timing.Timing, token: str, live_server: LiveServer
) -> None:
    async with citizen(live_server, token) as mute:
        assert await closed(mute, timeout=5) == (4408, "timeout")

    async with citizen(live_server, token) as ws:
        await greet(ws)
        await asyncio.sleep(short_hello.hello_seconds + 0.5)  # past the time for hello
        await send(ws, {"type": "ping", "id": 1})
        assert await receive(ws) == {"type": "pong", "id": 1}
