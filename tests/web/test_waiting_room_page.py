"""The citizen's waiting-room page: only while the journey allows entering, and then with
everything the citizen needs while waiting; never a cached copy, never the token."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from page_helpers import Booking, book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import IN_WINDOW, START, record_consent

from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Appointment, StaffUser
from videotermin.web.static_files import static_url


@pytest.fixture
async def booking(
    advisor: StaffUser, db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> Booking:
    return await book(db, settings, clock)


async def test_inside_the_window_the_waiting_room_opens(
    client: httpx.AsyncClient,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    await record_consent(db, settings, booking.participant_ids[0])
    clock.set(IN_WINDOW)

    page = await client.get(f"/v/{booking.tokens[0]}/warteraum")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "<h1>Warteraum</h1>" in html
    assert "Ihre Ansprechpartnerin / Ihr Ansprechpartner holt Sie gleich ab." in html
    assert 'id="self-view"' in html and 'id="camera"' in html and 'id="microphone"' in html
    assert 'id="advisor-message" aria-live="polite"' in html
    assert 'role="status"' in html, "the connection state is announced"
    assert "Noch keine Nachricht." in html
    assert '<a href="tel:08001234567">0800 123 4567</a>' in html
    assert "Ihr Support-Code:" in html
    assert f'<script type="module" src="{static_url("js/waiting_room.js")}">' in html
    assert booking.tokens[0] not in html, "the script takes the link from the address bar"


async def test_the_advisor_message_is_shown_as_text(
    client: httpx.AsyncClient,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    await record_consent(db, settings, booking.participant_ids[0])
    async with db() as session, session.begin():
        appointment = await session.get_one(Appointment, booking.appointment_id)
        appointment.waiting_message = "<script>alert(1)</script> Ich komme gleich."
        appointment.waiting_message_at = START - timedelta(minutes=3)
    clock.set(IN_WINDOW)

    html = (await client.get(f"/v/{booking.tokens[0]}/warteraum")).text

    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ich komme gleich." in html
    assert "<script>alert(1)" not in html
    assert "Gesendet um 09:57 Uhr" in html


async def test_the_page_speaks_english_for_an_english_participant(
    client: httpx.AsyncClient,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    await record_consent(db, settings, booking.participant_ids[0])
    clock.set(IN_WINDOW)

    html = (await client.get(f"/v/{booking.tokens[0]}/warteraum?lang=en")).text

    assert '<html lang="en">' in html
    assert "Your advisor will come and get you shortly." in html
    assert "Connecting …" in html


@pytest.mark.parametrize(
    ("decision", "moment"),
    [
        (None, IN_WINDOW),
        ("declined", IN_WINDOW),
        ("agreed", START - timedelta(minutes=6)),
        ("agreed", START + timedelta(minutes=30)),
    ],
)
async def test_outside_the_rule_the_link_page_explains(
    client: httpx.AsyncClient,
    booking: Booking,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    decision: str | None,
    moment: object,
) -> None:
    if decision:
        await record_consent(db, settings, booking.participant_ids[0], decision)
    clock.set(moment)  # type: ignore[arg-type]

    response = await client.get(f"/v/{booking.tokens[0]}/warteraum", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/v/{booking.tokens[0]}"
    assert response.headers["cache-control"] == "no-store"


async def test_an_unknown_link_leads_to_the_same_unknown_page(
    client: httpx.AsyncClient, advisor: StaffUser
) -> None:
    response = await client.get("/v/" + "A" * 32 + "/warteraum", follow_redirects=True)

    assert response.status_code == 404
    assert response.url.path == "/v/" + "A" * 32
