"""Putting mails into the outbox, in the same transaction as the change they announce.

Because the mail row commits together with the appointment, a mail accepted by
the API can never be lost: either both exist or neither. Delivery happens later
(:mod:`videotermin.jobs.outbox`), with retries; the worker claims due mails and
records each outcome through :func:`claim_due` and :func:`record_outcome`.

A mail is claimed by a conditional ``UPDATE`` that sets a lease only if nobody
holds a live one — atomic on SQLite (one writer at a time) and on PostgreSQL
(the row lock makes a concurrent claim re-check the condition and find the
lease) — so two instances never send the same mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.outbox import MailKind, MailStatus
from videotermin.mail.compose import compose_mail
from videotermin.store.db import rowcount
from videotermin.store.models import Appointment, OutboxMail, Participant


async def enqueue_mail(
    session: AsyncSession,
    ctx: AppContext,
    kind: MailKind,
    appointment: Appointment,
    participant: Participant,
    link: str | None,
) -> OutboxMail:
    message = compose_mail(
        kind, appointment=appointment, participant=participant, link=link, settings=ctx.settings
    )
    now = ctx.clock()
    mail = OutboxMail(
        appointment_id=appointment.id,
        participant_id=participant.id,
        kind=kind,
        recipient=participant.email,
        message=message.as_bytes(),
        status=MailStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(mail)
    await session.flush()
    return mail


@dataclass(frozen=True)
class ClaimedMail:
    """A mail leased to one worker: what it needs to send it and to record the outcome."""

    id: int
    appointment_id: str
    participant_id: str | None
    kind: str
    attempts: int
    recipient: str | None
    message: bytes | None


async def claim_due(
    session: AsyncSession, now: datetime, *, lease: timedelta, limit: int
) -> list[ClaimedMail]:
    """Lease up to ``limit`` queued mails that are due at ``now``, oldest first, to the
    caller until ``now + lease``; a mail another instance holds a live lease on is skipped."""
    free = or_(OutboxMail.lease_until.is_(None), OutboxMail.lease_until <= now)
    due = (OutboxMail.status == MailStatus.QUEUED) & (OutboxMail.next_attempt_at <= now) & free
    candidates = await session.scalars(
        select(OutboxMail.id).where(due).order_by(OutboxMail.next_attempt_at).limit(limit)
    )
    won = []
    for mail_id in candidates.all():
        result = await session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id, due)
            .values(lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            won.append(mail_id)
    if not won:
        return []
    rows = await session.execute(
        select(
            OutboxMail.id,
            OutboxMail.appointment_id,
            OutboxMail.participant_id,
            OutboxMail.kind,
            OutboxMail.attempts,
            OutboxMail.recipient,
            OutboxMail.message,
        ).where(OutboxMail.id.in_(won))
    )
    return [ClaimedMail(*row) for row in rows]


async def record_outcome(session: AsyncSession, mail_id: int, changes: dict[str, object]) -> None:
    """Write a delivery's outcome and release the lease in one statement."""
    await session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id)
        .values(lease_until=None, **changes)
        .execution_options(synchronize_session=False)
    )


async def release_leases(session: AsyncSession, mail_ids: list[int]) -> None:
    """Give claimed mails back unsent (a stopping instance): another instance takes them
    at once instead of after the lease."""
    if mail_ids:
        await session.execute(
            update(OutboxMail)
            .where(OutboxMail.id.in_(mail_ids), OutboxMail.status == MailStatus.QUEUED)
            .values(lease_until=None)
            .execution_options(synchronize_session=False)
        )
