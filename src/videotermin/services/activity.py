"""Where a citizen's pages report them to be, for the support desk
(:mod:`videotermin.domain.activity`).

A report is written only when it says something new — another place or step, or
the same one after :data:`REFRESH` — so reloading a page costs no write; a written
report is announced on the appointment's channel, so a supporter's open view
(on any instance) shows it at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update

from videotermin.bus.events import participant_changed
from videotermin.context import AppContext
from videotermin.domain.activity import Activity
from videotermin.store.db import rowcount
from videotermin.store.models import Participant

REFRESH = timedelta(minutes=1)
NEW_SPELL = timedelta(seconds=1)


async def report(
    ctx: AppContext, appointment_id: str, participant_id: str, activity: Activity
) -> bool:
    """Note that the participant is at ``activity`` now; whether that was news."""
    now = ctx.clock()
    async with ctx.sessions() as db, db.begin():
        written = await db.execute(
            update(Participant)
            .where(
                Participant.id == participant_id,
                Participant.support_code.is_not(None),
                or_(
                    Participant.activity.is_(None),
                    Participant.activity != activity.value,
                    Participant.activity_at < now - REFRESH,
                ),
            )
            .values(activity=activity.value, activity_at=now)
        )
    if not rowcount(written):
        return False
    await participant_changed(ctx.bus, appointment_id, participant_id)
    return True


async def entered_waiting_room(ctx: AppContext, participant_id: str, since: datetime) -> None:
    """Note the first time the participant entered the waiting room (the statistics tell
    a no-show by its absence). Written only when a waiting spell has just begun, and only
    once per participant."""
    if ctx.clock() - since > NEW_SPELL:
        return
    async with ctx.sessions() as db, db.begin():
        await db.execute(
            update(Participant)
            .where(Participant.id == participant_id, Participant.entered_waiting_at.is_(None))
            .values(entered_waiting_at=since)
        )
