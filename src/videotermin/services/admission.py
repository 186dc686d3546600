"""The call's lifecycle: who waits, who is admitted, removal, hanging up, the end.

These are the advisor's and the participants' decisions about a call, made
against the database with the server's own authority. Who is *connected* is
not known here — that is the real-time layer's presence board — so the
callers pass the connected participant ids in, and everything the database
says about them is decided here, by the rules of :mod:`videotermin.domain.call`.

Each change is committed first and announced on the bus afterwards
(:mod:`videotermin.bus.events`); a lost announcement costs promptness only,
because every connection reads its authority again periodically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select, update

from videotermin.bus.events import (
    CallAdmit,
    CallRemove,
    CallRemoved,
    appointment_changed,
    call_channel,
    participant_changed,
    publish,
    seat_channel,
)
from videotermin.context import AppContext
from videotermin.domain.appointments import Status, end_of
from videotermin.domain.audit import AuditAction
from videotermin.domain.call import (
    ADMIT_ALL,
    ENDING,
    call_running,
    fits,
    may_direct,
    new_call_key,
    peer_id,
)
from videotermin.domain.staff import ADVISOR_ROLES
from videotermin.services import statistics
from videotermin.services.audit import Actor, record
from videotermin.services.staff_auth import Login, find_login
from videotermin.store.db import rowcount
from videotermin.store.latest import latest
from videotermin.store.models import Appointment, DeviceCheck, Participant, StaffUser


class Refusal(StrEnum):
    """Why an advisor's action did nothing; the values are the protocol's error codes."""

    NOT_WAITING = "not_waiting"
    CALL_FULL = "call_full"
    UNKNOWN_PEER = "unknown_peer"


class NoDirection(StrEnum):
    """Why a staff login may not (or no longer) direct a call."""

    LOGIN_REQUIRED = "login_required"
    FORBIDDEN = "forbidden"
    CANCELLED = "cancelled"
    ENDED = "ended"


@dataclass(frozen=True)
class Direction:
    """A login that may direct the call now, and when the appointment ends (the call's
    TURN credentials expire soon after)."""

    login: Login
    call_ends: datetime
    call_key: str | None
    """As read with the appointment; ``None`` for an appointment older than keys made at
    creation (:func:`call_key` then makes it)."""


@dataclass(frozen=True)
class Waiter:
    """Someone waiting to be admitted, as the advisor's list shows them."""

    id: str
    name: str
    """Empty when they have no name (never given, or erased): the page shows their role."""
    role: str
    since: datetime
    verdict: str | None
    """The latest device check's traffic light, if there was one."""


@dataclass(frozen=True)
class Seats:
    """Who may hold a seat in the call: the advisor's name, and the admitted participants'
    names (empty when there is none) and roles by participant id."""

    advisor_name: str
    admitted: Mapping[str, tuple[str, str]]


async def direction(
    ctx: AppContext, token: str | None, appointment_id: str
) -> Direction | NoDirection:
    """May the staff session ``token`` direct this appointment's call (admit, remove, end)?
    Only its own advisor (admins: any) while it is scheduled and not over."""
    now = ctx.clock()
    async with ctx.read_sessions() as db:
        login = await find_login(db, token, now)
        if login is None:
            return NoDirection.LOGIN_REQUIRED
        # The four columns the rule needs, not the appointment with its participants
        # and their records: a socket asks this on every re-read.
        row = (
            await db.execute(
                select(
                    Appointment.advisor_id,
                    Appointment.status,
                    Appointment.start_at,
                    Appointment.duration_minutes,
                    Appointment.call_key,
                ).where(Appointment.id == appointment_id)
            )
        ).one_or_none()
    user = login.user
    if row is None or user.role not in ADVISOR_ROLES:
        return NoDirection.FORBIDDEN
    advisor_id, status, start_at, minutes, key = row
    if not may_direct(user.role, user.id, advisor_id):
        return NoDirection.FORBIDDEN
    if status == Status.CANCELLED:
        return NoDirection.CANCELLED
    if not call_running(status, start_at, minutes, now):
        return NoDirection.ENDED
    return Direction(login, end_of(start_at, minutes), key)


async def call_key(ctx: AppContext, appointment_id: str) -> str:
    """The call's secret for peer ids; the first instance to write one wins."""
    async with ctx.read_sessions() as db:
        key = await db.scalar(select(Appointment.call_key).where(Appointment.id == appointment_id))
    if key is not None:
        return key  # everyone after the first joins without a write
    async with ctx.sessions() as db:
        await db.execute(
            update(Appointment)
            .where(Appointment.id == appointment_id, Appointment.call_key.is_(None))
            .values(call_key=new_call_key())
        )
        await db.commit()
        key = await db.scalar(select(Appointment.call_key).where(Appointment.id == appointment_id))
    assert key is not None
    return key


def _admitted(appointment_id: str) -> tuple[ColumnElement[bool], ...]:
    return (
        Participant.appointment_id == appointment_id,
        Participant.removed_at.is_(None),
        Participant.admitted_at.is_not(None),
    )


VERDICTS = ("green", "yellow", "red")
# The verdict of the participant's latest device check (the last one made).
_LATEST_VERDICT = latest(DeviceCheck, DeviceCheck.verdict).label("verdict")


def _still_waiting(
    appointment_id: str, connected: Iterable[str]
) -> tuple[ColumnElement[bool], ...]:
    """Of these connected participants, those the database says still wait."""
    return (
        Participant.id.in_(connected),
        Participant.appointment_id == appointment_id,
        Participant.removed_at.is_(None),
        Participant.admitted_at.is_(None),
    )


async def seats(ctx: AppContext, appointment_id: str) -> Seats:
    """Names and roles for the roster: the advisor, and every admitted participant."""
    async with ctx.read_sessions() as db:
        advisor = await db.scalar(
            select(StaffUser.display_name)
            .join(Appointment, Appointment.advisor_id == StaffUser.id)
            .where(Appointment.id == appointment_id)
        )
        rows = await db.execute(
            select(Participant.id, Participant.name, Participant.role).where(
                *_admitted(appointment_id)
            )
        )
        admitted = {row.id: (row.name or "", row.role) for row in rows}
    return Seats(advisor or "", admitted)


async def waiting_ids(ctx: AppContext, appointment_id: str, connected: Iterable[str]) -> set[str]:
    """Who :func:`waiting_list` would list, by id only (no names, no checks to load)."""
    connected = set(connected)
    if not connected:
        return set()
    async with ctx.read_sessions() as db:
        found = await db.scalars(
            select(Participant.id).where(*_still_waiting(appointment_id, connected))
        )
        return set(found)


async def waiting_list(
    ctx: AppContext, appointment_id: str, since: Mapping[str, datetime]
) -> list[Waiter]:
    """Who waits to be admitted, in order of arrival: of the participants connected
    ``since`` when, those not admitted and not removed. One statement of plain columns
    (the advisor's call page asks whenever someone arrives or leaves)."""
    if not since:
        return []
    async with ctx.read_sessions() as db:
        rows = await db.execute(
            select(Participant.id, Participant.name, Participant.role, _LATEST_VERDICT).where(
                *_still_waiting(appointment_id, since)
            )
        )
        people = [
            Waiter(
                id=row.id,
                name=row.name or "",
                role=row.role,
                since=since[row.id],
                verdict=row.verdict if row.verdict in VERDICTS else None,
            )
            for row in rows
        ]
    return sorted(people, key=lambda person: (person.since, person.id))


async def _admitted_count(ctx: AppContext, appointment_id: str) -> int:
    async with ctx.sessions() as db:
        count = await db.scalar(
            select(func.count()).select_from(Participant).where(*_admitted(appointment_id))
        )
    return int(count or 0)


async def admit(
    ctx: AppContext,
    appointment_id: str,
    who: str,
    waiting_since: Mapping[str, datetime],
    actor: Actor,
) -> Refusal | None:
    """Admit one waiting participant, or everyone waiting (all or none: the mesh limit).
    ``waiting_since``: who is connected and waiting, since when (presence)."""
    connected = waiting_since.keys()
    waiting = await waiting_ids(ctx, appointment_id, connected)
    chosen = sorted(waiting) if who == ADMIT_ALL else [who] if who in waiting else []
    if not chosen:
        return Refusal.NOT_WAITING
    limit = ctx.settings.call_max_participants
    if not fits(limit, await _admitted_count(ctx, appointment_id), len(chosen)):
        return Refusal.CALL_FULL
    async with ctx.sessions() as db:
        await db.execute(
            update(Participant)
            .where(*_still_waiting(appointment_id, chosen))
            .values(admitted_at=ctx.clock())
        )
        waits = {p: waiting_since[p] for p in chosen if p in waiting_since}
        await statistics.admitted(db, appointment_id, ctx.clock(), waits)
        detail = f"{len(chosen)} Person(en)"
        record(
            db,
            ctx.clock(),
            actor,
            AuditAction.ADMITTED,
            appointment_id=appointment_id,
            detail=detail,
        )
        await db.commit()
    for participant_id in chosen:
        await publish(ctx.bus, seat_channel(participant_id), CallAdmit())
        await participant_changed(ctx.bus, appointment_id, participant_id)
    return None


async def remove(
    ctx: AppContext, appointment_id: str, key: str, target: str, actor: Actor
) -> Refusal | None:
    """Take an admitted participant (by peer id or participant id) out of the call; their
    admission ends, so the same link must be admitted again."""
    async with ctx.sessions() as db:
        admitted = list(await db.scalars(select(Participant.id).where(*_admitted(appointment_id))))
        found = next((p for p in admitted if target in (p, peer_id(key, p))), None)
        if found is None:
            return Refusal.UNKNOWN_PEER
        await db.execute(
            update(Participant).where(Participant.id == found).values(admitted_at=None)
        )
        record(db, ctx.clock(), actor, AuditAction.REMOVED_FROM_CALL, appointment_id=appointment_id)
        await db.commit()
    await publish(ctx.bus, call_channel(appointment_id), CallRemoved(peer=peer_id(key, found)))
    await publish(ctx.bus, seat_channel(found), CallRemove())
    await participant_changed(ctx.bus, appointment_id, found)
    return None


async def leave(ctx: AppContext, appointment_id: str, participant_id: str) -> None:
    """A participant hung up: their admission ends (coming back needs a new one)."""
    async with ctx.sessions() as db:
        await db.execute(
            update(Participant).where(Participant.id == participant_id).values(admitted_at=None)
        )
        await db.commit()
    await participant_changed(ctx.bus, appointment_id, participant_id)


async def end(ctx: AppContext, appointment_id: str, actor: Actor) -> None:
    """The advisor ends the call: the appointment is completed (:data:`ENDING`), so every
    link's journey is ``ended`` and every connection of the appointment closes."""
    before, after = ENDING
    async with ctx.sessions() as db:
        ended = await db.execute(
            update(Appointment)
            .where(Appointment.id == appointment_id, Appointment.status == before)
            .values(status=after, updated_at=ctx.clock())
        )
        if rowcount(ended):
            record(db, ctx.clock(), actor, AuditAction.CALL_ENDED, appointment_id=appointment_id)
            await statistics.call_ended(db, appointment_id, ctx.clock())
        await db.commit()
    await appointment_changed(ctx.bus, appointment_id)
