"""What the audit log records: the actions, and what an entry may say about them.

An entry names who acted (a staff user or an API token), what they did, when,
and the appointment it concerned — never a citizen's name, e-mail, customer
number, IP address or link. The free ``detail`` is for facts about the agency's
own objects (a role, a unit, a consent version), so :func:`clean_detail` keeps it
short and on one line; callers never pass citizen data into it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from videotermin.domain.text import N_

DETAIL_LENGTH = 200
DEFAULT_RETENTION_DAYS = 365


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    APPOINTMENT_CREATED = "appointment_created"
    APPOINTMENT_CHANGED = "appointment_changed"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    PARTICIPANT_ADDED = "participant_added"
    PARTICIPANT_REMOVED = "participant_removed"
    INVITATION_RESENT = "invitation_resent"
    ADMITTED = "admitted"
    REMOVED_FROM_CALL = "removed_from_call"
    CALL_ENDED = "call_ended"
    SUPPORT_LOOKUP = "support_lookup"
    UNIT_CREATED = "unit_created"
    UNIT_CHANGED = "unit_changed"
    STAFF_CREATED = "staff_created"
    STAFF_CHANGED = "staff_changed"
    STAFF_PASSWORD_RESET = "staff_password_reset"
    STAFF_PASSWORD_SET = "staff_password_set"
    STAFF_DEACTIVATED = "staff_deactivated"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    CONSENT_TEXT_ADDED = "consent_text_added"
    CONSENT_TEXT_ACTIVATED = "consent_text_activated"
    PRIVACY_TEXT_CHANGED = "privacy_text_changed"
    AUDIT_EXPORTED = "audit_exported"


# German msgids; a page shows them with the ``t`` filter, an export with ``translate``.
ACTION_LABELS: dict[AuditAction, str] = {
    AuditAction.LOGIN: N_("Anmeldung"),
    AuditAction.LOGIN_FAILED: N_("Anmeldung fehlgeschlagen"),
    AuditAction.LOGOUT: N_("Abmeldung"),
    AuditAction.APPOINTMENT_CREATED: N_("Termin angelegt"),
    AuditAction.APPOINTMENT_CHANGED: N_("Termin geändert"),
    AuditAction.APPOINTMENT_CANCELLED: N_("Termin abgesagt"),
    AuditAction.PARTICIPANT_ADDED: N_("Teilnehmende Person hinzugefügt"),
    AuditAction.PARTICIPANT_REMOVED: N_("Teilnehmende Person ausgeladen"),
    AuditAction.INVITATION_RESENT: N_("Einladung erneut gesendet"),
    AuditAction.ADMITTED: N_("In das Gespräch geholt"),
    AuditAction.REMOVED_FROM_CALL: N_("Aus dem Gespräch entfernt"),
    AuditAction.CALL_ENDED: N_("Gespräch beendet"),
    AuditAction.SUPPORT_LOOKUP: N_("Support-Code nachgeschlagen"),
    AuditAction.UNIT_CREATED: N_("Dienststelle angelegt"),
    AuditAction.UNIT_CHANGED: N_("Dienststelle geändert"),
    AuditAction.STAFF_CREATED: N_("Konto angelegt"),
    AuditAction.STAFF_CHANGED: N_("Konto geändert"),
    AuditAction.STAFF_PASSWORD_RESET: N_("Passwort zurückgesetzt"),
    AuditAction.STAFF_PASSWORD_SET: N_("Passwort gesetzt"),
    AuditAction.STAFF_DEACTIVATED: N_("Konto deaktiviert"),
    AuditAction.TOKEN_CREATED: N_("API-Token erstellt"),
    AuditAction.TOKEN_REVOKED: N_("API-Token widerrufen"),
    AuditAction.CONSENT_TEXT_ADDED: N_("Einwilligungstext hinzugefügt"),
    AuditAction.CONSENT_TEXT_ACTIVATED: N_("Einwilligungstext aktiviert"),
    AuditAction.PRIVACY_TEXT_CHANGED: N_("Datenschutzhinweise geändert"),
    AuditAction.AUDIT_EXPORTED: N_("Protokoll exportiert"),
}


def clean_detail(detail: str) -> str:
    """One line of at most :data:`DETAIL_LENGTH` characters, no control characters: a
    detail can neither forge a second entry in an export nor grow without bound."""
    printable = "".join(ch if ch.isprintable() else " " for ch in detail)
    return " ".join(printable.split())[:DETAIL_LENGTH]


def audit_cutoff(now: datetime, retention_days: int) -> datetime:
    """Entries older than this are purged."""
    return now - timedelta(days=retention_days)
