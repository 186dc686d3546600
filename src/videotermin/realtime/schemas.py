"""The JSON schema of every message, for ``docs/signaling-schemas.md``.

``python -m videotermin.realtime.schemas`` prints the blocks; a test keeps the page
and the models equal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter

from videotermin.realtime.protocol import (
    Admit,
    CallHello,
    Chat,
    CitizenHello,
    End,
    Leave,
    Media,
    Ping,
    Quality,
    Remove,
    Signal,
    StaffHello,
    SupportHello,
)
from videotermin.realtime.server_messages import (
    Admitted,
    AdvisorMessage,
    CallWelcome,
    ChatLine,
    CitizenWelcome,
    Error,
    ParticipantUpdate,
    PeerJoined,
    PeerLeft,
    PeerUpdated,
    Pong,
    Removed,
    Replaced,
    SignalFrom,
    StaffWelcome,
    StateChanged,
    SupportUpdate,
    SupportWelcome,
    Waiting,
)

CLIENT_SCHEMAS: Mapping[str, type[BaseModel]] = {
    "hello (citizen)": CitizenHello,
    "hello (staff)": StaffHello,
    "hello (call)": CallHello,
    "hello (support)": SupportHello,
    "ping": Ping,
    "admit": Admit,
    "remove": Remove,
    "end": End,
    "leave": Leave,
    "signal (to the server)": Signal,
    "media": Media,
    "chat (to the server)": Chat,
    "quality": Quality,
}
SERVER_SCHEMAS: Mapping[str, type[BaseModel]] = {
    "welcome (citizen)": CitizenWelcome,
    "welcome (staff)": StaffWelcome,
    "welcome (call)": CallWelcome,
    "welcome (support)": SupportWelcome,
    "support": SupportUpdate,
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
