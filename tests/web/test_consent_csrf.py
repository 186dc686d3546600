"""The citizen's forms have no login session: a per-link double-submit token and the
browser's own origin headers keep foreign sites from deciding for them."""

from __future__ import annotations

import httpx
import pytest
from journey_helpers import consent_records, decide, hidden_fields, personal_values
from page_helpers import book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

CITIZEN = ParticipantDraft(name="Clara Kundin", email="clara@example.org")
COMPANION = ParticipantDraft(name="Bert Begleiter", email="bert@example.org", role="companion")
REFUSED = "<h1>Ihre Auswahl konnte nicht angenommen werden</h1>"


@pytest.mark.parametrize(
    "forge",
    ["missing token", "wrong token", "token of another link", "no cookie", "foreign cookie"],
)
async def test_a_consent_form_without_its_token_is_refused_and_records_nothing(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    forge: str,
) -> None:
    booking = await book(db, settings, clock, participants=[CITIZEN, COMPANION])
    token, other = booking.tokens
    own = await client.get(f"/v/{token}")
    fields = hidden_fields(own.text, f"/v/{token}/einwilligung")
    if forge == "missing token":
        del fields["csrf_token"]
    elif forge == "wrong token":
        fields["csrf_token"] = "0" * 64
    elif forge == "token of another link":
        page = await client.get(f"/v/{other}")
        fields["csrf_token"] = hidden_fields(page.text, f"/v/{other}/einwilligung")["csrf_token"]
    elif forge == "no cookie":
        client.cookies.clear()
    else:
        client.cookies.set("vt_form", "B" * 32, path="/v/")

    answer = await client.post(f"/v/{token}/einwilligung", data={**fields, "decision": "agree"})

    assert answer.status_code == 403
    assert REFUSED in answer.text and "nichts gespeichert und nichts geändert" in answer.text
    assert f'<a class="button" href="/v/{token}">Zurück zu Ihrem Termin</a>' in answer.text
    assert await consent_records(db, booking.participant_ids[0]) == []


@pytest.mark.parametrize(
    ("headers", "accepted"),
    [
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, False),
        ({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, True),  # no-referrer policy
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "same-site"}, False),
        ({"Origin": "{site}", "Sec-Fetch-Site": "same-origin"}, True),
        ({}, True),
    ],
)
async def test_the_browser_must_say_the_form_came_from_this_site_when_it_says_anything(
    client: httpx.AsyncClient,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    headers: dict[str, str],
    accepted: bool,
) -> None:
    booking = await book(db, settings, clock)
    sent = {name: value.format(site=live_server.url) for name, value in headers.items()}

    answer = await decide(client, booking.tokens[0], "agree", **sent)

    assert answer.status_code == (303 if accepted else 403)
    assert len(await consent_records(db, booking.participant_ids[0])) == (1 if accepted else 0)


async def test_a_withdrawal_without_its_token_is_refused_and_erases_nothing(
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    await decide(client, token, "agree")

    answer = await client.post(f"/v/{token}/widerruf", data={"csrf_token": "0" * 64})

    assert answer.status_code == 403 and REFUSED in answer.text
    values = await personal_values(db, booking.participant_ids[0])
    assert values["participants.name"] == ["Clara Kundin"]
    records = await consent_records(db, booking.participant_ids[0])
    assert [r.decision for r in records] == ["agreed"]
