"""Rules for appointments and their participants.

An appointment has exactly one citizen and optional additional participants
(interpreter, companion, colleague). It starts in the future when created or
moved, lasts between 5 minutes and 8 hours, and once cancelled or completed it
cannot be changed any more. Every rule returns :class:`FieldError` values
instead of raising, so a form or an API can show all problems at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email

from videotermin.domain.text import N_
from videotermin.domain.text_input import is_one_line

MIN_DURATION = 5
MAX_DURATION = 480
MAX_NAME = 200
MAX_SUBJECT = 200
MAX_AHEAD = timedelta(days=731)
"""Appointments are planned at most two years ahead: an agency's calendar, and far from
the last day a date can hold (a start in 9999 would overflow every time zone)."""
MAX_PARTICIPANTS = 8
_CUSTOMER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{0,39}$")


class Role(StrEnum):
    CITIZEN = "citizen"
    INTERPRETER = "interpreter"
    COMPANION = "companion"
    COLLEAGUE = "colleague"


ROLE_LABELS: dict[str, str] = {
    Role.CITIZEN: N_("Kundin/Kunde"),
    Role.INTERPRETER: N_("Dolmetschung"),
    Role.COMPANION: N_("Begleitperson"),
    Role.COLLEAGUE: N_("Kollegin/Kollege"),
}
"""A role as the advisor's pages name it: German msgids, which a page translates where
it shows them (the templates' ``t`` filter). The call's pages name roles in the browser,
in the page's language (``role_*`` in ``templates/_call.html``): over the sockets a
participant without a name has an empty one, never a German word."""


class Status(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class Language(StrEnum):
    DE = "de"
    EN = "en"


@dataclass(frozen=True)
class FieldError:
    """One refused field: ``field`` is a dotted path such as ``participants.1.email``."""

    field: str
    code: str
    message: str


class RuleViolation(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class ParticipantDraft:
    name: str
    email: str
    role: str = Role.CITIZEN
    customer_number: str | None = None
    language: str = Language.DE


def end_of(start: datetime, duration_minutes: int) -> datetime:
    return start + timedelta(minutes=duration_minutes)


def check_start(start: datetime, now: datetime, field: str = "start") -> list[FieldError]:
    if start.tzinfo is None or start.utcoffset() is None:
        return [FieldError(field, "timezone_missing", "start must include a UTC offset")]
    if start <= now:
        return [FieldError(field, "in_past", "start must be in the future")]
    if start > now + MAX_AHEAD:
        return [FieldError(field, "too_far", f"start must be within {MAX_AHEAD.days} days")]
    return []


def check_duration(minutes: int, field: str = "duration_minutes") -> list[FieldError]:
    if not MIN_DURATION <= minutes <= MAX_DURATION:
        return [
            FieldError(
                field,
                "duration_range",
                f"duration must be between {MIN_DURATION} and {MAX_DURATION} minutes",
            )
        ]
    return []


def check_subject(subject: str | None, field: str = "subject") -> list[FieldError]:
    if subject is not None and len(subject) > MAX_SUBJECT:
        return [FieldError(field, "too_long", f"at most {MAX_SUBJECT} characters")]
    if subject is not None and not is_one_line(subject):
        return [FieldError(field, "invalid", "one line without control characters")]
    return []


def normalise_email(email: str) -> str | None:
    """The normalised address, or ``None`` if it is not a valid e-mail address."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def check_participant(draft: ParticipantDraft, prefix: str) -> list[FieldError]:
    errors: list[FieldError] = []
    name = draft.name.strip()
    if not name:
        errors.append(FieldError(f"{prefix}name", "required", "name is required"))
    elif len(name) > MAX_NAME or not is_one_line(name):
        errors.append(
            FieldError(f"{prefix}name", "invalid", f"at most {MAX_NAME} printable characters")
        )
    if normalise_email(draft.email) is None:
        errors.append(FieldError(f"{prefix}email", "invalid_email", "not a valid e-mail address"))
    if draft.role not in Role.__members__.values():
        errors.append(
            FieldError(
                f"{prefix}role",
                "invalid_role",
                "role must be citizen, interpreter, companion or colleague",
            )
        )
    if draft.language not in Language.__members__.values():
        errors.append(
            FieldError(f"{prefix}language", "invalid_language", "language must be de or en")
        )
    number = draft.customer_number
    if number is not None and number.strip() and not _CUSTOMER_NUMBER.match(number.strip()):
        errors.append(
            FieldError(
                f"{prefix}customer_number",
                "invalid",
                "letters, digits, space, dot, slash or hyphen; at most 40 characters",
            )
        )
    return errors


def check_participants(drafts: list[ParticipantDraft]) -> list[FieldError]:
    """Each participant valid; exactly one citizen; no address twice; bounded count."""
    errors: list[FieldError] = []
    for index, draft in enumerate(drafts):
        errors += check_participant(draft, f"participants.{index}.")
    citizens = [i for i, d in enumerate(drafts) if d.role == Role.CITIZEN]
    if not citizens:
        errors.append(
            FieldError("participants", "citizen_missing", "exactly one citizen is required")
        )
    for index in citizens[1:]:
        errors.append(
            FieldError(
                f"participants.{index}.role",
                "second_citizen",
                "an appointment has exactly one citizen",
            )
        )
    if len(drafts) > MAX_PARTICIPANTS:
        errors.append(
            FieldError("participants", "too_many", f"at most {MAX_PARTICIPANTS} participants")
        )
    seen: dict[str, int] = {}
    for index, draft in enumerate(drafts):
        email = normalise_email(draft.email)
        if email is None:
            continue
        if email.lower() in seen:
            errors.append(
                FieldError(
                    f"participants.{index}.email",
                    "duplicate_email",
                    "this address is already a participant",
                )
            )
        seen[email.lower()] = index
    return errors


def check_new_appointment(
    start: datetime,
    duration_minutes: int,
    subject: str | None,
    participants: list[ParticipantDraft],
    now: datetime,
) -> list[FieldError]:
    return (
        check_start(start, now)
        + check_duration(duration_minutes)
        + check_subject(subject)
        + check_participants(participants)
    )


def check_changeable(status: str) -> list[FieldError]:
    """Cancelled and completed appointments are history; they cannot be changed."""
    if status != Status.SCHEDULED:
        return [FieldError("status", "not_scheduled", f"the appointment is {status}")]
    return []


def check_added_participant(
    draft: ParticipantDraft, existing: list[ParticipantDraft]
) -> list[FieldError]:
    """A participant added later must not be a second citizen or a duplicate address."""
    errors = check_participants([*existing, draft])
    index = len(existing)
    own = [
        FieldError(e.field.replace(f"participants.{index}.", ""), e.code, e.message)
        for e in errors
        if e.field.startswith(f"participants.{index}.")
    ]
    if any(e.code == "too_many" for e in errors):
        own.append(
            FieldError("participants", "too_many", f"at most {MAX_PARTICIPANTS} participants")
        )
    return own


def check_removable(role: str) -> list[FieldError]:
    """The citizen is the reason for the appointment: cancel it instead of removing them."""
    if role == Role.CITIZEN:
        return [
            FieldError(
                "participant",
                "citizen_not_removable",
                "the citizen cannot be removed; cancel the appointment instead",
            )
        ]
    return []


def is_over(start: datetime, duration_minutes: int, status: str, now: datetime) -> bool:
    return status != Status.SCHEDULED or now >= end_of(start, duration_minutes)
