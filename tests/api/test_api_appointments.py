"""Integration API v1 over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, add_staff
from videotermin.domain.tokens import hash_token, new_token
from videotermin.store.models import ApiToken, Appointment, OutboxMail, ParticipantLink

START = (NOW + timedelta(days=1, hours=1)).isoformat()  # Thursday 11:00 Berlin


@pytest.fixture
async def api_token(db: async_sessionmaker[AsyncSession]) -> str:
    token = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(token), created_at=NOW))
    return token


@pytest.fixture
async def api(client: httpx.AsyncClient, api_token: str, advisor: Any) -> httpx.AsyncClient:
    client.headers["Authorization"] = f"Bearer {api_token}"
    return client


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "start": START,
        "duration_minutes": 45,
        "advisor": "berater",
        "subject": "Beratung zur beruflichen Orientierung",
        "participants": [
            {
                "name": "Clara Citizen",
                "email": "clara@example.org",
                "customer_number": "123D456789",
                "role": "citizen",
            }
        ],
    }
    data.update(overrides)
    return data


async def count(db: async_sessionmaker[AsyncSession], model: type) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def bad_fields(response: httpx.Response) -> set[str]:
    return {".".join(str(p) for p in e["loc"][1:]) for e in response.json()["detail"]}


async def test_create_returns_links_and_queues_invitations(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    interpreter = {"name": "Ivo Interpret", "email": "ivo@example.org", "role": "interpreter"}
    participants = [*body()["participants"], {**interpreter, "language": "en"}]
    response = await api.post("/api/v1/appointments", json=body(participants=participants))

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "scheduled"
    assert created["duration_minutes"] == 45
    assert created["start"] == "2026-12-03T11:00:00+01:00"
    assert created["end"] == "2026-12-03T11:45:00+01:00"
    assert [p["role"] for p in created["participants"]] == ["citizen", "interpreter"]
    links = [p["link"] for p in created["participants"]]
    assert all(link.startswith(str(api.base_url) + "/v/") for link in links)
    assert len(set(links)) == 2
    assert all(p["invitation"]["status"] == "queued" for p in created["participants"])
    async with db() as session:
        stored = set(await session.scalars(select(ParticipantLink.token_hash)))
    tokens = [link.rsplit("/", 1)[1] for link in links]
    assert stored == {hash_token(t) for t in tokens}, "only the hashes are stored"
    assert await count(db, OutboxMail) == 2


async def test_link_is_only_in_the_creation_response(api: httpx.AsyncClient) -> None:
    created = (await api.post("/api/v1/appointments", json=body())).json()
    response = await api.get(f"/api/v1/appointments/{created['id']}")
    assert response.status_code == 200
    fetched = response.json()
    assert fetched["participants"][0]["link"] is None
    assert fetched["participants"][0]["name"] == "Clara Citizen"
    assert fetched["participants"][0]["customer_number"] == "123D456789"
    assert created["participants"][0]["link"].rsplit("/", 1)[1] not in response.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start": (NOW - timedelta(minutes=1)).isoformat()}, "start"),
        ({"start": "2026-12-03T11:00:00"}, "start"),
        ({"start": "morgen"}, "start"),
        ({"advisor": "niemand"}, "advisor"),
        ({"duration_minutes": 2}, "duration_minutes"),
        ({"duration_minutes": "lang"}, "duration_minutes"),
        ({"subject": "x" * 201}, "subject"),
        ({"participants": []}, "participants"),
        (
            {"participants": [{"name": "A", "email": "not-an-address", "role": "citizen"}]},
            "participants.0.email",
        ),
        ({"participants": [{"name": "", "email": "a@example.org"}]}, "participants.0.name"),
        (
            {"participants": [{"name": "A", "email": "a@example.org", "role": "boss"}]},
            "participants.0.role",
        ),
        (
            {"participants": [{"name": "A", "email": "a@example.org", "language": "fr"}]},
            "participants.0.language",
        ),
        (
            {"participants": [{"name": "A", "email": "a@example.org", "role": "interpreter"}]},
            "participants",
        ),
        (
            {
                "participants": [
                    {"name": "A", "email": "a@example.org"},
                    {"name": "B", "email": "b@example.org"},
                ]
            },
            "participants.1.role",
        ),
        (
            {
                "participants": [
                    {"name": "A", "email": "a@example.org"},
                    {"name": "B", "email": "A@example.org", "role": "companion"},
                ]
            },
            "participants.1.email",
        ),
        (
            {"participants": [{"name": "A", "email": "a@example.org", "customer_number": "<x>"}]},
            "participants.0.customer_number",
        ),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_create_refuses_bad_input_naming_the_field(
    api: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    overrides: dict[str, Any],
    field: str,
) -> None:
    response = await api.post("/api/v1/appointments", json=body(**overrides))

    assert response.status_code == 422, response.text
    assert field in bad_fields(response)
    assert await count(db, Appointment) == 0
    assert await count(db, OutboxMail) == 0


async def test_all_bad_fields_are_named_at_once(api: httpx.AsyncClient) -> None:
    participants = [{"name": "", "email": "kaputt", "role": "citizen"}]
    response = await api.post(
        "/api/v1/appointments",
        json=body(start=(NOW - timedelta(hours=1)).isoformat(), participants=participants),
    )
    assert response.status_code == 422
    assert {"start", "participants.0.name", "participants.0.email"} <= bad_fields(response)


async def test_malformed_json_is_a_clear_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/appointments",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_support_staff_cannot_be_the_advisor(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    await add_staff(db, "hotline", role="support")
    response = await api.post("/api/v1/appointments", json=body(advisor="hotline"))
    assert response.status_code == 422
    assert bad_fields(response) == {"advisor"}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer wrong", "Bearer " + "A" * 32, "Basic YWRtaW46YWRtaW4="],
)
async def test_requests_without_a_valid_token_are_refused(
    client: httpx.AsyncClient,
    api_token: str,
    advisor: Any,
    db: async_sessionmaker[AsyncSession],
    authorization: str | None,
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.post("/api/v1/appointments", json=body(), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert await count(db, Appointment) == 0


async def test_unknown_ids_are_404(api: httpx.AsyncClient) -> None:
    created = (await api.post("/api/v1/appointments", json=body())).json()
    appointment_id = created["id"]
    assert (
        await api.get("/api/v1/appointments/00000000-0000-0000-0000-000000000000")
    ).status_code == 404
    assert (await api.get("/api/v1/appointments/" + "x" * 300)).status_code == 404
    assert (
        await api.patch("/api/v1/appointments/nope", json={"duration_minutes": 40})
    ).status_code == 404
    assert (await api.post("/api/v1/appointments/nope/cancel")).status_code == 404
    for method, path in [
        ("DELETE", f"/api/v1/appointments/{appointment_id}/participants/nope"),
        ("POST", f"/api/v1/appointments/{appointment_id}/participants/nope/resend"),
    ]:
        response = await api.request(method, path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "no such participant"}


async def test_reschedule_raises_sequence_and_sends_updates(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    created = (await api.post("/api/v1/appointments", json=body())).json()
    new_start = (NOW + timedelta(days=2)).isoformat()

    response = await api.patch(
        f"/api/v1/appointments/{created['id']}",
        json={"start": new_start, "duration_minutes": 60},
    )

    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["start"] == "2026-12-04T10:00:00+01:00"
    assert moved["duration_minutes"] == 60
    assert moved["participants"][0]["link"] is None
    async with db() as session:
        appointment = await session.get(Appointment, created["id"])
        assert appointment is not None
        assert appointment.ics_sequence == 1
        kinds = list(await session.scalars(select(OutboxMail.kind).order_by(OutboxMail.id)))
    assert kinds == ["invitation", "update"]


async def test_reschedule_refuses_past_start_and_changes_nothing(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    created = (await api.post("/api/v1/appointments", json=body())).json()
    response = await api.patch(
        f"/api/v1/appointments/{created['id']}",
        json={"start": (NOW - timedelta(days=1)).isoformat(), "duration_minutes": 60},
    )
    assert response.status_code == 422
    assert bad_fields(response) == {"start"}
    unchanged = (await api.get(f"/api/v1/appointments/{created['id']}")).json()
    assert unchanged["start"] == created["start"]
    assert unchanged["duration_minutes"] == 45
    assert await count(db, OutboxMail) == 1


async def test_cancel_then_every_change_is_a_conflict(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    created = (await api.post("/api/v1/appointments", json=body())).json()
    appointment_id = created["id"]
    citizen_id = created["participants"][0]["id"]

    response = await api.post(f"/api/v1/appointments/{appointment_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"

    refused = [
        await api.post(f"/api/v1/appointments/{appointment_id}/cancel"),
        await api.patch(f"/api/v1/appointments/{appointment_id}", json={"duration_minutes": 50}),
        await api.post(
            f"/api/v1/appointments/{appointment_id}/participants",
            json={"name": "K", "email": "k@example.org", "role": "colleague"},
        ),
        await api.post(f"/api/v1/appointments/{appointment_id}/participants/{citizen_id}/resend"),
    ]
    assert [r.status_code for r in refused] == [409, 409, 409, 409]
    assert refused[0].json()["detail"][0]["type"] == "not_scheduled"
    async with db() as session:
        kinds = list(await session.scalars(select(OutboxMail.kind).order_by(OutboxMail.id)))
    assert kinds == ["invitation", "cancel"]


async def test_add_and_remove_participant(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    created = (await api.post("/api/v1/appointments", json=body())).json()
    appointment_id = created["id"]

    added = await api.post(
        f"/api/v1/appointments/{appointment_id}/participants",
        json={"name": "Tina Trusted", "email": "tina@example.org", "role": "companion"},
    )
    assert added.status_code == 201, added.text
    companion = added.json()
    assert companion["role"] == "companion"
    assert companion["link"].startswith(str(api.base_url) + "/v/")
    assert companion["invitation"]["status"] == "queued"

    listed = (await api.get(f"/api/v1/appointments/{appointment_id}")).json()
    assert [p["name"] for p in listed["participants"]] == ["Clara Citizen", "Tina Trusted"]

    removed = await api.delete(
        f"/api/v1/appointments/{appointment_id}/participants/{companion['id']}"
    )
    assert removed.status_code == 204
    listed = (await api.get(f"/api/v1/appointments/{appointment_id}")).json()
    assert [p["name"] for p in listed["participants"]] == ["Clara Citizen"]
    again = await api.delete(
        f"/api/v1/appointments/{appointment_id}/participants/{companion['id']}"
    )
    assert again.status_code == 404
    page = await api.get(companion["link"])
    assert page.status_code == 404, "a removed participant's link stops working"
    async with db() as session:
        kinds = list(await session.scalars(select(OutboxMail.kind).order_by(OutboxMail.id)))
    assert kinds == ["invitation", "invitation", "removed"]


async def test_adding_a_second_citizen_or_a_known_address_is_refused(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    created = (await api.post("/api/v1/appointments", json=body())).json()
    path = f"/api/v1/appointments/{created['id']}/participants"

    second = await api.post(path, json={"name": "Zweite", "email": "z@example.org"})
    assert second.status_code == 422
    assert bad_fields(second) == {"role"}
    duplicate = await api.post(
        path, json={"name": "Clara", "email": "CLARA@example.org", "role": "companion"}
    )
    assert duplicate.status_code == 422
    assert bad_fields(duplicate) == {"email"}
    malformed = await api.post(path, json={"name": "M", "email": "m@", "role": "companion"})
    assert malformed.status_code == 422
    assert bad_fields(malformed) == {"email"}
    assert await count(db, OutboxMail) == 1


async def test_the_citizen_cannot_be_removed(api: httpx.AsyncClient) -> None:
    created = (await api.post("/api/v1/appointments", json=body())).json()
    citizen_id = created["participants"][0]["id"]
    response = await api.delete(f"/api/v1/appointments/{created['id']}/participants/{citizen_id}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "citizen_not_removable"
    listed = (await api.get(f"/api/v1/appointments/{created['id']}")).json()
    assert len(listed["participants"]) == 1


async def test_resend_mints_a_new_link_and_keeps_the_old_one(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    created = (await api.post("/api/v1/appointments", json=body())).json()
    citizen = created["participants"][0]

    response = await api.post(
        f"/api/v1/appointments/{created['id']}/participants/{citizen['id']}/resend"
    )

    assert response.status_code == 202
    assert response.json()["invitation"]["status"] == "queued"
    assert await count(db, ParticipantLink) == 2
    assert await count(db, OutboxMail) == 2
    assert (await api.get(citizen["link"])).status_code == 200


async def test_openapi_document_describes_every_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["version"] == "1.0.0"
    paths = document["paths"]
    assert set(paths) == {
        "/appointments",
        "/appointments/{appointment_id}",
        "/appointments/{appointment_id}/cancel",
        "/appointments/{appointment_id}/participants",
        "/appointments/{appointment_id}/participants/{participant_id}",
        "/appointments/{appointment_id}/participants/{participant_id}/resend",
    }
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    assert document["servers"] == [{"url": "/api/v1"}]
