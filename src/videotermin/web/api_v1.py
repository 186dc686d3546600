"""Integration API v1: an agency's scheduling system creates and manages appointments.

Mounted at ``/api/v1`` with its own OpenAPI document at ``/api/v1/openapi.json``.
Every request carries a bearer token created by ``videotermin token create``.
Refusals name each bad field in FastAPI's usual ``detail`` list (``loc``,
``msg``, ``type``), whether pydantic or a domain rule refused it; a change to
a cancelled or completed appointment is a ``409``.
"""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin import scheduling
from videotermin.context import AppContext
from videotermin.domain.appointments import (
    MAX_DURATION,
    MIN_DURATION,
    FieldError,
    ParticipantDraft,
    RuleViolation,
)
from videotermin.domain.tokens import hash_token, looks_like_token
from videotermin.realtime.events import appointment_changed
from videotermin.store.models import ApiToken, Appointment, OutboxMail, Participant

CONFLICT_CODES = {"not_scheduled"}
DURATION = f"Minutes, {MIN_DURATION} to {MAX_DURATION}."

RoleName = Literal["citizen", "interpreter", "companion", "colleague"]
LanguageName = Literal["de", "en"]


class Strict(BaseModel):
    """Shapes and types only: the values are judged by the domain rules, all at once."""

    model_config = ConfigDict(extra="forbid")


class ParticipantIn(Strict):
    name: str = Field(description="1 to 200 printable characters.")
    email: str = Field(description="A valid e-mail address.")
    customer_number: str | None = Field(
        default=None, description="Letters, digits, space, dot, slash or hyphen; up to 40."
    )
    role: RoleName = "citizen"
    language: LanguageName = "de"

    def draft(self) -> ParticipantDraft:
        return ParticipantDraft(
            name=self.name,
            email=self.email,
            role=self.role,
            customer_number=self.customer_number,
            language=self.language,
        )


class AppointmentIn(Strict):
    start: AwareDatetime = Field(description="ISO 8601 with a UTC offset; must be in the future.")
    duration_minutes: int = Field(default=30, description=DURATION)
    advisor: str = Field(description="Username of an active advisor.")
    subject: str | None = Field(default=None, description="Up to 200 characters.")
    participants: list[ParticipantIn] = Field(
        description="Exactly one citizen and up to seven further participants."
    )


class AppointmentPatch(Strict):
    start: AwareDatetime | None = None
    duration_minutes: int | None = Field(default=None, description=DURATION)
    subject: str | None = Field(default=None, description="Up to 200 characters.")


class InvitationOut(BaseModel):
    status: Literal["queued", "sent", "failed"]
    attempts: int
    queued_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, mail: OutboxMail) -> Self:
        return cls(
            status=mail.status,  # type: ignore[arg-type]
            attempts=mail.attempts,
            queued_at=mail.created_at,
            sent_at=mail.sent_at,
        )


class ParticipantOut(BaseModel):
    id: str
    name: str | None
    role: RoleName
    language: LanguageName
    customer_number: str | None
    link: str | None = Field(
        default=None, description="The personal link; present only in the creation response."
    )
    invitation: InvitationOut | None

    @classmethod
    def of(
        cls, participant: Participant, link: str | None = None, mail: OutboxMail | None = None
    ) -> Self:
        mail = mail or participant.invitation
        return cls(
            id=participant.id,
            name=participant.name,
            role=participant.role,  # type: ignore[arg-type]
            language=participant.language,  # type: ignore[arg-type]
            customer_number=participant.customer_number,
            link=link,
            invitation=InvitationOut.of(mail) if mail else None,
        )


class AppointmentOut(BaseModel):
    id: str
    start: datetime
    end: datetime
    duration_minutes: int
    status: Literal["scheduled", "cancelled", "completed"]
    subject: str | None
    advisor: str
    unit: str
    participants: list[ParticipantOut]

    @classmethod
    def of(
        cls, appointment: Appointment, issued: list[scheduling.IssuedLink] | None = None
    ) -> Self:
        by_id = {i.participant.id: i for i in issued or []}
        start = appointment.start_at.astimezone(ZoneInfo(appointment.unit.timezone))
        participants = []
        for p in appointment.participants:
            if not p.active:
                continue
            link = by_id.get(p.id)
            participants.append(
                ParticipantOut.of(p, link.link if link else None, link.mail if link else None)
            )
        return cls(
            id=appointment.id,
            start=start,
            end=start + timedelta(minutes=appointment.duration_minutes),
            duration_minutes=appointment.duration_minutes,
            status=appointment.status,  # type: ignore[arg-type]
            subject=appointment.subject,
            advisor=appointment.advisor.username,
            unit=appointment.unit.name,
            participants=participants,
        )


class ResendOut(BaseModel):
    participant_id: str
    invitation: InvitationOut


def _problem(errors: list[FieldError]) -> list[dict[str, object]]:
    def loc(field: str) -> list[str | int]:
        return ["body", *(int(p) if p.isdigit() else p for p in field.split("."))]

    return [{"loc": loc(e.field), "msg": e.message, "type": e.code} for e in errors]


def create_api(ctx: AppContext) -> FastAPI:
    api = FastAPI(
        title="Videotermin integration API",
        version="1.0.0",
        description=__doc__,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    bearer = HTTPBearer(auto_error=False, description="API token from `videotermin token create`")

    async def db_session() -> AsyncIterator[AsyncSession]:
        async with ctx.sessions() as session:
            yield session

    Session = Annotated[AsyncSession, Depends(db_session)]

    async def authenticated(
        session: Session,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiToken:
        token = credentials.credentials if credentials else ""
        found = (
            await session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
            if looks_like_token(token)
            else None
        )
        if found is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a valid API token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        found.last_used_at = ctx.clock()
        return found

    async def appointment_by_id(appointment_id: str, session: Session) -> Appointment:
        appointment = await scheduling.get_appointment(session, appointment_id)
        if appointment is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such appointment")
        return appointment

    Found = Annotated[Appointment, Depends(appointment_by_id)]

    def participant_of(appointment: Appointment, participant_id: str) -> Participant:
        participant = scheduling.find_participant(appointment, participant_id)
        if participant is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such participant")
        return participant

    async def commit(session: AsyncSession) -> None:
        await session.commit()
        ctx.outbox_wakeup.set()

    @api.exception_handler(RuleViolation)
    async def rule_violation(_request: Request, exc: RuleViolation) -> JSONResponse:
        conflict = all(e.code in CONFLICT_CODES for e in exc.errors)
        return JSONResponse(
            {"detail": _problem(exc.errors)},
            status_code=status.HTTP_409_CONFLICT if conflict else 422,
        )

    @api.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    router_deps = [Depends(authenticated)]

    @api.post(
        "/appointments",
        status_code=status.HTTP_201_CREATED,
        response_model=AppointmentOut,
        dependencies=router_deps,
    )
    async def create_appointment(body: AppointmentIn, session: Session) -> AppointmentOut:
        """Create an appointment and queue an invitation for every participant."""
        advisor = await scheduling.find_advisor(session, body.advisor)
        if advisor is None:
            raise RuleViolation([FieldError("advisor", "unknown_advisor", "no such advisor")])
        appointment, issued = await scheduling.create_appointment(
            session,
            ctx,
            advisor=advisor,
            start=body.start,
            duration_minutes=body.duration_minutes,
            subject=body.subject,
            participants=[p.draft() for p in body.participants],
        )
        out = AppointmentOut.of(appointment, issued)
        await commit(session)
        return out

    @api.get(
        "/appointments/{appointment_id}", response_model=AppointmentOut, dependencies=router_deps
    )
    async def read_appointment(appointment: Found) -> AppointmentOut:
        return AppointmentOut.of(appointment)

    @api.patch(
        "/appointments/{appointment_id}", response_model=AppointmentOut, dependencies=router_deps
    )
    async def reschedule(
        body: AppointmentPatch, appointment: Found, session: Session
    ) -> AppointmentOut:
        """Move, lengthen or retitle; every participant gets an updated invitation."""
        issued = await scheduling.reschedule(
            session,
            ctx,
            appointment,
            start=body.start,
            duration_minutes=body.duration_minutes,
            subject=body.subject,
        )
        await commit(session)
        if issued:
            await appointment_changed(ctx, appointment.id)
        out = AppointmentOut.of(appointment)
        mails = {i.participant.id: i.mail for i in issued}
        for p in out.participants:
            if p.id in mails:
                p.invitation = InvitationOut.of(mails[p.id])
        return out

    @api.post(
        "/appointments/{appointment_id}/cancel",
        response_model=AppointmentOut,
        dependencies=router_deps,
    )
    async def cancel(appointment: Found, session: Session) -> AppointmentOut:
        """Cancel; each participant is told and their link shows the cancelled page."""
        await scheduling.cancel(session, ctx, appointment)
        await commit(session)
        await appointment_changed(ctx, appointment.id)
        return AppointmentOut.of(appointment)

    @api.post(
        "/appointments/{appointment_id}/participants",
        status_code=status.HTTP_201_CREATED,
        response_model=ParticipantOut,
        dependencies=router_deps,
    )
    async def add_participant(
        body: ParticipantIn, appointment: Found, session: Session
    ) -> ParticipantOut:
        issued = await scheduling.add_participant(session, ctx, appointment, body.draft())
        await commit(session)
        return ParticipantOut.of(issued.participant, issued.link, issued.mail)

    @api.delete(
        "/appointments/{appointment_id}/participants/{participant_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        dependencies=router_deps,
    )
    async def remove_participant(
        participant_id: str, appointment: Found, session: Session
    ) -> Response:
        """Remove an additional participant; their links stop working at once."""
        participant = participant_of(appointment, participant_id)
        await scheduling.remove_participant(session, ctx, appointment, participant)
        await commit(session)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @api.post(
        "/appointments/{appointment_id}/participants/{participant_id}/resend",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=ResendOut,
        dependencies=router_deps,
    )
    async def resend(participant_id: str, appointment: Found, session: Session) -> ResendOut:
        """Send the invitation again with a new link; earlier links keep working."""
        participant = participant_of(appointment, participant_id)
        issued = await scheduling.resend_invitation(session, ctx, appointment, participant)
        await commit(session)
        return ResendOut(participant_id=participant.id, invitation=InvitationOut.of(issued.mail))

    return api
