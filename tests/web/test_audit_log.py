"""The audit log as the agency reads it: each action through the real app leaves exactly
one entry naming who did it — never a citizen's name, e-mail, customer number or link —
the database refuses to change an entry, and the purge drops entries past their time."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from page_helpers import VALID, login, post_form
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer, add_staff
from videotermin.context import AppContext
from videotermin.domain.audit import AuditAction
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token, new_token
from videotermin.jobs.retention import purge
from videotermin.services.audit import SYSTEM, record
from videotermin.settings import Settings
from videotermin.store.models import ApiToken, Appointment, AuditEntry, StaffUser

CITIZEN_STRINGS = ("Clara Kundin", "clara@example.org", "123D456", "Ivan Dolmetscher", "/v/")


async def audit_rows(db: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with db() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def actions(rows: list[AuditEntry]) -> list[str]:
    return [row.action for row in rows]


def holds_no_citizen_data(rows: list[AuditEntry]) -> None:
    for row in rows:
        text = " ".join(str(getattr(row, c.key)) for c in AuditEntry.__table__.columns)
        for secret in CITIZEN_STRINGS:
            assert secret not in text, (secret, row.action)


async def test_logins_and_logouts_are_audited_without_what_was_typed(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, password="falsch-falsch-falsch")
        await login(browser, username="geheimnis-im-namensfeld")
        assert (await login(browser)).status_code == 303
        await post_form(browser, "/termine", "/logout", {})

    rows = await audit_rows(db)
    assert actions(rows) == ["login_failed", "login_failed", "login", "logout"]
    assert [row.actor_id for row in rows] == [advisor.id, None, advisor.id, advisor.id]
    assert all("geheimnis" not in row.detail for row in rows)


async def test_each_appointment_action_leaves_one_entry_naming_the_advisor(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser)
        created = await post_form(browser, "/termine/neu", "/termine/neu", VALID)
        assert created.status_code == 303
        page = created.headers["location"]
        appointment_id = page.rsplit("/", 1)[1]
        before = len(await audit_rows(db))

        moved = await post_form(
            browser,
            page,
            f"{page}/verschieben",
            {
                "date": "2026-12-04",
                "time": "11:00",
                "duration_minutes": "45",
                "subject": "Neues Thema",
            },
        )
        assert moved.status_code == 303
        async with db() as session:
            clara = (await session.get_one(Appointment, appointment_id)).participants[0]
        resent = await post_form(browser, page, f"{page}/teilnehmende/{clara.id}/einladung", {})
        assert resent.status_code == 303
        cancelled = await post_form(browser, f"{page}/absagen", f"{page}/absagen", {})
        assert cancelled.status_code == 303

    rows = (await audit_rows(db))[before - 1 :]
    assert actions(rows) == [
        "appointment_created",
        "appointment_changed",
        "invitation_resent",
        "appointment_cancelled",
    ]
    assert {row.actor_id for row in rows} == {advisor.id}
    assert {row.appointment_id for row in rows} == {appointment_id}
    assert rows[1].detail == "start, subject"
    holds_no_citizen_data(rows)


async def test_api_changes_name_the_token(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> None:
    token = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(token), created_at=NOW))
    client.headers["Authorization"] = f"Bearer {token}"
    created = await client.post(
        "/api/v1/appointments",
        json={
            "start": (NOW + timedelta(days=1)).isoformat(),
            "duration_minutes": 30,
            "advisor": "berater",
            "participants": [{"name": "Clara Kundin", "email": "clara@example.org"}],
        },
    )
    assert created.status_code == 201, created.text
    cancelled = await client.post(f"/api/v1/appointments/{created.json()['id']}/cancel")
    assert cancelled.status_code == 200

    rows = await audit_rows(db)
    assert actions(rows) == ["appointment_created", "appointment_cancelled"]
    async with db() as session:
        token_id = await session.scalar(select(ApiToken.id))
    assert {(row.actor_id, row.api_token_id) for row in rows} == {(None, token_id)}
    holds_no_citizen_data(rows)


async def test_the_database_refuses_to_change_an_entry(
    db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> None:
    async with db() as session, session.begin():
        record(session, NOW, SYSTEM, AuditAction.LOGIN)
    with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
        async with db() as session, session.begin():
            await session.execute(update(AuditEntry).values(detail="rewritten"))
    assert [row.detail for row in await audit_rows(db)] == [""]


async def test_the_purge_drops_entries_past_the_audit_retention(
    settings: Settings, clock: FakeClock, db: async_sessionmaker[AsyncSession]
) -> None:
    await add_staff(db, "admin", role="admin")
    settings = settings.model_copy(update={"audit_retention_days": 30})
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    async with db() as session, session.begin():
        record(session, NOW - timedelta(days=31), SYSTEM, AuditAction.LOGIN, detail="alt")
        record(session, NOW - timedelta(days=29), SYSTEM, AuditAction.LOGIN, detail="neu")

    report = await purge(ctx)

    assert report is not None and report.audit_entries == 1
    assert [row.detail for row in await audit_rows(db)] == ["neu"]
