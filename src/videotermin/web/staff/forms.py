"""The advisor's appointment forms: fields in, scheduling inputs out, refusals as German msgids.

Form fields are named like the rule paths of :mod:`videotermin.domain.appointments`
(``participants.1.email``), so every :class:`RuleViolation` lands next to the
field that caused it. Date and time are read in the unit's time zone; a time
that does not exist there (the hour skipped when clocks go forward) is refused
instead of being silently moved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from videotermin.domain import appointments as rules
from videotermin.domain.appointments import FieldError, ParticipantDraft, Role
from videotermin.domain.export import parse_day
from videotermin.domain.text import N_, Text

EXTRA_ROWS = 2
CITIZEN_ROW = "participants.0"
EXTRA_ROW_NAMES = tuple(f"participants.{i}" for i in range(1, EXTRA_ROWS + 1))
NEW_PARTICIPANT = "new"
GENERAL = ""

MESSAGES = {
    "required": N_("Bitte füllen Sie dieses Feld aus."),
    "invalid": N_("Bitte prüfen Sie diese Angabe."),
    "in_past": N_("Der Termin muss in der Zukunft liegen."),
    "too_far": Text(
        "Ein Termin kann höchstens %(days)s Tage im Voraus geplant werden.",
        days=rules.MAX_AHEAD.days,
    ),
    "timezone_missing": N_("Bitte geben Sie Datum und Uhrzeit an."),
    "invalid_email": N_(
        "Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@example.org."
    ),
    "second_citizen": N_(
        "Ein Termin hat genau eine Kundin oder einen Kunden. Bitte wählen Sie eine andere Rolle."
    ),
    "duplicate_email": N_("Diese E-Mail-Adresse ist schon für eine andere Person eingetragen."),
    "duration_range": Text(
        "Die Dauer muss zwischen %(min)s und %(max)s Minuten liegen.",
        min=rules.MIN_DURATION,
        max=rules.MAX_DURATION,
    ),
    "too_long": Text("Bitte höchstens %(count)s Zeichen.", count=rules.MAX_SUBJECT),
    "too_many": Text(
        "Ein Termin kann höchstens %(count)s Teilnehmende haben.", count=rules.MAX_PARTICIPANTS
    ),
    "invalid_role": N_("Bitte wählen Sie eine Rolle aus der Liste."),
    "invalid_language": N_("Bitte wählen Sie Deutsch oder Englisch."),
    "not_scheduled": N_(
        "Dieser Termin ist abgesagt oder beendet und kann nicht mehr geändert werden."
    ),
    "citizen_not_removable": N_(
        "Die Kundin oder der Kunde kann nicht entfernt werden. Sagen Sie stattdessen den Termin ab."
    ),
}
FIELD_MESSAGES = {
    ("name", "required"): N_("Bitte geben Sie den Namen an."),
    ("name", "invalid"): Text(
        "Der Name darf höchstens %(count)s Zeichen lang sein und keine Steuerzeichen enthalten.",
        count=rules.MAX_NAME,
    ),
    ("email", "required"): N_("Bitte geben Sie die E-Mail-Adresse an."),
    ("subject", "invalid"): N_(
        "Der Betreff ist eine Zeile: bitte ohne Zeilenumbrüche und Steuerzeichen."
    ),
    ("customer_number", "invalid"): N_(
        "Die Kundennummer darf nur Buchstaben, Ziffern, Leerzeichen, Punkt, Schrägstrich "
        "und Bindestrich enthalten (höchstens 40 Zeichen)."
    ),
    ("date", "required"): N_("Bitte geben Sie das Datum an."),
    ("date", "invalid"): N_("Bitte geben Sie ein gültiges Datum an, zum Beispiel 24.12.2026."),
    ("time", "required"): N_("Bitte geben Sie die Uhrzeit an."),
    ("time", "invalid"): N_("Bitte geben Sie eine gültige Uhrzeit an, zum Beispiel 09:30."),
    ("time", "nonexistent"): N_(
        "Diese Uhrzeit gibt es an diesem Tag wegen der Zeitumstellung nicht. "
        "Bitte wählen Sie eine andere."
    ),
    ("duration_minutes", "required"): N_("Bitte geben Sie die Dauer in Minuten an."),
    ("duration_minutes", "invalid"): N_("Bitte geben Sie die Dauer als ganze Zahl von Minuten an."),
}
"""Each refusal as a German msgid (``N_``, ``Text`` with its values): the page shows it
in its reader's language (the templates' ``t`` filter)."""


def german_message(error: FieldError) -> str:
    leaf = error.field.rsplit(".", 1)[-1]
    return FIELD_MESSAGES.get((leaf, error.code)) or MESSAGES.get(error.code, MESSAGES["invalid"])


@dataclass
class FormErrors:
    """German messages (msgids) by form field, in the order the fields appear on the page.

    Errors without a field of their own (``GENERAL``) appear only in the summary.
    """

    order: tuple[str, ...]
    messages: dict[str, str] = field(default_factory=dict)

    def add(self, form_field: str, message: str) -> None:
        self.messages.setdefault(form_field, message)

    def add_all(self, errors: Iterable[FieldError], rename: Callable[[str], str]) -> None:
        for error in errors:
            self.add(rename(error.field), german_message(error))

    def ordered(self) -> dict[str, str]:
        rank = {name: i for i, name in enumerate(self.order)}
        return dict(sorted(self.messages.items(), key=lambda kv: rank.get(kv[0], len(rank))))

    def __bool__(self) -> bool:
        return bool(self.messages)


def form_values(form: FormData) -> dict[str, str]:
    """The submitted text fields, kept to show them again next to any error."""
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


def _fail(name: str, code: str) -> FieldError:
    return FieldError(name, code, code)


def parse_start(values: dict[str, str], zone: ZoneInfo) -> tuple[datetime | None, list[FieldError]]:
    """``date`` (as the date field sends it, or typed as 24.12.2026) and ``time`` (HH:MM)
    read as a local time in ``zone``."""
    errors: list[FieldError] = []
    day: date | None = None
    clock: time | None = None
    typed = parse_day(values.get("date", ""))
    if isinstance(typed, date):
        day = typed
    else:
        errors.append(_fail("date", "required" if not values.get("date") else "invalid"))
    try:
        clock = time.fromisoformat(values.get("time", ""))
    except ValueError:
        errors.append(_fail("time", "required" if not values.get("time") else "invalid"))
    if day is None or clock is None:
        return None, errors
    start = datetime.combine(day, clock.replace(tzinfo=None, microsecond=0), tzinfo=zone)
    try:
        back = start.astimezone(UTC).astimezone(zone)
    except OverflowError:  # the first or last day a date can hold: no appointment's day
        return None, [_fail("date", "invalid")]
    if back.replace(tzinfo=None) != start.replace(tzinfo=None):
        return None, [_fail("time", "nonexistent")]
    return start, []


def parse_duration(values: dict[str, str]) -> tuple[int | None, list[FieldError]]:
    text = values.get("duration_minutes", "")
    if not text:
        return None, [_fail("duration_minutes", "required")]
    # Only what a person types: ASCII digits (int() would take "4_5", "٣٠" and " 45 ").
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        return None, [_fail("duration_minutes", "invalid")]
    return int(text), []


def _draft(values: dict[str, str], prefix: str, role: str) -> ParticipantDraft:
    return ParticipantDraft(
        name=values.get(f"{prefix}.name", ""),
        email=values.get(f"{prefix}.email", ""),
        role=role,
        customer_number=values.get(f"{prefix}.customer_number") or None,
        language=values.get(f"{prefix}.language", "de"),
    )


def _row_is_empty(values: dict[str, str], prefix: str) -> bool:
    return not values.get(f"{prefix}.name") and not values.get(f"{prefix}.email")


# --- the "new appointment" form ----------------------------------------------

_PARTICIPANT_FIELDS = ("role", "name", "email", "customer_number", "language")
NEW_FORM_ORDER = (
    "date",
    "time",
    "duration_minutes",
    "subject",
    *(f"{row}.{f}" for row in (CITIZEN_ROW, *EXTRA_ROW_NAMES) for f in _PARTICIPANT_FIELDS),
    GENERAL,
)


@dataclass(frozen=True)
class NewAppointment:
    start: datetime
    duration_minutes: int
    subject: str
    participants: list[ParticipantDraft]


def parse_new_appointment(
    values: dict[str, str], zone: ZoneInfo
) -> tuple[NewAppointment | None, FormErrors, Callable[[str], str]]:
    """The appointment the form describes, or the errors that stop it.

    Also returns how rule paths map to form fields: empty extra rows are
    skipped, so draft ``participants.1`` may be the form's second extra row.
    """
    rows = [CITIZEN_ROW] + [r for r in EXTRA_ROW_NAMES if not _row_is_empty(values, r)]
    drafts = [_draft(values, CITIZEN_ROW, Role.CITIZEN)] + [
        _draft(values, row, values.get(f"{row}.role", "")) for row in rows[1:]
    ]

    def rename(path: str) -> str:
        if path == "start":
            return "date"
        parts = path.split(".")
        if parts[0] == "participants" and len(parts) == 3:
            return f"{rows[int(parts[1])]}.{parts[2]}"
        return path if path in NEW_FORM_ORDER else GENERAL

    errors = FormErrors(NEW_FORM_ORDER)
    start, start_errors = parse_start(values, zone)
    duration, duration_errors = parse_duration(values)
    subject = values.get("subject", "")
    if start is None or duration is None:
        errors.add_all(start_errors + duration_errors, rename)
        errors.add_all(rules.check_participants(drafts) + rules.check_subject(subject), rename)
        return None, errors, rename
    return NewAppointment(start, duration, subject, drafts), errors, rename


# --- forms on the appointment page --------------------------------------------

RESCHEDULE_ORDER = ("date", "time", "duration_minutes", "subject", GENERAL)
ADD_ORDER = (*(f"{NEW_PARTICIPANT}.{f}" for f in _PARTICIPANT_FIELDS), GENERAL)


def reschedule_rename(path: str) -> str:
    if path == "start":
        return "date"
    return path if path in RESCHEDULE_ORDER else GENERAL


@dataclass(frozen=True)
class Reschedule:
    start: datetime
    duration_minutes: int
    subject: str


def parse_reschedule(
    values: dict[str, str], zone: ZoneInfo
) -> tuple[Reschedule | None, FormErrors]:
    errors = FormErrors(RESCHEDULE_ORDER)
    start, start_errors = parse_start(values, zone)
    duration, duration_errors = parse_duration(values)
    errors.add_all(start_errors + duration_errors, reschedule_rename)
    if start is None or duration is None:
        return None, errors
    return Reschedule(start, duration, values.get("subject", "")), errors


def add_rename(path: str) -> str:
    return f"{NEW_PARTICIPANT}.{path}" if path in _PARTICIPANT_FIELDS else GENERAL


def new_participant_draft(values: dict[str, str]) -> ParticipantDraft:
    return _draft(values, NEW_PARTICIPANT, values.get(f"{NEW_PARTICIPANT}.role", ""))
