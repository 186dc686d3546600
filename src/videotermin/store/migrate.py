"""Schema migrations (Alembic) and the default unit, run by ``videotermin migrate``.

Migrations run on an async engine by handing Alembic a synchronous view of one
connection, so the same code path serves SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine

from videotermin.store.db import session_factory
from videotermin.store.models import Unit

MIGRATIONS = Path(__file__).parent / "migrations"

DEFAULT_UNIT = {
    "slug": "default",
    "name": "Meine Dienststelle",
    "address": "",
    "phone": "",
    "email": "",
    "hotline": "",
    "hotline_hours": "Montag bis Freitag, 8 bis 18 Uhr",
    "hotline_hours_en": "Monday to Friday, 8 am to 6 pm",
}


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, timezone: str) -> None:
    """Bring the schema to the newest revision and make sure a default unit exists."""

    def run(sync_connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(run)
    await ensure_default_unit(engine, timezone)


async def ensure_default_unit(engine: AsyncEngine, timezone: str) -> Unit:
    async with session_factory(engine)() as session, session.begin():
        unit = await session.scalar(select(Unit).where(Unit.is_default.is_(True)))
        if unit is None:
            unit = Unit(**DEFAULT_UNIT, timezone=timezone, is_default=True)
            session.add(unit)
        return unit
