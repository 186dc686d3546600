"""The agency's units: the default one, which pages without an appointment show,
and the one a new staff account joins; and the admin's use cases that create and
change units, each audited."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.appointments import FieldError, RuleViolation, normalise_email
from videotermin.domain.audit import AuditAction
from videotermin.domain.units import UnitDraft, check_unit
from videotermin.services.audit import Actor, record
from videotermin.store.models import Unit

EDITABLE = (
    "name",
    "address",
    "phone",
    "email",
    "hotline",
    "hotline_hours",
    "hotline_hours_en",
    "timezone",
)


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


async def all_units(db: AsyncSession) -> Sequence[Unit]:
    return list(await db.scalars(select(Unit).order_by(Unit.name)))


async def unit_by_id(db: AsyncSession, unit_id: int) -> Unit | None:
    return await db.get(Unit, unit_id)


def _normalised(draft: UnitDraft) -> dict[str, str]:
    values = {field: getattr(draft, field) for field in EDITABLE}
    if draft.email:
        values["email"] = normalise_email(draft.email) or draft.email
    return values


async def create_unit(ctx: AppContext, admin_id: int, draft: UnitDraft) -> int:
    errors = check_unit(draft, new=True)
    async with ctx.sessions() as db, db.begin():
        if not errors and await db.scalar(select(Unit.id).where(Unit.slug == draft.slug)):
            errors.append(FieldError("slug", "taken", "this slug exists already"))
        if errors:
            raise RuleViolation(errors)
        unit = Unit(slug=draft.slug, is_default=False, **_normalised(draft))
        db.add(unit)
        await db.flush()
        record(
            db, ctx.clock(), Actor(staff_id=admin_id), AuditAction.UNIT_CREATED, detail=draft.slug
        )
        return unit.id


async def change_unit(ctx: AppContext, admin_id: int, unit_id: int, draft: UnitDraft) -> bool:
    """Save the form; whether anything changed (the audit entry names the fields)."""
    errors = check_unit(draft, new=False)
    if errors:
        raise RuleViolation(errors)
    async with ctx.sessions() as db, db.begin():
        unit = await db.get(Unit, unit_id)
        if unit is None:
            raise LookupError(unit_id)
        changed = [f for f, v in _normalised(draft).items() if getattr(unit, f) != v]
        if not changed:
            return False
        for field, value in _normalised(draft).items():
            setattr(unit, field, value)
        record(
            db,
            ctx.clock(),
            Actor(staff_id=admin_id),
            AuditAction.UNIT_CHANGED,
            detail=f"{unit.slug}: {', '.join(changed)}",
        )
    return True
