"""Stopping an instance on purpose (a deploy, a restart: SIGTERM, which uvicorn turns into
``should_exit``): the requests it is answering finish, its sockets are told to reconnect
(close code 1012, "service restart"), and a citizen who does reconnects through another
instance keeps her place in the waiting room."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from device_check_helpers import page_headers
from page_helpers import Booking, login
from two_instances import Instances, booking, instances, redis_prefix
from waiting_helpers import (
    citizen,
    closed,
    fast_timing,
    greet,
    receive_until,
    session_cookie,
    staff,
)
from websockets.asyncio.client import ClientConnection

__all__ = ["booking", "fast_timing", "instances", "redis_prefix"]
pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)

SERVICE_RESTART = 1012
UPLOAD_CHUNKS = 20
UPLOAD_CHUNK = b"\x00" * 4096


async def slow_body(started: asyncio.Event) -> AsyncIterator[bytes]:
    """An upload over about a second, as from a slow line."""
    for _ in range(UPLOAD_CHUNKS):
        yield UPLOAD_CHUNK
        started.set()
        await asyncio.sleep(0.05)


async def rows_until_quiet(desk: ClientConnection) -> list[dict[str, Any]]:
    """The participant rows the advisor's list receives until it is quiet for a second."""
    rows = []
    with contextlib.suppress(TimeoutError):
        while True:
            rows.append(await receive_until(desk, {"type": "participant"}, timeout=1))
    return rows


async def test_a_stopping_instance_finishes_requests_and_sends_its_sockets_elsewhere(
    instances: Instances, booking: Booking
) -> None:
    a, b = instances.a, instances.b
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=20) as advisor,
        httpx.AsyncClient(base_url=b.url, timeout=20) as checking,
    ):
        await login(advisor)
        headers = await page_headers(checking, "/check")
        headers["Content-Type"] = "application/octet-stream"
        async with staff(a, session_cookie(advisor)) as desk:
            await greet(desk, watch=[booking.appointment_id])
            async with citizen(b, booking.tokens[0]) as first:
                welcome = await greet(first)
                await receive_until(desk, {"type": "participant", "entered": True})

                started = asyncio.Event()
                upload = asyncio.create_task(
                    checking.post("/check/speed/up", content=slow_body(started), headers=headers)
                )
                await started.wait()
                b.server.should_exit = True  # what SIGTERM does

                assert await closed(first) == (SERVICE_RESTART, "")
                response = await upload
                assert (response.status_code, response.json()) == (
                    200,
                    {"bytes": UPLOAD_CHUNKS * len(UPLOAD_CHUNK)},
                ), "the request in flight was answered"

            await asyncio.to_thread(b.thread.join, 20)
            assert not b.thread.is_alive(), "the instance stopped"
            with pytest.raises(httpx.ConnectError):
                await checking.get("/healthz")

            # The citizen's page reconnects; the load balancer sends it to A.
            async with citizen(a, booking.tokens[0]) as second:
                again = await greet(second)
                rows = await rows_until_quiet(desk)
                listing = (await advisor.get("/termine")).text

    assert again["waiting_since"] == welcome["waiting_since"], "she keeps her place"
    assert "wartet seit 09:58 Uhr" in listing
    assert rows and all(row["waiting_since"] for row in rows), "the move never read as leaving"
