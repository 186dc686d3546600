"""A participant as their link sees them: appointment, consent and journey state.

Every citizen-facing entry point (pages, device-check endpoints, WebSocket)
starts here, so each one derives the same state from the same rules
(:mod:`videotermin.domain.journey`) and refuses the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload
from sqlalchemy.orm.interfaces import ORMOption

from videotermin.context import AppContext
from videotermin.domain.consent import Decision, effective_consent
from videotermin.domain.journey import (
    Consent,
    Journey,
    Slot,
    journey,
    window_closes_at,
    window_opens_at,
)
from videotermin.domain.survey import may_take_survey
from videotermin.domain.tokens import hash_token, looks_like_token
from videotermin.services.consent_texts import current_version
from videotermin.store.models import Appointment, Participant, ParticipantLink


@dataclass(frozen=True)
class Participation:
    participant: Participant
    appointment: Appointment
    consent: Consent
    state: Journey
    opens_at: datetime
    closes_at: datetime

    @property
    def may_check_devices(self) -> bool:
        return self.state in (Journey.BEFORE_WINDOW, Journey.WINDOW_OPEN)

    @property
    def may_enter(self) -> bool:
        return self.state == Journey.WINDOW_OPEN

    @property
    def survey_open(self) -> bool:
        """The survey follows the call: during the window (after hanging up) or once over."""
        return self.state in (Journey.WINDOW_OPEN, Journey.ENDED) and may_take_survey(
            self.participant.role, self.consent == Consent.AGREED, self.participant.survey_closed
        )


async def participant_for_token(
    session: AsyncSession, token: str, *options: ORMOption
) -> Participant | None:
    """The participant a personal link belongs to, if the link is valid and not revoked;
    ``options`` shape how the link and its participant are loaded."""
    if not looks_like_token(token):
        return None
    link = await session.get(ParticipantLink, hash_token(token), options=options)
    if link is None or not link.participant.active:
        return None
    return link.participant


def slot_of(appointment: Appointment) -> Slot:
    return Slot(appointment.start_at, appointment.duration_minutes, appointment.status)


def consent_of(participant: Participant, version: str) -> Consent:
    latest = participant.latest_consent
    if latest is None:
        return Consent.NONE
    return effective_consent(Decision(latest.decision), latest.version, version)


def participation_of(
    ctx: AppContext, participant: Participant, appointment: Appointment
) -> Participation:
    slot = slot_of(appointment)
    consent = consent_of(participant, current_version(ctx.settings))
    early = ctx.settings.join_early_minutes
    return Participation(
        participant=participant,
        appointment=appointment,
        consent=consent,
        state=journey(slot, consent, ctx.clock(), early),
        opens_at=window_opens_at(slot, early),
        closes_at=window_closes_at(slot),
    )


async def participation_for_token(
    session: AsyncSession, ctx: AppContext, token: str
) -> Participation | None:
    """``None`` for an unknown, malformed or revoked link — callers answer with one 404.

    Loads what a participation is made of and no more — not the participant's
    mails, not the appointment's other participants with theirs: the citizen's
    WebSocket reads it again for its messages, and each of those loads is a query."""
    participant = await participant_for_token(
        session, token, joinedload(ParticipantLink.participant).raiseload(Participant.mails)
    )
    if participant is None:
        return None
    appointment = await session.get_one(
        Appointment, participant.appointment_id, options=[raiseload(Appointment.participants)]
    )
    return participation_of(ctx, participant, appointment)
