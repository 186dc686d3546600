"""The events on the bus, typed: what pages, jobs and sessions tell each other.

Each event is a small pydantic model with a ``type``; on the wire it is the
JSON object of its fields (:meth:`Event.wire`), so the transport
(:mod:`videotermin.bus.core`) stays a plain JSON pipe and every app instance
reads the same shape. A receiver turns what arrives back into a model with
:func:`read`, which answers ``None`` for anything it does not know: an event
from a newer version, or garbage, is dropped rather than crashing a session.

Events carry ids and states only, never personal data: a receiver that needs
names reads them from the database with its own authority.

Publish only after the change is committed, or a receiver re-reads the old state.
A bus that fails (Redis down) costs only promptness: the change is committed, the
connections check again periodically and the advisor's list shows it on reload.
So the failure is logged, not raised into the request or job that made the change.
An event that *is* the change — a chat line, which nothing stores — is the exception:
:func:`relay` raises, so its sender hears that it did not go out.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from videotermin.bus.core import Bus

log = logging.getLogger(__name__)


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The JSON object that travels."""
        return self.model_dump(mode="json", by_alias=True)


# --- an appointment's channel -----------------------------------------------


class ParticipantChanged(Event):
    """Consent, device check, presence, invitation or admission of one participant changed."""

    type: Literal["participant_changed"] = "participant_changed"
    appointment_id: str
    participant_id: str


class AppointmentChanged(Event):
    """Rescheduled, cancelled or ended: the appointment's connections check again at once."""

    type: Literal["appointment_changed"] = "appointment_changed"
    appointment_id: str


class WaitingMessageChanged(Event):
    """The advisor's message to the waiting room changed; each link reads it itself."""

    type: Literal["waiting_message"] = "waiting_message"
    appointment_id: str


# --- a staff user's channel --------------------------------------------------


class StaffChanged(Event):
    """A staff user's logins changed: one ended (logout, a new login replacing it) or the
    user was deactivated. Their live list and call connections read their login again."""

    type: Literal["staff_changed"] = "staff_changed"
    user_id: int


# --- a seat's channel (a link, or the advisor's side of a call) ---------------


class Takeover(Event):
    """A new connection of the seat said hello; older ones give way
    (:mod:`videotermin.realtime.takeover`)."""

    type: Literal["takeover"] = "takeover"
    connection_id: str
    order: tuple[int, str]


class CallAdmit(Event):
    """The advisor admitted this participant."""

    type: Literal["call_admit"] = "call_admit"


class CallRemove(Event):
    """The advisor took this participant out of the call."""

    type: Literal["call_remove"] = "call_remove"


# --- a call's relay channel --------------------------------------------------


class CallRemoved(Event):
    """Tells the others in the call that ``peer`` was removed, not that it left."""

    type: Literal["call_removed"] = "call_removed"
    peer: str


class CallSignal(Event):
    """SDP or an ICE candidate in transit from one peer to another; never stored."""

    type: Literal["call_signal"] = "call_signal"
    from_: str = Field(alias="from")
    connection: str
    """The sending connection: a signal from a connection the receiver has not been
    told of waits until it has."""
    to: str
    description: dict[str, Any] | None = None
    candidate: dict[str, Any] | None = None


class CallChat(Event):
    """A chat line in transit; never stored."""

    type: Literal["call_chat"] = "call_chat"
    from_: str = Field(alias="from")
    name: str
    role: str
    text: str
    at: AwareDatetime


# --- presence, between app instances ------------------------------------------


class SeatWire(BaseModel):
    model_config = ConfigDict(frozen=True)

    peer: str
    audio: bool = False
    video: bool = False
    screen: bool = False


class EntryWire(BaseModel):
    """One presence entry as instances tell each other (ids, times and flags only)."""

    model_config = ConfigDict(frozen=True)

    participant_id: str
    appointment_id: str
    connection_id: str
    since: AwareDatetime
    connected: bool = True
    call: SeatWire | None = None


class PresenceSync(Event):
    """An instance (re)started listening, or found its view of another instance wrong:
    every instance (or only ``of``) repeats the whole truth of what it holds."""

    type: Literal["presence_sync"] = "presence_sync"
    instance: str
    of: str | None = None


class PresenceEnter(Event):
    type: Literal["presence_enter"] = "presence_enter"
    instance: str
    entry: EntryWire


class PresenceDrop(Event):
    """The connection went away; the entry waits out the grace."""

    type: Literal["presence_drop"] = "presence_drop"
    instance: str
    participant_id: str
    connection_id: str


class PresenceLeave(Event):
    type: Literal["presence_leave"] = "presence_leave"
    instance: str
    participant_id: str
    connection_id: str


class PresenceHeartbeat(Event):
    """An instance is alive, and a fingerprint of what it holds (``digest``, ``held``).

    With ``entries`` (after a ``presence_sync``) it is everything the instance holds and
    replaces what the others knew of it. Without, it is a few bytes: an instance whose
    view of the sender does not match the fingerprint asks for the whole truth."""

    type: Literal["presence_heartbeat"] = "presence_heartbeat"
    instance: str
    held: int = 0
    digest: int = 0
    entries: list[EntryWire] | None = None


class Resync(Event):
    """From the bus itself after it may have lost events: read again what you show."""

    type: Literal["resync"] = "resync"


BusEvent = Annotated[
    ParticipantChanged
    | AppointmentChanged
    | WaitingMessageChanged
    | StaffChanged
    | Takeover
    | CallAdmit
    | CallRemove
    | CallRemoved
    | CallSignal
    | CallChat
    | PresenceSync
    | PresenceEnter
    | PresenceDrop
    | PresenceLeave
    | PresenceHeartbeat
    | Resync,
    Field(discriminator="type"),
]
_EVENTS: TypeAdapter[BusEvent] = TypeAdapter(BusEvent)


def read(data: object) -> BusEvent | None:
    """The event a bus delivered; ``None`` (and a log line) for anything unknown."""
    try:
        return _EVENTS.validate_python(data)
    except ValidationError:
        kind = data.get("type") if isinstance(data, dict) else None
        log.warning("bus event ignored reason=invalid type=%s", str(kind)[:40])
        return None


async def publish(bus: Bus, channel: str, event: Event) -> None:
    """Publish on ``channel``; should the bus fail, log it and go on (see above)."""
    try:
        await bus.publish(channel, event.wire())
    except Exception as error:
        log.warning(
            "bus publish failed type=%s error=%s", event.wire()["type"], type(error).__name__
        )


async def relay(bus: Bus, channel: str, event: Event) -> None:
    """Publish an event that nothing else records (a chat line): should the bus fail,
    the error goes to the caller, who must tell the sender (see above)."""
    await bus.publish(channel, event.wire())


def appointment_channel(appointment_id: str) -> str:
    return f"appointment:{appointment_id}"


def call_channel(appointment_id: str) -> str:
    """The relay of a call: only connections in the call subscribe."""
    return f"call:{appointment_id}"


def staff_channel(user_id: int) -> str:
    """Where a staff user's logins are said to have changed."""
    return f"staff:{user_id}"


async def staff_changed(bus: Bus, user_id: int) -> None:
    await publish(bus, staff_channel(user_id), StaffChanged(user_id=user_id))


def seat_channel(key: str) -> str:
    """Where a new connection of a seat (a link, or the advisor's call) announces itself."""
    return f"participant:{key}"


async def participant_changed(bus: Bus, appointment_id: str, participant_id: str) -> None:
    await publish(
        bus,
        appointment_channel(appointment_id),
        ParticipantChanged(appointment_id=appointment_id, participant_id=participant_id),
    )


async def appointment_changed(bus: Bus, appointment_id: str) -> None:
    await publish(
        bus, appointment_channel(appointment_id), AppointmentChanged(appointment_id=appointment_id)
    )
