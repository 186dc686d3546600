"""A cancelled or moved appointment ends the waiting at once: the change is announced on
the bus (``appointment_changed``), so a waiting citizen does not wait for the periodic
check. The periodic check is set to ten minutes here, so only the event can close the
socket within the test's timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from page_helpers import Booking, login, post_form
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    START,
    agreed_in_window,
    citizen,
    closed,
    greet,
)

from conftest import NOW, LiveServer, start_server
from videotermin.bus.core import MemoryBus, Payload
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token, new_token
from videotermin.realtime import timing
from videotermin.settings import Settings
from videotermin.store.models import ApiToken, StaffUser

# Far longer than any wait below: a close within it was caused by the event.
SLOW_RECHECK = timing.Timing(recheck_seconds=600.0)


@pytest.fixture
def slow_recheck(monkeypatch: pytest.MonkeyPatch) -> Iterator[timing.Timing]:
    monkeypatch.setattr(timing, "DEFAULT", SLOW_RECHECK)
    yield SLOW_RECHECK


@pytest.fixture
async def booking(
    slow_recheck: object,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> Booking:
    return await agreed_in_window(db, settings, clock)


@pytest.fixture
async def api(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The integration API as a specialist system calls it."""
    token = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(token), created_at=NOW))
    async with httpx.AsyncClient(
        base_url=client.base_url.join("/api/v1"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    ) as http:
        yield http


async def test_a_cancellation_through_the_api_ends_the_waiting_at_once(
    booking: Booking, live_server: LiveServer, api: httpx.AsyncClient
) -> None:
    async with citizen(live_server, booking.tokens[0]) as ws:
        await greet(ws)
        cancelled = await api.post(f"/appointments/{booking.appointment_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text

        assert await closed(ws, timeout=10) == (4410, "cancelled")


async def test_a_cancellation_by_the_advisor_ends_the_waiting_at_once(
    booking: Booking, live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    await login(client)
    page = f"/termine/{booking.appointment_id}/absagen"
    async with citizen(live_server, booking.tokens[0]) as ws:
        await greet(ws)
        cancelled = await post_form(client, page, page, {})
        assert cancelled.status_code == 303

        assert await closed(ws, timeout=10) == (4410, "cancelled")


async def test_moving_the_appointment_to_tomorrow_ends_the_waiting_at_once(
    booking: Booking, live_server: LiveServer, api: httpx.AsyncClient
) -> None:
    later = (START + timedelta(days=1)).isoformat()
    async with citizen(live_server, booking.tokens[0]) as ws:
        await greet(ws)
        moved = await api.patch(f"/appointments/{booking.appointment_id}", json={"start": later})
        assert moved.status_code == 200, moved.text

        assert await closed(ws, timeout=10) == (4415, "before_window")


class BrokenBus(MemoryBus):
    """A bus that fails to publish appointments' events, like Redis during an outage
    (presence, which the app needs to start, still works)."""

    async def publish(self, channel: str, event: Payload) -> None:
        if channel.startswith("appointment:"):
            raise ConnectionError("bus is down")
        await super().publish(channel, event)


async def test_a_failing_bus_does_not_fail_a_committed_cancellation(
    booking: Booking,
    settings: Settings,
    clock: FakeClock,
    db: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = start_server(settings, clock, bus=BrokenBus())
    token = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(token), created_at=NOW))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            cancelled = await http.post(
                f"/api/v1/appointments/{booking.appointment_id}/cancel",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert cancelled.status_code == 200, cancelled.text
            assert cancelled.json()["status"] == "cancelled"
            link = await http.get(f"/v/{booking.tokens[0]}")
            assert "Dieser Termin wurde abgesagt" in link.text
    finally:
        server.stop()
    assert "bus publish failed type=appointment_changed error=ConnectionError" in caplog.text
