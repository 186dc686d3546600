"""Helpers for the support desk tests: the supporter's account, looking a participant up
by the code a caller reads aloud, and the desk's live view over ``/ws/support``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from page_helpers import post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import socket

from conftest import LiveServer, add_staff
from videotermin.store.models import Participant, StaffUser

SUPPORT = "support-sven"


@pytest.fixture
async def supporter(db: async_sessionmaker[AsyncSession], advisor: StaffUser) -> StaffUser:
    return await add_staff(db, SUPPORT, role="support", display_name="Sven Support")


async def code_of(db: async_sessionmaker[AsyncSession], participant_id: str) -> str:
    async with db() as session:
        code = await session.scalar(
            select(Participant.support_code).where(Participant.id == participant_id)
        )
    assert code is not None
    return code


async def look_up(browser: httpx.AsyncClient, typed: str) -> httpx.Response:
    return await post_form(browser, "/support", "/support", {"code": typed})


def support_socket(server: LiveServer, cookie: str, language: str | None = None) -> Any:
    """``/ws/support`` as the supporter's page opens it: the session cookie and, when the
    supporter chose a language, the language cookie too."""
    return socket(server, "/ws/support", origin=server.url, cookie=cookie, language=language)
