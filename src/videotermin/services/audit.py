"""The audit log: who did what, when — written in the transaction of the action.

Every use case that changes something on behalf of a staff member (or an API
token) calls :func:`record` with its own session before it commits, so an action
and its entry exist together or not at all. Entries are only ever added; the
database refuses to update one, and the retention purge deletes those older
than ``audit_retention_days``. Reading is for admins: :func:`entries` filters by
person, action and date, and the CSV export uses the same query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.audit import AuditAction, audit_cutoff, clean_detail
from videotermin.store.db import rowcount
from videotermin.store.models import ApiToken, AuditEntry, StaffUser

PAGE_SIZE = 100


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user, an API token, or (a failed login of an unknown name) nobody."""

    staff_id: int | None = None
    api_token_id: int | None = None


SYSTEM = Actor()
"""The product itself (the demo seed, a command-line call): no person to name."""


def staff_actor(user_id: int) -> Actor:
    return Actor(staff_id=user_id)


def record(
    db: AsyncSession,
    now: datetime,
    actor: Actor,
    action: AuditAction,
    *,
    appointment_id: str | None = None,
    subject_staff_id: int | None = None,
    detail: str = "",
) -> None:
    """Add one entry to the caller's transaction."""
    db.add(
        AuditEntry(
            at=now,
            actor_id=actor.staff_id,
            api_token_id=actor.api_token_id,
            action=action.value,
            appointment_id=appointment_id,
            subject_staff_id=subject_staff_id,
            detail=clean_detail(detail),
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: AuditAction | None = None
    since: datetime | None = None
    until: datetime | None = None
    """Exclusive."""


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: AuditAction
    appointment_id: str | None
    subject: str
    detail: str


def _query(wanted: AuditFilter) -> Select[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if wanted.actor_id is not None:
        query = query.where(AuditEntry.actor_id == wanted.actor_id)
    if wanted.action is not None:
        query = query.where(AuditEntry.action == wanted.action.value)
    if wanted.since is not None:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEntry.at < wanted.until)
    return query


async def _names(db: AsyncSession) -> tuple[dict[int, str], dict[int, str]]:
    staff = {
        row.id: row.username for row in await db.execute(select(StaffUser.id, StaffUser.username))
    }
    tokens = {row.id: row.name for row in await db.execute(select(ApiToken.id, ApiToken.name))}
    return staff, tokens


def _line(entry: AuditEntry, staff: dict[int, str], tokens: dict[int, str]) -> AuditLine:
    if entry.actor_id is not None:
        actor = staff.get(entry.actor_id, f"#{entry.actor_id}")
    elif entry.api_token_id is not None:
        actor = "API: " + tokens.get(entry.api_token_id, f"#{entry.api_token_id}")
    else:
        actor = "—"
    subject = ""
    if entry.subject_staff_id is not None:
        subject = staff.get(entry.subject_staff_id, f"#{entry.subject_staff_id}")
    return AuditLine(
        entry.at, actor, AuditAction(entry.action), entry.appointment_id, subject, entry.detail
    )


async def entries(
    db: AsyncSession, wanted: AuditFilter, *, limit: int | None = PAGE_SIZE, offset: int = 0
) -> Sequence[AuditLine]:
    """The entries ``wanted`` asks for, newest first, with names instead of ids."""
    query = _query(wanted).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    staff, tokens = await _names(db)
    return [_line(entry, staff, tokens) for entry in await db.scalars(query)]


async def record_export(ctx: AppContext, admin_id: int, what: str) -> None:
    """An export of the log is itself an entry (``what``: the filter it used)."""
    async with ctx.sessions() as db, db.begin():
        record(db, ctx.clock(), Actor(staff_id=admin_id), AuditAction.AUDIT_EXPORTED, detail=what)


async def purge_audit(db: AsyncSession, now: datetime, retention_days: int) -> int:
    """Delete entries past their retention; how many."""
    cutoff = audit_cutoff(now, retention_days)
    return rowcount(await db.execute(delete(AuditEntry).where(AuditEntry.at < cutoff)))
