"""The integration API's bodies and answers: shapes and types, judged by the domain rules.

A refusal names each bad field in FastAPI's usual ``detail`` list (``loc``,
``msg``, ``type``), whether pydantic or a domain rule refused it (:func:`problem`).
"""

from datetime import datetime, timedelta
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from videotermin.domain.appointments import (
    MAX_DURATION,
    MIN_DURATION,
    FieldError,
    ParticipantDraft,
)
from videotermin.domain.text_input import storable
from videotermin.services.appointments import IssuedLink
from videotermin.store.models import Appointment, OutboxMail, Participant

CONFLICT_CODES = {"not_scheduled"}
DURATION = f"Minutes, {MIN_DURATION} to {MAX_DURATION}."

RoleName = Literal["citizen", "interpreter", "companion", "colleague"]
LanguageName = Literal["de", "en"]


class Strict(BaseModel):
    """Shapes and types only: the values are judged by the domain rules, all at once.
    Text must be storable: JSON can spell half a surrogate pair (``"\\ud800"``) and NUL
    (``"\\u0000"``), which no database stores, so they are refused here like a wrong type."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _unicode(cls, value: object) -> object:
        if isinstance(value, str) and not storable(value):
            raise PydanticCustomError("invalid", "text must be valid Unicode without NUL")
        return value


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
            status=mail.status,
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
            role=participant.role,
            language=participant.language,
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
    def of(cls, appointment: Appointment, issued: list[IssuedLink] | None = None) -> Self:
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
            status=appointment.status,
            subject=appointment.subject,
            advisor=appointment.advisor.username,
            unit=appointment.unit.name,
            participants=participants,
        )


class ResendOut(BaseModel):
    participant_id: str
    invitation: InvitationOut


Responses = dict[int | str, dict[str, Any]]


class Message(BaseModel):
    """A refusal that names no field: no valid token, no such appointment, no database."""

    detail: str


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problems(BaseModel):
    """A refusal that names each bad field, like the 422 answer."""

    detail: list[FieldProblem]


REFUSED: Responses = {
    401: {"model": Message, "description": "No valid API token."},
    503: {"model": Message, "description": "The database cannot be reached; try again later."},
}
"""What any operation may answer instead (the OpenAPI document lists every answer)."""
UNREADABLE: Responses = {400: {"model": Message, "description": "The body is not JSON."}}
NOT_FOUND: Responses = {
    404: {"model": Message, "description": "No such appointment or participant."}
}
CONFLICT: Responses = {
    409: {"model": Problems, "description": "The appointment is cancelled or over."}
}


def problem(errors: list[FieldError]) -> list[dict[str, object]]:
    def loc(field: str) -> list[str | int]:
        return ["body", *(int(p) if p.isdigit() else p for p in field.split("."))]

    return [{"loc": loc(e.field), "msg": e.message, "type": e.code} for e in errors]
