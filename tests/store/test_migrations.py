"""Migrations run on SQLite and PostgreSQL and match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from videotermin.store.db import create_engine
from videotermin.store.migrate import upgrade
from videotermin.store.models import Base, Unit
from videotermin.store.personal_data import personal_column_names


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == [], "models changed without a migration"


async def test_upgrade_is_idempotent_and_keeps_one_default_unit(
    db_url: str, db: async_sessionmaker[AsyncSession]
) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine, "Europe/Berlin")
        await upgrade(engine, "Europe/Berlin")
    finally:
        await engine.dispose()
    async with db() as session:
        units = list(await session.scalars(select(Unit)))
        count = await session.scalar(select(func.count()).select_from(Unit))
    assert count == 1
    assert units[0].is_default
    assert units[0].timezone == "Europe/Berlin"


def test_personal_columns_are_listed_in_one_place() -> None:
    assert set(personal_column_names()) >= {
        "participants.name",
        "participants.email",
        "participants.customer_number",
        "appointments.subject",
        "outbox_mails.recipient",
        "outbox_mails.message",
    }
