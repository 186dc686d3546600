"""Garbage on the bus (a newer version's event, a broken publisher) reaches no session:
each receiving end drops what it cannot read, and the connections on every instance
go on — a citizen still gets ``pong``, and a real event after the garbage still acts."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from page_helpers import Booking, login, post_form
from two_instances import Instances, booking, instances, redis_prefix
from waiting_helpers import citizen, fast_timing, greet, receive, receive_until, send

from videotermin.bus.events import appointment_channel, seat_channel
from videotermin.bus.redis_bus import RedisBus

__all__ = ["booking", "fast_timing", "instances", "redis_prefix"]
pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)

REDIS_URL = "redis://127.0.0.1:6379/0"
GARBAGE = [
    {"type": "participant_changed"},
    {"type": "takeover", "connection_id": "x", "order": "newest"},
    {"type": "from_a_newer_version", "appointment_id": "a"},
    {"type": "waiting_message", "appointment_id": ["not", "a", "string"]},
    {"no": "type"},
]


async def test_garbage_on_the_channels_of_a_waiting_citizen_changes_nothing(
    instances: Instances, booking: Booking, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    publisher = RedisBus(REDIS_URL, channel_prefix=redis_prefix)
    try:
        async with citizen(instances.b, booking.tokens[0]) as ws:
            welcome = await greet(ws)
            with caplog.at_level(logging.WARNING, logger="videotermin.bus.events"):
                for channel in (
                    appointment_channel(booking.appointment_id),
                    seat_channel(booking.participant_ids[0]),
                    "presence",
                ):
                    for event in GARBAGE:
                        await publisher.publish(channel, event)
                await asyncio.sleep(0.5)

                await send(ws, {"type": "ping", "id": 7})
                assert await receive(ws) == {"type": "pong", "id": 7}

                async with httpx.AsyncClient(base_url=instances.a.url, timeout=20) as advisor:
                    await login(advisor)
                    response = await post_form(
                        advisor,
                        f"/termine/{booking.appointment_id}",
                        f"/termine/{booking.appointment_id}/warteraum-nachricht",
                        {"waiting_message": "Ich komme gleich."},
                    )
                    assert response.status_code == 303
                message = await receive_until(ws, {"type": "message"})
        assert welcome["waiting_since"]
        assert message["message"]["text"] == "Ich komme gleich."
        assert "bus event ignored reason=invalid" in caplog.text
    finally:
        await publisher.close()
