"""The iCalendar part of a mail (RFC 5545 with iTIP methods from RFC 5546).

Calendar programs match an update or a cancellation to the event they already
hold by ``UID`` and take the one with the highest ``SEQUENCE``. That is why the
UID is the appointment's stable one, the sequence is raised by every reschedule
and cancellation, and a removed participant gets a ``CANCEL`` for the same UID:
the entry disappears from their calendar instead of lingering with a dead link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum

from icalendar import Calendar, Event, vCalAddress

from videotermin.domain.appointments import end_of
from videotermin.store.models import Appointment

PRODUCT_ID = "-//Videotermin//Videotermin//DE"


class Method(StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class Person:
    """Someone named in the event: only a display name and an address."""

    name: str
    email: str

    def address(self) -> vCalAddress:
        value = vCalAddress(f"mailto:{self.email}")
        if self.name:
            value.params["CN"] = self.name
        return value


def calendar_bytes(
    method: Method,
    *,
    appointment: Appointment,
    organizer: Person,
    attendee: Person,
    summary: str,
    description: str,
    link: str | None,
) -> bytes:
    """One ``VEVENT`` in a ``VCALENDAR``, times in UTC so no client has to resolve a TZID.

    ``DTSTAMP`` is the appointment's last change: it marks the revision, not the
    moment of sending, so a resent invitation is the same revision as before.
    """
    # In UTC whatever zone the start came in (the form's named zone, the API's offset):
    # a TZID would need a VTIMEZONE of its own, and a client without it guesses.
    start = appointment.start_at.astimezone(UTC)
    event = Event()
    event.add("uid", appointment.ics_uid)
    event.add("sequence", appointment.ics_sequence)
    event.add("dtstamp", appointment.updated_at.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end_of(start, appointment.duration_minutes))
    event.add("summary", summary)
    event.add("description", description)
    if link is not None:
        event.add("url", link)
        event.add("location", link)
    event.add("organizer", organizer.address())
    participant = attendee.address()
    participant.params["ROLE"] = "REQ-PARTICIPANT"
    participant.params["PARTSTAT"] = "NEEDS-ACTION"
    participant.params["RSVP"] = "FALSE"
    event.add("attendee", participant)
    event.add("status", "CONFIRMED" if method is Method.REQUEST else "CANCELLED")
    event.add("transp", "OPAQUE")

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", method.value)
    calendar.add_component(event)
    return calendar.to_ical()
