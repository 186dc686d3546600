"""Who may use the agency's pages, walked over the app's own route table, so a new route
under /admin or /support is in the matrix the day it is added.

- anonymous: every page sends to the login page, every form too;
- advisor: refused (403) everywhere here;
- support: the support desk yes (a participant only after a look-up of their own
  unit's code, see test_support_desk.py), the administration no;
- admin: everything; but every form without the session's CSRF token is refused and
  changes nothing (no audit entry is written).
"""

from __future__ import annotations

import httpx
import pytest
from page_helpers import book, login
from route_helpers import filled, included_routes
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer, add_staff
from videotermin.app import create_app
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import AuditEntry, StaffUser

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
AREAS = ("/admin", "/support")


def routes(settings: Settings) -> list[tuple[str, str]]:
    """(method, path template) of every page route under the agency's areas."""
    found = []
    for route in included_routes(create_app(settings).routes):
        path = getattr(route, "path", "")
        for method in sorted(getattr(route, "methods", None) or ()):
            if path.startswith(AREAS) and method in ("GET", "POST"):
                found.append((method, path))
    return found


async def audit_count(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_every_agency_route_answers_each_role_as_documented(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    await add_staff(db, "admin-anna", role="admin")
    await add_staff(db, "support-sven", role="support")
    booking = await book(db, settings, clock)
    ids = {
        "user_id": str(advisor.id),
        "unit_id": "1",
        "token_id": "1",
        "version": "2026-12-01",
        "slug": "browser",
        "participant_id": booking.participant_ids[0],
    }
    table = routes(settings)
    assert len(table) >= 25, table
    assert ("POST", "/admin/personal/{user_id}/deaktivieren") in table

    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        for method, path in table:
            answer = await anonymous.request(method, filled(path, ids), data={"x": "1"})
            assert answer.status_code == 303, (method, path)
            assert answer.headers["location"].startswith("/login"), (method, path)

    expected_get = {
        "berater": lambda path: 403,
        "support-sven": lambda path: 403 if path.startswith("/admin") else None,
        "admin-anna": lambda path: None,
    }
    before = await audit_count(db)
    for name, expectation in expected_get.items():
        async with httpx.AsyncClient(base_url=live_server.url) as browser:
            await login(browser, name)
            logins = await audit_count(db)
            for method, path in table:
                url = filled(path, ids)
                if method == "GET":
                    wanted = expectation(path)
                    got = (await browser.get(url)).status_code
                    if wanted is None:
                        # Allowed in: the page itself, or its own answer for this data
                        # (a participant nobody looked up is not shown).
                        assert got in (200, 404), (name, path, got)
                    else:
                        assert got == wanted, (name, path, got)
                else:
                    forged = await browser.post(url, data={"name": "x", "code": "AAA-AAA"})
                    assert forged.status_code == 403, (name, method, path, forged.status_code)
            exports = 1 if name == "admin-anna" else 0  # reading the CSV is audited
            assert await audit_count(db) == logins + exports, f"{name}: a refusal left an entry"
    assert await audit_count(db) == before + 3 + 1  # three logins and the one export
