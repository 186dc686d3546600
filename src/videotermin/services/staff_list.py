"""What the advisor's live list reads: which appointments a login may watch, and the
participant rows to render again when something about them changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.context import AppContext
from videotermin.domain.staff import StaffRole, may_see_appointment
from videotermin.services.staff_auth import Login
from videotermin.store.models import Appointment, Participant, StaffUser


async def watchable(ctx: AppContext, user: StaffUser, appointment_ids: Iterable[str]) -> list[str]:
    """The asked-for appointments this user may see; others are left out silently,
    exactly like appointments that do not exist."""
    wanted = set(appointment_ids)
    if not wanted:
        return []
    query = select(Appointment.id).where(Appointment.id.in_(wanted))
    if user.role != StaffRole.ADMIN:
        query = query.where(Appointment.advisor_id == user.id)
    async with ctx.sessions() as db:
        return list(await db.scalars(query))


async def participants_of(ctx: AppContext, appointment_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(appointment id, participant id) of every participant of these appointments."""
    async with ctx.sessions() as db:
        rows = await db.execute(
            select(Participant.appointment_id, Participant.id).where(
                Participant.appointment_id.in_(set(appointment_ids))
            )
        )
        return [(row.appointment_id, row.id) for row in rows]


@dataclass(frozen=True)
class Row:
    """One row's data, or why there is none: the appointment is no longer the login's
    (``visible`` false), or the participant is not of it (``participant`` None)."""

    visible: bool
    appointment: Appointment | None = None
    participant: Participant | None = None


async def row(db: AsyncSession, login: Login, appointment_id: str, participant_id: str) -> Row:
    """Asked again for every row: an appointment handed to another advisor goes quiet."""
    appointment = await db.get(Appointment, appointment_id)
    participant = await db.get(Participant, participant_id)
    user = login.user
    if appointment is None or not may_see_appointment(user.role, user.id, appointment.advisor_id):
        return Row(visible=False)
    if participant is None or participant.appointment_id != appointment_id:
        return Row(visible=True)
    return Row(visible=True, appointment=appointment, participant=participant)
