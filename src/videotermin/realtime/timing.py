"""How often the real-time parts look at the world, in one place.

Two kinds of time are involved. Durations a person could notice — the grace
after a closed tab before "wartet seit" disappears — are measured on the app's
clock (``ctx.clock``), so tests move the fake clock instead of sleeping. How
often loops wake up, and how long a silent connection or app instance is
trusted, is plumbing and runs on real (monotonic) time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    ping_seconds: float = 10.0
    """The client pings this often; the server tells it in ``welcome``."""
    idle_seconds: float = 35.0
    """A connection silent this long is dead (three missed pings and some slack)."""
    hello_seconds: float = 10.0
    """A connection that has not said ``hello`` by then is closed."""
    recheck_seconds: float = 60.0
    """The safety re-read: each connection reads its authority (the journey rule, a staff
    login) again about this often, jittered, in case the bus lost an event. Authority
    changes reach a connection by events and alarms (:mod:`videotermin.realtime.alarms`),
    not by this read; it only heals what got lost on the way."""
    recheck_jitter: float = 0.2
    """The safety re-read comes after ``recheck_seconds`` times 1 ± this, so connections
    opened together (the start of the hour) do not read together ever after."""

    def recheck_period(self) -> float:
        """Seconds to the next safety re-read, jittered (asked anew for each one)."""
        return self.recheck_seconds * random.uniform(
            1 - self.recheck_jitter, 1 + self.recheck_jitter
        )

    grace_seconds: float = 10.0
    """On the app clock: a closed waiting-room tab keeps its place this long, so a
    reload or a short network drop does not reset "wartet seit"."""
    heartbeat_seconds: float = 5.0
    """Each app instance repeats the presence it holds this often."""
    instance_ttl_seconds: float = 16.0
    """Presence of an instance not heard of this long is dropped (it crashed)."""
    sweep_seconds: float = 0.5
    """How often ended graces, silent instances and alarms that came due are looked for."""
    frames_burst: float = 300
    """Client frames a connection may send at once (a call's trickled ICE candidates, a
    reconnect's catch-up); beyond it, ``frames_per_second`` refill the budget. A client
    that outruns both is flooding and is closed with 4429."""
    frames_per_second: float = 100


DEFAULT = Timing()


def current() -> Timing:
    """The timing an app instance starts with; tests replace ``DEFAULT`` to speed loops up."""
    return DEFAULT
