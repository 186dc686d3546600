"""The citizen socket's one-statement read of its link (``link_authority``) says what the
pages' full read (``participation_for_token``) says, in every state the journey knows:
consent none, agreed, declined, withdrawn, agreed on an older text; before, in and after
the window; cancelled, completed; a removed participant and an unknown link."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from page_helpers import Booking, book
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import IN_WINDOW, START, record_consent

from conftest import NOW
from videotermin.context import AppContext
from videotermin.domain.clock import FakeClock
from videotermin.domain.journey import Journey
from videotermin.services.participation import link_authority, participation_for_token
from videotermin.settings import Settings
from videotermin.store.models import Appointment, ConsentRecord, Participant, StaffUser

Db = async_sessionmaker[AsyncSession]
Arrange = Callable[[Db, Settings, Booking, FakeClock], Awaitable[None]]


async def nothing(db: Db, settings: Settings, booking: Booking, clock: FakeClock) -> None:
    clock.set(IN_WINDOW)


async def agreed(db: Db, settings: Settings, booking: Booking, clock: FakeClock) -> None:
    await record_consent(db, settings, booking.participant_ids[0])
    clock.set(IN_WINDOW)


async def declined(db: Db, settings: Settings, booking: Booking, clock: FakeClock) -> None:
    await record_consent(db, settings, booking.participant_ids[0], "declined")
    clock.set(IN_WINDOW)


async def withdrawn_after_agreeing(
    db: Db, settings: Settings, booking: Booking, clock: FakeClock
) -> None:
    await record_consent(db, settings, booking.participant_ids[0])
    await record_consent(db, settings, booking.participant_ids[0], "withdrawn")
    clock.set(IN_WINDOW)


async def agreed_on_an_older_text(
    db: Db, settings: Settings, booking: Booking, clock: FakeClock
) -> None:
    await record_consent(db, settings, booking.participant_ids[0])
    async with db() as session, session.begin():
        await session.execute(update(ConsentRecord).values(version="1999-01"))
    clock.set(IN_WINDOW)


async def before_the_window(db: Db, settings: Settings, booking: Booking, clock: FakeClock) -> None:
    await record_consent(db, settings, booking.participant_ids[0])


async def after_the_window(db: Db, settings: Settings, booking: Booking, clock: FakeClock) -> None:
    await record_consent(db, settings, booking.participant_ids[0])
    clock.set(START + timedelta(minutes=30))


async def cancelled(db: Db, settings: Settings, booking: Booking, clock: FakeClock) -> None:
    await agreed(db, settings, booking, clock)
    async with db() as session, session.begin():
        await session.execute(update(Appointment).values(status="cancelled"))


async def completed(db: Db, settings: Settings, booking: Booking, clock: FakeClock) -> None:
    await agreed(db, settings, booking, clock)
    async with db() as session, session.begin():
        await session.execute(update(Appointment).values(status="completed"))


async def admitted_with_a_message(
    db: Db, settings: Settings, booking: Booking, clock: FakeClock
) -> None:
    await agreed(db, settings, booking, clock)
    async with db() as session, session.begin():
        await session.execute(update(Participant).values(admitted_at=IN_WINDOW))
        await session.execute(
            update(Appointment).values(waiting_message="Gleich geht's los", waiting_message_at=NOW)
        )


@pytest.mark.parametrize(
    "arrange",
    [
        nothing,
        agreed,
        declined,
        withdrawn_after_agreeing,
        agreed_on_an_older_text,
        before_the_window,
        after_the_window,
        cancelled,
        completed,
        admitted_with_a_message,
    ],
)
async def test_the_socket_read_agrees_with_the_pages_read(
    arrange: Arrange, advisor: StaffUser, db: Db, settings: Settings, clock: FakeClock
) -> None:
    booking = await book(db, settings, clock)
    await arrange(db, settings, booking, clock)
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)

    lean = await link_authority(ctx, booking.tokens[0])
    async with db() as session:
        full = await participation_for_token(session, ctx, booking.tokens[0])

    assert lean is not None and full is not None
    assert (lean.state, lean.closes_at, lean.may_enter) == (
        full.state,
        full.closes_at,
        full.may_enter,
    )
    participant, appointment = full.participant, full.appointment
    assert (lean.participant_id, lean.appointment_id) == (participant.id, appointment.id)
    assert (lean.name, lean.role, lean.admitted_at) == (
        participant.name,
        participant.role,
        participant.admitted_at,
    )
    assert (lean.waiting_message, lean.waiting_message_at) == (
        appointment.waiting_message,
        appointment.waiting_message_at,
    )


async def test_the_scenarios_reach_every_consent_state_and_both_sides_of_the_window(
    advisor: StaffUser, db: Db, settings: Settings, clock: FakeClock
) -> None:
    """So the comparison above is not made in one state only."""
    seen = set()
    for arrange in (nothing, agreed, declined, withdrawn_after_agreeing, before_the_window):
        booking = await book(db, settings, clock)
        await arrange(db, settings, booking, clock)
        ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
        found = await link_authority(ctx, booking.tokens[0])
        assert found is not None
        seen.add(found.state)
        clock.set(NOW)
    assert {
        Journey.CONSENT_NEEDED,
        Journey.WINDOW_OPEN,
        Journey.CONSENT_DECLINED,
        Journey.CONSENT_WITHDRAWN,
        Journey.BEFORE_WINDOW,
    } <= seen


async def test_a_removed_participant_and_an_unknown_link_have_no_authority(
    advisor: StaffUser, db: Db, settings: Settings, clock: FakeClock
) -> None:
    booking = await book(db, settings, clock)
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    async with db() as session, session.begin():
        await session.execute(update(Participant).values(removed_at=NOW))

    assert await link_authority(ctx, booking.tokens[0]) is None
    assert await link_authority(ctx, "A" * 32) is None
    assert await link_authority(ctx, "nicht ein token\n") is None
