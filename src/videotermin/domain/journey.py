"""Where a participant stands on their link, derived from the appointment, consent and ``now``.

The states are the pages of the citizen's journey. The join window opens
``join_early_minutes`` before the start and closes when the appointment's time
is over or the advisor ends it; before it opens the link still serves consent
and the device check. The same rule guards every entry point (pages and
WebSocket), so the button is a convenience, never the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from videotermin.domain.appointments import Status, end_of


class Consent(StrEnum):
    NONE = "none"
    AGREED = "agreed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Journey(StrEnum):
    CANCELLED = "cancelled"
    ENDED = "ended"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_DECLINED = "consent_declined"
    CONSENT_NEEDED = "consent_needed"
    BEFORE_WINDOW = "before_window"
    WINDOW_OPEN = "window_open"


@dataclass(frozen=True)
class Slot:
    """What the journey needs to know of an appointment."""

    start: datetime
    duration_minutes: int
    status: str


def window_opens_at(slot: Slot, early_minutes: int) -> datetime:
    return slot.start - timedelta(minutes=early_minutes)


def window_closes_at(slot: Slot) -> datetime:
    return end_of(slot.start, slot.duration_minutes)


def journey(slot: Slot, consent: Consent, now: datetime, early_minutes: int) -> Journey:
    """The participant's state; earlier checks win (a cancelled appointment is cancelled,
    whatever the consent; a withdrawn consent outlasts a still-open window)."""
    if slot.status == Status.CANCELLED:
        return Journey.CANCELLED
    if slot.status == Status.COMPLETED or now >= window_closes_at(slot):
        return Journey.ENDED
    if consent == Consent.WITHDRAWN:
        return Journey.CONSENT_WITHDRAWN
    if consent == Consent.DECLINED:
        return Journey.CONSENT_DECLINED
    if consent == Consent.NONE:
        return Journey.CONSENT_NEEDED
    if now < window_opens_at(slot, early_minutes):
        return Journey.BEFORE_WINDOW
    return Journey.WINDOW_OPEN


def may_enter_waiting_room(slot: Slot, consent: Consent, now: datetime, early_minutes: int) -> bool:
    return journey(slot, consent, now, early_minutes) == Journey.WINDOW_OPEN


def may_check_devices(slot: Slot, consent: Consent, now: datetime, early_minutes: int) -> bool:
    """The device check is open from the invitation on, once consent is given."""
    return journey(slot, consent, now, early_minutes) in (
        Journey.BEFORE_WINDOW,
        Journey.WINDOW_OPEN,
    )
