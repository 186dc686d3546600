"""Erasing personal data when :mod:`videotermin.domain.retention` says so.

Participants of expired appointments are deleted with everything that refers
to them (links, consent records, device checks, outbox copies); the
appointment row stays without its personal columns, so anonymous counts remain
possible. Old device checks lose their personal columns. Expired staff sessions
and stale login counters go too, and audit entries past the audit retention.
Erasing twice changes nothing. The job that runs this hourly is
:mod:`videotermin.jobs.retention`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Result, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.domain.appointments import end_of
from videotermin.domain.audit import DEFAULT_RETENTION_DAYS
from videotermin.domain.retention import appointments_ended_before, checks_made_before
from videotermin.services.audit import purge_audit
from videotermin.store.db import rowcount
from videotermin.store.models import (
    Appointment,
    Base,
    DeviceCheck,
    LoginThrottle,
    Participant,
    StaffSession,
)
from videotermin.store.personal_data import personal_columns

# Appointments last at most 8 hours (domain.appointments.MAX_DURATION): a start this
# much before the cutoff is the widest net the database needs to cast.
LONGEST = timedelta(hours=8)
# The key of the PostgreSQL advisory lock that makes one instance purge at a time.
PURGE_LOCK = 0x76745F7075726765  # "vt_purge"
BATCH = 5_000


@dataclass(frozen=True)
class PurgeReport:
    appointments: int
    participants: int
    device_checks: int
    sessions: int
    audit_entries: int = 0
    mail_files: int = 0

    def by_kind(self) -> dict[str, int]:
        return {
            "appointments": self.appointments,
            "participants": self.participants,
            "device_checks": self.device_checks,
            "sessions": self.sessions,
            "audit_entries": self.audit_entries,
            "mail_files": self.mail_files,
        }


def _personal_of(model: type[Base]) -> dict[str, None]:
    table = model.__table__
    return {c.name: None for c in personal_columns() if c.table is table}


def _count(result: Result[Any]) -> int:
    """How many rows a ``DELETE`` or ``UPDATE`` touched."""
    return rowcount(result)


def _has_personal(model: type[Base]) -> ColumnElement[bool]:
    """Rows that still hold any personal value (so a second purge touches nothing)."""
    table = model.__table__
    return or_(*(c.isnot(None) for c in personal_columns() if c.table is table))


async def _ended_in_window(session: AsyncSession, cutoff: datetime) -> list[str]:
    """Appointments that started in the last ``LONGEST`` before ``cutoff`` and also ended
    before it (their length decides; a small set, checked one by one)."""
    candidates = await session.execute(
        select(Appointment.id, Appointment.start_at, Appointment.duration_minutes).where(
            Appointment.start_at >= cutoff - LONGEST,
            Appointment.start_at < cutoff,
            Appointment.erased_at.is_(None),
        )
    )
    return [
        appointment_id
        for appointment_id, start, minutes in candidates
        if end_of(start, minutes) < cutoff
    ]


async def _erase_appointments(
    session: AsyncSession, expired: list[str], now: datetime
) -> tuple[int, int]:
    """Delete the participants of ``expired``, blank the appointments' personal columns and
    mark them erased (``erased_at``: no later purge looks at them again); returns
    (appointments, participants)."""
    if not expired:
        return 0, 0
    participants = await session.execute(
        delete(Participant).where(Participant.appointment_id.in_(expired))
    )
    erased = await session.execute(
        update(Appointment)
        .where(Appointment.id.in_(expired))
        .values({**_personal_of(Appointment), "erased_at": now})
    )
    return _count(erased), _count(participants)


async def _erase_ended(session: AsyncSession, cutoff: datetime, now: datetime) -> tuple[int, int]:
    """Erase every appointment that ended before ``cutoff``, in batches of :data:`BATCH`
    (a statement's parameters are limited, and each batch finds only appointments not yet
    erased — an index on ``erased_at`` — so the work grows with what expired, not with
    every appointment ever held)."""
    appointments, participants = await _erase_appointments(
        session, await _ended_in_window(session, cutoff), now
    )
    while True:
        batch = list(
            await session.scalars(
                select(Appointment.id)
                .where(Appointment.start_at < cutoff - LONGEST, Appointment.erased_at.is_(None))
                .limit(BATCH)
            )
        )
        if not batch:
            return appointments, participants
        done = await _erase_appointments(session, batch, now)
        appointments, participants = appointments + done[0], participants + done[1]


async def _erase_device_checks(session: AsyncSession, before: datetime) -> int:
    checks = await session.execute(
        update(DeviceCheck)
        .where(DeviceCheck.checked_at < before, _has_personal(DeviceCheck))
        .values(_personal_of(DeviceCheck))
    )
    return _count(checks)


async def _forget_logins(session: AsyncSession, now: datetime) -> int:
    """Delete expired staff sessions and stale login counters; returns the sessions."""
    sessions = await session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    await session.execute(
        delete(LoginThrottle).where(
            func.coalesce(LoginThrottle.locked_until, LoginThrottle.first_failed_at)
            < now - timedelta(days=1)
        )
    )
    return _count(sessions)


async def claim_the_purge(session: AsyncSession) -> bool:
    """Whether this transaction may purge: every instance runs the job, one at a time
    does the work. On PostgreSQL a transaction-scoped advisory lock, which a second
    instance fails to take instead of queueing behind the first's row locks (and
    deadlocking with it); SQLite has a single writer anyway."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(PURGE_LOCK))))


async def erase_expired(
    session: AsyncSession,
    now: datetime,
    retention_days: int,
    audit_retention_days: int = DEFAULT_RETENTION_DAYS,
) -> PurgeReport:
    """Erase, in the caller's transaction, what has outlived ``retention_days`` (and audit
    entries older than ``audit_retention_days``)."""
    cutoff = appointments_ended_before(now, retention_days)
    appointments, participants = await _erase_ended(session, cutoff, now)
    checks = await _erase_device_checks(session, checks_made_before(now, retention_days))
    sessions = await _forget_logins(session, now)
    audit = await purge_audit(session, now, audit_retention_days)
    return PurgeReport(appointments, participants, checks, sessions, audit)
