"""The advisor's pages with live rows: consent, device check and "wartet seit" per
participant, and the message to the waiting room (stored, checked, CSRF-protected)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from call_helpers import CLARA, INA
from journey_helpers import add_device_check
from page_helpers import Booking, book, csrf_token, login, post_form
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    IN_WINDOW,
    citizen,
    eventually,
    fast_timing,
    greet,
    record_consent,
)

from conftest import LiveServer, add_staff
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Appointment, Participant, StaffUser
from videotermin.web.static_files import static_url

__all__ = ["fast_timing"]


@pytest.fixture
async def booking(
    fast_timing: object,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> Booking:
    return await book(
        db,
        settings,
        clock,
        participants=[CLARA, INA],
    )


async def stored_message(
    db: async_sessionmaker[AsyncSession], appointment_id: str
) -> tuple[str | None, object]:
    async with db() as session:
        appointment = await session.get_one(Appointment, appointment_id)
        return appointment.waiting_message, appointment.waiting_message_at


# --- the rows --------------------------------------------------------------------------------


async def test_each_row_shows_consent_device_check_and_invitation(
    client: httpx.AsyncClient,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    citizen_id, interpreter_id = booking.participant_ids
    await record_consent(db, settings, citizen_id)
    await add_device_check(db, citizen_id, verdict="green")
    await record_consent(db, settings, interpreter_id, "declined")
    await login(client)

    for url in ("/termine", f"/termine/{booking.appointment_id}"):
        html = (await client.get(url)).text
        assert f'data-participant-id="{citizen_id}"' in html
        assert "Einwilligung: zugestimmt" in html
        assert "Einwilligung: abgelehnt" in html
        assert "Gerätetest: grün – alles in Ordnung (Chrome Mobile 131, Android 14)" in html
        assert "Gerätetest: noch nicht gemacht" in html
        assert "Einladung wird versendet" in html
        assert 'id="live-alerts" role="alert"' in html
        assert f'<script type="module" src="{static_url("js/staff_live.js")}">' in html
        assert "wartet seit" not in html


async def test_a_withdrawn_participant_shows_the_role_and_no_name(
    client: httpx.AsyncClient,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    citizen_id = booking.participant_ids[0]
    await record_consent(db, settings, citizen_id)
    await record_consent(db, settings, citizen_id, "withdrawn")
    async with db() as session, session.begin():
        participant = await session.get_one(Participant, citizen_id)
        participant.name = participant.email = participant.customer_number = None
    await login(client)

    html = (await client.get(f"/termine/{booking.appointment_id}")).text

    row = html.split(f'data-participant-id="{citizen_id}"')[1].split("</li>\n")[0]
    assert "<strong>Kundin/Kunde</strong>" in row
    assert "Einwilligung widerrufen" in row
    assert "None" not in row and "Gerätetest" not in row
    assert "Einladung erneut senden" not in row, "nobody to invite any more"


async def test_waiting_since_appears_while_the_citizen_waits_and_goes_after_the_grace(
    client: httpx.AsyncClient,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    await record_consent(db, settings, booking.participant_ids[0])
    clock.set(IN_WINDOW)
    await login(client)

    async def listing() -> str:
        return (await client.get("/termine")).text

    async with citizen(live_server, booking.tokens[0]) as ws:
        await greet(ws)
        assert "wartet seit 09:58 Uhr" in await listing()
        clock.advance(timedelta(minutes=1))
    assert "wartet seit 09:58 Uhr" in await listing(), "a reload or a short drop keeps the place"

    async def gone() -> bool:
        clock.advance(timedelta(seconds=11))
        return "wartet seit" not in await listing()

    assert await eventually(gone), "after the grace the citizen no longer waits"


# --- the message to the waiting room -----------------------------------------------------------


async def test_the_message_is_stored_and_the_page_says_so(
    client: httpx.AsyncClient,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await login(client)
    url = f"/termine/{booking.appointment_id}"

    sent = await post_form(
        client,
        url,
        f"{url}/warteraum-nachricht",
        {"waiting_message": " Ich komme 5 Min. später.\r\n"},
    )

    assert sent.status_code == 303 and sent.headers["location"] == url
    assert await stored_message(db, booking.appointment_id) == ("Ich komme 5 Min. später.", clock())
    page = (await client.get(url)).text
    assert "Die Nachricht ist jetzt im Warteraum zu sehen." in page
    assert ">Ich komme 5 Min. später.</textarea>" in page
    assert "Gesendet um 10:00 Uhr." in page

    removed = await post_form(client, url, f"{url}/warteraum-nachricht", {"waiting_message": ""})
    assert removed.status_code == 303
    assert await stored_message(db, booking.appointment_id) == (None, None)


async def test_a_message_from_the_list_returns_to_the_list(
    client: httpx.AsyncClient, booking: Booking
) -> None:
    await login(client)
    url = f"/termine/{booking.appointment_id}/warteraum-nachricht"

    sent = await post_form(
        client, "/termine", url, {"waiting_message": "Gleich.", "back": "/termine"}
    )

    assert sent.headers["location"] == "/termine"
    assert ">Gleich.</textarea>" in (await client.get("/termine")).text


async def test_a_too_long_message_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, booking: Booking, db: async_sessionmaker[AsyncSession]
) -> None:
    await login(client)
    url = f"/termine/{booking.appointment_id}"
    text = "ä" * 501

    refused = await post_form(client, url, f"{url}/warteraum-nachricht", {"waiting_message": text})

    assert refused.status_code == 422
    assert "Die Nachricht ist 501 Zeichen lang; es sind höchstens 500 Zeichen möglich." in (
        refused.text
    )
    assert f">{text}</textarea>" in refused.text, "the text is kept for shortening"
    assert 'aria-invalid="true"' in refused.text
    assert await stored_message(db, booking.appointment_id) == (None, None)
    accepted = await post_form(
        client, url, f"{url}/warteraum-nachricht", {"waiting_message": "ä" * 500}
    )
    assert accepted.status_code == 303


async def test_without_the_csrf_token_nothing_is_stored(
    client: httpx.AsyncClient, booking: Booking, db: async_sessionmaker[AsyncSession]
) -> None:
    await login(client)

    response = await client.post(
        f"/termine/{booking.appointment_id}/warteraum-nachricht",
        data={"waiting_message": "Hallo", "csrf_token": "falsch"},
    )

    assert response.status_code == 403
    assert await stored_message(db, booking.appointment_id) == (None, None)


async def test_another_advisors_appointment_is_not_found(
    client: httpx.AsyncClient,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    live_server: LiveServer,
) -> None:
    await add_staff(db, "kollegin")
    await login(client, "kollegin")

    response = await post_form(
        client,
        "/termine",
        f"/termine/{booking.appointment_id}/warteraum-nachricht",
        {"waiting_message": "Hallo"},
    )

    assert response.status_code == 404
    assert await stored_message(db, booking.appointment_id) == (None, None)


async def test_a_cancelled_appointment_takes_no_message(
    client: httpx.AsyncClient, booking: Booking, db: async_sessionmaker[AsyncSession]
) -> None:
    await login(client)
    url = f"/termine/{booking.appointment_id}"
    page = (await client.get(url)).text
    async with db() as session, session.begin():
        appointment = await session.get_one(Appointment, booking.appointment_id)
        appointment.status = "cancelled"

    response = await client.post(
        f"{url}/warteraum-nachricht",
        data={"csrf_token": csrf_token(page), "waiting_message": "Zu spät"},
    )

    assert response.status_code == 422
    assert "Der Termin ist vorbei oder abgesagt: Niemand wartet mehr." in response.text
    assert await stored_message(db, booking.appointment_id) == (None, None)
    assert "Nachricht an den Warteraum" not in response.text, "no form on a cancelled appointment"
