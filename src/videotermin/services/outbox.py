"""Putting mails into the outbox, in the same transaction as the change they announce.

Because the mail row commits together with the appointment, a mail accepted by
the API can never be lost: either both exist or neither. Delivery happens later
(:mod:`videotermin.jobs.outbox`), with retries.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.outbox import MailKind, MailStatus
from videotermin.mail.compose import compose_mail
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
