"""A participant's row on the advisor's pages: the live state, and its one rendering.

The row shows consent, the latest device check, "wartet seit" (with
"Abholen", which opens the advisor's call and admits the person), "im
Gespräch" while they are in the call, and the invitation. The pages render
it inside their templates and the live feed (:mod:`videotermin.web.staff.live`)
renders the very same macro (``_appointment.html: participant_row``) when
something changes, so a row
swapped in by the browser is exactly what a reload would show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from videotermin.domain.journey import Consent
from videotermin.realtime.presence import PresenceService
from videotermin.services.participation import consent_of
from videotermin.settings import Settings
from videotermin.store.models import Appointment, DeviceCheck, Participant
from videotermin.web.templating import environment

View = Literal["agenda", "appointment"]


@dataclass(frozen=True)
class ParticipantLive:
    """What changes while the advisor looks: consent, device check, waiting."""

    consent: Consent
    check: DeviceCheck | None
    waiting_since: datetime | None
    in_call: bool = False
    """Admitted, and a connection of theirs holds a seat in the call right now."""


def live_states(
    settings: Settings, presence: PresenceService, participants: Iterable[Participant]
) -> dict[str, ParticipantLive]:
    live = {}
    for p in participants:
        entry = presence.board.get(p.id)
        seated = entry is not None and entry.call is not None and p.admitted_at is not None
        live[p.id] = ParticipantLive(
            consent=consent_of(p),
            check=p.latest_check,
            waiting_since=None if seated else presence.waiting_since(p.id),
            in_call=seated and entry is not None and entry.connected,
        )
    return live


def _macros(language: str) -> Any:
    """The template's module, whose macros are attributes made at run time: hence ``Any``."""
    return environment(language).get_template("staff/_appointment.html").module


def render_row(
    appointment: Appointment,
    participant: Participant,
    live: ParticipantLive,
    *,
    view: View,
    csrf_token: str,
    zone: ZoneInfo,
    now: datetime,
    language: str,
) -> str:
    row = _macros(language).participant_row
    return str(row(appointment, participant, live, view, csrf_token, zone, now)).strip()


def entered_notice(
    appointment: Appointment, participant: Participant, zone: ZoneInfo, language: str
) -> str:
    """The alert's words when someone enters the waiting room."""
    notice = _macros(language).entered_notice
    return str(notice(appointment, participant, zone).striptags())
