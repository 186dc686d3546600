"""Failure classes "values at the edges of their type" and "free text reaching mails":
dates near year 1 and 9999, text that is not Unicode, numbers in spellings nobody types,
and control characters in one-line fields — each answered with a clear refusal that
changes nothing, on the API and in the advisor's form, on both databases."""

from __future__ import annotations

import json

import httpx
import pytest
from page_helpers import VALID, count, login, post_form
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer
from videotermin.domain.tokens import hash_token, new_token
from videotermin.store.models import ApiToken, Appointment, OutboxMail, StaffUser

BASE = {
    "start": "2026-12-03T11:00:00+01:00",
    "advisor": "berater",
    "participants": [{"name": "Clara Kundin", "email": "clara@example.org"}],
}
API_EDGES = {
    "year 1": ({"start": "0001-01-01T00:00:00+00:00"}, "in_past"),
    "year 1, east of UTC": ({"start": "0001-01-01T00:30:00+14:00"}, "in_past"),
    "year 9999": ({"start": "9999-12-31T23:59:59+00:00"}, "too_far"),
    "year 9999, west of UTC": ({"start": "9999-12-31T23:59:59-14:00"}, "too_far"),
    "year 9999, longest call": (
        {"start": "9999-12-31T20:00:00+00:00", "duration_minutes": 480},
        "too_far",
    ),
    "three years ahead": ({"start": "2029-12-03T11:00:00+01:00"}, "too_far"),
    "subject with a forged mail line": ({"subject": "Termin\r\nBcc: alle@example.org"}, "invalid"),
    "subject with NUL": ({"subject": "Termin\x00"}, "invalid"),
    "subject with a bidi override": ({"subject": "Rechnung \u202egpj.exe"}, "invalid"),
    "name with a line separator": (
        {"participants": [{"name": "Clara\u2028Kundin", "email": "clara@example.org"}]},
        "invalid",
    ),
}
# JSON may spell half a surrogate pair; no database stores the text it decodes to.
SURROGATES = {
    "name": '{"name": "\\ud800", "email": "clara@example.org"}',
    "email": '{"name": "Clara", "email": "\\udfff@example.org"}',
}


@pytest.fixture
async def api(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> httpx.AsyncClient:
    secret = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(secret), created_at=NOW))
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    return httpx.AsyncClient(base_url=live_server.url, headers=headers)


@pytest.mark.parametrize("case", list(API_EDGES))
async def test_edge_values_on_the_api_are_refused_by_name(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], case: str
) -> None:
    change, code = API_EDGES[case]
    async with api:
        answer = await api.post("/api/v1/appointments", content=json.dumps({**BASE, **change}))
    assert answer.status_code == 422, answer.text
    assert code in [problem["type"] for problem in answer.json()["detail"]]
    assert await count(db, Appointment) == 0
    assert await count(db, OutboxMail) == 0


async def test_text_that_is_not_unicode_is_refused_everywhere_on_the_api(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    async with api:
        for field, participant in SURROGATES.items():
            body = (
                '{"start": "2026-12-03T11:00:00+01:00", "advisor": "berater", '
                f'"participants": [{participant}]}}'
            )
            answer = await api.post("/api/v1/appointments", content=body)
            assert answer.status_code == 422, (field, answer.text)
            assert "Unicode" in answer.text
        for body in (
            '{"start": "2026-12-03T11:00:00+01:00", "advisor": "\\udc00berater", '
            '"participants": [{"name": "a", "email": "a@example.org"}]}',
            '{"start": "2026-12-03T11:00:00+01:00", "subject": "\\ud83d", "advisor": "berater", '
            '"participants": [{"name": "a", "email": "a@example.org"}]}',
        ):
            answer = await api.post("/api/v1/appointments", content=body)
            assert answer.status_code == 422, answer.text
        emoji = json.dumps({**BASE, "subject": "Beratung \ud83d\ude00"}, ensure_ascii=True)
        created = await api.post("/api/v1/appointments", content=emoji)
        assert created.status_code == 201, "a whole pair is an emoji, and welcome"
        assert created.json()["subject"] == "Beratung 😀"
        moved = await api.patch(
            f"/api/v1/appointments/{created.json()['id']}",
            content=json.dumps({"start": "9999-12-31T23:59:59-14:00"}),
        )
        assert moved.status_code == 422 and "too_far" in moved.text
    assert await count(db, Appointment) == 1


FORM_EDGES = {
    "year 1": ({"date": "0001-01-01", "time": "00:00"}, "Datum"),
    "year 9999": ({"date": "9999-12-31", "time": "23:59"}, "im Voraus"),
    "a week date": ({"date": "2026-W49-4"}, "Datum"),
    "a compact date": ({"date": "20261203"}, "Datum"),
    "arabic digits": ({"duration_minutes": "٣٠"}, "ganze Zahl"),
    "digits with an underscore": ({"duration_minutes": "4_5"}, "ganze Zahl"),
    "a number as exponent": ({"duration_minutes": "1e2"}, "ganze Zahl"),
    "five thousand digits": ({"duration_minutes": "9" * 5000}, "ganze Zahl"),
    "a subject of two lines": ({"subject": "Beratung\r\nBcc: alle@example.org"}, "eine Zeile"),
    "a name with NUL": ({"participants.0.name": "Clara\x00"}, "Steuerzeichen"),
}


@pytest.mark.parametrize("case", list(FORM_EDGES))
async def test_edge_values_in_the_form_are_refused_by_field(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser, case: str
) -> None:
    change, said = FORM_EDGES[case]
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, "berater")
        answer = await post_form(browser, "/termine/neu", "/termine/neu", {**VALID, **change})
    assert answer.status_code == 422, answer.text[:300]
    assert said in answer.text
    assert await count(db, Appointment) == 0
