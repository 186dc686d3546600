"""The advisor's live list over ``/ws/staff``: who may connect, which events reach whom,
and rows that change as citizens consent, enter and leave the waiting room."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from call_helpers import book_call, cookie
from journey_helpers import add_device_check
from journey_helpers import withdraw as withdraw_through_the_form
from page_helpers import Booking, book, login, post_form
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    IN_WINDOW,
    after_the_grace,
    citizen,
    closed,
    fast_timing,
    greet,
    receive,
    receive_until,
    record_consent,
    session_cookie,
    socket,
    staff,
)
from websockets.exceptions import InvalidStatus

from conftest import LiveServer, add_staff
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

__all__ = ["cookie", "fast_timing"]


@pytest.fixture
async def booking(
    fast_timing: object,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> Booking:
    """Berater's appointment with a citizen who agreed and an interpreter; the window is open."""
    return await book_call(db, settings, clock, agreed=1)


# --- who may connect -------------------------------------------------------------------------


async def test_without_a_session_the_socket_is_closed_with_login_required(
    live_server: LiveServer, booking: Booking
) -> None:
    async with staff(live_server, "A" * 32) as ws:
        assert await closed(ws) == (4401, "login_required")
    async with socket(live_server, "/ws/staff", origin=live_server.url) as ws:
        assert await closed(ws) == (4401, "login_required")


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://127.0.0.1:1", "https://127.0.0.1", "null", None]
)
async def test_a_foreign_or_missing_origin_is_refused_before_the_socket_opens(
    live_server: LiveServer, cookie: str, origin: str | None
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with socket(live_server, "/ws/staff", origin=origin, cookie=cookie):
            pass
    assert refused.value.response.status_code == 403


async def test_support_staff_are_refused(
    live_server: LiveServer, booking: Booking, db: async_sessionmaker[AsyncSession]
) -> None:
    await add_staff(db, "helfer", role="support")
    async with httpx.AsyncClient(base_url=live_server.url) as other:
        await login(other, "helfer")
        async with staff(live_server, session_cookie(other)) as ws:
            assert await closed(ws) == (4403, "forbidden")


async def test_logging_out_closes_the_live_list(
    live_server: LiveServer, booking: Booking, client: httpx.AsyncClient, cookie: str
) -> None:
    async with staff(live_server, cookie) as ws:
        await greet(ws, watch=[booking.appointment_id])
        await post_form(client, "/termine", "/logout", {})

        assert await closed(ws) == (4401, "login_required")


# --- which events reach whom ------------------------------------------------------------------


async def test_only_the_owner_receives_an_appointments_events(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    await add_staff(db, "kollegin", display_name="Kora Kollegin")
    foreign = await book(
        db,
        settings,
        clock,
        advisor="kollegin",
        start=IN_WINDOW + timedelta(minutes=2),
        participants=[ParticipantDraft(name="Fritz Fremd", email="fritz@example.org")],
    )
    await record_consent(db, settings, foreign.participant_ids[0])

    async with staff(live_server, cookie) as ws:
        welcome = await greet(ws, watch=[booking.appointment_id, foreign.appointment_id])
        assert welcome["watching"] == [booking.appointment_id]
        async with citizen(live_server, foreign.tokens[0]) as other:
            await greet(other)
            async with citizen(live_server, booking.tokens[0]) as mine:
                await greet(mine)
                received = [await receive(ws)]
                while not received[-1].get("entered"):
                    received.append(await receive(ws))

        assert {m["appointment_id"] for m in received} == {booking.appointment_id}
        entered = received[-1]
        assert entered["participant_id"] == booking.participant_ids[0]
        assert entered["notice"] == (
            "Clara Kundin (Kundin/Kunde) wartet im Warteraum – Termin um 10:00 Uhr."
        )
        assert "wartet seit 09:58 Uhr" in entered["html"]
        assert entered["waiting_since"] == IN_WINDOW.isoformat().replace("+00:00", "Z")


async def test_the_first_rows_come_right_after_welcome(
    live_server: LiveServer, booking: Booking, cookie: str
) -> None:
    async with staff(live_server, cookie) as ws:
        await greet(ws, watch=[booking.appointment_id], view="appointment")
        rows = {(await receive(ws))["participant_id"] for _ in booking.participant_ids}

    assert rows == set(booking.participant_ids)


async def test_an_admin_may_watch_any_appointment(
    live_server: LiveServer, booking: Booking, db: async_sessionmaker[AsyncSession]
) -> None:
    await add_staff(db, "chefin", role="admin")
    async with httpx.AsyncClient(base_url=live_server.url) as other:
        await login(other, "chefin")
        async with staff(live_server, session_cookie(other)) as ws:
            welcome = await greet(ws, watch=[booking.appointment_id, "no-such-appointment"])

    assert welcome["watching"] == [booking.appointment_id]


# --- rows that change -----------------------------------------------------------------------------


async def test_entering_and_leaving_the_waiting_room_change_the_row(
    live_server: LiveServer, booking: Booking, cookie: str, clock: FakeClock
) -> None:
    async with staff(live_server, cookie) as ws:
        await greet(ws, watch=[booking.appointment_id])
        async with citizen(live_server, booking.tokens[0]) as waiting:
            await greet(waiting)
            entered = await receive_until(ws, {"type": "participant", "entered": True})
        assert 'class="participant participant--waiting"' in entered["html"]

        left = await after_the_grace(clock, ws, {"type": "participant", "waiting_since": None})

    assert left["participant_id"] == booking.participant_ids[0]
    assert left["entered"] is False and left["notice"] is None
    assert "wartet seit" not in left["html"]


async def test_a_withdrawal_shows_live_and_ends_the_waiting_at_once(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with staff(live_server, cookie) as ws:
        await greet(ws, watch=[booking.appointment_id])
        async with citizen(live_server, booking.tokens[0]) as waiting:
            await greet(waiting)
            await receive_until(ws, {"type": "participant", "entered": True})
            async with httpx.AsyncClient(base_url=live_server.url) as browser:
                await withdraw_through_the_form(browser, booking.tokens[0])

            assert await receive(waiting) == {"type": "state", "state": "consent_withdrawn"}
            assert await closed(waiting) == (4414, "consent_withdrawn")
        row = await receive_until(
            ws, {"participant_id": booking.participant_ids[0], "waiting_since": None}
        )

    assert "Einwilligung widerrufen" in row["html"]
    assert "Clara" not in row["html"], "a withdrawal erased the name"
    assert "<strong>Kundin/Kunde</strong>" in row["html"]


async def test_the_row_shows_consent_and_the_latest_device_check(
    live_server: LiveServer,
    booking: Booking,
    cookie: str,
    db: async_sessionmaker[AsyncSession],
) -> None:
    await add_device_check(db, booking.participant_ids[0], verdict="yellow")
    async with staff(live_server, cookie) as ws:
        await greet(ws, watch=[booking.appointment_id], view="appointment")
        first = await receive_until(ws, {"participant_id": booking.participant_ids[0]})
        second = await receive_until(ws, {"participant_id": booking.participant_ids[1]})

    assert "Einwilligung: zugestimmt" in first["html"]
    assert (
        "Gerätetest: gelb – eingeschränkt nutzbar (Chrome Mobile 131, Android 14)"
        in (first["html"])
    )
    assert "clara@example.org" in first["html"], "the appointment page's full row"
    assert "Einwilligung: keine Antwort" in second["html"]
    assert "Gerätetest: noch nicht gemacht" in second["html"]
