"""Consent on the personal link: the full text, two equal answers, what is recorded, and
where each answer leads."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from journey_helpers import cancel, consent_records, decide, hidden_fields
from page_helpers import book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.services.consent_texts import consent_text, current_version
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

ENGLISH = ParticipantDraft(name="Emma English", email="emma@example.org", language="en")
AGREE = '<button type="submit" name="decision" value="agree">Ich stimme zu</button>'
DECLINE = '<button type="submit" name="decision" value="decline">Ich stimme nicht zu</button>'


async def test_first_visit_shows_the_full_text_and_two_equal_answers(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)

    page = await client.get(f"/v/{booking.tokens[0]}")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert html.count("<h1>") == 1 and "<h1>Ihr Videotermin</h1>" in html
    assert '<h2 id="consent-title">Einwilligungserklärung</h2>' in html
    assert consent_text(settings, "de").html in html, "the whole text, not an excerpt"
    assert "nach 14 Tagen" in html and "<h3>Welche Daten wir speichern</h3>" in html
    assert AGREE in html and DECLINE in html, "same markup: same size and weight"
    for later_step in ("geraete", "warteraum", "widerruf"):
        assert f'/v/{booking.tokens[0]}/{later_step}"' not in html, "nothing before consent"
    assert "vt_form=" in page.headers["set-cookie"] and "Path=/v/" in page.headers["set-cookie"]


async def test_agreeing_records_what_was_shown_and_goes_straight_to_the_device_check(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]

    answer = await decide(client, token, "agree")

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/v/{token}/geraete"
    [record] = await consent_records(db, booking.participant_ids[0])
    shown = consent_text(settings, "de")
    assert (record.decision, record.version, record.language) == ("agreed", "2026-12-01", "de")
    assert record.text_hash == shown.hash and record.decided_at == NOW
    hub = await client.get(f"/v/{token}")
    assert f'<a class="button" href="/v/{token}/geraete">Geräte prüfen</a>' in hub.text
    assert f'<a href="/v/{token}/widerruf">Einwilligung widerrufen</a>' in hub.text


async def test_declining_leads_to_a_kind_page_with_contact_data_and_a_way_back(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]

    answer = await decide(client, token, "decline")
    page = await client.get(f"/v/{token}")

    assert answer.status_code == 303 and answer.headers["location"] == f"/v/{token}"
    [record] = await consent_records(db, booking.participant_ids[0])
    assert record.decision == "declined" and record.version == current_version(settings)
    html = page.text
    assert "<h1>Sie haben nicht zugestimmt</h1>" in html
    assert "es entsteht Ihnen dadurch kein Nachteil" in html
    assert (
        "Ohne Ihre Einwilligung kann der Videotermin am Donnerstag, 3. Dezember 2026 um "
        "10:00 Uhr aber nicht stattfinden." in html
    )
    for contact in (
        "Hauptstraße 1, 12345 Musterstadt",
        '<a href="tel:+49305555-0">+49 30 5555-0</a>',
        '<a href="mailto:musterstadt@agentur.example">musterstadt@agentur.example</a>',
        '<a href="tel:08001234567">0800 123 4567</a>',
        "Bea Berater",
    ):
        assert contact in html
    assert "Haben Sie es sich anders überlegt?" in html
    assert consent_text(settings, "de").html in html
    assert AGREE in html and DECLINE not in html
    assert f'action="/v/{token}/einwilligung"' in html


async def test_agreeing_after_declining_works(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    await decide(client, token, "decline")
    clock.advance(timedelta(hours=2))

    answer = await decide(client, token, "agree")

    assert answer.headers["location"] == f"/v/{token}/geraete"
    records = await consent_records(db, booking.participant_ids[0])
    assert [(r.decision, r.decided_at) for r in records] == [
        ("declined", NOW),
        ("agreed", NOW + timedelta(hours=2)),
    ]
    assert "<h1>Ihr Videotermin</h1>" in (await client.get(f"/v/{token}")).text


async def test_english_participant_reads_and_agrees_to_the_english_text(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock, participants=[ENGLISH])
    token = booking.tokens[0]

    page = await client.get(f"/v/{token}")
    answer = await decide(client, token, "agree")

    html = page.text
    assert '<html lang="en">' in html and '<h2 id="consent-title">Consent declaration</h2>' in html
    assert consent_text(settings, "en").html in html and "<h3>Which data we store</h3>" in html
    assert '<button type="submit" name="decision" value="agree">I agree</button>' in html
    assert '<button type="submit" name="decision" value="decline">I do not agree</button>' in html
    assert "Your support code:" in html
    assert answer.status_code == 303
    [record] = await consent_records(db, booking.participant_ids[0])
    assert record.language == "en" and record.text_hash == consent_text(settings, "en").hash


async def test_the_language_chosen_on_the_page_is_the_one_recorded(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock, participants=[ENGLISH])
    token = booking.tokens[0]
    await client.get(f"/v/{token}?lang=de")

    await decide(client, token, "agree")

    [record] = await consent_records(db, booking.participant_ids[0])
    assert record.language == "de" and record.text_hash == consent_text(settings, "de").hash


@pytest.mark.parametrize("state", ["cancelled", "ended"])
async def test_decisions_on_cancelled_or_ended_appointments_change_nothing(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    state: str,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    page = await client.get(f"/v/{token}")
    fields = hidden_fields(page.text, f"/v/{token}/einwilligung")
    if state == "cancelled":
        await cancel(db, settings, clock, booking.appointment_id)
    else:
        clock.set(NOW + timedelta(days=1, minutes=30))

    answers = [
        await client.post(f"/v/{token}/einwilligung", data={**fields, "decision": decision})
        for decision in ("agree", "decline")
    ]

    heading = {"cancelled": "Dieser Termin wurde abgesagt", "ended": "Dieser Termin ist vorbei"}
    for answer in answers:
        assert answer.status_code == 409
        assert f"<h1>{heading[state]}</h1>" in answer.text
    assert await consent_records(db, booking.participant_ids[0]) == []


async def test_a_repeated_agreement_is_recorded_once(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    page = await client.get(f"/v/{token}")
    form = {**hidden_fields(page.text, f"/v/{token}/einwilligung"), "decision": "agree"}

    first = await client.post(f"/v/{token}/einwilligung", data=form)
    second = await client.post(f"/v/{token}/einwilligung", data=form)

    assert first.headers["location"] == second.headers["location"] == f"/v/{token}/geraete"
    assert len(await consent_records(db, booking.participant_ids[0])) == 1


async def test_declining_what_was_agreed_is_refused_withdrawal_is_the_way_out(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    page = await client.get(f"/v/{token}")
    fields = hidden_fields(page.text, f"/v/{token}/einwilligung")
    await client.post(f"/v/{token}/einwilligung", data={**fields, "decision": "agree"})

    late_decline = await client.post(
        f"/v/{token}/einwilligung", data={**fields, "decision": "decline"}
    )

    assert late_decline.status_code == 409
    assert "Einwilligung widerrufen" in late_decline.text
    records = await consent_records(db, booking.participant_ids[0])
    assert [r.decision for r in records] == ["agreed"]


@pytest.mark.parametrize("decision", ["", "yes", "withdraw", "agreed"])
async def test_an_unknown_answer_changes_nothing(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    decision: str,
) -> None:
    booking = await book(db, settings, clock)

    answer = await decide(client, booking.tokens[0], decision)

    assert answer.status_code == 400
    assert '<h2 id="consent-title">Einwilligungserklärung</h2>' in answer.text
    assert await consent_records(db, booking.participant_ids[0]) == []


async def test_a_decision_on_an_unknown_link_gets_the_unknown_link_page(
    client: httpx.AsyncClient, advisor: StaffUser
) -> None:
    unknown = await client.get("/v/" + "A" * 32)

    posted = await client.post("/v/" + "A" * 32 + "/einwilligung", data={"decision": "agree"})
    malformed = await client.post("/v/kurz/widerruf", data={})

    assert posted.status_code == malformed.status_code == 404
    assert posted.content == malformed.content == unknown.content
