"""Failure class "protocol manners": ``HEAD`` answers like ``GET`` on every page (link
checkers and previews use it), a 405 says in ``Allow`` what would work, and API
answers — personal data, links — are never kept by a cache."""

from __future__ import annotations

import httpx
import pytest
from page_helpers import book
from route_helpers import filled, included_routes
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer
from videotermin.app import create_app
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token, new_token
from videotermin.settings import Settings
from videotermin.store.models import ApiToken, StaffUser

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
SAME = ("content-type", "content-length", "cache-control", "location", "content-security-policy")


def get_paths(settings: Settings) -> list[str]:
    return [
        route.path
        for route in included_routes(create_app(settings).routes)
        if ("GET" in (getattr(route, "methods", None) or ()) and "{" not in route.path)
        or ("GET" in (getattr(route, "methods", None) or ()) and route.path.startswith("/v/"))
    ]


async def test_head_answers_like_get_on_every_page_without_the_body(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    paths = [filled(path, {"token": booking.tokens[0]}) for path in get_paths(settings)]
    assert "/login" in paths and f"/v/{booking.tokens[0]}" in paths
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        for path in [*paths, "/v/unknown-token", "/no/such/page", "/api/v1/openapi.json"]:
            head = await client.head(path)
            get = await client.get(path)
            assert head.status_code == get.status_code != 405, path
            assert head.content == b"", path
            for name in SAME:
                if path == "/metrics" and name == "content-length":
                    continue  # the counters grew between the two requests
                assert head.headers.get(name) == get.headers.get(name), (path, name)


async def test_a_wrong_method_is_told_what_is_allowed(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        page = await client.delete("/login")
        assert page.status_code == 405
        assert set(page.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
        assert "Das hat nicht geklappt" in page.text

        english = await client.put("/datenschutz?lang=en")
        assert english.status_code == 405 and "That did not work" in english.text

        api = await client.delete("/api/v1/appointments")
        assert api.status_code == 405 and api.headers["allow"] == "POST"


async def test_api_answers_are_never_stored_by_a_cache(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> None:
    secret = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(secret), created_at=NOW))
    auth = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=auth) as client:
        created = await client.post(
            "/api/v1/appointments",
            json={
                "start": "2026-12-03T11:00:00+01:00",
                "advisor": "berater",
                "participants": [{"name": "Clara Kundin", "email": "clara@example.org"}],
            },
        )
        assert created.status_code == 201 and "/v/" in created.text
        answers = [
            created,
            await client.get(f"/api/v1/appointments/{created.json()['id']}"),
            await client.get("/api/v1/appointments/unknown"),
            await client.post("/api/v1/appointments", json={"start": "gestern"}),
        ]
        for answer in answers:
            assert answer.headers["cache-control"] == "no-store", answer.request.url
