"""The advisor's message to the waiting room ("ich komme 5 Minuten später").

One message per appointment, the latest replacing the one before; an empty one
removes it. It is personal data (``Appointment.waiting_message`` is marked)
and reaches the citizens as text: the bus event only says that it changed, and
each waiting-room connection reads it from the database for its own link.
"""

from __future__ import annotations

import logging
import re

from videotermin.bus.events import WaitingMessageChanged, appointment_channel, publish
from videotermin.context import AppContext
from videotermin.domain.text import Text
from videotermin.store.models import Appointment

log = logging.getLogger(__name__)

MAX_LENGTH = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    """Line breaks kept, other control characters dropped, outer whitespace trimmed."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def problem(text: str) -> Text | None:
    """Why a cleaned message cannot be sent, in the advisor's words (a msgid the page
    translates); ``None`` if it can."""
    if len(text) > MAX_LENGTH:
        return Text(
            "Die Nachricht ist %(length)s Zeichen lang; es sind höchstens %(max)s Zeichen möglich.",
            length=len(text),
            max=MAX_LENGTH,
        )
    return None


def store(ctx: AppContext, appointment: Appointment, text: str) -> None:
    """Set (or, with an empty text, remove) the message; the caller commits, then
    calls :func:`announce`."""
    appointment.waiting_message = text or None
    appointment.waiting_message_at = ctx.clock() if text else None


async def announce(ctx: AppContext, appointment_id: str) -> None:
    """Tell the waiting room at once. Should the bus fail, the message is stored all the
    same and every waiting-room connection finds it on its next periodic check."""
    await publish(
        ctx.bus,
        appointment_channel(appointment_id),
        WaitingMessageChanged(appointment_id=appointment_id),
    )
