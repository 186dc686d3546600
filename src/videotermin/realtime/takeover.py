"""One seat, one connection: the newest connection of a seat wins, on any app instance.

A seat is a personal link (the citizen's waiting room and call) or the advisor's
side of a call. The connection that says ``hello`` claims the seat by announcing
its *order* — ``(time_ns, connection_id)``, compared as a pair so that two claims
in the same nanosecond still have a winner — on the seat's bus channel; every
older connection of the seat hears it, is told ``replaced`` and closes with 4409.
"""

from __future__ import annotations

import time

from videotermin.bus.core import Bus
from videotermin.bus.events import Takeover
from videotermin.realtime.connection import JsonSocket
from videotermin.realtime.protocol import (
    CloseCode,
)
from videotermin.realtime.server_messages import (
    Replaced,
)

Order = tuple[int, str]


async def claim(bus: Bus, channel: str, connection_id: str) -> Order:
    """Announce a new connection of the seat on ``channel``; returns its order."""
    order = (time.time_ns(), connection_id)
    await bus.publish(channel, Takeover(connection_id=connection_id, order=order).wire())
    return order


def overtaken(event: Takeover, held: Order | None) -> bool:
    """Does the takeover come from a newer connection than ``held``?"""
    return held is not None and event.order > held


async def give_way(socket: JsonSocket) -> None:
    """Tell the client a newer connection holds the seat, and close."""
    await socket.send(Replaced())
    await socket.close(CloseCode.REPLACED)
