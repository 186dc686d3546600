"""Helpers for the citizen journey tests: deciding on consent through the real forms,
leaving a device check behind as the device check would, and reading what the
database keeps of a participant.

Plain functions, like ``page_helpers``: a second ``conftest.py`` would shadow the root one."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.context import AppContext
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token
from videotermin.services import appointments as scheduling
from videotermin.settings import Settings
from videotermin.store.models import Appointment, ConsentRecord, DeviceCheck
from videotermin.store.personal_data import personal_columns

DEVICE_KEY = "this-browser-device-key-000000000"
OPENS_AT = NOW + timedelta(days=1, minutes=-5)  # Thursday 09:55 in Berlin, for TOMORROW_10
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` (token, text version …)."""
    start = html.index(f'action="{action}"')
    form = html[start : html.index("</form>", start)]
    return dict(_HIDDEN.findall(form))


async def decide(
    client: httpx.AsyncClient, token: str, decision: str, **headers: str
) -> httpx.Response:
    """Open the link page and press one of the consent buttons, as a browser would."""
    page = await client.get(f"/v/{token}")
    action = f"/v/{token}/einwilligung"
    fields = hidden_fields(page.text, action)
    return await client.post(action, data={**fields, "decision": decision}, headers=headers)


async def withdraw(client: httpx.AsyncClient, token: str) -> httpx.Response:
    page = await client.get(f"/v/{token}/widerruf")
    action = f"/v/{token}/widerruf"
    return await client.post(action, data=hidden_fields(page.text, action))


async def consent_records(
    db: async_sessionmaker[AsyncSession], participant_id: str
) -> list[ConsentRecord]:
    async with db() as session:
        rows = await session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.participant_id == participant_id)
            .order_by(ConsentRecord.id)
        )
        return list(rows)


async def add_device_check(
    db: async_sessionmaker[AsyncSession],
    participant_id: str,
    verdict: str = "green",
    device_key: str = DEVICE_KEY,
) -> None:
    """A finished check with every field filled, as the device check stores one."""
    async with db() as session, session.begin():
        session.add(
            DeviceCheck(
                participant_id=participant_id,
                checked_at=NOW,
                verdict=verdict,
                device_key_hash=hash_token(device_key),
                findings="[]",
                os_family="Android",
                os_version="14",
                device_type="mobile",
                device_model="Pixel 8",
                browser_family="Chrome Mobile",
                browser_version="131",
                upload_kbps=2400.0,
                download_kbps=18000.0,
                round_trip_ms=42.0,
                packet_loss_pct=0.1,
                jitter_ms=3.0,
                bitrate_kbps=900.0,
                ip_address="203.0.113.7",
            )
        )


async def personal_values(
    db: async_sessionmaker[AsyncSession], participant_id: str
) -> dict[str, list[Any]]:
    """Every personal column of every table that refers to the participant, with the values
    stored for them — read from the models' ``personal`` marker, so no column is missed."""
    found: dict[str, list[Any]] = {}
    async with db() as session:
        for column in personal_columns():
            table = column.table
            owner = table.c.id if table.name == "participants" else table.c.get("participant_id")
            if owner is None:
                continue
            rows = await session.execute(select(column).where(owner == participant_id))
            found[f"{table.name}.{column.name}"] = [row[0] for row in rows]
    return found


async def cancel(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock, appointment_id: str
) -> None:
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    async with db() as session, session.begin():
        appointment = await session.get_one(Appointment, appointment_id)
        await scheduling.cancel(session, ctx, appointment)
