"""Failure classes "a counter raced by parallel requests" and "CPU-heavy work on the event
loop", for the staff login: parallel wrong passwords for one account get exactly the
number of checks the limit allows and never a 500, and argon2 runs off the event loop.

Both databases: the attempt counter is an upsert whose arithmetic runs in the store.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import httpx
import pytest
from page_helpers import csrf_token
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD, LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.domain.passwords import MAX_PASSWORD
from videotermin.services import staff_auth
from videotermin.settings import Settings
from videotermin.store.models import AuditEntry, LoginThrottle, StaffUser
from videotermin.web.staff.login import ADDRESS_ATTEMPTS

PARALLEL = 15  # below the per-address limit: every attempt reaches the per-name count


async def failed_logins(db: async_sessionmaker[AsyncSession]) -> list[str | None]:
    async with db() as session:
        return list(
            await session.scalars(
                select(AuditEntry.detail).where(AuditEntry.action == "login_failed")
            )
        )


async def attempt(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    return await client.post(
        "/login", data={"csrf_token": token, "username": "berater", "password": password}
    )


async def test_a_counter_raced_by_parallel_wrong_logins_checks_only_the_limit(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    limit = settings.login_max_failures
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        token = csrf_token((await client.get("/login")).text)
        answers = await asyncio.gather(
            *(attempt(client, token, f"falsch-{n}") for n in range(PARALLEL))
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert 500 not in statuses
        assert set(statuses) <= {200, 429}, statuses

        details = await failed_logins(db)
        assert len(details) == PARALLEL, "every attempt is audited once"
        assert details.count("") == limit, "exactly the limit's passwords were checked"
        assert details.count("gesperrt") == PARALLEL - limit

        locked = await attempt(client, token, PASSWORD)
        assert locked.status_code == 429, "the right password waits out the lock too"

        clock.advance(timedelta(minutes=settings.login_lock_minutes, seconds=1))
        token = csrf_token((await client.get("/login")).text)
        welcome = await attempt(client, token, PASSWORD)
        assert welcome.status_code == 303
    async with db() as session:
        assert await session.scalar(select(LoginThrottle)) is None, "a login starts afresh"


async def test_password_checks_run_off_the_event_loop(
    live_server: LiveServer, advisor: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    verify = staff_auth.verify_password

    def watched(password_hash: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return verify(password_hash, password)

    monkeypatch.setattr(staff_auth, "verify_password", watched)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        token = csrf_token((await client.get("/login")).text)
        await asyncio.gather(attempt(client, token, "falsch"), attempt(client, token, PASSWORD))
    assert len(threads) == 2
    assert all(name.startswith("argon2") for name in threads), threads


async def test_one_address_trying_many_names_is_slowed_down(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> None:
    """The per-name lock does not stop one address guessing across names; this does."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        token = csrf_token((await client.get("/login")).text)
        for n in range(ADDRESS_ATTEMPTS):
            answer = await client.post(
                "/login", data={"csrf_token": token, "username": f"name{n}", "password": "x"}
            )
            assert answer.status_code == 200
        audited = len(await failed_logins(db))
        refused = await attempt(client, token, PASSWORD)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "sehr viele Anmeldeversuche" in refused.text
        assert len(await failed_logins(db)) == audited, "no password was checked"


async def test_an_office_behind_one_address_logs_in_without_waiting(
    live_server: LiveServer, advisor: StaffUser
) -> None:
    """Only failures use up an address's budget: successful logins give theirs back."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        for _ in range(ADDRESS_ATTEMPTS + 5):
            client.cookies.clear()
            token = csrf_token((await client.get("/login")).text)
            assert (await attempt(client, token, PASSWORD)).status_code == 303


async def test_a_password_longer_than_any_set_one_is_not_hashed(
    live_server: LiveServer, advisor: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[int] = []
    verify = staff_auth.verify_password

    def watched(password_hash: str, password: str) -> bool:
        checked.append(len(password))
        return verify(password_hash, password)

    monkeypatch.setattr(staff_auth, "verify_password", watched)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        token = csrf_token((await client.get("/login")).text)
        answer = await attempt(client, token, "x" * (MAX_PASSWORD + 1))
    assert answer.status_code == 422
    assert "höchstens 1024 Zeichen" in answer.text
    assert checked == []
