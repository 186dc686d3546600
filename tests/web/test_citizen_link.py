"""The personal link page: each state has its page, unknown links say nothing, nothing is cached."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from page_helpers import book, login, post_form
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

ENGLISH = ParticipantDraft(name="Emma English", email="emma@example.org", language="en")
CITIZEN = ParticipantDraft(name="Clara Kundin", email="clara@example.org")
INTERPRETER = ParticipantDraft(
    name="Ina Dolmetscherin", email="ina@example.org", role="interpreter"
)


def assert_private(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"


async def test_valid_link_shows_the_appointment_in_german(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)

    page = await client.get(f"/v/{booking.tokens[0]}")

    assert page.status_code == 200
    assert_private(page)
    html = page.text
    assert '<html lang="de">' in html
    assert "<h1>Ihr Videotermin</h1>" in html
    assert "Guten Tag, Clara Kundin!" in html
    assert "Donnerstag, 3. Dezember 2026" in html
    assert "10:00 Uhr" in html and "30 Minuten" in html
    assert "Bea Berater" in html and "Agentur für Arbeit Musterstadt" in html
    assert "Hauptstraße 1, 12345 Musterstadt" in html and "+49 30 5555-0" in html
    assert '<a href="tel:08001234567">0800 123 4567</a>' in html  # the support hotline
    token = booking.tokens[0]
    assert re.findall(rf'[^\s"]*{token}[^\s"]*', html) == [f"/v/{token}/einwilligung"], (
        "the token appears only in the page's own form action"
    )
    assert html.count("<h1>") == 1


async def test_english_participant_reads_english_and_can_switch(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock, participants=[ENGLISH])
    url = f"/v/{booking.tokens[0]}"

    english = await client.get(url)
    german = await client.get(f"{url}?lang=de")
    remembered = await client.get(url)

    assert '<html lang="en">' in english.text
    assert "Hello Emma English," in english.text
    assert "Thursday, 3 December 2026" in english.text and "10:00 am" in english.text
    assert "30 minutes" in english.text
    assert '<a href="?lang=de" hreflang="de" lang="de">Deutsch</a>' in english.text
    assert '<html lang="de">' in german.text and "Donnerstag, 3. Dezember 2026" in german.text
    assert "vt_lang=de" in german.headers["set-cookie"]
    assert '<html lang="de">' in remembered.text, "the choice is remembered in a cookie"
    for response in (english, german, remembered):
        assert_private(response)


async def test_additional_participant_is_told_their_role(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock, participants=[CITIZEN, INTERPRETER])

    page = await client.get(f"/v/{booking.tokens[1]}")

    assert "Guten Tag, Ina Dolmetscherin!" in page.text
    assert "<dt>Sie nehmen teil als</dt><dd>Dolmetschung</dd>" in page.text


async def test_cancelled_appointment_gets_a_calm_page(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    await login(client)
    url = f"/termine/{booking.appointment_id}"
    await post_form(client, f"{url}/absagen", f"{url}/absagen", {})

    page = await client.get(f"/v/{booking.tokens[0]}")

    assert page.status_code == 200
    assert_private(page)
    assert "<h1>Dieser Termin wurde abgesagt</h1>" in page.text
    assert (
        "Der Videotermin am Donnerstag, 3. Dezember 2026 um 10:00 Uhr findet nicht statt."
        in page.text
    )
    assert "+49 30 5555-0" in page.text, "how to reach the unit"


@pytest.mark.parametrize("after", [timedelta(minutes=30), timedelta(days=3)])
async def test_past_appointment_says_it_is_over(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    after: timedelta,
) -> None:
    booking = await book(db, settings, clock)
    url = f"/v/{booking.tokens[0]}"
    clock.set(NOW + timedelta(days=1, minutes=29))
    assert "<h1>Ihr Videotermin</h1>" in (await client.get(url)).text, "still running"

    clock.set(NOW + timedelta(days=1) + after)
    page = await client.get(url)

    assert page.status_code == 200
    assert_private(page)
    assert "<h1>Dieser Termin ist vorbei</h1>" in page.text


async def test_unknown_malformed_and_revoked_links_are_indistinguishable(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock, participants=[CITIZEN, INTERPRETER])
    await login(client)
    url = f"/termine/{booking.appointment_id}"
    remove = f"{url}/teilnehmende/{booking.participant_ids[1]}/entfernen"
    assert (await post_form(client, remove, remove, {})).status_code == 303
    client.cookies.clear()

    revoked = await client.get(f"/v/{booking.tokens[1]}")
    unknown = await client.get("/v/" + "A" * 32)
    malformed = await client.get("/v/kurz")
    odd = await client.get("/v/" + "%3Cscript%3E" * 3)

    assert [r.status_code for r in (revoked, unknown, malformed, odd)] == [404] * 4
    assert revoked.content == unknown.content == malformed.content == odd.content
    assert "<h1>Dieser Link ist nicht gültig</h1>" in unknown.text
    for response in (revoked, unknown, malformed, odd):
        assert_private(response)
    assert (await client.get(f"/v/{booking.tokens[0]}")).status_code == 200, "citizen unaffected"


async def test_names_are_shown_as_text_never_as_markup(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    evil = "<script>alert(1)</script>"
    booking = await book(
        db,
        settings,
        clock,
        participants=[ParticipantDraft(name=evil, email="evil@example.org")],
        subject='"><img src=x onerror=alert(1)>',
    )
    await login(client)

    pages = [
        await client.get(f"/v/{booking.tokens[0]}"),
        await client.get("/termine"),
        await client.get(f"/termine/{booking.appointment_id}"),
    ]

    for page in pages:
        assert evil not in page.text
        assert "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
