"""The agency's units: the default one, which pages without an appointment show,
and the one a new staff account joins."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.store.models import Unit


async def default_unit(session: AsyncSession) -> Unit | None:
    """The unit created by ``videotermin migrate``; ``None`` before the first migration."""
    return await session.scalar(select(Unit).where(Unit.is_default.is_(True)))


async def default_unit_name(session: AsyncSession) -> str:
    """The name the login page shows before anyone is logged in."""
    unit = await default_unit(session)
    return unit.name if unit is not None else "Videotermin"


async def unit_by_slug(session: AsyncSession, slug: str | None) -> Unit | None:
    """The unit with this slug, or the default unit when no slug is given."""
    if not slug:
        return await default_unit(session)
    return await session.scalar(select(Unit).where(Unit.slug == slug))
