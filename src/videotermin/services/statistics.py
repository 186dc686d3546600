"""Anonymous statistics, recorded as things happen (:mod:`videotermin.domain.statistics`).

Each figure is a counter per unit, day and key in ``stat_counts``, raised in the
transaction of the event that it counts:

- scheduled (moved to another day when rescheduled) and cancelled — by the
  scheduling use cases;
- device-check verdicts, the reasons of every finding that was not green, browser
  and system families — when a check is stored;
- the advisor on time or late, and the citizen's wait from entering the waiting
  room to admission — at an appointment's first admission;
- held, no-show (the citizen never entered the waiting room) and the call's length
  — by the statistics job (:mod:`videotermin.jobs.statistics`) once the appointment
  is over: a conditional update marks it counted, so two instances never count it
  twice;
- call quality — measurements the call pages report, when a call connection ends.

No row names an appointment, a participant or a time of day; the personal facts
the job reads (when a citizen entered the waiting room) go with the retention purge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.appointments import Role, Status, end_of
from videotermin.domain.statistics import (
    CALL_BUCKETS,
    WAIT_BUCKETS,
    Metric,
    Outcome,
    bucket,
    clean_key,
    is_late,
    local_day,
)
from videotermin.store.db import rowcount
from videotermin.store.models import Appointment, Participant, StatCount, Unit

BATCH = 500


async def count(
    db: AsyncSession, unit_id: int, day: date, metric: Metric, key: str, by: int = 1
) -> None:
    """Raise one counter in the caller's transaction (an upsert: no read-then-write race)."""
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(StatCount).values(
        unit_id=unit_id, day=day, metric=metric.value, key=clean_key(key), count=by
    )
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=["unit_id", "day", "metric", "key"],
            set_={"count": StatCount.count + statement.excluded.count},
        )
    )


def _day(appointment: Appointment) -> date:
    return local_day(appointment.start_at, ZoneInfo(appointment.unit.timezone))


async def scheduled(db: AsyncSession, appointment: Appointment) -> None:
    await count(db, appointment.unit_id, _day(appointment), Metric.APPOINTMENTS, Outcome.SCHEDULED)


async def moved(db: AsyncSession, appointment: Appointment, old_start: datetime) -> None:
    """A reschedule to another day moves the appointment's count with it."""
    zone = ZoneInfo(appointment.unit.timezone)
    old, new = local_day(old_start, zone), _day(appointment)
    if old != new:
        await count(db, appointment.unit_id, old, Metric.APPOINTMENTS, Outcome.SCHEDULED, -1)
        await count(db, appointment.unit_id, new, Metric.APPOINTMENTS, Outcome.SCHEDULED)


async def cancelled(db: AsyncSession, appointment: Appointment) -> None:
    await count(db, appointment.unit_id, _day(appointment), Metric.APPOINTMENTS, Outcome.CANCELLED)


async def _unit_zone(db: AsyncSession, unit_id: int) -> ZoneInfo:
    name = await db.scalar(select(Unit.timezone).where(Unit.id == unit_id))
    return ZoneInfo(name or "Europe/Berlin")


@dataclass(frozen=True)
class CheckFacts:
    verdict: str
    reasons: Iterable[str]
    """The items of the findings that were not green."""
    browser: str | None
    system: str | None


async def device_checked(
    db: AsyncSession, participant_id: str, when: datetime, facts: CheckFacts
) -> None:
    unit_id = await db.scalar(
        select(Appointment.unit_id)
        .join(Participant, Participant.appointment_id == Appointment.id)
        .where(Participant.id == participant_id)
    )
    if unit_id is None:
        return
    day = local_day(when, await _unit_zone(db, unit_id))
    await count(db, unit_id, day, Metric.VERDICT, facts.verdict)
    for reason in sorted(set(facts.reasons)):
        await count(db, unit_id, day, Metric.REASON, reason)
    await count(db, unit_id, day, Metric.BROWSER, facts.browser or "unbekannt")
    await count(db, unit_id, day, Metric.SYSTEM, facts.system or "unbekannt")


async def admitted(
    db: AsyncSession, appointment_id: str, now: datetime, waits: Mapping[str, datetime]
) -> None:
    """At an admission (``waits``: who is admitted → waiting since): the first admission
    starts the call; the citizen's first admission — whoever came in before — counts
    whether the advisor was on time and how long the citizen waited. Readmissions after
    a drop or a removal count nothing again."""
    await db.execute(
        update(Appointment)
        .where(Appointment.id == appointment_id, Appointment.call_started_at.is_(None))
        .values(call_started_at=now)
    )
    citizen = await db.execute(
        update(Participant)
        .where(
            Participant.id.in_(list(waits)),
            Participant.role == Role.CITIZEN,
            Participant.first_admitted_at.is_(None),
        )
        .values(first_admitted_at=now)
        .returning(Participant.id)
        .execution_options(synchronize_session=False)
    )
    first = citizen.scalar()
    if first is None:
        return
    found = await db.execute(
        select(Appointment.unit_id, Appointment.start_at).where(Appointment.id == appointment_id)
    )
    unit_id, start = found.one()
    day = local_day(start, await _unit_zone(db, unit_id))
    await count(db, unit_id, day, Metric.ADVISOR, "late" if is_late(start, now) else "on_time")
    minutes = max(0.0, (now - waits[first]).total_seconds() / 60)
    await count(db, unit_id, day, Metric.WAITING, bucket(minutes, WAIT_BUCKETS))


async def call_ended(db: AsyncSession, appointment_id: str, now: datetime) -> None:
    await db.execute(
        update(Appointment)
        .where(Appointment.id == appointment_id, Appointment.call_ended_at.is_(None))
        .values(call_ended_at=now)
    )


async def call_quality(ctx: AppContext, appointment_id: str, grades: Mapping[str, int]) -> None:
    """Measurements a call page reported (grade → how many), when its connection ended."""
    if not any(grades.values()):
        return
    async with ctx.sessions() as db, db.begin():
        found = await db.execute(
            select(Appointment.unit_id, Appointment.start_at).where(
                Appointment.id == appointment_id
            )
        )
        row = found.one_or_none()
        if row is None:
            return
        day = local_day(row.start_at, await _unit_zone(db, row.unit_id))
        for grade, times in sorted(grades.items()):
            if times > 0:
                await count(db, row.unit_id, day, Metric.QUALITY, grade, times)


async def _count_outcome(db: AsyncSession, appointment: Appointment) -> None:
    day = _day(appointment)
    if appointment.call_started_at is not None:
        await count(db, appointment.unit_id, day, Metric.APPOINTMENTS, Outcome.HELD)
        ended = appointment.call_ended_at or end_of(
            appointment.start_at, appointment.duration_minutes
        )
        minutes = max(0.0, (ended - appointment.call_started_at).total_seconds() / 60)
        await count(db, appointment.unit_id, day, Metric.CALL_LENGTH, bucket(minutes, CALL_BUCKETS))
    citizen = next((p for p in appointment.participants if p.role == Role.CITIZEN), None)
    if citizen is not None and citizen.entered_waiting_at is None:
        await count(db, appointment.unit_id, day, Metric.APPOINTMENTS, Outcome.NO_SHOW)


async def record_finished(ctx: AppContext) -> int:
    """Count the outcome of every appointment that is over and not yet counted (a batch);
    how many were counted. Cancelled ones were counted when cancelled."""
    now = ctx.clock()
    counted = 0
    async with ctx.sessions() as db, db.begin():
        due = await db.scalars(
            select(Appointment)
            .where(Appointment.stats_recorded.is_(False), Appointment.start_at < now)
            .order_by(Appointment.start_at)
            .limit(BATCH)
        )
        for appointment in list(due):
            if end_of(appointment.start_at, appointment.duration_minutes) > now:
                continue
            claimed = await db.execute(
                update(Appointment)
                .where(Appointment.id == appointment.id, Appointment.stats_recorded.is_(False))
                .values(stats_recorded=True)
                .execution_options(synchronize_session=False)
            )
            if not rowcount(claimed):
                continue  # another instance counted it
            if appointment.status != Status.CANCELLED:
                await _count_outcome(db, appointment)
            counted += 1
    return counted


async def counts(
    db: AsyncSession, unit_ids: Iterable[int] | None, first: date, last: date
) -> list[tuple[date, str, str, int]]:
    """(day, metric, key, count) summed over the units asked for (``None``: all)."""
    query = (
        select(StatCount.day, StatCount.metric, StatCount.key, func.sum(StatCount.count))
        .where(StatCount.day >= first, StatCount.day <= last)
        .group_by(StatCount.day, StatCount.metric, StatCount.key)
    )
    if unit_ids is not None:
        query = query.where(StatCount.unit_id.in_(list(unit_ids)))
    rows = await db.execute(query)
    return [(row[0], row[1], row[2], int(row[3])) for row in rows]
