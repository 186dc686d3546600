"""Two app instances on one PostgreSQL database and one Redis, as in production: a citizen
waiting on instance B is seen by the advisor connected to instance A, a second connection
on A replaces the one on B, and a message sent through A reaches B."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from page_helpers import Booking, login, post_form
from two_instances import Instances, booking, instances, redis_prefix
from waiting_helpers import (
    after_the_grace,
    citizen,
    closed,
    fast_timing,
    greet,
    receive,
    receive_until,
    session_cookie,
    staff,
)

from videotermin.domain.clock import FakeClock

__all__ = ["booking", "fast_timing", "instances", "redis_prefix"]
pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)


@pytest.fixture
async def advisor_on_a(instances: Instances, booking: Booking) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=instances.a.url, timeout=20) as client:
        await login(client)
        yield client


async def test_a_citizen_waiting_on_b_is_seen_by_the_advisor_on_a(
    instances: Instances, booking: Booking, advisor_on_a: httpx.AsyncClient, clock: FakeClock
) -> None:
    async with staff(instances.a, session_cookie(advisor_on_a)) as ws:
        await greet(ws, watch=[booking.appointment_id])
        async with citizen(instances.b, booking.tokens[0]) as waiting:
            await greet(waiting)
            entered = await receive_until(ws, {"type": "participant", "entered": True})
            listing = (await advisor_on_a.get("/termine")).text

        assert "wartet seit 09:58 Uhr" in entered["html"]
        assert "wartet seit 09:58 Uhr" in listing
        left = await after_the_grace(clock, ws, {"type": "participant", "waiting_since": None})

    assert left["participant_id"] == booking.participant_ids[0]
    assert "wartet seit" not in (await advisor_on_a.get("/termine")).text


async def test_a_connection_on_a_replaces_the_one_on_b(
    instances: Instances, booking: Booking
) -> None:
    async with citizen(instances.b, booking.tokens[0]) as first:
        welcome = await greet(first)
        async with citizen(instances.a, booking.tokens[0]) as second:
            again = await greet(second)

            assert await receive(first) == {"type": "replaced"}
            assert await closed(first) == (4409, "replaced")
            assert again["waiting_since"] == welcome["waiting_since"]


async def test_a_message_sent_through_a_reaches_the_citizen_on_b(
    instances: Instances, booking: Booking, advisor_on_a: httpx.AsyncClient
) -> None:
    url = f"/termine/{booking.appointment_id}"
    async with citizen(instances.b, booking.tokens[0]) as waiting:
        await greet(waiting)
        await post_form(
            advisor_on_a, url, f"{url}/warteraum-nachricht", {"waiting_message": "Gleich da."}
        )

        message = await receive_until(waiting, {"type": "message"})

    assert message["message"]["text"] == "Gleich da."
