"""The retention purge: erase personal data when :mod:`videotermin.domain.retention` says so.

Participants of expired appointments are deleted with everything that refers
to them (links, consent records, device checks, outbox copies); the
appointment row stays without its personal columns, so anonymous counts remain
possible. Old device checks lose their personal columns. Expired staff sessions
and stale login counters go too. The purge runs hourly in every app process and
on demand (``videotermin purge``); running it twice changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, update

from videotermin.context import AppContext
from videotermin.domain.appointments import end_of
from videotermin.domain.retention import appointments_ended_before, checks_made_before
from videotermin.store.models import (
    Appointment,
    DeviceCheck,
    LoginThrottle,
    Participant,
    StaffSession,
)
from videotermin.store.personal_data import personal_columns

log = logging.getLogger("videotermin.retention")
PURGE_INTERVAL = timedelta(hours=1)
# Appointments last at most 8 hours (domain.appointments.MAX_DURATION): a start this
# much before the cutoff is the widest net the database needs to cast.
LONGEST = timedelta(hours=8)


@dataclass(frozen=True)
class PurgeReport:
    appointments: int
    participants: int
    device_checks: int
    sessions: int


def _personal_of(model: type) -> dict[str, None]:
    table = model.__table__  # type: ignore[attr-defined]
    return {c.name: None for c in personal_columns() if c.table is table}


async def purge(ctx: AppContext) -> PurgeReport:
    now = ctx.clock()
    days = ctx.settings.retention_days
    cutoff = appointments_ended_before(now, days)
    async with ctx.sessions() as session, session.begin():
        candidates = await session.execute(
            select(Appointment.id, Appointment.start_at, Appointment.duration_minutes).where(
                Appointment.start_at < cutoff + LONGEST
            )
        )
        expired = [
            appointment_id
            for appointment_id, start, minutes in candidates
            if end_of(start, minutes) < cutoff
        ]
        participants = 0
        appointments = 0
        if expired:
            participants = (
                await session.execute(
                    delete(Participant).where(Participant.appointment_id.in_(expired))
                )
            ).rowcount
            erased = await session.execute(
                update(Appointment)
                .where(Appointment.id.in_(expired), _has_personal(Appointment))
                .values(_personal_of(Appointment))
            )
            appointments = erased.rowcount
        checks = (
            await session.execute(
                update(DeviceCheck)
                .where(
                    DeviceCheck.checked_at < checks_made_before(now, days),
                    _has_personal(DeviceCheck),
                )
                .values(_personal_of(DeviceCheck))
            )
        ).rowcount
        sessions = (
            await session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
        ).rowcount
        await session.execute(
            delete(LoginThrottle).where(
                func.coalesce(LoginThrottle.locked_until, LoginThrottle.first_failed_at)
                < now - timedelta(days=1)
            )
        )
    report = PurgeReport(appointments, participants, checks, sessions)
    log.info(
        "purge appointments=%d participants=%d device_checks=%d sessions=%d",
        report.appointments,
        report.participants,
        report.device_checks,
        report.sessions,
    )
    return report


def _has_personal(model: type) -> ColumnElement[bool]:
    """Rows that still hold any personal value (so a second purge touches nothing)."""
    table = model.__table__  # type: ignore[attr-defined]
    return or_(*(c.isnot(None) for c in personal_columns() if c.table is table))


class RetentionJob:
    """Runs :func:`purge` at start and then every hour, surviving errors."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="retention-purge")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await purge(self.ctx)
            except Exception as exc:
                log.error("purge_failed error=%s", type(exc).__name__)
            await asyncio.sleep(PURGE_INTERVAL.total_seconds())
