"""The support desk's use cases: find a participant by the code they read out on the
phone, show them to the supporter, and resend their invitation.

Who may: :func:`videotermin.domain.staff.may_support` (support staff for their own
unit, admins for all). Every look-up — found or not — is written to the audit log
in its own transaction, and the same entries are the rate limit: a supporter gets
``support_lookups_per_minute`` look-ups in any minute, across all instances (on
PostgreSQL an advisory lock per user makes parallel look-ups count one after the
other; SQLite has one writer at a time anyway). Opening the participant's page
again, or its live feed, needs an audited look-up of that appointment by the same
person within a login's lifetime: a participant id alone shows nothing.

The view holds what support needs and nothing more: no chat, no media, no link.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from weakref import WeakValueDictionary

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from videotermin.context import AppContext
from videotermin.domain.audit import AuditAction
from videotermin.domain.staff import may_look_up, may_support
from videotermin.domain.support_code import parse_support_code
from videotermin.services.audit import Actor, record
from videotermin.store.models import AuditEntry, Participant, StaffUser

LOOKUP_LOCK = 0x76745F73  # "vt_s": with the user id, one advisory lock per supporter
RATE_WINDOW = timedelta(minutes=1)


class Outcome(StrEnum):
    FOUND = "found"
    UNKNOWN = "unknown"
    """No current participant has this code (never had, or their data was erased)."""
    OTHER_UNIT = "other_unit"
    MALFORMED = "malformed"
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class LookUp:
    outcome: Outcome
    participant_id: str | None = None
    retry_after: int = 0


# Look-ups of one supporter in this process wait here, holding no database connection;
# across processes (PostgreSQL) the advisory lock below orders them.
_IN_PROCESS: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()


def _local_lock(user_id: int) -> asyncio.Lock:
    lock = _IN_PROCESS.get(user_id)
    if lock is None:
        lock = _IN_PROCESS[user_id] = asyncio.Lock()
    return lock


async def _serialise_across_instances(db: AsyncSession, user_id: int) -> None:
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(select(func.pg_advisory_xact_lock(LOOKUP_LOCK, user_id)))


async def _recent_look_ups(db: AsyncSession, user_id: int, now: datetime) -> list[datetime]:
    return list(
        await db.scalars(
            select(AuditEntry.at).where(
                AuditEntry.actor_id == user_id,
                AuditEntry.action == AuditAction.SUPPORT_LOOKUP.value,
                AuditEntry.at > now - RATE_WINDOW,
            )
        )
    )


async def _by_code(db: AsyncSession, code: str) -> Participant | None:
    return await db.scalar(
        select(Participant)
        .options(selectinload(Participant.appointment))
        .where(Participant.support_code == code, Participant.removed_at.is_(None))
        .limit(1)
    )


async def look_up(ctx: AppContext, user: StaffUser, typed: str) -> LookUp:
    """Find the participant whose code ``typed`` is, as a caller reads it aloud."""
    if not may_look_up(user.role):
        raise PermissionError("only support staff and admins look participants up")
    async with _local_lock(user.id):
        return await _look_up(ctx, user, typed)


async def _look_up(ctx: AppContext, user: StaffUser, typed: str) -> LookUp:
    now = ctx.clock()
    async with ctx.sessions() as db, db.begin():
        await _serialise_across_instances(db, user.id)
        recent = await _recent_look_ups(db, user.id, now)
        if len(recent) >= ctx.settings.support_lookups_per_minute:
            wait = min(recent) + RATE_WINDOW - now
            return LookUp(Outcome.TOO_MANY, retry_after=max(1, int(wait.total_seconds()) + 1))
        code = parse_support_code(typed)
        participant = await _by_code(db, code) if code else None
        appointment_id = participant.appointment_id if participant else None
        if code is None:
            outcome = Outcome.MALFORMED
        elif participant is None:
            outcome = Outcome.UNKNOWN
        elif not may_support(user.role, user.unit_id, participant.appointment.unit_id):
            outcome, appointment_id = Outcome.OTHER_UNIT, None
        else:
            outcome = Outcome.FOUND
        record(
            db,
            now,
            Actor(staff_id=user.id),
            AuditAction.SUPPORT_LOOKUP,
            appointment_id=appointment_id,
            detail=outcome.value,
        )
    found = participant.id if participant and outcome is Outcome.FOUND else None
    return LookUp(outcome, found)


async def looked_up(
    db: AsyncSession, user: StaffUser, participant_id: str, now: datetime, within: timedelta
) -> Participant | None:
    """The participant, with appointment, consents, checks and mails, if ``user`` may
    see them: the role and unit rule, and an audited look-up of their appointment by
    ``user`` ``within`` the given time. ``None`` otherwise, or once their data is erased."""
    if not may_look_up(user.role):
        return None
    participant = await db.scalar(
        select(Participant)
        .options(selectinload(Participant.appointment))
        .where(
            Participant.id == participant_id,
            Participant.removed_at.is_(None),
            Participant.support_code.is_not(None),
        )
    )
    if participant is None or not may_support(
        user.role, user.unit_id, participant.appointment.unit_id
    ):
        return None
    audited = await db.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.actor_id == user.id,
            AuditEntry.action == AuditAction.SUPPORT_LOOKUP.value,
            AuditEntry.appointment_id == participant.appointment_id,
            AuditEntry.at > now - within,
        )
        .limit(1)
    )
    return participant if audited is not None else None
