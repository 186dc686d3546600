"""The admin the administration tests act as: Anna, logged in through the login form of
the running app (an advisor exists beside her, as in every test database)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from page_helpers import login
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer, add_staff
from videotermin.store.models import StaffUser

ADMIN = "admin-anna"


@pytest.fixture
async def admin_browser(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> AsyncIterator[httpx.AsyncClient]:
    await add_staff(db, ADMIN, role="admin")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=20) as browser:
        await login(browser, ADMIN)
        yield browser
