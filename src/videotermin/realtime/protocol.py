"""The signaling protocol: JSON messages with a ``type``, validated on arrival.

``docs/signaling-schemas.md`` shows the JSON schema of every message, generated
from the models below (:func:`schemas`); a test keeps the two equal. Each endpoint
accepts its own set of client messages (:data:`CITIZEN_MESSAGES`,
:data:`STAFF_MESSAGES`). Every incoming frame goes through :func:`parse`, which
never raises: it returns a message or a :class:`ProtocolError`, which the
connection answers with an ``error`` message and stays open — a broken client
is told what is wrong, not dropped.

Who a connection is never comes from a message: the link token or the staff
session bound to the socket decides. A ``role`` in ``hello`` is only checked
against the endpoint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from videotermin.domain.journey import Journey

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = frozenset({PROTOCOL_VERSION})
MAX_MESSAGE_BYTES = 4096
"""Client messages are tiny; anything larger is refused before parsing."""
MAX_SIGNAL_BYTES = 65536
"""A `signal` frame carries an SDP, which can be tens of kilobytes."""
MAX_WATCHED = 200
MAX_CHAT = 1000
_SIGNAL_PREFIX = re.compile(r'\s*\{\s*"type"\s*:\s*"signal"\s*[,}]')


class CloseCode(IntEnum):
    """Why the server closed a connection; the reason string is the member's name in
    lower case. 44xx codes mirror HTTP; 4410–4415 name the journey state."""

    LOGIN_REQUIRED = 4401
    FORBIDDEN = 4403
    UNKNOWN_LINK = 4404
    TIMEOUT = 4408
    REPLACED = 4409
    CANCELLED = 4410
    ENDED = 4411
    CONSENT_NEEDED = 4412
    CONSENT_DECLINED = 4413
    CONSENT_WITHDRAWN = 4414
    BEFORE_WINDOW = 4415
    REMOVED = 4417
    LEFT = 4418
    UNSUPPORTED_VERSION = 4426

    @property
    def reason(self) -> str:
        return self.name.lower()


FINAL_CLOSE_CODES = frozenset(CloseCode) - {CloseCode.TIMEOUT}
"""Close codes after which reconnecting cannot help: the client stops and the page says
why. Only a connection closed for silence (``TIMEOUT``) may simply reconnect."""


JOURNEY_CLOSE = {
    Journey.CANCELLED: CloseCode.CANCELLED,
    Journey.ENDED: CloseCode.ENDED,
    Journey.CONSENT_NEEDED: CloseCode.CONSENT_NEEDED,
    Journey.CONSENT_DECLINED: CloseCode.CONSENT_DECLINED,
    Journey.CONSENT_WITHDRAWN: CloseCode.CONSENT_WITHDRAWN,
    Journey.BEFORE_WINDOW: CloseCode.BEFORE_WINDOW,
}
"""Every journey state except ``window_open`` keeps a citizen out of the waiting room."""


class ErrorCode(StrEnum):
    BINARY_FRAME = "binary_frame"
    TOO_LARGE = "too_large"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_MESSAGE = "invalid_message"
    HELLO_REQUIRED = "hello_required"
    ALREADY_GREETED = "already_greeted"
    UNSUPPORTED_VERSION = "unsupported_version"
    NOT_ALLOWED = "not_allowed"
    NOT_ADMITTED = "not_admitted"
    NOT_WAITING = "not_waiting"
    UNKNOWN_PEER = "unknown_peer"
    CALL_FULL = "call_full"


@dataclass(frozen=True)
class ProtocolError:
    """A refused client message; ``ref`` is its ``type`` when that could be read."""

    code: ErrorCode
    message: str
    ref: str | None = None


# --- client → server ---------------------------------------------------------


class ClientMessage(BaseModel):
    """Strict: no extra fields, no type coercion ("1" is not a version)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CitizenHello(ClientMessage):
    """Opens a citizen's conversation; answered by `welcome`."""

    type: Literal["hello"]
    version: int = Field(ge=1, le=65535)
    role: Literal["citizen"] | None = None


AppointmentId = Annotated[str, StringConstraints(min_length=1, max_length=36)]


class StaffHello(ClientMessage):
    """Opens an advisor's conversation and names the appointments the page shows;
    the server keeps only those the logged-in advisor may see."""

    type: Literal["hello"]
    version: int = Field(ge=1, le=65535)
    role: Literal["staff"] | None = None
    watch: list[AppointmentId] = Field(default_factory=list, max_length=MAX_WATCHED)
    view: Literal["agenda", "appointment"] = "agenda"


class Ping(ClientMessage):
    """Keeps the connection alive; answered by `pong` with the same `id`."""

    type: Literal["ping"]
    id: int | None = Field(default=None, ge=0, le=2**53 - 1)


class CallHello(ClientMessage):
    """Opens the advisor's call connection; answered by `admitted` and `waiting`."""

    type: Literal["hello"]
    version: int = Field(ge=1, le=65535)
    role: Literal["advisor"] | None = None


PeerId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Admit(ClientMessage):
    """The advisor lets a waiting participant into the call (or everyone waiting: `"all"`)."""

    type: Literal["admit"]
    participant: Annotated[str, StringConstraints(min_length=1, max_length=36)]


class Remove(ClientMessage):
    """The advisor takes someone out of the call; `participant` is a peer id or a
    participant id. Their admission ends: coming back needs a new one."""

    type: Literal["remove"]
    participant: PeerId


class End(ClientMessage):
    """The advisor ends the call for everyone; the appointment becomes completed."""

    type: Literal["end"]


class Leave(ClientMessage):
    """Hang up: the sender leaves the call (the others stay)."""

    type: Literal["leave"]


class SessionDescription(BaseModel):
    """An SDP offer or answer, as `RTCSessionDescription.toJSON()` gives it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    type: Literal["offer", "answer"]
    sdp: Annotated[str, StringConstraints(max_length=MAX_SIGNAL_BYTES)]


class IceCandidate(BaseModel):
    """An ICE candidate, as `RTCIceCandidate.toJSON()` gives it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    candidate: Annotated[str, StringConstraints(max_length=1024)]
    sdpMid: Annotated[str, StringConstraints(max_length=64)] | None = None
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=1024)
    usernameFragment: Annotated[str, StringConstraints(max_length=256)] | None = None


class Signal(ClientMessage):
    """WebRTC negotiation for one peer: exactly one of `description` or `candidate`
    (`candidate: null` means the end of candidates). The server adds `from`."""

    type: Literal["signal"]
    to: PeerId
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Signal:
        given = {"description", "candidate"} & self.model_fields_set
        if len(given) != 1 or ("description" in given and self.description is None):
            raise ValueError("exactly one of description or candidate is needed")
        return self


class Media(ClientMessage):
    """The sender's own media state, shown to the others."""

    type: Literal["media"]
    audio: bool
    video: bool
    screen: bool


class Chat(ClientMessage):
    """A chat line to everyone in the call; relayed, never stored."""

    type: Literal["chat"]
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CHAT)
    ]


_CALL_MESSAGES: Mapping[str, type[ClientMessage]] = {
    "signal": Signal,
    "media": Media,
    "chat": Chat,
    "leave": Leave,
    "admit": Admit,
    "remove": Remove,
    "end": End,
}
CITIZEN_MESSAGES: Mapping[str, type[ClientMessage]] = {
    "hello": CitizenHello,
    "ping": Ping,
    **_CALL_MESSAGES,
}
"""Citizens may send `admit`/`remove`/`end`: they parse, and are refused `not_allowed`."""
STAFF_MESSAGES: Mapping[str, type[ClientMessage]] = {"hello": StaffHello, "ping": Ping}
CALL_MESSAGES: Mapping[str, type[ClientMessage]] = {
    "hello": CallHello,
    "ping": Ping,
    **_CALL_MESSAGES,
}


# --- server → client ---------------------------------------------------------


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


class Peer(BaseModel):
    """Someone in the call. `name` is plain text (show it as text, never as HTML)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
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
    name: str
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
    name: str
    role: str
    since: datetime
    verdict: Verdict | None


class Waiting(ServerMessage):
    """Who waits to be admitted, in order of arrival; sent whenever the list changes."""

    type: Literal["waiting"] = "waiting"
    participants: list[WaitingPerson]


# --- parsing -------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _problems(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]) or "message"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)[:300]


def _size(frame: str) -> int:
    return max(len(frame), len(frame.encode("utf-8", "replace")))


def _limit(frame: str, accepted: Mapping[str, type[ClientMessage]]) -> int:
    """Only a frame that begins with ``{"type":"signal"`` may exceed 4096 bytes, so a large
    frame is refused before any parsing unless it says it is a signal (and is one)."""
    if "signal" in accepted and _SIGNAL_PREFIX.match(frame[:64]):
        return MAX_SIGNAL_BYTES
    return MAX_MESSAGE_BYTES


def parse(
    frame: str | bytes, accepted: Mapping[str, type[ClientMessage]]
) -> ClientMessage | ProtocolError:
    """One client frame as a message of ``accepted``, or the :class:`ProtocolError`
    that says why not. Never raises, whatever the frame holds."""
    if isinstance(frame, bytes):
        return ProtocolError(ErrorCode.BINARY_FRAME, "only text frames carry messages")
    if _size(frame) > _limit(frame, accepted):
        return ProtocolError(
            ErrorCode.TOO_LARGE,
            f"messages are at most {MAX_MESSAGE_BYTES} bytes ({MAX_SIGNAL_BYTES} for signal)",
        )
    try:
        data = json.loads(frame, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return ProtocolError(ErrorCode.INVALID_JSON, "the frame is not valid JSON")
    if not isinstance(data, dict):
        return ProtocolError(ErrorCode.NOT_AN_OBJECT, "a message is a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        return ProtocolError(ErrorCode.INVALID_MESSAGE, "type: a message needs a string type")
    ref = kind[:40]
    model = accepted.get(kind)
    if model is None:
        return ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {ref!r}", ref)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        return ProtocolError(ErrorCode.INVALID_MESSAGE, _problems(error), ref)


# --- documentation -----------------------------------------------------------

CLIENT_SCHEMAS: Mapping[str, type[BaseModel]] = {
    "hello (citizen)": CitizenHello,
    "hello (staff)": StaffHello,
    "hello (call)": CallHello,
    "ping": Ping,
    "admit": Admit,
    "remove": Remove,
    "end": End,
    "leave": Leave,
    "signal (to the server)": Signal,
    "media": Media,
    "chat (to the server)": Chat,
}
SERVER_SCHEMAS: Mapping[str, type[BaseModel]] = {
    "welcome (citizen)": CitizenWelcome,
    "welcome (staff)": StaffWelcome,
    "welcome (call)": CallWelcome,
    "pong": Pong,
    "message": AdvisorMessage,
    "state": StateChanged,
    "replaced": Replaced,
    "error": Error,
    "participant": ParticipantUpdate,
    "admitted": Admitted,
    "peer_joined": PeerJoined,
    "peer_updated": PeerUpdated,
    "peer_left": PeerLeft,
    "signal (from the server)": SignalFrom,
    "chat (from the server)": ChatLine,
    "removed": Removed,
    "waiting": Waiting,
}


def schemas() -> dict[str, dict[str, Any]]:
    """The JSON schema of every message, by the heading ``docs/signaling-schemas.md`` gives it."""
    found = {
        name: TypeAdapter(model).json_schema(mode="validation")
        for name, model in CLIENT_SCHEMAS.items()
    }
    found.update(
        {
            name: TypeAdapter(model).json_schema(mode="serialization")
            for name, model in SERVER_SCHEMAS.items()
        }
    )
    return found


if __name__ == "__main__":
    for heading, schema in schemas().items():
        print(f"### {heading}\n\n```json\n{json.dumps(schema, indent=2)}\n```\n")
