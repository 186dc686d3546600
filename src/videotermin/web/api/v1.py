"""Integration API v1: an agency's scheduling system creates and manages appointments.

Mounted at ``/api/v1`` with its own OpenAPI document at ``/api/v1/openapi.json``.
Every request carries a bearer token created by ``videotermin token create``.
Refusals name each bad field in FastAPI's usual ``detail`` list (``loc``,
``msg``, ``type``), whether pydantic or a domain rule refused it; a change to
a cancelled or completed appointment is a ``409``.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from videotermin.bus.events import appointment_changed, participant_changed
from videotermin.context import AppContext
from videotermin.domain.appointments import FieldError, RuleViolation
from videotermin.services import appointments as scheduling
from videotermin.services.api_tokens import use_token
from videotermin.services.audit import Actor
from videotermin.store.models import ApiToken, Appointment, Participant
from videotermin.web import unavailable
from videotermin.web.api.models import (
    CONFLICT,
    NOT_FOUND,
    REFUSED,
    UNREADABLE,
    AppointmentIn,
    AppointmentOut,
    AppointmentPatch,
    InvitationOut,
    ParticipantIn,
    ParticipantOut,
    ResendOut,
    problem,
)
from videotermin.web.deps import Ctx, Db, storable_address
from videotermin.web.middleware import NoStoreMiddleware

CONFLICT_CODES = {"not_scheduled"}

bearer = HTTPBearer(auto_error=False, description="API token from `videotermin token create`")


async def authenticated(
    ctx: Ctx,
    db: Db,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiToken:
    found = await use_token(db, credentials.credentials if credentials else "", ctx.clock())
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid API token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


async def appointment_by_id(appointment_id: str, db: Db) -> Appointment:
    appointment = await scheduling.get_appointment(db, appointment_id)
    if appointment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such appointment")
    return appointment


Found = Annotated[Appointment, Depends(appointment_by_id)]


def api_actor(token: Annotated[ApiToken, Depends(authenticated)]) -> Actor:
    """The token that made the request, as the audit log names it."""
    return Actor(api_token_id=token.id)


Caller = Annotated[Actor, Depends(api_actor)]


def participant_of(appointment: Appointment, participant_id: str) -> Participant:
    participant = scheduling.find_participant(appointment, participant_id)
    if participant is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such participant")
    return participant


async def commit(ctx: AppContext, db: AsyncSession) -> None:
    """Commit the change with its mails, then wake the outbox."""
    await db.commit()
    ctx.outbox_wakeup.set()


router = APIRouter(dependencies=[Depends(authenticated)], responses=REFUSED)


@router.post(
    "/appointments",
    status_code=status.HTTP_201_CREATED,
    response_model=AppointmentOut,
    responses=UNREADABLE,
)
async def create_appointment(
    body: AppointmentIn, ctx: Ctx, db: Db, actor: Caller
) -> AppointmentOut:
    """Create an appointment and queue an invitation for every participant."""
    advisor = await scheduling.find_advisor(db, body.advisor)
    if advisor is None:
        raise RuleViolation([FieldError("advisor", "unknown_advisor", "no such advisor")])
    appointment, issued = await scheduling.create_appointment(
        db,
        ctx,
        advisor=advisor,
        start=body.start,
        duration_minutes=body.duration_minutes,
        subject=body.subject,
        participants=[p.draft() for p in body.participants],
        actor=actor,
    )
    out = AppointmentOut.of(appointment, issued)
    await commit(ctx, db)
    return out


@router.get("/appointments/{appointment_id}", response_model=AppointmentOut, responses=NOT_FOUND)
async def read_appointment(appointment: Found) -> AppointmentOut:
    return AppointmentOut.of(appointment)


@router.patch(
    "/appointments/{appointment_id}",
    response_model=AppointmentOut,
    responses={**UNREADABLE, **NOT_FOUND, **CONFLICT},
)
async def reschedule(
    body: AppointmentPatch, appointment: Found, ctx: Ctx, db: Db, actor: Caller
) -> AppointmentOut:
    """Move, lengthen or retitle; every participant gets an updated invitation."""
    issued = await scheduling.reschedule(
        db,
        ctx,
        appointment,
        start=body.start,
        duration_minutes=body.duration_minutes,
        subject=body.subject,
        actor=actor,
    )
    await commit(ctx, db)
    if issued:
        await appointment_changed(ctx.bus, appointment.id)
    out = AppointmentOut.of(appointment)
    mails = {i.participant.id: i.mail for i in issued}
    for p in out.participants:
        if p.id in mails:
            p.invitation = InvitationOut.of(mails[p.id])
    return out


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentOut,
    responses={**NOT_FOUND, **CONFLICT},
)
async def cancel(appointment: Found, ctx: Ctx, db: Db, actor: Caller) -> AppointmentOut:
    """Cancel; each participant is told and their link shows the cancelled page."""
    await scheduling.cancel(db, ctx, appointment, actor)
    await commit(ctx, db)
    await appointment_changed(ctx.bus, appointment.id)
    return AppointmentOut.of(appointment)


@router.post(
    "/appointments/{appointment_id}/participants",
    status_code=status.HTTP_201_CREATED,
    response_model=ParticipantOut,
    responses={**UNREADABLE, **NOT_FOUND, **CONFLICT},
)
async def add_participant(
    body: ParticipantIn, appointment: Found, ctx: Ctx, db: Db, actor: Caller
) -> ParticipantOut:
    issued = await scheduling.add_participant(db, ctx, appointment, body.draft(), actor)
    await commit(ctx, db)
    await participant_changed(ctx.bus, appointment.id, issued.participant.id)
    return ParticipantOut.of(issued.participant, issued.link, issued.mail)


@router.delete(
    "/appointments/{appointment_id}/participants/{participant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, **CONFLICT},
)
async def remove_participant(
    participant_id: str, appointment: Found, ctx: Ctx, db: Db, actor: Caller
) -> Response:
    """Remove an additional participant; their links stop working at once."""
    participant = participant_of(appointment, participant_id)
    await scheduling.remove_participant(db, ctx, appointment, participant, actor)
    await commit(ctx, db)
    await participant_changed(ctx.bus, appointment.id, participant.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/appointments/{appointment_id}/participants/{participant_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ResendOut,
    responses={**NOT_FOUND, **CONFLICT},
)
async def resend(
    participant_id: str, appointment: Found, ctx: Ctx, db: Db, actor: Caller
) -> ResendOut:
    """Send the invitation again with a new link; earlier links keep working."""
    participant = participant_of(appointment, participant_id)
    issued = await scheduling.resend_invitation(db, ctx, appointment, participant, actor)
    await commit(ctx, db)
    return ResendOut(participant_id=participant.id, invitation=InvitationOut.of(issued.mail))


async def rule_violation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleViolation)
    conflict = all(e.code in CONFLICT_CODES for e in exc.errors)
    return JSONResponse(
        {"detail": problem(exc.errors)},
        status_code=status.HTTP_409_CONFLICT if conflict else 422,
    )


async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def create_api(ctx: AppContext) -> FastAPI:
    """The API as its own app (own OpenAPI document, own error format), sharing ``ctx``."""
    api = FastAPI(
        title="Videotermin integration API",
        version="1.0.0",
        description=__doc__,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(storable_address)],  # an address with NUL names nothing
    )
    api.state.ctx = ctx
    api.include_router(router)
    api.add_exception_handler(RuleViolation, rule_violation)
    api.add_exception_handler(RequestValidationError, invalid_request)
    for error in unavailable.CLASSES:
        api.add_exception_handler(error, unavailable.api_answer)
    api.add_middleware(NoStoreMiddleware)
    return api
