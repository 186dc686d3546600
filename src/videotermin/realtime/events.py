"""Events that pages and jobs publish when a participant's visible state changes.

The advisor's live list subscribes to its appointments' channels and re-reads
the participant from the database when told something changed.
"""

from __future__ import annotations

from videotermin.context import AppContext


def appointment_channel(appointment_id: str) -> str:
    return f"appointment:{appointment_id}"


async def participant_changed(ctx: AppContext, appointment_id: str, participant_id: str) -> None:
    """Consent, device check, presence or removal of one participant changed."""
    await ctx.bus.publish(
        appointment_channel(appointment_id),
        {
            "type": "participant_changed",
            "appointment_id": appointment_id,
            "participant_id": participant_id,
        },
    )
