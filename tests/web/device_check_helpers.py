"""Helpers for the device-check tests: a participant who has agreed, the page's token
for the JSON endpoints, and a result as the page posts it.

Plain functions, like ``page_helpers``: a second ``conftest.py`` would shadow the root one."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.services.consent_texts import current_version
from videotermin.settings import Settings
from videotermin.store.models import ConsentRecord, DeviceCheck

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
# What a fast, clean line measures: every item green.
GOOD: dict[str, Any] = {
    "camera": "ok",
    "microphone": "ok",
    "speaker": "heard",
    "connected": True,
    "round_trip_ms": 42.5,
    "packet_loss_pct": 0,
    "jitter_ms": 4.2,
    "bitrate_kbps": 900,
    "upload_kbps": 20_000,
    "download_kbps": 50_000,
}
_CONFIG = re.compile(r'<script type="application/json" id="check-config">(.*?)</script>', re.S)


async def agree(
    db: async_sessionmaker[AsyncSession], settings: Settings, participant_id: str
) -> None:
    """Record the participant's consent to the current text, as the consent form does."""
    async with db() as session, session.begin():
        session.add(
            ConsentRecord(
                participant_id=participant_id,
                version=current_version(settings),
                language="de",
                text_hash="0" * 64,
                decision="agreed",
                decided_at=NOW,
            )
        )


def page_config(html: str) -> dict[str, Any]:
    match = _CONFIG.search(html)
    assert match, "the page carries its configuration for the script"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


async def page_headers(client: httpx.AsyncClient, page_url: str) -> dict[str, str]:
    """Open the check page (which sets the token cookie); the headers its script sends."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    config = page_config(page.text)
    return {
        config["csrfHeader"]: config["csrfToken"],
        "Sec-Fetch-Site": "same-origin",
        "Content-Type": "application/json",
    }


async def device_checks(db: async_sessionmaker[AsyncSession]) -> list[DeviceCheck]:
    async with db() as session:
        return list(await session.scalars(select(DeviceCheck).order_by(DeviceCheck.id)))
