"""The instance-wide safety re-read of citizen links: every watched connection gets its
link's authority as read now, in chunks of ``CHUNK`` participants per statement; a link
that is gone comes as ``None``; a connection that stopped watching gets nothing."""

from __future__ import annotations

import pytest
from page_helpers import book
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import IN_WINDOW, record_consent

from conftest import NOW
from videotermin.context import AppContext
from videotermin.domain.clock import FakeClock
from videotermin.domain.journey import Journey
from videotermin.realtime import link_sweep
from videotermin.realtime.link_sweep import LinkSweep
from videotermin.realtime.timing import Timing
from videotermin.services.participation import LinkAuthority
from videotermin.settings import Settings
from videotermin.store.models import Participant, StaffUser


async def test_every_watched_link_is_read_in_chunks_and_a_gone_one_comes_as_none(
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(link_sweep, "CHUNK", 2)
    bookings = [await book(db, settings, clock) for _ in range(5)]
    ids = [b.participant_ids[0] for b in bookings]
    for participant in ids[:4]:
        await record_consent(db, settings, participant)
    async with db() as session, session.begin():
        await session.execute(
            update(Participant).where(Participant.id == ids[3]).values(removed_at=NOW)
        )
    clock.set(IN_WINDOW)
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    sweep = LinkSweep(ctx, Timing())
    got: dict[str, list[LinkAuthority | None]] = {}
    stops = [
        sweep.watch(f"c{n}", participant, lambda a, p=participant: got.setdefault(p, []).append(a))
        for n, participant in enumerate(ids)
    ]
    stops[4]()  # this connection closed before the sweep

    await sweep.sweep_once()

    assert set(got) == set(ids[:4]), "each watched connection once, the closed one not"
    assert all(len(found) == 1 for found in got.values())
    states = {p: found[0].state if found[0] else None for p, found in got.items()}
    assert states == {
        ids[0]: Journey.WINDOW_OPEN,
        ids[1]: Journey.WINDOW_OPEN,
        ids[2]: Journey.WINDOW_OPEN,
        ids[3]: None,
    }
    assert len(sweep) == 4
