"""Scheduling use cases shared by the advisor pages and the integration API.

Each function checks the rules in :mod:`videotermin.domain.appointments`, changes
the store and queues the mails the change announces — all inside the caller's
transaction, so a refused change writes nothing and an accepted one always has
its mails. The caller commits and then calls :meth:`AppContext.outbox_wakeup.set`.
Each change also writes its audit entry (:mod:`videotermin.services.audit`) in that
transaction, naming the ``actor`` the caller passes (the system when none is).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain import appointments as rules
from videotermin.domain.appointments import ParticipantDraft, RuleViolation, Status
from videotermin.domain.audit import AuditAction
from videotermin.domain.call import admissions_hold
from videotermin.domain.journey import Slot
from videotermin.domain.outbox import MailKind
from videotermin.domain.staff import ADVISOR_ROLES
from videotermin.domain.support_code import new_support_code
from videotermin.domain.tokens import hash_token, new_token
from videotermin.services import statistics
from videotermin.services.audit import SYSTEM, Actor, record
from videotermin.services.outbox import enqueue_mail
from videotermin.store.models import (
    Appointment,
    OutboxMail,
    Participant,
    ParticipantLink,
    StaffUser,
    Unit,
)


@dataclass(frozen=True)
class IssuedLink:
    """A participant's freshly minted personal link and the mail that carries it."""

    participant: Participant
    link: str
    mail: OutboxMail


def _raise_if(errors: list[rules.FieldError]) -> None:
    if errors:
        raise RuleViolation(errors)


async def find_advisor(session: AsyncSession, username: str) -> StaffUser | None:
    return await session.scalar(
        select(StaffUser).where(
            StaffUser.username == username,
            StaffUser.active.is_(True),
            StaffUser.role.in_(ADVISOR_ROLES),
        )
    )


async def advisor_by_id(session: AsyncSession, user_id: int) -> StaffUser:
    """A logged-in advisor's account, loaded again in the session of the change."""
    return await session.get_one(StaffUser, user_id)


async def get_appointment(session: AsyncSession, appointment_id: str) -> Appointment | None:
    if len(appointment_id) > 36:
        return None
    return await session.get(Appointment, appointment_id)


async def appointments_of(
    session: AsyncSession, advisor: StaffUser, since: datetime
) -> list[Appointment]:
    result = await session.scalars(
        select(Appointment)
        .where(Appointment.advisor_id == advisor.id, Appointment.start_at >= since)
        .order_by(Appointment.start_at)
    )
    return list(result)


async def _issue_link(
    session: AsyncSession,
    ctx: AppContext,
    kind: MailKind,
    appointment: Appointment,
    participant: Participant,
) -> IssuedLink:
    token = new_token()
    session.add(
        ParticipantLink(
            token_hash=hash_token(token), participant_id=participant.id, created_at=ctx.clock()
        )
    )
    link = ctx.link_for(token)
    mail = await enqueue_mail(session, ctx, kind, appointment, participant, link)
    return IssuedLink(participant=participant, link=link, mail=mail)


async def _unused_support_code(session: AsyncSession) -> str:
    """A code no active participant of a scheduled appointment holds, so support finds one."""
    while True:
        code = new_support_code()
        taken = await session.scalar(
            select(Participant.id)
            .join(Appointment)
            .where(
                Participant.support_code == code,
                Participant.removed_at.is_(None),
                Appointment.status == Status.SCHEDULED,
            )
            .limit(1)
        )
        if taken is None:
            return code


async def _new_participant(
    session: AsyncSession, draft: ParticipantDraft, now: datetime
) -> Participant:
    number = (draft.customer_number or "").strip()
    return Participant(
        support_code=await _unused_support_code(session),
        role=draft.role,
        name=draft.name.strip(),
        email=rules.normalise_email(draft.email),
        customer_number=number or None,
        language=draft.language,
        created_at=now,
    )


def _drafts_of(appointment: Appointment) -> list[ParticipantDraft]:
    return [
        ParticipantDraft(name=p.name or "", email=p.email or "", role=p.role, language=p.language)
        for p in appointment.participants
        if p.active
    ]


async def create_appointment(
    session: AsyncSession,
    ctx: AppContext,
    *,
    advisor: StaffUser,
    start: datetime,
    duration_minutes: int,
    subject: str | None,
    participants: list[ParticipantDraft],
    unit: Unit | None = None,
    actor: Actor = SYSTEM,
) -> tuple[Appointment, list[IssuedLink]]:
    now = ctx.clock()
    subject = (subject or "").strip() or None
    _raise_if(rules.check_new_appointment(start, duration_minutes, subject, participants, now))
    appointment = Appointment(
        unit_id=(unit or advisor.unit).id,
        advisor_id=advisor.id,
        start_at=start,
        duration_minutes=duration_minutes,
        subject=subject,
        status=Status.SCHEDULED,
        ics_sequence=0,
        created_at=now,
        updated_at=now,
        participants=[await _new_participant(session, d, now) for d in participants],
    )
    session.add(appointment)
    await session.flush()
    await session.refresh(appointment, ["unit", "advisor"])
    record(session, now, actor, AuditAction.APPOINTMENT_CREATED, appointment_id=appointment.id)
    await statistics.scheduled(session, appointment)
    links = [
        await _issue_link(session, ctx, MailKind.INVITATION, appointment, p)
        for p in appointment.participants
    ]
    return appointment, links


async def reschedule(
    session: AsyncSession,
    ctx: AppContext,
    appointment: Appointment,
    *,
    start: datetime | None = None,
    duration_minutes: int | None = None,
    subject: str | None = None,
    actor: Actor = SYSTEM,
) -> list[IssuedLink]:
    """Move or lengthen an appointment; every active participant gets an updated invitation."""
    now = ctx.clock()
    errors = rules.check_changeable(appointment.status)
    if start is not None:
        errors += rules.check_start(start, now)
    if duration_minutes is not None:
        errors += rules.check_duration(duration_minutes)
    errors += rules.check_subject(subject)
    _raise_if(errors)
    changed: list[str] = []
    old_start = appointment.start_at
    before = Slot(appointment.start_at, appointment.duration_minutes, appointment.status)
    if start is not None and start != appointment.start_at:
        appointment.start_at = start
        changed.append("start")
    if duration_minutes is not None and duration_minutes != appointment.duration_minutes:
        appointment.duration_minutes = duration_minutes
        changed.append("duration")
    if subject is not None and (subject.strip() or None) != appointment.subject:
        appointment.subject = subject.strip() or None
        changed.append("subject")
    if not changed:
        return []
    appointment.ics_sequence += 1
    appointment.updated_at = now
    after = Slot(appointment.start_at, appointment.duration_minutes, appointment.status)
    moved = "start" in changed or "duration" in changed
    if moved and not admissions_hold(before, after, now, ctx.settings.join_early_minutes):
        for participant in appointment.participants:
            participant.admitted_at = None
    # Only which fields changed: the subject itself may name the citizen's matter.
    detail = ", ".join(changed)
    record(
        session,
        now,
        actor,
        AuditAction.APPOINTMENT_CHANGED,
        appointment_id=appointment.id,
        detail=detail,
    )
    await statistics.moved(session, appointment, old_start)
    await session.flush()
    return [
        await _issue_link(session, ctx, MailKind.UPDATE, appointment, p)
        for p in appointment.participants
        if p.active
    ]


async def cancel(
    session: AsyncSession, ctx: AppContext, appointment: Appointment, actor: Actor = SYSTEM
) -> None:
    """Cancel: links then show the cancelled page; every participant gets a CANCEL mail."""
    _raise_if(rules.check_changeable(appointment.status))
    record(
        session,
        ctx.clock(),
        actor,
        AuditAction.APPOINTMENT_CANCELLED,
        appointment_id=appointment.id,
    )
    appointment.status = Status.CANCELLED
    await statistics.cancelled(session, appointment)
    appointment.ics_sequence += 1
    appointment.updated_at = ctx.clock()
    await session.flush()
    for participant in appointment.participants:
        if participant.active:
            await enqueue_mail(session, ctx, MailKind.CANCEL, appointment, participant, None)


async def add_participant(
    session: AsyncSession,
    ctx: AppContext,
    appointment: Appointment,
    draft: ParticipantDraft,
    actor: Actor = SYSTEM,
) -> IssuedLink:
    errors = rules.check_changeable(appointment.status)
    errors += rules.check_added_participant(draft, _drafts_of(appointment))
    _raise_if(errors)
    record(
        session, ctx.clock(), actor, AuditAction.PARTICIPANT_ADDED, appointment_id=appointment.id
    )
    participant = await _new_participant(session, draft, ctx.clock())
    appointment.participants.append(participant)
    appointment.updated_at = ctx.clock()
    await session.flush()
    return await _issue_link(session, ctx, MailKind.INVITATION, appointment, participant)


async def remove_participant(
    session: AsyncSession,
    ctx: AppContext,
    appointment: Appointment,
    participant: Participant,
    actor: Actor = SYSTEM,
) -> None:
    """Revoke a participant's links; they are told by a CANCEL mail for their calendar."""
    _raise_if(rules.check_changeable(appointment.status) + rules.check_removable(participant.role))
    record(
        session, ctx.clock(), actor, AuditAction.PARTICIPANT_REMOVED, appointment_id=appointment.id
    )
    participant.removed_at = ctx.clock()
    appointment.updated_at = ctx.clock()
    await session.flush()
    await enqueue_mail(session, ctx, MailKind.REMOVED, appointment, participant, None)


async def resend_invitation(
    session: AsyncSession,
    ctx: AppContext,
    appointment: Appointment,
    participant: Participant,
    actor: Actor = SYSTEM,
) -> IssuedLink:
    """A new mail with a new link; earlier links keep working."""
    _raise_if(rules.check_changeable(appointment.status))
    record(
        session, ctx.clock(), actor, AuditAction.INVITATION_RESENT, appointment_id=appointment.id
    )
    return await _issue_link(session, ctx, MailKind.INVITATION, appointment, participant)


def find_participant(appointment: Appointment, participant_id: str) -> Participant | None:
    return next((p for p in appointment.participants if p.id == participant_id and p.active), None)
