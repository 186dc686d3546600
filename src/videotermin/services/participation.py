"""A participant as their link sees them: appointment, consent and journey state.

Every citizen-facing entry point (pages, device-check endpoints, WebSocket)
starts here, so each one derives the same state from the same rules
(:mod:`videotermin.domain.journey`) and refuses the same way.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
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
from videotermin.store.latest import latest
from videotermin.store.models import Appointment, ConsentRecord, Participant, ParticipantLink


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


def consent_of(participant: Participant) -> Consent:
    latest = participant.latest_consent
    return _consent(latest.decision if latest is not None else None)


def _consent(decision: str | None) -> Consent:
    """The latest decision, whichever text version it was made on."""
    return effective_consent(Decision(decision) if decision is not None else None)


def participation_of(
    ctx: AppContext, participant: Participant, appointment: Appointment
) -> Participation:
    slot = slot_of(appointment)
    consent = consent_of(participant)
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
    mails, not the appointment's other participants with theirs. (The citizen's
    WebSocket reads :func:`link_authority` instead: one statement, plain values.)"""
    participant = await participant_for_token(
        session, token, joinedload(ParticipantLink.participant).raiseload(Participant.mails)
    )
    if participant is None:
        return None
    appointment = await session.get_one(
        Appointment, participant.appointment_id, options=[raiseload(Appointment.participants)]
    )
    return participation_of(ctx, participant, appointment)


@dataclass(frozen=True)
class LinkAuthority:
    """What a citizen's socket knows of its link between reads: the journey state and
    the few fields the waiting room and the call show. Plain values, read in one
    statement — a socket holds it for as long as the citizen waits or talks, and ten
    thousand of them must cost neither a query each per message nor a heap of ORM
    objects for the garbage collector to walk."""

    participant_id: str
    appointment_id: str
    name: str | None
    role: str
    admitted_at: datetime | None
    waiting_message: str | None
    waiting_message_at: datetime | None
    state: Journey
    closes_at: datetime
    call_key: str | None
    """The call's secret for peer ids (``None`` only for an appointment made before
    appointments got one at creation: :func:`services.admission.call_key` makes it)."""

    @property
    def may_enter(self) -> bool:
        return self.state == Journey.WINDOW_OPEN


_LATEST_CONSENT = latest(ConsentRecord, ConsentRecord.id)


def _authority_statement() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Participant.id,
            Participant.appointment_id,
            Participant.name,
            Participant.role,
            Participant.admitted_at,
            Appointment.start_at,
            Appointment.duration_minutes,
            Appointment.status,
            Appointment.waiting_message,
            Appointment.waiting_message_at,
            ConsentRecord.decision,
            Appointment.call_key,
        )
        .select_from(ParticipantLink)
        .join(Participant, Participant.id == ParticipantLink.participant_id)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .outerjoin(ConsentRecord, ConsentRecord.id == _LATEST_CONSENT)
        .where(Participant.removed_at.is_(None))
    )


# Built once: a socket's connect runs one of them, and building (and hashing) the
# statement anew cost as much as half its execution.
_BY_TOKEN = _authority_statement().where(ParticipantLink.token_hash == bindparam("token_hash"))
_BY_PARTICIPANTS = _authority_statement().where(
    Participant.id.in_(bindparam("ids", expanding=True))
)


def _authority_of(ctx: AppContext, row: Row[Any]) -> LinkAuthority:
    slot = Slot(row.start_at, row.duration_minutes, row.status)
    consent = _consent(row.decision)
    return LinkAuthority(
        participant_id=row.id,
        appointment_id=row.appointment_id,
        name=row.name,
        role=row.role,
        admitted_at=row.admitted_at,
        waiting_message=row.waiting_message,
        waiting_message_at=row.waiting_message_at,
        state=journey(slot, consent, ctx.clock(), ctx.settings.join_early_minutes),
        closes_at=window_closes_at(slot),
        call_key=row.call_key,
    )


async def link_authority(ctx: AppContext, token: str) -> LinkAuthority | None:
    """The link's authority now (``None``: unknown, malformed or revoked), by the same
    rules as :func:`participation_of`, in one statement of plain columns."""
    if not looks_like_token(token):
        return None
    async with ctx.reads.connect() as connection:
        result = await connection.execute(_BY_TOKEN, {"token_hash": hash_token(token)})
        row = result.one_or_none()
    return None if row is None else _authority_of(ctx, row)


async def links_authority(
    ctx: AppContext, participant_ids: Collection[str]
) -> dict[str, LinkAuthority]:
    """The authority of many participants' links at once, by participant id (the safety
    re-read of an instance's citizen connections); a participant without an active link
    is missing."""
    async with ctx.reads.connect() as connection:
        result = await connection.execute(_BY_PARTICIPANTS, {"ids": list(participant_ids)})
        rows = result.all()
    return {row.id: _authority_of(ctx, row) for row in rows}
