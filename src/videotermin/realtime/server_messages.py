"""The signaling protocol's messages from the server to the browser.

Every one is a frozen pydantic model with a ``type``, sent as JSON by
:meth:`ServerMessage.to_json`; their schemas are on ``docs/signaling-schemas.md``
(:mod:`videotermin.realtime.schemas`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from videotermin.domain.journey import Journey
from videotermin.realtime.protocol import ErrorCode, IceCandidate, ProtocolError, SessionDescription


class ServerMessage(BaseModel):
    model_config = ConfigDict(
        frozen=True, json_schema_serialization_defaults_required=True, populate_by_name=True
    )

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


class WaitingMessageText(BaseModel):
    """The advisor's latest message to the waiting room; shown as text, never as HTML."""

    model_config = ConfigDict(frozen=True)

    text: str
    at: datetime


class CitizenWelcome(ServerMessage):
    type: Literal["welcome"] = "welcome"
    version: int
    role: Literal["citizen"] = "citizen"
    ping_interval: float
    waiting_since: datetime
    message: WaitingMessageText | None


class StaffWelcome(ServerMessage):
    type: Literal["welcome"] = "welcome"
    version: int
    role: Literal["staff"] = "staff"
    ping_interval: float
    watching: list[str]


class SupportWelcome(ServerMessage):
    type: Literal["welcome"] = "welcome"
    version: int
    role: Literal["support"] = "support"
    ping_interval: float


class SupportUpdate(ServerMessage):
    """The participant as the support desk shows them, rendered by the server; sent
    after the welcome and whenever something about them changes. `problem` is true
    while they are stuck at a device failure (camera blocked …)."""

    type: Literal["support"] = "support"
    html: str
    problem: bool


class CallWelcome(ServerMessage):
    """The advisor's call connection is open; `admitted` and `waiting` follow at once."""

    type: Literal["welcome"] = "welcome"
    version: int
    role: Literal["advisor"] = "advisor"
    ping_interval: float


class Pong(ServerMessage):
    type: Literal["pong"] = "pong"
    id: int | None


class AdvisorMessage(ServerMessage):
    """A new message from the advisor (`null` when the advisor removed it)."""

    type: Literal["message"] = "message"
    message: WaitingMessageText | None


class StateChanged(ServerMessage):
    """The journey left `window_open`; the server closes the connection right after."""

    type: Literal["state"] = "state"
    state: Journey


class Replaced(ServerMessage):
    """The same link connected again elsewhere; this connection closes right after."""

    type: Literal["replaced"] = "replaced"


class Error(ServerMessage):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    ref: str | None

    @classmethod
    def of(cls, problem: ProtocolError) -> Error:
        return cls(code=problem.code, message=problem.message, ref=problem.ref)


class ParticipantUpdate(ServerMessage):
    """A participant's row as the advisor's page shows it, rendered by the server.

    `html` is empty when the participant is no longer on the appointment;
    `entered` is true when they have just come into the waiting room, and
    `notice` then says so in words for the page's alert.
    """

    type: Literal["participant"] = "participant"
    appointment_id: str
    participant_id: str
    html: str
    waiting_since: datetime | None
    entered: bool
    notice: str | None


# --- the call (server → client) --------------------------------------------------


class IceServer(BaseModel):
    """One entry of `RTCConfiguration.iceServers`; TURN entries carry short-lived credentials."""

    model_config = ConfigDict(frozen=True)

    urls: list[str]
    username: str | None = None
    credential: str | None = None


NAME_WHY = (
    "plain text (show it as text, never as HTML); empty when the participant has no name "
    "(never given, or erased): show the role's label in the page's language instead"
)
"""What a person's ``name`` is, in every message that carries one."""


class Peer(BaseModel):
    """Someone in the call."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str = Field(description=NAME_WHY)
    role: str
    audio: bool
    video: bool
    screen: bool
    connection: Literal["connected", "reconnecting"]


class Admitted(ServerMessage):
    """You are in the call: your peer id, ICE servers made now, and who else is there."""

    type: Literal["admitted"] = "admitted"
    self_: str = Field(alias="self")
    ice_servers: list[IceServer]
    ice_transport_policy: Literal["all", "relay"]
    peers: list[Peer]
    max_participants: int


class PeerJoined(ServerMessage):
    """Someone joined (or rejoined after a drop: start that peer connection afresh)."""

    type: Literal["peer_joined"] = "peer_joined"
    peer: Peer


class PeerUpdated(ServerMessage):
    """A peer's media or connection state changed."""

    type: Literal["peer_updated"] = "peer_updated"
    peer: Peer


class PeerLeft(ServerMessage):
    type: Literal["peer_left"] = "peer_left"
    id: str
    reason: Literal["left", "removed"]


class SignalFrom(ServerMessage):
    """Negotiation from a peer; `from` is set by the server. A null `description`
    means this is a candidate (a null `candidate`: the end of candidates)."""

    type: Literal["signal"] = "signal"
    from_: str = Field(alias="from")
    description: SessionDescription | None
    candidate: IceCandidate | None


class ChatLine(ServerMessage):
    """A chat line, also echoed to its sender; `from`, `name` and `role` are the server's."""

    type: Literal["chat"] = "chat"
    from_: str = Field(alias="from")
    name: str = Field(description=NAME_WHY)
    role: str
    text: str
    at: datetime


class Removed(ServerMessage):
    """The advisor took you out of the call; the connection closes with 4417."""

    type: Literal["removed"] = "removed"


Verdict = Literal["green", "yellow", "red"]


class WaitingPerson(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str = Field(description=NAME_WHY)
    role: str
    since: datetime
    verdict: Verdict | None


class Waiting(ServerMessage):
    """Who waits to be admitted, in order of arrival; sent whenever the list changes."""

    type: Literal["waiting"] = "waiting"
    participants: list[WaitingPerson]
