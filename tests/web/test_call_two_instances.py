"""The call across two app instances on one PostgreSQL and one Redis: the advisor on A
admits a citizen waiting on B, and offers, answers and chat cross between them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from call_helpers import advisor_call, collect, open_call
from page_helpers import Booking, book, login
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    IN_WINDOW,
    channel_prefix,
    citizen,
    fast_timing,
    greet,
    receive_until,
    record_consent,
    send,
    session_cookie,
)

from conftest import LiveServer, skip_or_fail, start_server
from videotermin.domain.clock import FakeClock
from videotermin.realtime.redis_bus import RedisBus
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

REDIS_URL = "redis://127.0.0.1:6379/0"

__all__ = ["fast_timing"]
pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)


@dataclass
class Instances:
    a: LiveServer
    b: LiveServer


@pytest.fixture
async def redis_prefix() -> str:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable: {error!r}")
    finally:
        await client.aclose()
    return channel_prefix()


@pytest.fixture
def instances(
    fast_timing: object, settings: Settings, clock: FakeClock, redis_prefix: str
) -> Iterator[Instances]:
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    a = start_server(shared, clock, RedisBus(REDIS_URL, channel_prefix=redis_prefix))
    b = start_server(shared, clock, RedisBus(REDIS_URL, channel_prefix=redis_prefix))
    try:
        yield Instances(a, b)
    finally:
        a.stop()
        b.stop()


@pytest.fixture
async def booking(
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> Booking:
    booking = await book(db, settings, clock)
    await record_consent(db, settings, booking.participant_ids[0])
    clock.set(IN_WINDOW)
    return booking


async def test_a_call_between_an_advisor_on_a_and_a_citizen_on_b(
    instances: Instances, booking: Booking
) -> None:
    async with httpx.AsyncClient(base_url=instances.a.url, timeout=20) as http:
        await login(http)
        cookie = session_cookie(http)
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    answer = {"type": "answer", "sdp": "v=0\r\n"}
    async with advisor_call(instances.a, cookie, booking.appointment_id) as advisor:
        me, _ = await open_call(advisor)
        async with citizen(instances.b, booking.tokens[0]) as clara:
            await greet(clara)
            await receive_until(advisor, {"type": "waiting"})
            await send(advisor, {"type": "admit", "participant": booking.participant_ids[0]})
            admitted = await receive_until(clara, {"type": "admitted"})
            joined = (await collect(advisor, "peer_joined"))["peer_joined"]

            await send(advisor, {"type": "signal", "to": admitted["self"], "description": offer})
            got_offer = await receive_until(clara, {"type": "signal"})
            await send(clara, {"type": "signal", "to": me["self"], "description": answer})
            got_answer = await receive_until(advisor, {"type": "signal"})
            await send(clara, {"type": "chat", "text": "Guten Tag"})
            chat = await receive_until(advisor, {"type": "chat"})

    assert [p["id"] for p in admitted["peers"]] == [me["self"]]
    assert joined["peer"]["id"] == admitted["self"]
    assert got_offer["from"] == me["self"] and got_offer["description"] == offer
    assert got_answer["from"] == admitted["self"] and got_answer["description"] == answer
    assert chat["from"] == admitted["self"] and chat["text"] == "Guten Tag"
