"""The signaling protocol: JSON messages with a ``type``, validated on arrival.

``docs/signaling-schemas.md`` shows the JSON schema of every message, generated
from the models here and in :mod:`videotermin.realtime.server_messages` by
:mod:`videotermin.realtime.schemas`; a test keeps the two equal. Each endpoint
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
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from videotermin.domain.journey import Journey
from videotermin.domain.text_input import storable

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = frozenset({PROTOCOL_VERSION})
MAX_MESSAGE_BYTES = 4096
"""Client messages are tiny; anything larger is refused before parsing."""
MAX_SIGNAL_BYTES = 65536
"""A `signal` frame carries an SDP, which can be tens of kilobytes."""
MAX_FRAME_BYTES = 2 * MAX_SIGNAL_BYTES
"""The server's own limit (uvicorn's ``ws_max_size``): a larger frame closes the socket with
1009 as soon as its header announces the size, before any of it is buffered. Below it,
:func:`parse` answers an oversized message with an error and the socket stays open."""
MAX_WATCHED = 200
MAX_MEASUREMENTS = 1000
"""Measurements one ``quality`` report may count (a minute of a full call is 120)."""
MAX_CHAT = 1000
_SIGNAL_PREFIX = re.compile(r'\s*\{\s*"type"\s*:\s*"signal"\s*[,}]')


class CloseCode(IntEnum):
    """Why the server closed a connection; the reason string is the member's name in
    lower case. 44xx codes mirror HTTP; 4410–4415 name the journey state; 1013 is the
    WebSocket standard's "try again later"."""

    UNAVAILABLE = 1013
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
    RATE_LIMITED = 4429

    @property
    def reason(self) -> str:
        return self.name.lower()


FINAL_CLOSE_CODES = frozenset(CloseCode) - {
    CloseCode.TIMEOUT,
    CloseCode.UNAVAILABLE,
    CloseCode.RATE_LIMITED,
}
"""Close codes after which reconnecting cannot help: the client stops and the page says
why. Only a connection closed for silence (``TIMEOUT``) or while the database could not
be reached (``UNAVAILABLE``) may simply reconnect."""


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
    UNAVAILABLE = "unavailable"


UNAVAILABLE_WHY = "the database or the message bus cannot be reached; try again"
"""The ``message`` of ``error`` ``unavailable`` (PostgreSQL or Redis is down or restarting)."""


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

    type: str
    """Each message names its own ``Literal`` type."""


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


class SupportHello(ClientMessage):
    """Opens a supporter's live view of one participant, whom the same supporter has
    looked up by support code (services.support.looked_up)."""

    type: Literal["hello"]
    version: int = Field(ge=1, le=65535)
    role: Literal["support"] | None = None
    participant: AppointmentId


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


MeasurementCount = Annotated[int, Field(ge=0, le=MAX_MEASUREMENTS)]


class Quality(ClientMessage):
    """How the call page's connections measured since its last report (each connection is
    graded every 2 s, like its tile shows): counted for the anonymous statistics when the
    connection ends, never relayed."""

    type: Literal["quality"]
    good: MeasurementCount
    fair: MeasurementCount
    poor: MeasurementCount


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
    "quality": Quality,
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
SUPPORT_MESSAGES: Mapping[str, type[ClientMessage]] = {"hello": SupportHello, "ping": Ping}
CALL_MESSAGES: Mapping[str, type[ClientMessage]] = {
    "hello": CallHello,
    "ping": Ping,
    **_CALL_MESSAGES,
}


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


def _holds_unstorable(value: object) -> bool:
    """Text no database stores (:func:`storable`) can only come from an escape: half a
    surrogate pair from ``\\uD8xx``, NUL from ``\\u0000``. Walked with a list, not by
    recursion: the frame may nest as deep as the JSON parser allowed, and a recursion
    that deep would fail where the parser did not."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not storable(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


_ESCAPES = ("\\ud", "\\uD", "\\u0000")
_UNSTORABLE = "text must be valid Unicode without NUL"


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
    if not storable(kind):  # not even the error could name it
        return ProtocolError(ErrorCode.INVALID_MESSAGE, f"type: {_UNSTORABLE}")
    ref = kind[:40]
    model = accepted.get(kind)
    if model is None:
        return ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {ref!r}", ref)
    if any(escape in frame for escape in _ESCAPES) and _holds_unstorable(data):
        return ProtocolError(ErrorCode.INVALID_MESSAGE, _UNSTORABLE, ref)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        return ProtocolError(ErrorCode.INVALID_MESSAGE, _problems(error), ref)
