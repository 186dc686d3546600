"""Provable deletion: full journeys with distinctive personal data — invitation through the
API, consent, device check, waiting room, call, survey, a withdrawal, a support look-up
— then the clock past the retention deadline and the purge. Afterwards no table of the
database, no file under DATA_DIR (the SQLite files of the embedded default included) and
no log line of the whole run holds any of those strings, while the statistics and the
audit log still hold their counts and entries. On SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from call_helpers import advisor_call, open_call
from device_check_helpers import GOOD, page_headers
from journey_helpers import decide, hidden_fields, withdraw
from page_helpers import login, post_form
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import (
    IN_WINDOW,
    START,
    citizen,
    eventually,
    fast_timing,
    greet,
    receive_until,
    send,
    session_cookie,
)

from conftest import NOW, LiveServer, add_staff, start_server
from videotermin.context import AppContext
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token, new_token
from videotermin.jobs.retention import purge, would_purge
from videotermin.logs import quiet_libraries
from videotermin.settings import Settings
from videotermin.store.models import ApiToken

__all__ = ["fast_timing"]

CITIZEN = "Quenbrook Zyxwavia"
CITIZEN_EMAIL = "zyxwavia.quenbrook@example.org"
CUSTOMER_NUMBER = "QX7781ZZ"
SUBJECT = "Sonderfall Quenbrookhafen"
INTERPRETER = "Ilvoraine Dolmetschkova"
INTERPRETER_EMAIL = "ilvoraine.dolmetschkova@example.org"
CITIZEN_IP = "198.51.100.77"
INTERPRETER_IP = "203.0.113.201"
SECRETS = [
    CITIZEN,
    CITIZEN_EMAIL,
    CUSTOMER_NUMBER,
    SUBJECT,
    INTERPRETER,
    INTERPRETER_EMAIL,
    CITIZEN_IP,
    INTERPRETER_IP,
]


@pytest.fixture
def server(settings: Settings, clock: FakeClock, fast_timing: object) -> Iterator[LiveServer]:
    instance = start_server(settings, clock)
    try:
        yield instance
    finally:
        instance.stop()


async def table_dump(db: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """Every row of every table of the database, as text (system tables aside)."""
    async with db() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "sqlite":
            names = await session.scalars(
                text(
                    "SELECT name FROM sqlite_master"
                    " WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            )
        else:
            names = await session.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        dump = {}
        for name in list(names):
            rows = await session.execute(text(f'SELECT * FROM "{name}"'))
            dump[name] = "\n".join(" | ".join(str(v) for v in row) for row in rows)
        return dump


def found_in(haystack: str | bytes) -> list[str]:
    if isinstance(haystack, bytes):
        lowered = haystack.lower()
        return [s for s in SECRETS if s.lower().encode() in lowered]
    return [s for s in SECRETS if s.lower() in haystack.lower()]


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


async def test_nothing_personal_is_left_after_the_retention_period(
    server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    db_url: str,
    settings: Settings,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_libraries()  # the product's log configuration (videotermin.logs.setup_logging)
    caplog.set_level(logging.INFO)
    await add_staff(db, "berater", display_name="Bea Berater")
    await add_staff(db, "support-sven", role="support")
    token = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(token), created_at=NOW))

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
        created = await api.post(
            "/api/v1/appointments",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "start": START.isoformat(),
                "duration_minutes": 30,
                "advisor": "berater",
                "subject": SUBJECT,
                "participants": [
                    {"name": CITIZEN, "email": CITIZEN_EMAIL, "customer_number": CUSTOMER_NUMBER},
                    {"name": INTERPRETER, "email": INTERPRETER_EMAIL, "role": "interpreter"},
                ],
            },
        )
    assert created.status_code == 201, created.text
    body = created.json()
    (clara, clara_link), (_ilvo, ilvo_link) = [
        (p["id"], p["link"].rsplit("/", 1)[1]) for p in body["participants"]
    ]

    async def invitations_written() -> bool:
        return len(list(settings.mail_dir.glob("*.eml"))) >= 2

    assert await eventually(invitations_written), "both invitations were written"

    # The citizen: consent, a device check from her address, the support desk looks her up.
    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-Forwarded-For": CITIZEN_IP}, timeout=30
    ) as clara_browser:
        assert (await decide(clara_browser, clara_link, "agree")).status_code == 303
        headers = await page_headers(clara_browser, f"/v/{clara_link}/geraete")
        checked = await clara_browser.post(
            f"/v/{clara_link}/geraete/ergebnis", json=GOOD, headers=headers
        )
        assert checked.status_code == 200
        code = (await clara_browser.get(f"/v/{clara_link}")).text.split(
            "Ihr Support-Code: <strong>"
        )[1][:7]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as desk:
        await login(desk, "support-sven")
        looked = await post_form(desk, "/support", "/support", {"code": code})
        assert (
            looked.status_code == 303
            and CITIZEN in (await desk.get(looked.headers["location"])).text
        )

    # The interpreter agrees, checks his device, and withdraws.
    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-Forwarded-For": INTERPRETER_IP}, timeout=30
    ) as ilvo_browser:
        await decide(ilvo_browser, ilvo_link, "agree")
        headers = await page_headers(ilvo_browser, f"/v/{ilvo_link}/geraete")
        await ilvo_browser.post(f"/v/{ilvo_link}/geraete/ergebnis", json=GOOD, headers=headers)
        assert (await withdraw(ilvo_browser, ilvo_link)).status_code in (200, 303)

    # Waiting room, admission, the call and its end; then the survey.
    clock.set(IN_WINDOW)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as advisor_browser:
        await login(advisor_browser)
        async with citizen(server, clara_link) as ws:
            await greet(ws)
            clock.set(START + timedelta(minutes=1))
            async with advisor_call(server, session_cookie(advisor_browser), body["id"]) as call:
                await open_call(call)
                await send(call, {"type": "admit", "participant": clara})
                await receive_until(ws, {"type": "admitted"})
                await send(ws, {"type": "chat", "text": f"Hallo, hier ist {CITIZEN}"})
                clock.set(START + timedelta(minutes=20))
                await send(call, {"type": "end"})
                await receive_until(ws, {"type": "state", "state": "ended"})
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as clara_browser:
        action = f"/v/{clara_link}/umfrage"
        page = await clara_browser.get(action)
        survey = await clara_browser.post(
            action,
            data={**hidden_fields(page.text, action), "satisfaction": "1", "use_again": "yes"},
        )
        assert survey.status_code in (200, 303)

    before = await table_dump(db)
    assert found_in("\n".join(before.values())), "the run stored the personal data"

    # Past the retention deadline: first what would go, then the purge itself.
    clock.set(START + timedelta(minutes=30, days=settings.retention_days, seconds=1))
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    preview = await would_purge(ctx)
    assert preview is not None
    assert preview.by_kind()["participants"] == 2 and preview.by_kind()["mail_files"] >= 2
    assert await table_dump(db) == before, "the dry run changed nothing"
    report = await purge(ctx)
    assert report is not None and report.participants == 2
    server.stop()

    after = await table_dump(db)
    leftovers = {table: found_in(rows) for table, rows in after.items() if found_in(rows)}
    assert leftovers == {}
    data_files = files_under(settings.data_dir)
    if db_url.startswith("sqlite"):
        database = Path(db_url.split("///", 1)[1])
        data_files |= {str(p): p.read_bytes() for p in database.parent.glob(database.name + "*")}
    assert {
        path: found_in(content) for path, content in data_files.items() if found_in(content)
    } == {}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert len(caplog.records) > 0 and found_in(logged) == []

    # What stays: anonymous counts and the audit trail.
    assert "scheduled" in after.get("stat_counts", "")
    assert "held" in after["stat_counts"] and "check_verdict" in after["stat_counts"]
    assert after.get("survey_responses")
    for action in ("appointment_created", "support_lookup", "admitted", "call_ended", "login"):
        assert action in after["audit_entries"], action
