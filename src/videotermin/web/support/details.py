"""What the support desk shows of one participant, and its one rendering.

The page renders the macro ``support/_details.html: details`` and the live feed
(:mod:`videotermin.web.support.live`) renders the very same macro whenever the
participant changes, so what the supporter sees after an update is exactly what
a reload would show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from videotermin.domain.activity import PROBLEMS, Whereabouts, whereabouts
from videotermin.domain.journey import Consent
from videotermin.domain.support_code import format_support_code
from videotermin.realtime.presence import PresenceService
from videotermin.services.participation import consent_of
from videotermin.settings import Settings
from videotermin.store.models import DeviceCheck, Participant
from videotermin.web.templating import environment


@dataclass(frozen=True)
class Details:
    participant: Participant
    code: str | None
    consent: Consent
    where: Whereabouts
    problem: bool
    """The citizen is stuck at a device failure right now (camera blocked …)."""
    checks: list[tuple[DeviceCheck, list[dict[str, Any]]]]
    """Newest first, each with its findings as the citizen was shown them."""


def _findings(check: DeviceCheck) -> list[dict[str, Any]]:
    try:
        found = json.loads(check.findings or "[]")
    except ValueError:
        return []
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def details_of(
    settings: Settings, presence: PresenceService, participant: Participant, now: datetime
) -> Details:
    entry = presence.board.get(participant.id)
    seated = entry is not None and entry.call is not None and participant.admitted_at is not None
    where = whereabouts(
        participant.activity,
        participant.activity_at,
        waiting_since=None if seated else presence.waiting_since(participant.id),
        in_call=seated and entry is not None and entry.connected,
        now=now,
    )
    return Details(
        participant=participant,
        code=format_support_code(participant.support_code),
        consent=consent_of(participant),
        where=where,
        problem=where.activity in PROBLEMS,
        checks=[(check, _findings(check)) for check in reversed(participant.device_checks)],
    )


def render_details(
    details: Details, *, csrf_token: str, zone: ZoneInfo, now: datetime, language: str
) -> str:
    module: Any = environment(language).get_template("support/_details.html").module
    return str(module.details(details, csrf_token, zone, now)).strip()
