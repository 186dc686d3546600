"""Staff login and logout through the real form: sessions, lockout, CSRF, redirects."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from page_helpers import count, csrf_token, login
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD, add_staff
from videotermin.domain.clock import FakeClock
from videotermin.domain.passwords import verify_password
from videotermin.store.models import StaffSession, StaffUser

WRONG = "Benutzername oder Passwort stimmen nicht."


async def test_start_page_sends_visitors_to_login_and_staff_to_their_list(
    client: httpx.AsyncClient, advisor: StaffUser
) -> None:
    assert (await client.get("/")).headers["location"] == "/login"
    page = await client.get("/login")
    assert page.status_code == 200
    assert 'lang="de"' in page.text
    assert "Agentur für Arbeit Musterstadt" in page.text

    response = await login(client)

    assert response.status_code == 303
    assert response.headers["location"] == "/termine"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("vt_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # the test server runs on plain http
    assert (await client.get("/")).headers["location"] == "/termine"
    listing = await client.get("/termine")
    assert listing.status_code == 200
    assert "<h1>Meine Termine</h1>" in listing.text
    assert "Bea Berater" in listing.text


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    wrong = await login(client, password="falsch-falsch-falsch")
    unknown = await login(client, username="niemand")

    assert wrong.status_code == unknown.status_code == 200
    assert WRONG in wrong.text and WRONG in unknown.text
    assert "vt_session" not in wrong.headers.get("set-cookie", "")
    assert (await client.get("/termine")).status_code == 303
    assert await count(db, StaffSession) == 0


async def test_empty_fields_are_named(client: httpx.AsyncClient, advisor: StaffUser) -> None:
    response = await login(client, username="", password="")

    assert response.status_code == 422
    assert "Bitte geben Sie Ihren Benutzernamen an." in response.text
    assert "Bitte geben Sie Ihr Passwort an." in response.text
    assert 'aria-invalid="true"' in response.text


async def test_lockout_after_max_failures_and_unlock_after_the_lock_period(
    client: httpx.AsyncClient, advisor: StaffUser, clock: FakeClock
) -> None:
    for _ in range(4):
        response = await login(client, password="falsch-falsch-falsch")
        assert WRONG in response.text

    locked = await login(client, password="falsch-falsch-falsch")
    assert locked.status_code == 429
    assert "für 15 Minuten gesperrt (bis 10:15 Uhr)" in locked.text
    assert locked.headers["retry-after"] == "900"

    clock.advance(timedelta(minutes=5))
    still_locked = await login(client)  # even the right password is refused while locked
    assert still_locked.status_code == 429
    assert "für 10 Minuten gesperrt" in still_locked.text

    clock.advance(timedelta(minutes=10, seconds=1))
    response = await login(client)
    assert response.status_code == 303
    assert (await client.get("/termine")).status_code == 200


async def test_success_resets_the_failure_count(
    client: httpx.AsyncClient, advisor: StaffUser
) -> None:
    for _ in range(3):
        await login(client, password="falsch-falsch-falsch")
    assert (await login(client)).status_code == 303
    client.cookies.clear()

    for _ in range(4):
        response = await login(client, password="falsch-falsch-falsch")
        assert response.status_code == 200, "four failures after a success do not lock"
    assert (await login(client)).status_code == 303


async def test_an_unknown_username_locks_the_same_way(
    client: httpx.AsyncClient, advisor: StaffUser
) -> None:
    """A lock that only real accounts get would tell an attacker which names exist."""
    answers = []
    for username in ("berater", "niemand"):
        for _ in range(5):
            response = await login(client, username=username, password="falsch-falsch-falsch")
        answers.append((response.status_code, response.headers.get("retry-after")))
    assert answers == [(429, "900"), (429, "900")]


async def test_login_rehashes_a_weak_password_hash(
    client: httpx.AsyncClient, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await login(client)

    async with db() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.username == "berater"))
    assert user is not None
    assert user.password_hash != advisor.password_hash
    assert "m=65536" in user.password_hash  # argon2-cffi's default cost, not the test's cheap one
    assert verify_password(user.password_hash, PASSWORD)


async def test_logout_ends_the_session_on_the_server(
    client: httpx.AsyncClient, advisor: StaffUser, db: async_sessionmaker[AsyncSession], live_server
) -> None:
    await login(client)
    old_cookie = client.cookies["vt_session"]
    page = await client.get("/termine")

    response = await client.post("/logout", data={"csrf_token": csrf_token(page.text)})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "Sie sind abgemeldet." in (await client.get("/login")).text
    assert await count(db, StaffSession) == 0
    async with httpx.AsyncClient(
        base_url=live_server.url, cookies={"vt_session": old_cookie}
    ) as replay:
        assert (await replay.get("/termine")).headers["location"].startswith("/login")


async def test_logout_without_csrf_token_is_refused(
    client: httpx.AsyncClient, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await login(client)

    response = await client.post("/logout", data={})

    assert response.status_code == 403
    assert "nichts gespeichert und nichts geändert" in response.text
    assert await count(db, StaffSession) == 1
    assert (await client.get("/termine")).status_code == 200


async def test_session_ends_after_session_hours(
    client: httpx.AsyncClient, advisor: StaffUser, clock: FakeClock
) -> None:
    await login(client)
    clock.advance(timedelta(hours=10))

    response = await client.get("/termine")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Ftermine"


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [
        ("/termine/neu", "/termine/neu"),
        ("//evil.example/", "/termine"),
        ("/\\evil.example", "/termine"),
        ("https://evil.example/", "/termine"),
    ],
)
async def test_login_redirects_only_to_local_paths(
    client: httpx.AsyncClient, advisor: StaffUser, next_path: str, landing: str
) -> None:
    response = await login(client, next=next_path)

    assert response.headers["location"] == landing


async def test_login_form_needs_its_double_submit_token(
    client: httpx.AsyncClient, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    page = await client.get("/login")
    token = csrf_token(page.text)
    client.cookies.delete("vt_login_csrf")

    missing_cookie = await client.post(
        "/login", data={"csrf_token": token, "username": "berater", "password": PASSWORD}
    )
    await client.get("/login")
    wrong_token = await client.post(
        "/login", data={"csrf_token": "x" * 32, "username": "berater", "password": PASSWORD}
    )

    for response in (missing_cookie, wrong_token):
        assert response.status_code == 403
        assert "Das Formular konnte nicht angenommen werden" in response.text
    assert await count(db, StaffSession) == 0


async def test_support_staff_are_told_the_advisor_area_is_not_theirs(
    client: httpx.AsyncClient, advisor: StaffUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await add_staff(db, "hilfe", role="support")
    await login(client, username="hilfe")

    response = await client.get("/termine")

    assert response.status_code == 403
    assert "Dieser Bereich ist für Beraterinnen und Berater" in response.text
    assert 'action="/logout"' in response.text
