"""The retention purge erases every personal column when the period is over — not earlier."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.jobs.retention import purge
from videotermin.services import appointments as scheduling
from videotermin.services.retention import PurgeReport, claim_the_purge
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.models import (
    Appointment,
    ConsentRecord,
    DeviceCheck,
    Participant,
    ParticipantLink,
    StaffUser,
)
from videotermin.store.personal_data import personal_columns

START = NOW + timedelta(days=1)


async def book(ctx: AppContext, advisor: StaffUser) -> Appointment:
    async with ctx.sessions() as session, session.begin():
        user = await session.get_one(StaffUser, advisor.id)
        appointment, links = await scheduling.create_appointment(
            session,
            ctx,
            advisor=user,
            start=START,
            duration_minutes=30,
            subject="Beratung Frau Muster",
            participants=[
                ParticipantDraft(name="Mia Muster", email="mia@example.org", customer_number="1A"),
                ParticipantDraft(name="Ivo", email="ivo@example.org", role="interpreter"),
            ],
        )
        appointment.waiting_message = "Ich komme fünf Minuten später."
        for issued in links:
            session.add(
                ConsentRecord(
                    participant_id=issued.participant.id,
                    version="2026-12-01",
                    language="de",
                    text_hash="0" * 64,
                    decision="agreed",
                    decided_at=NOW,
                )
            )
            session.add(
                DeviceCheck(
                    participant_id=issued.participant.id,
                    checked_at=NOW,
                    verdict="green",
                    findings="[]",
                    os_family="Linux",
                    browser_family="Chromium",
                    upload_kbps=5000,
                    ip_address="192.0.2.7",
                )
            )
    return appointment


async def purge_now(ctx: AppContext) -> PurgeReport:
    report = await purge(ctx)
    assert report is not None, "no other instance purges here"
    return report


async def personal_values_left(db: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    left: dict[str, int] = {}
    async with db() as session:
        for column in personal_columns():
            count = await session.scalar(
                select(func.count()).select_from(column.table).where(column.isnot(None))
            )
            if count:
                left[f"{column.table.name}.{column.name}"] = int(count)
    return left


async def test_nothing_personal_is_left_after_the_retention_period(
    settings: Settings,
    clock: FakeClock,
    db: async_sessionmaker[AsyncSession],
    advisor: StaffUser,
) -> None:
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    appointment = await book(ctx, advisor)
    end = START + timedelta(minutes=30)

    clock.set(end + timedelta(days=14) - timedelta(seconds=1))
    early = await purge_now(ctx)
    assert early.participants == 0
    assert "participants.name" in await personal_values_left(db)

    clock.set(end + timedelta(days=14, seconds=1))
    report = await purge_now(ctx)

    assert (report.participants, report.appointments) == (2, 1)
    assert await personal_values_left(db) == {}
    async with db() as session:
        kept = await session.get_one(Appointment, appointment.id)
        assert (kept.start_at, kept.duration_minutes, kept.status) == (START, 30, "scheduled")
        for model in (Participant, ParticipantLink, ConsentRecord, DeviceCheck):
            assert await session.scalar(select(func.count()).select_from(model)) == 0

    again = await purge_now(ctx)
    assert (again.participants, again.appointments, again.device_checks) == (0, 0, 0)
    purged = ctx.metrics.registry.get_sample_value
    assert purged("videotermin_purged_rows_total", {"table": "participants"}) == 2
    assert purged("videotermin_purged_rows_total", {"table": "appointments"}) == 1


async def test_device_checks_go_fourteen_days_after_the_check(
    settings: Settings,
    clock: FakeClock,
    db: async_sessionmaker[AsyncSession],
    advisor: StaffUser,
) -> None:
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    await book(ctx, advisor)
    async with db() as session, session.begin():
        appointment = await session.scalar(select(Appointment))
        assert appointment is not None
        appointment.start_at = NOW + timedelta(days=30)  # still far ahead after 14 days

    clock.set(NOW + timedelta(days=14, seconds=1))
    report = await purge_now(ctx)

    assert report.device_checks == 2
    assert report.participants == 0
    left = await personal_values_left(db)
    assert not [name for name in left if name.startswith("device_checks.")]
    assert left["participants.name"] == 2
    async with db() as session:
        verdicts = list(await session.scalars(select(DeviceCheck.verdict)))
    assert verdicts == ["green", "green"], "the anonymous verdict stays"


async def test_retention_days_is_configurable(
    settings: Settings,
    clock: FakeClock,
    db: async_sessionmaker[AsyncSession],
    advisor: StaffUser,
) -> None:
    short = settings.model_copy(update={"retention_days": 2})
    ctx = AppContext(settings=short, clock=clock, engine=db.kw["bind"], sessions=db)
    await book(ctx, advisor)
    clock.set(START + timedelta(minutes=30, days=2, seconds=1))
    assert (await purge_now(ctx)).participants == 2


@pytest.fixture
async def second_instance(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a separate engine: what a second app process on the same database has."""
    engine = create_engine(db_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)
async def test_instances_purging_at_once_erase_each_row_once(
    settings: Settings,
    clock: FakeClock,
    db: async_sessionmaker[AsyncSession],
    second_instance: async_sessionmaker[AsyncSession],
    advisor: StaffUser,
) -> None:
    one = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    two = AppContext(
        settings=settings,
        clock=clock,
        engine=second_instance.kw["bind"],
        sessions=second_instance,
    )
    for _ in range(5):
        await book(one, advisor)
    clock.set(START + timedelta(minutes=30, days=14, seconds=1))

    # While one instance is purging, another one skips instead of queueing behind it.
    async with db() as session, session.begin():
        assert await claim_the_purge(session)
        assert await purge(two) is None
        assert "participants.name" in await personal_values_left(second_instance)

    reports = await asyncio.gather(*(purge(ctx) for ctx in [one, two] * 4))

    done = [report for report in reports if report is not None]
    assert sum(r.participants for r in done) == 10, "each participant erased once"
    assert sum(r.appointments for r in done) == 5
    assert await personal_values_left(db) == {}
    counted = sum(
        ctx.metrics.registry.get_sample_value(
            "videotermin_purged_rows_total", {"table": "participants"}
        )
        or 0
        for ctx in (one, two)
    )
    assert counted == 10, "the metrics count each erased row once across instances"
