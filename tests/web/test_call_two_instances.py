"""The call across two app instances on one PostgreSQL and one Redis: the advisor on A
admits a citizen waiting on B, and offers, answers and chat cross between them."""

from __future__ import annotations

import httpx
import pytest
from call_helpers import advisor_call, collect, open_call
from page_helpers import Booking, login
from two_instances import Instances, booking, instances, redis_prefix
from waiting_helpers import (
    citizen,
    fast_timing,
    greet,
    receive_until,
    send,
    session_cookie,
)

__all__ = ["booking", "fast_timing", "instances", "redis_prefix"]
pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)


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
