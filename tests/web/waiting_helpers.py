"""Helpers for the WebSocket tests: connecting as a citizen or an advisor with the
``websockets`` client, reading JSON messages and close codes, recording consent and
moving the fake clock into the join window.

Plain functions and fixtures, not a ``conftest.py`` (a second one would shadow the
root one for every ``from conftest import …``)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from page_helpers import Booking, book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from conftest import NOW, LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.realtime import timing
from videotermin.services.consent_texts import current_version
from videotermin.settings import Settings
from videotermin.store.models import ConsentRecord, StaffUser
from videotermin.web.language import LANGUAGE_COOKIE

START = NOW + timedelta(days=1)  # the booked appointments: Thursday 10:00 in Berlin, 30 minutes
IN_WINDOW = START - timedelta(minutes=2)
FAST = timing.Timing(
    recheck_seconds=0.2,
    sweep_seconds=0.05,
    heartbeat_seconds=0.3,
    instance_ttl_seconds=2.0,
    grace_seconds=10.0,
)


@pytest.fixture
def fast_timing(monkeypatch: pytest.MonkeyPatch) -> Iterator[timing.Timing]:
    """Loops that wake up in tenths of seconds; request it before ``live_server``."""
    monkeypatch.setattr(timing, "DEFAULT", FAST)
    yield FAST


@pytest.fixture
async def booking(
    fast_timing: object,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> Booking:
    """One citizen who agreed, and a clock inside the join window."""
    return await agreed_in_window(db, settings, clock)


async def agreed_in_window(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> Booking:
    """Book one citizen, record her consent and move the clock inside the join window."""
    booking = await book(db, settings, clock)
    await record_consent(db, settings, booking.participant_ids[0])
    clock.set(IN_WINDOW)
    return booking


def ws_url(server: LiveServer, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


@asynccontextmanager
async def socket(
    server: LiveServer,
    path: str,
    *,
    origin: str | None = None,
    cookie: str | None = None,
    language: str | None = None,
) -> AsyncIterator[ClientConnection]:
    """A WebSocket with the session cookie ``cookie`` and the language cookie ``language``."""
    cookies = [f"vt_session={cookie}"] if cookie else []
    if language:
        cookies.append(f"{LANGUAGE_COOKIE}={language}")
    headers = {"Cookie": "; ".join(cookies)} if cookies else None
    async with connect(
        ws_url(server, path),
        origin=origin,  # type: ignore[arg-type]
        additional_headers=headers,
        proxy=None,
        open_timeout=10,
        max_size=None,
    ) as ws:
        yield ws


def citizen(server: LiveServer, token: str) -> Any:
    return socket(server, f"/ws/v/{token}", origin=server.url)


def staff(server: LiveServer, cookie: str, origin: str | None = None) -> Any:
    return socket(server, "/ws/staff", origin=origin or server.url, cookie=cookie)


async def receive(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert isinstance(message, dict)
    return message


async def receive_until(
    ws: ClientConnection, wanted: dict[str, Any], timeout: float = 10
) -> dict[str, Any]:
    """The first message whose fields include ``wanted``; others are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        message = await receive(ws, max(0.1, deadline - time.monotonic()))
        if all(message.get(key) == value for key, value in wanted.items()):
            return message


async def after_the_grace(
    clock: FakeClock, ws: ClientConnection, wanted: dict[str, Any], attempts: int = 20
) -> dict[str, Any]:
    """Move the clock past the grace until ``ws`` receives ``wanted``.

    The server starts the grace when it notices the closed connection, which
    may be after the test moved on; moving the clock again covers that."""
    for _ in range(attempts):
        clock.advance(timedelta(seconds=FAST.grace_seconds + 1))
        try:
            return await receive_until(ws, wanted, timeout=0.5)
        except TimeoutError:
            continue
    raise AssertionError(f"no message with {wanted} after the grace")


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def greet(ws: ClientConnection, **extra: Any) -> dict[str, Any]:
    await send(ws, {"type": "hello", "version": 1, **extra})
    return await receive_until(ws, {"type": "welcome"})


async def closed(ws: ClientConnection, timeout: float = 10) -> tuple[int | None, str | None]:
    """Wait for the server to close; skip messages sent before. Returns code and reason."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed as done:
        frame = done.rcvd
        return (frame.code, frame.reason) if frame else (None, None)
    raise AssertionError("unreachable")


async def record_consent(
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    participant_id: str,
    decision: str = "agreed",
    at: datetime = NOW,
) -> None:
    """Record a consent decision on the current text version, as the consent page does."""
    async with db() as session, session.begin():
        session.add(
            ConsentRecord(
                participant_id=participant_id,
                version=current_version(settings),
                language="de",
                text_hash="0" * 64,
                decision=decision,
                decided_at=at,
            )
        )


def session_cookie(client: httpx.AsyncClient) -> str:
    cookie = client.cookies.get("vt_session")
    assert cookie, "logged in"
    return cookie


def channel_prefix() -> str:
    return f"vt-test-{uuid.uuid4().hex[:12]}"


async def eventually(check: Any, timeout: float = 10, every: float = 0.1) -> Any:
    """Poll an async ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(every)
