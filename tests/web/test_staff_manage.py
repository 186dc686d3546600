"""Changing an appointment through the forms on its page; only its advisor (or an admin) may."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from page_helpers import Booking, book, count, csrf_token, login, post_form
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, add_staff
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Appointment, OutboxMail, Participant, StaffUser

COMPANION = ParticipantDraft(name="Bernd Begleiter", email="bernd@example.org", role="companion")
CITIZEN = ParticipantDraft(name="Clara Kundin", email="clara@example.org")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The outbox worker polls rarely here, so the mail states a test sets stay as set."""
    return settings.model_copy(update={"outbox_poll_seconds": 300})


async def appointment_status(db: async_sessionmaker[AsyncSession], appointment_id: str) -> str:
    async with db() as session:
        appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment.status


async def logged_in_at_a_booking(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    participants: list[ParticipantDraft] | None = None,
) -> tuple[Booking, str]:
    """Berater's appointment, booked, and Berater logged in on ``client``: the booking and
    the address of the appointment's page."""
    booking = await book(db, settings, clock, participants=participants)
    await login(client)
    return booking, f"/termine/{booking.appointment_id}"


async def test_page_shows_details_participants_and_forms(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock, participants=[CITIZEN, COMPANION])
    await login(client)

    page = await client.get(f"/termine/{booking.appointment_id}")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store", "personal data is not cached"
    html = page.text
    assert "<h1>Termin am Donnerstag, 3. Dezember 2026</h1>" in html
    assert "10:00 Uhr" in html and "30 Minuten" in html and "geplant" in html
    assert "<strong>Clara Kundin</strong> (Kundin/Kunde), clara@example.org" in html
    assert "<strong>Bernd Begleiter</strong> (Begleitperson)" in html
    for action in ("verschieben", "teilnehmende", "absagen"):
        assert f"/termine/{booking.appointment_id}/{action}" in html
    remove = (
        f"/termine/{booking.appointment_id}/teilnehmende/{booking.participant_ids[1]}/entfernen"
    )
    assert remove in html
    assert f"teilnehmende/{booking.participant_ids[0]}/entfernen" not in html, "citizen stays"


async def test_reschedule_moves_the_appointment(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _, url = await logged_in_at_a_booking(client, db, settings, clock)
    mails_before = await count(db, OutboxMail)

    response = await post_form(
        client,
        url,
        f"{url}/verschieben",
        {"date": "2026-12-04", "time": "14:30", "duration_minutes": "60", "subject": "Neu"},
    )

    assert response.status_code == 303
    page = await client.get(url)
    assert "Der Termin ist geändert." in page.text
    assert "<h1>Termin am Freitag, 4. Dezember 2026</h1>" in page.text
    assert "14:30 Uhr" in page.text and "60 Minuten" in page.text
    assert await count(db, OutboxMail) == mails_before + 1  # an updated invitation

    same = await post_form(
        client,
        url,
        f"{url}/verschieben",
        {"date": "2026-12-04", "time": "14:30", "duration_minutes": "60", "subject": "Neu"},
    )
    assert same.status_code == 303
    assert "Es wurde nichts geändert" in (await client.get(url)).text


async def test_reschedule_into_the_past_is_refused(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking, url = await logged_in_at_a_booking(client, db, settings, clock)

    response = await post_form(
        client,
        url,
        f"{url}/verschieben",
        {"date": "2026-12-01", "time": "10:00", "duration_minutes": "30", "subject": ""},
    )

    assert response.status_code == 422
    assert '<a href="#f-date">Der Termin muss in der Zukunft liegen.' in response.text
    assert 'value="2026-12-01"' in response.text, "the entered value is shown again"
    async with db() as session:
        appointment = await session.get(Appointment, booking.appointment_id)
        assert appointment is not None
        assert appointment.start_at == NOW + timedelta(days=1)


async def test_cancel_asks_first_then_cancels(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking, url = await logged_in_at_a_booking(client, db, settings, clock)

    confirmation = await client.get(f"{url}/absagen")
    assert confirmation.status_code == 200
    assert "Termin wirklich absagen?" in confirmation.text
    assert await appointment_status(db, booking.appointment_id) == "scheduled"

    response = await client.post(
        f"{url}/absagen", data={"csrf_token": csrf_token(confirmation.text)}
    )

    assert response.status_code == 303
    page = await client.get(url)
    assert "Der Termin ist abgesagt." in page.text
    assert "abgesagt" in page.text
    assert f"{url}/verschieben" not in page.text, "no change forms on a cancelled appointment"
    assert await appointment_status(db, booking.appointment_id) == "cancelled"
    again = await client.post(f"{url}/absagen", data={"csrf_token": csrf_token(page.text)})
    assert again.status_code == 422
    assert "kann nicht mehr geändert werden" in again.text


async def test_add_participant_and_refuse_a_duplicate(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _, url = await logged_in_at_a_booking(client, db, settings, clock)
    person = {"new.role": "interpreter", "new.name": "Ina Dolmetscherin", "new.language": "en"}

    added = await post_form(
        client, url, f"{url}/teilnehmende", {**person, "new.email": "ina@example.org"}
    )
    duplicate = await post_form(
        client, url, f"{url}/teilnehmende", {**person, "new.email": "clara@example.org"}
    )

    assert added.status_code == 303
    assert duplicate.status_code == 422
    assert '<a href="#f-new-email">Diese E-Mail-Adresse ist schon' in duplicate.text
    page = await client.get(url)
    assert "<strong>Ina Dolmetscherin</strong> (Dolmetschung), ina@example.org" in page.text
    assert page.text.count("<strong>Ina Dolmetscherin</strong>") == 1


async def test_remove_participant_after_confirmation(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking, url = await logged_in_at_a_booking(client, db, settings, clock, [CITIZEN, COMPANION])
    remove = f"{url}/teilnehmende/{booking.participant_ids[1]}/entfernen"

    confirmation = await client.get(remove)
    assert "Bernd Begleiter wirklich entfernen?" in confirmation.text
    response = await client.post(remove, data={"csrf_token": csrf_token(confirmation.text)})

    assert response.status_code == 303
    page = await client.get(url)
    assert "Die Person ist entfernt." in page.text
    assert "Bernd Begleiter" not in page.text
    assert (await client.get(remove)).status_code == 404


async def test_a_participant_without_a_name_is_removed_by_role(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    """A companion whose name was erased (withdrawn consent) is named by role, never "None"."""
    booking = await book(db, settings, clock, participants=[CITIZEN, COMPANION])
    async with db() as session, session.begin():
        companion = await session.get(Participant, booking.participant_ids[1])
        assert companion is not None
        companion.name = None
    await login(client)
    remove = (
        f"/termine/{booking.appointment_id}/teilnehmende/{booking.participant_ids[1]}/entfernen"
    )

    german = await client.get(remove)
    english = await client.get(remove, params={"lang": "en"})

    assert "<h1>Begleitperson wirklich entfernen?</h1>" in german.text
    assert "Die Person (Begleitperson) wird aus dem Termin" in german.text
    assert "None" not in german.text and "None" not in english.text
    assert "Companion" in english.text and "Begleitperson" not in english.text


async def test_citizen_cannot_be_removed(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking, url = await logged_in_at_a_booking(client, db, settings, clock)

    response = await post_form(
        client, url, f"{url}/teilnehmende/{booking.participant_ids[0]}/entfernen", {}
    )

    assert response.status_code == 422
    assert "Die Kundin oder der Kunde kann nicht entfernt werden." in response.text
    assert "<strong>Clara Kundin</strong>" in response.text


async def test_resend_invitation_queues_a_new_mail(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking, url = await logged_in_at_a_booking(client, db, settings, clock)

    response = await post_form(
        client, url, f"{url}/teilnehmende/{booking.participant_ids[0]}/einladung", {}
    )

    assert response.status_code == 303
    assert response.headers["location"] == url
    assert "Die Einladung wird erneut versendet" in (await client.get(url)).text
    assert await count(db, OutboxMail) == 2


async def test_invitation_states_are_shown_and_a_failed_one_can_be_resent(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    queued = await book(db, settings, clock, subject="Wartet")
    sent = await book(db, settings, clock, subject="Zugestellt")
    failed = await book(db, settings, clock, subject="Kaputt")
    far = NOW + timedelta(days=30)
    async with db() as session, session.begin():
        # park the mails out of the running worker's reach, then give each its state
        for booking, values in (
            (queued, {"status": "queued", "next_attempt_at": far}),
            (sent, {"status": "sent", "sent_at": NOW + timedelta(minutes=3), "message": None}),
            (failed, {"status": "failed", "next_attempt_at": None, "message": None}),
        ):
            await session.execute(
                update(OutboxMail)
                .where(OutboxMail.appointment_id == booking.appointment_id)
                .values(**values)
            )
    await login(client)

    listing = (await client.get("/termine")).text

    assert "Einladung wird versendet" in listing
    assert "Einladung zugestellt um 10:03 Uhr" in listing
    assert "⚠ Einladung fehlgeschlagen" in listing
    resend = f"/termine/{failed.appointment_id}/teilnehmende/{failed.participant_ids[0]}/einladung"
    assert listing.count("/einladung") == 1
    assert f'action="{resend}"' in listing
    response = await client.post(
        resend, data={"csrf_token": csrf_token(listing), "back": "/termine"}
    )
    assert response.headers["location"] == "/termine"
    async with db() as session:
        statuses = list(
            await session.scalars(
                select(OutboxMail.status)
                .where(OutboxMail.appointment_id == failed.appointment_id)
                .order_by(OutboxMail.id)
            )
        )
    assert statuses[0] == "failed" and len(statuses) == 2


async def test_other_advisor_gets_404_and_changes_nothing(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock, participants=[CITIZEN, COMPANION])
    await add_staff(db, "kollegin", display_name="Karla Kollegin")
    await login(client, username="kollegin")
    url = f"/termine/{booking.appointment_id}"
    token = csrf_token((await client.get("/termine")).text)

    assert "Clara Kundin" not in (await client.get("/termine")).text
    for path in (
        url,
        f"{url}/absagen",
        f"{url}/teilnehmende/{booking.participant_ids[1]}/entfernen",
    ):
        page = await client.get(path)
        assert page.status_code == 404
        assert "Termin nicht gefunden" in page.text
        assert "Clara Kundin" not in page.text
    for path, data in (
        (f"{url}/absagen", {}),
        (f"{url}/verschieben", {"date": "2026-12-05", "time": "10:00", "duration_minutes": "30"}),
        (
            f"{url}/teilnehmende",
            {"new.role": "colleague", "new.name": "X", "new.email": "x@example.org"},
        ),
        (f"{url}/teilnehmende/{booking.participant_ids[1]}/entfernen", {}),
        (f"{url}/teilnehmende/{booking.participant_ids[0]}/einladung", {}),
    ):
        response = await client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 404, path
    async with db() as session:
        appointment = await session.get(Appointment, booking.appointment_id)
        assert appointment is not None
        assert appointment.status == "scheduled"
        assert appointment.start_at == NOW + timedelta(days=1)
        assert [p.active for p in appointment.participants] == [True, True]
    assert await count(db, OutboxMail) == 2


async def test_admin_may_open_any_appointment(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    await add_staff(db, "chefin", role="admin")
    await login(client, username="chefin")

    page = await client.get(f"/termine/{booking.appointment_id}")

    assert page.status_code == 200
    assert "Bea Berater" in page.text


@pytest.mark.parametrize(
    "appointment_id", ["nicht-da", "x" * 80, "00000000-0000-0000-0000-000000000000"]
)
async def test_unknown_or_malformed_ids_get_the_404_page(
    client: httpx.AsyncClient, advisor: StaffUser, appointment_id: str
) -> None:
    await login(client)

    page = await client.get(f"/termine/{appointment_id}")

    assert page.status_code == 404
    assert "<h1>Termin nicht gefunden</h1>" in page.text
    assert 'action="/logout"' in page.text
