"""Redis restarted under two app instances (a private ``redis-server``, ``tests/private_redis.py``).

The advisor is in the call on instance A, Clara on instance B. Redis stops for longer than
an instance's presence lives without heartbeats, so each instance loses the other's people
(each side sees the other leave) while both sockets stay open and answer; ``/readyz`` names
Redis, and a newcomer is told ``unavailable`` and closed with 1013 (try again later) once
its channels cannot be subscribed. Redis comes back on the same port: without any reconnect
of the browsers, both instances resubscribe, exchange their presence again and the call is
whole — each side sees the other again, offers and candidates cross between the instances,
a newcomer waiting on B shows up on A's list and is admitted into the same call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from call_helpers import OFFER, advisor_call, open_call, until_pong
from page_helpers import Booking, book, login
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from two_instances import Instances
from waiting_helpers import (
    IN_WINDOW,
    channel_prefix,
    citizen,
    closed,
    fast_timing,
    greet,
    receive_until,
    record_consent,
    send,
    session_cookie,
)
from websockets.asyncio.client import ClientConnection

from conftest import start_server
from private_redis import PrivateRedis
from videotermin.bus.redis_bus import BACKOFF_SECONDS, RedisBus
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.realtime.timing import Timing
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

__all__ = ["fast_timing"]
pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)

CLARA = ParticipantDraft(name="Clara Kundin", email="clara@example.org")
IVO = ParticipantDraft(name="Ivo Dolmetscher", email="ivo@example.org", role="interpreter")


@pytest.fixture
def instances(
    fast_timing: Timing, settings: Settings, clock: FakeClock, private_redis: PrivateRedis
) -> Iterator[Instances]:
    shared = settings.model_copy(update={"redis_url": private_redis.url})
    prefix = channel_prefix()
    a = start_server(shared, clock, RedisBus(private_redis.url, channel_prefix=prefix))
    b = start_server(shared, clock, RedisBus(private_redis.url, channel_prefix=prefix))
    try:
        yield Instances(a, b)
    finally:
        a.stop()
        b.stop()


@pytest.fixture
async def booking(
    advisor: StaffUser, db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> Booking:
    """Clara and Ivo, both agreed; the clock two minutes before the start."""
    booking = await book(db, settings, clock, participants=[CLARA, IVO])
    for participant_id in booking.participant_ids:
        await record_consent(db, settings, participant_id)
    clock.set(IN_WINDOW)
    return booking


async def ready(instances: Instances) -> list[tuple[int, dict[str, Any]]]:
    async with httpx.AsyncClient(timeout=20) as http:
        answers = [await http.get(f"{server.url}/readyz") for server in (instances.a, instances.b)]
    return [(answer.status_code, answer.json()) for answer in answers]


async def crossing(
    desk: ClientConnection, clara: ClientConnection, desk_peer: str, clara_peer: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An offer from Clara (on B) reaches the advisor (on A), a candidate goes back."""
    await send(clara, {"type": "signal", "to": desk_peer, "description": OFFER})
    offer = await receive_until(desk, {"type": "signal"})
    await send(desk, {"type": "signal", "to": clara_peer, "candidate": {"candidate": "c"}})
    candidate = await receive_until(clara, {"type": "signal"})
    return offer, candidate


async def waiting_with(desk: ClientConnection, name: str) -> list[str]:
    """The advisor's waiting list once it names ``name``."""
    while True:
        listed = await receive_until(desk, {"type": "waiting"}, timeout=20)
        names = [person["name"] for person in listed["participants"]]
        if name in names:
            return names


async def test_after_a_redis_restart_presence_and_the_call_recover_across_instances(
    instances: Instances, booking: Booking, private_redis: PrivateRedis, fast_timing: Timing
) -> None:
    clara_id, ivo_id = booking.participant_ids
    # Reconnecting takes the reader's longest pause at most, then a heartbeat and a sync.
    recovery = BACKOFF_SECONDS[-1] + 10 * fast_timing.heartbeat_seconds + 5
    async with httpx.AsyncClient(base_url=instances.a.url, timeout=20) as http:
        await login(http)
        cookie = session_cookie(http)
    async with (
        advisor_call(instances.a, cookie, booking.appointment_id) as desk,
        citizen(instances.b, booking.tokens[0]) as clara,
    ):
        me, _ = await open_call(desk)
        await greet(clara, role="citizen")
        await receive_until(desk, {"type": "waiting"})
        await send(desk, {"type": "admit", "participant": clara_id})
        clara_peer = (await receive_until(clara, {"type": "admitted"}))["self"]
        await receive_until(desk, {"type": "peer_joined"})
        before = await crossing(desk, clara, me["self"], clara_peer)

        await asyncio.to_thread(private_redis.stop)
        # Longer than presence lives without heartbeats: each instance loses the other's.
        lost_clara = await receive_until(desk, {"type": "peer_left"})
        lost_desk = await receive_until(clara, {"type": "peer_left"})
        during = await ready(instances)
        async with citizen(instances.b, booking.tokens[1]) as early:
            await send(early, {"type": "hello", "version": 1})
            refused = await receive_until(early, {"type": "error"})
            early_close = await closed(early)
        assert [m["type"] for m in await until_pong(desk)] == [], "A answers on its own"
        assert [m["type"] for m in await until_pong(clara)] == [], "B answers on its own"

        await asyncio.to_thread(private_redis.start)
        back_clara = await receive_until(desk, {"type": "peer_joined"}, timeout=recovery)
        back_desk = await receive_until(clara, {"type": "peer_joined"}, timeout=recovery)
        after = await crossing(desk, clara, me["self"], clara_peer)
        async with citizen(instances.b, booking.tokens[1]) as ivo:
            await greet(ivo)
            waiting = await waiting_with(desk, "Ivo Dolmetscher")
            await send(desk, {"type": "admit", "participant": ivo_id})
            ivo_in = await receive_until(ivo, {"type": "admitted"})
        recovered = await ready(instances)

    assert before[0]["from"] == clara_peer and before[1]["from"] == me["self"]
    assert lost_clara["id"] == clara_peer and lost_desk["id"] == me["self"]
    assert (refused["code"], early_close) == ("unavailable", (1013, "unavailable")), (
        "a newcomer cannot be heard without the bus: try again later"
    )
    assert (
        during == [(503, {"status": "unavailable", "database": "ok", "redis": "unreachable"})] * 2
    )
    # Back: the same connections, the same peers — nobody reconnected or was admitted anew.
    assert back_clara["peer"]["id"] == clara_peer
    assert back_clara["peer"]["connection"] == "connected"
    assert back_desk["peer"]["id"] == me["self"]
    offer, candidate = after
    assert offer["from"] == clara_peer and offer["description"] == OFFER
    assert candidate["from"] == me["self"]
    assert waiting == ["Ivo Dolmetscher"]
    assert sorted(p["id"] for p in ivo_in["peers"]) == sorted([me["self"], clara_peer])
    assert recovered == [(200, {"status": "ok", "database": "ok", "redis": "ok"})] * 2
