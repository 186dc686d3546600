"""Anonymous statistics from known journeys through the real app: appointments held and
cancelled, a no-show, an advisor on time and one late, waiting times, call lengths and
device checks are counted once as they happen; the dashboard suppresses small counts
and the cells that would reveal them, and each CSV is its table exactly."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, timedelta

import httpx
import pytest
from admin_helpers import admin_browser
from call_helpers import admit, advisor_call, book_call, open_call
from device_check_helpers import GOOD, page_headers
from page_helpers import book, login, post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from statistics_helpers import seed_counts, table_cells
from waiting_helpers import (
    IN_WINDOW,
    START,
    citizen,
    eventually,
    fast_timing,
    greet,
    receive_until,
    record_consent,
    send,
    session_cookie,
)

from conftest import NOW, LiveServer, add_staff
from videotermin.context import AppContext
from videotermin.domain.clock import FakeClock
from videotermin.jobs.statistics import count_finished
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.models import Appointment, StaffUser, StatCount

__all__ = ["admin_browser", "fast_timing"]
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


async def counters(db: async_sessionmaker[AsyncSession]) -> dict[tuple[str, str], int]:
    async with db() as session:
        rows = await session.scalars(select(StatCount))
        found: dict[tuple[str, str], int] = {}
        for row in rows:
            found[(row.metric, row.key)] = found.get((row.metric, row.key), 0) + row.count
        return found


async def held_call(
    server: LiveServer,
    cookie: str,
    clock: FakeClock,
    appointment_id: str,
    token: str,
    participant_id: str,
    admit_after: timedelta,
    end: bool,
) -> None:
    """The citizen enters the waiting room two minutes before the start; the advisor
    admits her ``admit_after`` the start and, if ``end``, ends the call 20 minutes later."""
    clock.set(IN_WINDOW)
    async with citizen(server, token) as ws:
        await greet(ws)
        clock.set(START + admit_after)
        async with advisor_call(server, cookie, appointment_id) as advisor:
            await open_call(advisor)
            await admit(advisor, participant_id)
            await receive_until(ws, {"type": "admitted"})
            if end:
                clock.set(START + admit_after + timedelta(minutes=20))
                await send(advisor, {"type": "end"})
                await receive_until(ws, {"type": "state", "state": "ended"})


async def test_known_journeys_are_counted_once_as_they_happen(
    fast_timing: object,
    live_server: LiveServer,
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    on_time, late, no_show, cancelled = [await book(db, settings, clock) for _ in range(4)]
    for booking in (on_time, late, no_show):
        await record_consent(db, settings, booking.participant_ids[0])
    await login(client)
    page = f"/termine/{cancelled.appointment_id}"
    assert (await post_form(client, f"{page}/absagen", f"{page}/absagen", {})).status_code == 303
    clock.set(IN_WINDOW)
    await login(client)  # the morning's login has expired by tomorrow
    cookie = session_cookie(client)

    await held_call(
        live_server,
        cookie,
        clock,
        on_time.appointment_id,
        on_time.tokens[0],
        on_time.participant_ids[0],
        timedelta(minutes=1),
        end=True,
    )
    await held_call(
        live_server,
        cookie,
        clock,
        late.appointment_id,
        late.tokens[0],
        late.participant_ids[0],
        timedelta(minutes=10),
        end=False,
    )

    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    clock.set(START + timedelta(minutes=29))
    assert await count_finished(ctx) == 0, "nothing is over yet"
    clock.set(START + timedelta(minutes=31))
    assert await count_finished(ctx) == 4
    assert await count_finished(ctx) == 0, "each appointment is counted once"

    assert await counters(db) == {
        ("appointments", "scheduled"): 4,
        ("appointments", "cancelled"): 1,
        ("appointments", "held"): 2,
        ("appointments", "no_show"): 1,
        ("advisor", "on_time"): 1,
        ("advisor", "late"): 1,
        ("waiting_minutes", "3"): 1,  # 2 minutes before the start until 1 minute after
        ("waiting_minutes", "10"): 1,  # until 10 minutes after: 12 minutes
        ("call_minutes", "20"): 2,  # ended after 20 minutes; the other ran to the end (20)
    }
    async with db() as session:
        days = set(await session.scalars(select(StatCount.day)))
    assert days == {date(2026, 12, 3)}


async def test_device_checks_count_verdicts_reasons_and_browsers(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    await record_consent(db, settings, booking.participant_ids[0])
    headers = await page_headers(client, f"/v/{booking.tokens[0]}/geraete")
    for result in (GOOD, {**GOOD, "camera": "black"}):
        posted = await client.post(
            f"/v/{booking.tokens[0]}/geraete/ergebnis",
            json=result,
            headers={**headers, "User-Agent": FIREFOX},
        )
        assert posted.status_code == 200
    found = await counters(db)
    assert {k: v for k, v in found.items() if k[0] != "appointments"} == {
        ("check_verdict", "green"): 1,
        ("check_verdict", "yellow"): 1,
        ("check_reason", "camera"): 1,
        ("browser", "Firefox"): 2,
        ("os", "Linux"): 2,
    }


async def test_small_counts_are_suppressed_with_their_partners_and_csv_equals_the_table(
    admin_browser: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    await seed_counts(
        db,
        {
            ("browser", "Chrome"): 40,
            ("browser", "Firefox"): 12,
            ("browser", "Safari"): 3,
            ("browser", "Edge"): 7,
            ("appointments", "scheduled"): 20,
            ("appointments", "held"): 16,
            ("appointments", "cancelled"): 2,
            ("appointments", "no_show"): 2,
        },
    )
    query = {"from": "2026-12-01", "to": "2026-12-02"}
    page = await admin_browser.get("/admin/statistik", params=query)
    assert page.status_code == 200
    assert table_cells(page.text, "browser") == [
        ["Chrome", "40"],
        ["Firefox", "12"],
        ["Edge", "<5"],  # 7 is hidden too: else 62 - 40 - 12 - 7 would give Safari's 3
        ["Safari", "<5"],
        ["Summe", "62"],
    ]
    assert table_cells(page.text, "termine") == [
        ["01.12.2026", "20", "16", "<5", "<5"],
        ["02.12.2026", "<5", "<5", "<5", "<5"],
        ["Summe", "20", "16", "<5", "<5"],
    ]
    assert (
        '<desc id="chart-browser-desc">Chrome: 40; Firefox: 12; Edge: &lt;5; Safari: &lt;5</desc>'
        in page.text
    )
    assert 'role="img"' in page.text and "Median und 90. Perzentil: weniger als 5" in page.text

    for slug in ("browser", "termine"):
        exported = await admin_browser.get(f"/admin/statistik/{slug}.csv", params=query)
        assert exported.status_code == 200 and exported.headers["cache-control"] == "no-store"
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert rows[1:] == table_cells(page.text, slug)
    assert (await admin_browser.get("/admin/statistik/nichts.csv", params=query)).status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-12-05", "to": "2026-12-01"}, "Das Ende liegt vor dem Anfang"),
        ({"from": "0001-01-01", "to": "9999-12-31"}, "höchstens drei Jahre"),
        ({"from": "1.13.2026"}, "Bitte geben Sie ein Datum an"),
        ({"unit": "999"}, "Dienststelle aus der Liste"),
        ({"unit": "x" * 40}, "Dienststelle aus der Liste"),
    ],
)
async def test_bad_ranges_are_refused_clearly(
    admin_browser: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    page = await admin_browser.get("/admin/statistik", params=params)
    assert page.status_code == 422 and message in page.text
    assert (
        await admin_browser.get("/admin/statistik/browser.csv", params=params)
    ).status_code == 422


async def test_only_admins_see_the_statistics(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> None:
    await add_staff(db, "support-sven", role="support")
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        for path in ("/admin/statistik", "/admin/statistik/browser.csv"):
            assert (await anonymous.get(path)).headers["location"].startswith("/login")
    for name in ("berater", "support-sven"):
        async with httpx.AsyncClient(base_url=live_server.url) as browser:
            await login(browser, name)
            for path in ("/admin/statistik", "/admin/statistik/browser.csv"):
                assert (await browser.get(path)).status_code == 403


@pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)
async def test_two_instances_count_each_appointment_once(
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    db_url: str,
    settings: Settings,
    clock: FakeClock,
) -> None:
    for _ in range(30):
        await book(db, settings, clock)
    engine = create_engine(db_url)
    try:
        one = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
        two = AppContext(
            settings=settings, clock=clock, engine=engine, sessions=session_factory(engine)
        )
        clock.set(START + timedelta(hours=1))
        done = await asyncio.gather(*(count_finished(ctx) for ctx in (one, two) * 3))
    finally:
        await engine.dispose()
    assert sum(done) == 30
    found = await counters(db)
    assert found[("appointments", "no_show")] == 30 and found[("appointments", "scheduled")] == 30
    async with db() as session:
        assert all(await session.scalars(select(Appointment.stats_recorded)))
    assert NOW < START


async def test_call_pages_report_quality_counted_when_their_connection_ends(
    fast_timing: object,
    live_server: LiveServer,
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book(db, settings, clock)
    clara = booking.participant_ids[0]
    await record_consent(db, settings, clara)
    clock.set(IN_WINDOW)
    await login(client)
    async with citizen(live_server, booking.tokens[0]) as ws:
        await greet(ws)
        await send(ws, {"type": "quality", "good": 50, "fair": 0, "poor": 0})  # not in the call
        async with advisor_call(
            live_server, session_cookie(client), booking.appointment_id
        ) as call:
            await open_call(call)
            await admit(call, clara)
            await receive_until(ws, {"type": "admitted"})
            for _ in range(2):
                await send(ws, {"type": "quality", "good": 10, "fair": 2, "poor": 1})
            await send(call, {"type": "quality", "good": 5, "fair": 0, "poor": 0})
            for bad in (
                {"good": -1, "fair": 0, "poor": 0},
                {"good": 5000, "fair": 0, "poor": 0},
                {"good": "7", "fair": 0, "poor": 0},
                {"good": 1},
            ):
                await send(ws, {"type": "quality", **bad})
                refused = await receive_until(ws, {"type": "error"})
                assert refused["code"] == "invalid_message"
            await send(ws, {"type": "ping", "id": 1})
            assert (await receive_until(ws, {"type": "pong"}))["id"] == 1
            assert ("call_quality", "good") not in await counters(db), "counted when it ends"

    async def counted() -> bool:
        return (await counters(db)).get(("call_quality", "good")) == 25

    assert await eventually(counted)
    found = await counters(db)
    assert (found[("call_quality", "fair")], found[("call_quality", "poor")]) == (4, 2)


async def test_the_citizens_first_admission_counts_even_when_an_interpreter_came_first(
    fast_timing: object,
    live_server: LiveServer,
    client: httpx.AsyncClient,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    booking = await book_call(db, settings, clock)  # Clara and Ina agreed, the window open
    clara, ina = booking.participant_ids
    await login(client)
    async with (
        citizen(live_server, booking.tokens[1]) as interpreter,
        citizen(live_server, booking.tokens[0]) as ws,
    ):
        await greet(interpreter)
        await greet(ws)
        async with advisor_call(
            live_server, session_cookie(client), booking.appointment_id
        ) as call:
            await open_call(call)
            clock.set(START + timedelta(minutes=1))
            await admit(call, ina)
            await receive_until(interpreter, {"type": "admitted"})
            clock.set(START + timedelta(minutes=8))
            await admit(call, clara)
            await receive_until(ws, {"type": "admitted"})
            await send(call, {"type": "remove", "participant": clara})
            await receive_until(ws, {"type": "removed"})
    found = await counters(db)
    assert {k: v for k, v in found.items() if k[0] in ("advisor", "waiting_minutes")} == {
        ("advisor", "late"): 1,  # the citizen came in 8 minutes after the start
        ("waiting_minutes", "10"): 1,  # from 2 minutes before until 8 after
    }
