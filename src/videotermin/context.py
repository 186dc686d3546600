"""What every handler, job and command needs: settings, clock and the database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from videotermin.domain.clock import Clock
from videotermin.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def link_for(self, token: str) -> str:
        return f"{self.settings.public_url}/v/{token}"
