"""Events that pages and jobs publish when a participant's or an appointment's visible
state changes.

The advisor's live list subscribes to its appointments' channels and re-reads
the participant from the database when told something changed; a citizen's
waiting-room connection re-checks the journey rule (cancelled, moved).

Publish only after the change is committed, or a receiver re-reads the old state.
A bus that fails (Redis down) costs only promptness: the change is committed, the
waiting rooms check again periodically and the advisor's list shows it on reload.
So the failure is logged, not raised into the request or job that made the change.
"""

from __future__ import annotations

import logging

from videotermin.bus.core import Bus, Event

log = logging.getLogger(__name__)


def appointment_channel(appointment_id: str) -> str:
    return f"appointment:{appointment_id}"


def call_channel(appointment_id: str) -> str:
    """The relay of a call: only connections in the call subscribe."""
    return f"call:{appointment_id}"


def seat_channel(key: str) -> str:
    """Where a new connection of a seat (a link, or the advisor's call) announces itself."""
    return f"participant:{key}"


async def publish_quietly(bus: Bus, channel: str, event: Event) -> None:
    """Publish a change already committed. Should the bus fail, the connections find it
    in the database on their next periodic check; the caller goes on."""
    try:
        await bus.publish(channel, event)
    except Exception:
        log.warning("event not published type=%s reason=bus_failed", event.get("type"))


async def participant_changed(bus: Bus, appointment_id: str, participant_id: str) -> None:
    """Consent, device check, presence or removal of one participant changed."""
    await _publish(
        bus,
        appointment_id,
        {
            "type": "participant_changed",
            "appointment_id": appointment_id,
            "participant_id": participant_id,
        },
    )


async def appointment_changed(bus: Bus, appointment_id: str) -> None:
    """The appointment was rescheduled or cancelled: its connections re-check at once
    instead of at their next periodic check."""
    await _publish(
        bus, appointment_id, {"type": "appointment_changed", "appointment_id": appointment_id}
    )


async def _publish(bus: Bus, appointment_id: str, event: Event) -> None:
    try:
        await bus.publish(appointment_channel(appointment_id), event)
    except Exception as error:
        log.warning("bus publish failed type=%s error=%s", event["type"], type(error).__name__)
