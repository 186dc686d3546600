"""The anonymous three-question survey after the call, through the real forms."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from journey_helpers import decide, hidden_fields
from page_helpers import TOMORROW_10, book
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Participant, StaffUser, SurveyResponse

AFTER_THE_CALL = TOMORROW_10 + timedelta(minutes=31)


async def ended_with_consent(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    role: str = "citizen",
) -> tuple[str, str]:
    """A participant who agreed and whose appointment is over; their token and id."""
    drafts = [ParticipantDraft(name="Clara Kundin", email="clara@example.org")]
    if role != "citizen":
        drafts.append(ParticipantDraft(name="Kai Kollege", email="kai@example.org", role=role))
    booking = await book(db, settings, clock, participants=drafts)
    index = 0 if role == "citizen" else 1
    token = booking.tokens[index]
    await decide(client, token, "agree")
    clock.set(AFTER_THE_CALL)
    return token, booking.participant_ids[index]


async def answer(client: httpx.AsyncClient, token: str, **values: str) -> httpx.Response:
    page = await client.get(f"/v/{token}/umfrage")
    assert page.status_code == 200, page.text
    action = f"/v/{token}/umfrage"
    return await client.post(action, data={**hidden_fields(page.text, action), **values})


async def responses(db: async_sessionmaker[AsyncSession]) -> list[SurveyResponse]:
    async with db() as session:
        return list(await session.scalars(select(SurveyResponse)))


async def closed(db: async_sessionmaker[AsyncSession], participant_id: str) -> bool:
    async with db() as session:
        return (await session.get_one(Participant, participant_id)).survey_closed


async def test_the_ended_page_offers_the_survey_and_answers_are_kept_anonymously(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token, participant_id = await ended_with_consent(client, db, settings, clock)
    hub = await client.get(f"/v/{token}")
    assert "Zur Umfrage" in hub.text

    page = await client.get(f"/v/{token}/umfrage")
    assert "<h1>Drei kurze Fragen</h1>" in page.text
    assert page.text.count("<fieldset>") == 3
    assert "Überspringen" in page.text

    sent = await answer(client, token, satisfaction="5", av_quality="4", use_again="yes")

    assert sent.status_code == 303
    assert sent.headers["location"] == f"/v/{token}/umfrage/danke"
    thanks = await client.get(sent.headers["location"])
    assert "<h1>Vielen Dank</h1>" in thanks.text
    (stored,) = await responses(db)
    assert (stored.month, stored.satisfaction, stored.av_quality, stored.use_again) == (
        "2026-12",
        5,
        4,
        "yes",
    )
    assert await closed(db, participant_id)
    assert "Zur Umfrage" not in (await client.get(f"/v/{token}")).text


async def test_nothing_in_an_answer_points_to_a_person_a_call_or_a_time(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db() as session:
        connection = await session.connection()
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("survey_responses")}
        )
    assert columns == {"id", "unit_id", "month", "satisfaction", "av_quality", "use_again"}


async def test_a_participant_answers_at_most_once(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token, _ = await ended_with_consent(client, db, settings, clock)
    page = await client.get(f"/v/{token}/umfrage")
    action = f"/v/{token}/umfrage"
    fields = hidden_fields(page.text, action)

    first = await client.post(action, data={**fields, "satisfaction": "2"})
    second = await client.post(action, data={**fields, "satisfaction": "1"})

    assert first.status_code == second.status_code == 303
    assert [r.satisfaction for r in await responses(db)] == [2]
    again = await client.get(f"/v/{token}/umfrage")
    assert again.headers["location"] == f"/v/{token}/umfrage/danke"


async def test_every_question_is_optional_and_skipping_stores_nothing(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token, participant_id = await ended_with_consent(client, db, settings, clock)
    skipped = await answer(client, token, satisfaction="3", action="skip")
    assert skipped.status_code == 303
    assert await responses(db) == []
    assert await closed(db, participant_id)

    clock.set(NOW)
    other, _ = await ended_with_consent(client, db, settings, clock)
    await answer(client, other, use_again="dont_know")
    (stored,) = await responses(db)
    assert (stored.satisfaction, stored.av_quality, stored.use_again) == (None, None, "dont_know")


@pytest.mark.parametrize(
    "values",
    [
        {"satisfaction": "9"},
        {"av_quality": "0"},
        {"use_again": "vielleicht"},
        {"satisfaction": "<b>"},
    ],
)
async def test_an_unreadable_answer_is_refused_and_the_survey_stays_open(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    values: dict[str, str],
) -> None:
    token, participant_id = await ended_with_consent(client, db, settings, clock)
    response = await answer(client, token, **values)
    assert response.status_code == 422
    assert "Diese Antwort konnten wir nicht lesen." in response.text
    assert await responses(db) == []
    assert not await closed(db, participant_id)


async def test_without_the_form_token_nothing_is_stored(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token, participant_id = await ended_with_consent(client, db, settings, clock)
    await client.get(f"/v/{token}/umfrage")
    response = await client.post(f"/v/{token}/umfrage", data={"satisfaction": "5"})
    assert response.status_code == 403
    assert await responses(db) == []
    assert not await closed(db, participant_id)


async def test_staff_colleagues_are_not_surveyed(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token, _ = await ended_with_consent(client, db, settings, clock, role="colleague")
    assert "Zur Umfrage" not in (await client.get(f"/v/{token}")).text
    response = await client.get(f"/v/{token}/umfrage")
    assert response.status_code == 303


async def test_no_survey_before_the_appointment(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    await decide(client, booking.tokens[0], "agree")
    clock.set(NOW)
    response = await client.get(f"/v/{booking.tokens[0]}/umfrage")
    assert response.status_code == 303
    assert response.headers["location"] == f"/v/{booking.tokens[0]}"
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(SurveyResponse)) == 0
