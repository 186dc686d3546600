"""Creating an appointment through the advisor's form, and every refusal it can meet."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from page_helpers import VALID, count, login, post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from videotermin.store.models import Appointment, OutboxMail, Participant, StaffUser


async def create(client: httpx.AsyncClient, **changes: str) -> httpx.Response:
    return await post_form(client, "/termine/neu", "/termine/neu", {**VALID, **changes})


async def test_form_offers_every_field_with_a_label(
    client: httpx.AsyncClient, advisor: StaffUser
) -> None:
    await login(client)
    page = await client.get("/termine/neu")

    assert page.status_code == 200
    assert 'type="date"' in page.text and 'type="time"' in page.text
    assert 'name="duration_minutes" type="number" value="30"' in page.text
    for control in re.findall(r'<(?:input|select) id="([^"]+)"', page.text):
        assert f'<label for="{control}">' in page.text, control
    assert page.text.count('name="participants.1.role"') == 1
    assert page.text.count('name="participants.2.role"') == 1


async def test_a_date_typed_as_people_write_it_books_the_same_day(
    client: httpx.AsyncClient, advisor: StaffUser
) -> None:
    """Where a browser shows a plain text field for the date, people type 3.12.2026."""
    await login(client)

    response = await create(client, date="3.12.2026")

    assert response.status_code == 303
    detail = await client.get(response.headers["location"])
    assert "Donnerstag, 3. Dezember 2026" in detail.text


async def test_valid_appointment_is_created_and_listed(
    client: httpx.AsyncClient, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await login(client)

    response = await create(client)

    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/termine/[0-9a-f-]{36}", location)
    detail = await client.get(location)
    assert "Der Termin ist angelegt." in detail.text
    assert "Donnerstag, 3. Dezember 2026" in detail.text
    listing = await client.get("/termine")
    assert "Donnerstag, 3. Dezember 2026" in listing.text
    assert "10:00 Uhr – Beratung zur Arbeitssuche" in listing.text
    assert "45 Minuten" in listing.text
    assert "<strong>Clara Kundin</strong> (Kundin/Kunde)" in listing.text
    assert "<strong>Ivan Dolmetscher</strong> (Dolmetschung)" in listing.text
    # the outbox worker runs meanwhile: each invitation is either queued or already delivered
    assert len(re.findall(r"Einladung (?:wird versendet|zugestellt)", listing.text)) == 2
    async with db() as session:
        appointment = await session.scalar(select(Appointment))
        assert appointment is not None
        assert appointment.start_at.isoformat() == "2026-12-03T09:00:00+00:00"  # 10:00 in Berlin
        people = {p.name: p for p in appointment.participants}
    assert set(people) == {"Clara Kundin", "Ivan Dolmetscher"}  # the empty row was ignored
    assert people["Ivan Dolmetscher"].language == "en"
    assert people["Clara Kundin"].customer_number == "123D456"
    assert await count(db, OutboxMail) == 2


REFUSALS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "past start",
        {"date": "2026-12-02", "time": "09:59"},
        "date",
        "Der Termin muss in der Zukunft liegen.",
    ),
    (
        "bad e-mail",
        {"participants.0.email": "clara-at-example"},
        "participants.0.email",
        "Bitte geben Sie eine gültige E-Mail-Adresse an",
    ),
    (
        "second citizen",
        {"participants.2.role": "citizen"},
        "participants.2.role",
        "Ein Termin hat genau eine Kundin oder einen Kunden.",
    ),
    (
        "missing name",
        {"participants.0.name": "  "},
        "participants.0.name",
        "Bitte geben Sie den Namen an.",
    ),
    ("bad date", {"date": "2026-02-30"}, "date", "Bitte geben Sie ein gültiges Datum an"),
    (
        "duplicate address",
        {"participants.2.email": "CLARA@example.org"},
        "participants.2.email",
        "Diese E-Mail-Adresse ist schon für eine andere Person eingetragen.",
    ),
    (
        "duration",
        {"duration_minutes": "600"},
        "duration_minutes",
        "Die Dauer muss zwischen 5 und 480 Minuten liegen.",
    ),
    (
        "skipped hour",
        {"date": "2027-03-28", "time": "02:30"},
        "time",
        "Diese Uhrzeit gibt es an diesem Tag wegen der Zeitumstellung nicht.",
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
async def test_refusal_names_the_field_and_creates_nothing(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    await login(client)

    response = await create(client, **changes)

    assert response.status_code == 422
    field_id = "f-" + field.replace(".", "-")
    html = response.text
    assert f'<a href="#{field_id}">{message}' in html, "listed in the summary, linked to the field"
    assert f'<p class="field-error" id="{field_id}-error">' in html
    control = re.search(rf'<(?:input|select) id="{field_id}"[^>]*>', html)
    assert control is not None
    assert 'aria-invalid="true"' in control.group(0)
    assert f"{field_id}-error" in control.group(0)  # aria-describedby points at the message
    assert 'class="error-summary" tabindex="-1" autofocus' in html
    assert 'value="Clara Kundin"' in html or field == "participants.0.name", "input kept"
    assert await count(db, Appointment) == 0
    assert await count(db, Participant) == 0
    assert await count(db, OutboxMail) == 0


async def test_all_problems_are_shown_at_once(
    client: httpx.AsyncClient, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await login(client)

    response = await create(
        client, time="", **{"participants.0.name": "", "participants.2.email": "kaputt"}
    )

    assert response.status_code == 422
    summary = response.text.split('class="error-summary"')[1].split("</div>")[0]
    assert summary.index("f-time") < summary.index("f-participants-0-name")
    assert summary.index("f-participants-0-name") < summary.index("f-participants-2-email")
    assert await count(db, Appointment) == 0
