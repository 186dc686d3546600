"""Every way a connection's authority can end closes the connection within a second — by
the event the product itself causes, or by the alarm at an instant known in advance —
on one instance and across two (PostgreSQL and Redis: the change is made through
instance ``a``, the connection is held by instance ``b``).

The safety re-read is set to ten minutes here, so nothing but the event or the alarm
can close a socket within the second. The last tests show the other side: a change
that nobody announces (an event lost on the way) is healed by the safety re-read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from call_helpers import advisor_call, book_call, open_call
from journey_helpers import withdraw
from page_helpers import Booking, book, login, post_form
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from two_instances import REDIS_URL, require_redis
from waiting_helpers import (
    IN_WINDOW,
    START,
    channel_prefix,
    citizen,
    closed,
    eventually,
    greet,
    receive_until,
    record_consent,
    send,
    session_cookie,
    staff,
)
from websockets.asyncio.client import ClientConnection

from conftest import NOW, LiveServer, free_port, start_server
from videotermin.bus.redis_bus import RedisBus
from videotermin.context import AppContext
from videotermin.domain.clock import FakeClock
from videotermin.domain.outbox import MailStatus
from videotermin.domain.tokens import hash_token, new_token
from videotermin.realtime import timing
from videotermin.services.staff_accounts import deactivate_staff_user
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.models import ApiToken, OutboxMail, StaffSession, StaffUser

pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)

WITHIN = 1.0
"""Seconds from the change (or the instant) to the closed socket."""
EVENTS_ONLY = timing.Timing(recheck_seconds=600.0, heartbeat_seconds=0.3, instance_ttl_seconds=2.0)
SAFETY = timing.Timing(
    recheck_seconds=0.3, heartbeat_seconds=0.3, instance_ttl_seconds=2.0, sweep_seconds=0.05
)


@dataclass
class Servers:
    act: LiveServer
    """Where the change is made (the advisor's pages, the API, the citizen's form)."""
    hold: LiveServer
    """Where the connections whose authority ends are held."""
    redis_prefix: str | None


EMBEDDED, ONE_ON_REDIS, TWO_ON_REDIS = "one instance", "one instance on Redis", "two instances"


@pytest.fixture(params=[EMBEDDED, TWO_ON_REDIS])
def servers(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    clock: FakeClock,
) -> Iterator[Servers]:
    heals = request.node.get_closest_marker("safety_re_read") is not None
    monkeypatch.setattr(timing, "DEFAULT", SAFETY if heals else EVENTS_ONLY)
    if request.node.get_closest_marker("mail_down") is not None:
        # Nothing listens there: every mail waits for its retry, and no delivery
        # announces anything that the change itself did not.
        settings = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"})
    if request.param == EMBEDDED:
        one = start_server(settings, clock)
        try:
            yield Servers(one, one, None)
        finally:
            one.stop()
        return
    prefix = channel_prefix()
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    a = start_server(shared, clock, RedisBus(REDIS_URL, channel_prefix=prefix))
    b = (
        a
        if request.param == ONE_ON_REDIS
        else start_server(shared, clock, RedisBus(REDIS_URL, channel_prefix=prefix))
    )
    try:
        yield Servers(a, b, prefix)
    finally:
        a.stop()
        if b is not a:
            b.stop()


@pytest.fixture
async def booking(
    advisor: StaffUser, db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock
) -> Booking:
    await require_redis()
    booking = await book(db, settings, clock)
    await record_consent(db, settings, booking.participant_ids[0])
    clock.set(IN_WINDOW)
    return booking


@pytest.fixture
async def desk(servers: Servers, booking: Booking) -> AsyncIterator[httpx.AsyncClient]:
    """The advisor's browser, logged in on the instance where changes are made."""
    async with httpx.AsyncClient(base_url=servers.act.url, timeout=20) as http:
        await login(http)
        yield http


@pytest.fixture
async def api(servers: Servers, db: async_sessionmaker[AsyncSession]) -> AsyncIterator[Any]:
    token = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(token), created_at=NOW))
    async with httpx.AsyncClient(
        base_url=f"{servers.act.url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    ) as http:
        yield http


async def ends(ws: ClientConnection) -> tuple[int | None, str | None]:
    return await closed(ws, timeout=WITHIN)


# --- the citizen's connection --------------------------------------------------------------


async def test_a_withdrawal_ends_the_waiting_at_once(servers: Servers, booking: Booking) -> None:
    async with citizen(servers.hold, booking.tokens[0]) as ws:
        await greet(ws)
        async with httpx.AsyncClient(base_url=servers.act.url, timeout=20) as browser:
            await withdraw(browser, booking.tokens[0])
        assert await ends(ws) == (4414, "consent_withdrawn")


async def test_a_cancellation_ends_the_waiting_at_once(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient
) -> None:
    page = f"/termine/{booking.appointment_id}/absagen"
    async with citizen(servers.hold, booking.tokens[0]) as ws:
        await greet(ws)
        assert (await post_form(desk, page, page, {})).status_code == 303
        assert await ends(ws) == (4410, "cancelled")


async def test_a_reschedule_ends_the_waiting_at_once(
    servers: Servers, booking: Booking, api: httpx.AsyncClient
) -> None:
    later = (START + timedelta(days=1)).isoformat()
    async with citizen(servers.hold, booking.tokens[0]) as ws:
        await greet(ws)
        moved = await api.patch(f"/appointments/{booking.appointment_id}", json={"start": later})
        assert moved.status_code == 200, moved.text
        assert await ends(ws) == (4415, "before_window")


async def test_a_reschedule_moves_the_alarm_with_the_window(
    servers: Servers, booking: Booking, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Made longer while the citizen waits: the old end no longer ends it, the new one does."""
    async with citizen(servers.hold, booking.tokens[0]) as ws:
        await greet(ws)
        longer = await api.patch(
            f"/appointments/{booking.appointment_id}", json={"duration_minutes": 60}
        )
        assert longer.status_code == 200, longer.text
        clock.set(START + timedelta(minutes=45))
        await asyncio.sleep(2 * timing.DEFAULT.sweep_seconds)  # the old alarm rings, reads
        await send(ws, {"type": "ping", "id": 2})
        assert await receive_until(ws, {"type": "pong"}) == {"type": "pong", "id": 2}
        clock.set(START + timedelta(minutes=60))
        assert await ends(ws) == (4411, "ended")


async def test_the_window_end_ends_the_waiting_at_that_instant(
    servers: Servers, booking: Booking, clock: FakeClock
) -> None:
    async with citizen(servers.hold, booking.tokens[0]) as ws:
        await greet(ws)
        clock.set(START + timedelta(minutes=30))
        assert await ends(ws) == (4411, "ended")


@asynccontextmanager
async def advisor_and_citizen(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient
) -> AsyncIterator[tuple[ClientConnection, ClientConnection]]:
    """The advisor's call open on ``act``, the citizen waiting on ``hold`` and seen waiting."""
    cookie = session_cookie(desk)
    async with advisor_call(servers.act, cookie, booking.appointment_id) as advisor:
        await open_call(advisor)
        async with citizen(servers.hold, booking.tokens[0]) as ws:
            await greet(ws)
            while not (await receive_until(advisor, {"type": "waiting"}))["participants"]:
                pass
            yield advisor, ws


@asynccontextmanager
async def live_list_and_call(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient
) -> AsyncIterator[tuple[ClientConnection, ClientConnection]]:
    """The advisor's live list and call socket, both open and greeted on ``hold``."""
    cookie = session_cookie(desk)
    async with (
        staff(servers.hold, cookie, origin=servers.hold.url) as live,
        advisor_call(servers.hold, cookie, booking.appointment_id) as call,
    ):
        await greet(live, watch=[booking.appointment_id])
        await open_call(call)
        yield live, call


async def test_a_removal_ends_the_citizens_connection_at_once(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient
) -> None:
    async with advisor_and_citizen(servers, booking, desk) as (advisor, ws):
        await send(advisor, {"type": "admit", "participant": booking.participant_ids[0]})
        await receive_until(ws, {"type": "admitted"})
        await send(advisor, {"type": "remove", "participant": booking.participant_ids[0]})
        assert await ends(ws) == (4417, "removed")


async def test_the_end_of_the_call_ends_every_connection_at_once(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient
) -> None:
    async with advisor_and_citizen(servers, booking, desk) as (advisor, ws):
        await send(advisor, {"type": "end"})
        assert await ends(ws) == (4411, "ended")


@pytest.mark.mail_down
@pytest.mark.parametrize("through", ["page", "api"])
async def test_removing_a_participant_ends_their_waiting_and_their_row_at_once(
    servers: Servers,
    desk: httpx.AsyncClient,
    api: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    through: str,
) -> None:
    """Ina (the interpreter) waits; the advisor removes her from the appointment on the
    appointment's page, or the agency's system through the API."""
    appointment = await book_call(db, settings, clock)
    ina = appointment.participant_ids[1]
    async with (
        staff(servers.hold, session_cookie(desk), origin=servers.hold.url) as live,
        citizen(servers.hold, appointment.tokens[1]) as ws,
    ):
        await greet(live, watch=[appointment.appointment_id])
        await greet(ws)
        if through == "page":
            page = f"/termine/{appointment.appointment_id}/teilnehmende/{ina}/entfernen"
            assert (await post_form(desk, page, page, {})).status_code == 303
        else:
            path = f"/appointments/{appointment.appointment_id}/participants/{ina}"
            assert (await api.delete(path)).status_code == 204
        assert await ends(ws) == (4404, "unknown_link")
        gone = await receive_until(live, {"participant_id": ina, "html": ""}, timeout=WITHIN)
        assert gone["type"] == "participant"


@pytest.mark.mail_down
async def test_a_participant_added_appears_in_the_live_list_at_once(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient
) -> None:
    async with staff(servers.hold, session_cookie(desk), origin=servers.hold.url) as live:
        await greet(live, watch=[booking.appointment_id])
        page = f"/termine/{booking.appointment_id}"
        added = await post_form(
            desk,
            page,
            f"{page}/teilnehmende",
            {
                "new.role": "interpreter",
                "new.name": "Ivo Dolmetscher",
                "new.email": "ivo@example.org",
                "new.language": "de",
            },
        )
        assert added.status_code == 303, added.text
        row = await receive_until(live, {"type": "participant"}, WITHIN)
        while "Ivo Dolmetscher" not in row["html"]:  # Clara's row may come first
            row = await receive_until(live, {"type": "participant"}, WITHIN)
        assert row["appointment_id"] == booking.appointment_id


# --- the advisor's connections -------------------------------------------------------------


async def test_a_logout_ends_the_live_list_and_the_call_at_once(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient
) -> None:
    async with live_list_and_call(servers, booking, desk) as (live, call):
        await post_form(desk, "/termine", "/logout", {})
        assert await ends(live) == (4401, "login_required")
        assert await ends(call) == (4401, "login_required")


async def test_a_login_that_expires_ends_the_live_list_and_the_call_at_that_instant(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient, db: Any, clock: FakeClock
) -> None:
    soon = clock() + timedelta(minutes=1)
    async with db() as session, session.begin():
        await session.execute(update(StaffSession).values(expires_at=soon))
    async with live_list_and_call(servers, booking, desk) as (live, call):
        clock.set(soon)
        assert await ends(live) == (4401, "login_required")
        assert await ends(call) == (4401, "login_required")


async def test_the_appointments_end_ends_the_advisors_call_at_that_instant(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient, clock: FakeClock
) -> None:
    async with advisor_call(servers.hold, session_cookie(desk), booking.appointment_id) as call:
        await open_call(call)
        clock.set(START + timedelta(minutes=30))
        assert await ends(call) == (4411, "ended")


@pytest.mark.parametrize("servers", [ONE_ON_REDIS, TWO_ON_REDIS], indirect=True)
async def test_a_deactivation_ends_the_live_list_and_the_call_at_once(
    servers: Servers,
    booking: Booking,
    desk: httpx.AsyncClient,
    settings: Settings,
    clock: FakeClock,
    db_url: str,
) -> None:
    """As ``videotermin user deactivate`` does it: a context of its own, on the
    deployment's Redis. (On the embedded default a command cannot reach the serving
    process; the safety re-read does, see the heal tests.)"""
    async with live_list_and_call(servers, booking, desk) as (live, call):
        engine = create_engine(db_url)
        ctx = AppContext(
            settings=settings,
            clock=clock,
            engine=engine,
            sessions=session_factory(engine),
            bus=RedisBus(REDIS_URL, channel_prefix=servers.redis_prefix or ""),
        )
        try:
            assert await deactivate_staff_user(ctx, "berater")
        finally:
            await ctx.bus.close()
            await engine.dispose()
        assert await ends(live) == (4401, "login_required")
        assert await ends(call) == (4401, "login_required")


# --- an event lost on the way ---------------------------------------------------------------


async def invitations_delivered(db: Any) -> None:
    """The outbox has sent the invitations, and its own events (which make every connection
    of the link read again) have come and gone: from now on only the safety re-read reads."""

    async def settled() -> bool:
        async with db() as session:
            queued = await session.scalar(
                select(func.count())
                .select_from(OutboxMail)
                .where(OutboxMail.status == MailStatus.QUEUED)
            )
        return queued == 0

    assert await eventually(settled)
    await asyncio.sleep(0.5)


@pytest.mark.safety_re_read
async def test_a_withdrawal_nobody_announced_is_healed_by_the_safety_re_read(
    servers: Servers, booking: Booking, db: Any, settings: Settings
) -> None:
    async with citizen(servers.hold, booking.tokens[0]) as ws:
        await greet(ws)
        await invitations_delivered(db)
        await record_consent(db, settings, booking.participant_ids[0], "withdrawn")
        assert await closed(ws, timeout=5) == (4414, "consent_withdrawn")


@pytest.mark.safety_re_read
async def test_a_deactivation_nobody_announced_is_healed_by_the_safety_re_read(
    servers: Servers, booking: Booking, desk: httpx.AsyncClient, db: Any
) -> None:
    async with live_list_and_call(servers, booking, desk) as (live, call):
        await invitations_delivered(db)
        async with db() as session, session.begin():
            await session.execute(update(StaffUser).values(active=False))
        assert await closed(live, timeout=5) == (4401, "login_required")
        assert await closed(call, timeout=5) == (4401, "login_required")
