"""PostgreSQL restarted under a running app (a private server, ``tests/private_postgres.py``).

While the database is down, every request that needs it fails cleanly: pages answer 503
with a calm page in the visitor's language (no trace, ``Retry-After``), the API 503 with
its JSON, a new socket is told ``error`` ``unavailable`` and closed with 1013 (try again
later: the page reconnects by itself), and a message that needs the database is answered
``unavailable`` on an open socket that stays open. What lives in memory goes on: the call's
signaling between the advisor and the citizen, ping and pong, and the safety re-reads that
fail do not close anyone's connection. A form posted during the outage is refused, not
half-written.

Afterwards everything works again without a restart of the app, and nothing accepted
before the outage is lost: the appointment created through the form is there, its
invitation went out, and the call that was going on still is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from call_helpers import OFFER, advisor_call, open_call, until_pong
from page_helpers import VALID, Booking, book, csrf_token, login
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from waiting_helpers import (
    IN_WINDOW,
    after_the_grace,
    citizen,
    closed,
    fast_timing,
    greet,
    receive,
    receive_until,
    record_consent,
    send,
    session_cookie,
)
from websockets.asyncio.client import ClientConnection

from conftest import LiveServer, add_staff, start_server
from private_postgres import PrivatePostgres, until_accepting
from videotermin.domain.clock import FakeClock
from videotermin.services.api_tokens import create_token
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.migrate import upgrade
from videotermin.store.models import Appointment, OutboxMail

__all__ = ["fast_timing"]

pytestmark = pytest.mark.postgres

CALM_TITLE = "Gerade nicht erreichbar"
NEW_APPOINTMENT = {**VALID, "subject": "Vor dem Ausfall angenommen"}
DURING = {**VALID, "subject": "Während des Ausfalls abgeschickt"}
AFTER = {**VALID, "subject": "Nach dem Ausfall angenommen"}


@dataclass
class Site:
    postgres: PrivatePostgres
    server: LiveServer
    db: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    booking: Booking
    api_token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token}"}


@pytest.fixture
async def site(
    fast_timing: object, private_postgres: PrivatePostgres, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Site]:
    """The app on the private PostgreSQL; Clara's appointment tomorrow 10:00, she agreed,
    the clock two minutes before it."""
    engine = create_engine(private_postgres.url)
    await upgrade(engine, "Europe/Berlin")
    db = session_factory(engine)
    await add_staff(db, "berater", display_name="Bea Berater")
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=private_postgres.url,
        public_url="http://testserver.invalid",
        mail_from="Videotermin <noreply@agentur.example>",
    )
    booking = await book(db, settings, clock)
    await record_consent(db, settings, booking.participant_ids[0])
    async with db() as session, session.begin():
        api_token = await create_token(session, "Fachverfahren", clock())
    assert api_token is not None
    clock.set(IN_WINDOW)
    server = start_server(settings, clock)
    try:
        yield Site(private_postgres, server, db, engine, booking, api_token)
    finally:
        server.stop()
        await engine.dispose()


async def subjects(db: async_sessionmaker[AsyncSession]) -> list[str | None]:
    async with db() as session:
        return list(
            await session.scalars(select(Appointment.subject).order_by(Appointment.subject))
        )


async def invitations_sent(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        found = select(func.count()).where(OutboxMail.status == "sent")
        return int(await session.scalar(found) or 0)


def assert_calm_page(response: httpx.Response, heading: str = CALM_TITLE) -> None:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in response.text
    assert "Traceback" not in response.text and "Error" not in response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["cache-control"] == "no-store"


async def in_the_call(site: Site, advisor: ClientConnection, clara: ClientConnection) -> str:
    """Clara is admitted; her peer id."""
    await greet(clara, role="citizen")
    await receive_until(advisor, {"type": "waiting"})
    await send(advisor, {"type": "admit", "participant": site.booking.participant_ids[0]})
    return str((await receive_until(clara, {"type": "admitted"}))["self"])


async def signal_passes(
    advisor: ClientConnection, clara: ClientConnection, advisor_peer: str, clara_peer: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An offer from Clara reaches the advisor and a candidate goes back."""
    await send(clara, {"type": "signal", "to": advisor_peer, "description": OFFER})
    offer = await receive_until(advisor, {"type": "signal"})
    await send(advisor, {"type": "signal", "to": clara_peer, "candidate": {"candidate": "c"}})
    candidate = await receive_until(clara, {"type": "signal"})
    return offer, candidate


async def refused_socket(site: Site) -> tuple[dict[str, Any], tuple[int | None, str | None]]:
    """A new connection on Clara's link: what it is told, and how it is closed."""
    async with citizen(site.server, site.booking.tokens[0]) as late:
        told = await receive(late)
        return told, await closed(late)


async def test_requests_fail_cleanly_while_postgresql_restarts_and_nothing_is_lost(
    site: Site, clock: FakeClock
) -> None:
    booking = site.booking
    async with httpx.AsyncClient(base_url=site.server.url, timeout=20) as http:
        await login(http)
        token = csrf_token((await http.get("/termine/neu")).text)
        accepted = await http.post("/termine/neu", data={"csrf_token": token, **NEW_APPOINTMENT})
        assert accepted.status_code == 303, accepted.text[:300]
        async with advisor_call(site.server, session_cookie(http), booking.appointment_id) as desk:
            me, _ = await open_call(desk)
            async with citizen(site.server, booking.tokens[0]) as clara:
                clara_peer = await in_the_call(site, desk, clara)
                await receive_until(desk, {"type": "peer_joined"})
                sent_before = await invitations_sent(site.db)

                await asyncio.to_thread(site.postgres.stop)

                staff_page = await http.get("/termine")
                citizen_page = await http.get(f"/v/{booking.tokens[0]}?lang=en")
                during = await http.post("/termine/neu", data={"csrf_token": token, **DURING})
                api = await http.get(
                    f"/api/v1/appointments/{booking.appointment_id}", headers=site.bearer
                )
                told, close = await refused_socket(site)
                await send(desk, {"type": "end"})
                end_refused = await receive_until(desk, {"type": "error"})
                await asyncio.sleep(1)  # several safety re-reads (every 0.2 s) fail meanwhile
                offer, candidate = await signal_passes(desk, clara, me["self"], clara_peer)
                assert [m["type"] for m in await until_pong(desk)] == []
                # Her page measured the call; her connection drops while nothing can be stored.
                await send(clara, {"type": "quality", "good": 10, "fair": 1, "poor": 0})
            dropped = await receive_until(desk, {"type": "peer_updated"})
            gone = await after_the_grace(clock, desk, {"type": "peer_left"})

            await asyncio.to_thread(site.postgres.start)
            await until_accepting(site.postgres)
            await site.engine.dispose()  # the test's own pool holds connections of before

            agenda = await http.get("/termine")
            again = await http.get(f"/v/{booking.tokens[0]}")
            token = csrf_token((await http.get("/termine/neu")).text)
            posted_after = await http.post("/termine/neu", data={"csrf_token": token, **AFTER})
            api_after = await http.get(
                f"/api/v1/appointments/{booking.appointment_id}", headers=site.bearer
            )
            async with citizen(site.server, booking.tokens[0]) as back:
                await greet(back, role="citizen")
                readmitted = await receive_until(back, {"type": "admitted"})
                rejoined = await receive_until(desk, {"type": "peer_joined"})
                after_offer, _ = await signal_passes(desk, back, me["self"], readmitted["self"])

    # During the outage: calm answers, never a 500.
    assert_calm_page(staff_page)
    assert_calm_page(citizen_page, "Temporarily unavailable")
    assert_calm_page(during)
    assert api.status_code == 503 and api.json() == {"detail": "unavailable"}
    assert told == {
        "type": "error",
        "code": "unavailable",
        "message": "the database or the message bus cannot be reached; try again",
        "ref": None,
    }
    assert close == (1013, "unavailable")
    assert (end_refused["code"], end_refused["ref"]) == ("unavailable", "end")
    # What needs no database went on: the call's signaling, in both directions; and her
    # dropped connection left the call after the grace, as it would on any day.
    assert offer["from"] == clara_peer and offer["description"] == OFFER
    assert candidate["from"] == me["self"]
    assert (dropped["peer"]["id"], dropped["peer"]["connection"]) == (clara_peer, "reconnecting")
    assert (gone["id"], gone["reason"]) == (clara_peer, "left")

    # Afterwards: everything works again, and nothing accepted before is lost.
    assert agenda.status_code == 200 and "Vor dem Ausfall angenommen" in agenda.text
    assert again.status_code == 200
    assert posted_after.status_code == 303
    assert api_after.status_code == 200 and api_after.json()["status"] == "scheduled"
    assert readmitted["self"] == clara_peer, "still admitted: back in the same call"
    assert rejoined["peer"]["id"] == clara_peer
    assert after_offer["from"] == clara_peer
    assert await subjects(site.db) == [
        "Beratung",
        "Nach dem Ausfall angenommen",
        "Vor dem Ausfall angenommen",
    ], "the form posted during the outage was refused, not half-written"
    assert sent_before >= 1
    assert await invitations_sent(site.db) >= sent_before, "sent mails stay sent"
