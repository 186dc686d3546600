"""The audit log as an admin reads and exports it: filters by person, action and day,
100 entries a page, a CSV identical to the filtered list with formulas defused, the
export itself audited; only admins get in; bad filters are refused, not crashed on."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest
from page_helpers import login
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, LiveServer, add_staff
from videotermin.domain.audit import AuditAction
from videotermin.services.audit import Actor, record
from videotermin.store.models import AuditEntry, StaffUser


@pytest.fixture
async def admin(db: async_sessionmaker[AsyncSession], advisor: StaffUser) -> StaffUser:
    return await add_staff(db, "admin-anna", role="admin", display_name="Anna Admin")


async def seed(db: async_sessionmaker[AsyncSession], advisor: StaffUser, admin: StaffUser) -> None:
    async with db() as session, session.begin():
        record(session, NOW - timedelta(days=2), Actor(advisor.id), AuditAction.LOGIN)
        record(
            session,
            NOW - timedelta(days=2, minutes=-5),
            Actor(advisor.id),
            AuditAction.APPOINTMENT_CANCELLED,
            appointment_id="a" * 36,
        )
        record(
            session,
            NOW - timedelta(hours=1),
            Actor(admin.id),
            AuditAction.STAFF_CHANGED,
            subject_staff_id=advisor.id,
            detail='=HYPERLINK("http://x")',
        )


def rows(table_html: str) -> int:
    return table_html.count("<tr>") - 1


async def test_filters_narrow_the_list_and_the_csv_is_the_same_list(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    advisor: StaffUser,
    admin: StaffUser,
) -> None:
    await seed(db, advisor, admin)
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, "admin-anna")  # one more entry: the admin's login, now
        everything = await browser.get("/admin/protokoll")
        assert everything.status_code == 200
        assert rows(everything.text) == 4
        bea = await browser.get("/admin/protokoll", params={"person": str(advisor.id)})
        assert rows(bea.text) == 2 and "Termin abgesagt" in bea.text
        cancels = await browser.get("/admin/protokoll", params={"action": "appointment_cancelled"})
        assert rows(cancels.text) == 1 and "aaaaaaaa" in cancels.text
        today = await browser.get(
            "/admin/protokoll", params={"from": "2026-12-02", "to": "2026-12-02"}
        )
        assert rows(today.text) == 2
        monday = await browser.get("/admin/protokoll", params={"to": "2026-11-30"})
        assert rows(monday.text) == 2
        none = await browser.get("/admin/protokoll", params={"from": "2026-12-03"})
        assert "Keine Einträge für diesen Filter" in none.text

        exported = await browser.get(
            "/admin/protokoll.csv", params={"from": "2026-12-02", "to": "2026-12-02"}
        )
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["cache-control"] == "no-store"
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0] == ["Zeitpunkt", "Person", "Aktion", "Termin", "Betroffenes Konto", "Detail"]
    assert [r[1:3] for r in table[1:]] == [
        ["admin-anna", "Anmeldung"],
        ["admin-anna", "Konto geändert"],
    ]
    assert table[2][4] == "berater"
    assert table[2][5] == '\'=HYPERLINK("http://x")'
    assert table[1][0].startswith("2026-12-02T10:00:00+01:00")
    async with db() as session:
        exports = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "audit_exported"))
        )
    assert [(e.actor_id, e.detail) for e in exports] == [
        (admin.id, "from=2026-12-02&to=2026-12-02")
    ]


async def test_a_hundred_entries_a_page(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], admin: StaffUser
) -> None:
    async with db() as session, session.begin():
        for minute in range(104):
            record(
                session, NOW - timedelta(minutes=minute + 1), Actor(admin.id), AuditAction.LOGOUT
            )
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, "admin-anna")
        first = await browser.get("/admin/protokoll")
        second = await browser.get("/admin/protokoll", params={"page": "2"})
        beyond = await browser.get("/admin/protokoll", params={"page": "99999999"})
    assert rows(first.text) == 100 and "Ältere Einträge" in first.text
    assert rows(second.text) == 5 and "Neuere Einträge" in second.text
    assert "Ältere Einträge" not in second.text
    assert beyond.status_code == 422


@pytest.mark.parametrize(
    ("params", "status", "shown"),
    [
        ({"from": "2026-02-30"}, 422, "Bitte geben Sie ein Datum an"),
        ({"to": "32.12.2026"}, 422, "Bitte geben Sie ein Datum an, zum Beispiel 2.12.2026."),
        ({"from": "1.12.2026", "to": "02.12.2026"}, 200, "Protokoll"),
        ({"person": "jemand"}, 422, "Person aus der Liste"),
        ({"action": "drop table"}, 422, "Aktion aus der Liste"),
        ({"from": "0001-01-01", "to": "9999-12-31"}, 200, "Protokoll"),
        ({"person": "9" * 30}, 422, "Person aus der Liste"),
        ({"action": "x" * 5000}, 422, ""),
    ],
)
async def test_bad_filters_are_refused_clearly(
    live_server: LiveServer, admin: StaffUser, params: dict[str, str], status: int, shown: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, "admin-anna")
        page = await browser.get("/admin/protokoll", params=params)
        export = await browser.get("/admin/protokoll.csv", params=params)
    assert page.status_code == status and shown in page.text
    assert export.status_code == status


async def test_only_admins_read_the_log(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], admin: StaffUser
) -> None:
    await add_staff(db, "support-sven", role="support")
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        for path in ("/admin/protokoll", "/admin/protokoll.csv"):
            assert (await anonymous.get(path)).headers["location"].startswith("/login")
    for name in ("berater", "support-sven"):
        async with httpx.AsyncClient(base_url=live_server.url) as browser:
            await login(browser, name)
            for path in ("/admin/protokoll", "/admin/protokoll.csv"):
                assert (await browser.get(path)).status_code == 403, (name, path)
    async with db() as session:
        assert (
            await session.scalar(select(AuditEntry).where(AuditEntry.action == "audit_exported"))
            is None
        )
