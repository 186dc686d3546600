"""Closing the voluntary survey after the call, and storing its answers anonymously.

A participant closes the survey at most once: the conditional update lets only
the first of two concurrent submissions through, and only that one stores
answers — with unit and month only (:mod:`videotermin.domain.survey`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.survey import Answers, month_bucket
from videotermin.services.participation import Participation
from videotermin.store.db import rowcount
from videotermin.store.models import Participant, SurveyResponse


async def close_survey(
    session: AsyncSession, ctx: AppContext, participation: Participation, answers: Answers | None
) -> bool:
    """Close the participant's survey in the caller's transaction and store ``answers``
    unless there are none (skipped, or every question left out). ``False`` if the
    survey was closed already, and then nothing is stored."""
    closed = await session.execute(
        update(Participant)
        .where(
            Participant.id == participation.participant.id,
            Participant.survey_closed.is_(False),
        )
        .values(survey_closed=True)
    )
    if rowcount(closed) != 1:
        return False
    if answers is not None and not answers.empty:
        unit = participation.appointment.unit
        session.add(
            SurveyResponse(
                unit_id=unit.id,
                month=month_bucket(ctx.clock(), ZoneInfo(unit.timezone)),
                satisfaction=answers.satisfaction,
                av_quality=answers.av_quality,
                use_again=answers.use_again.value if answers.use_again else None,
            )
        )
    return True
