"""The call's rules: who directs it, who may take part, how big it may grow.

Authority stays on the server (issue 4, item 7): every rule here is asked
again when a message arrives, with what the server knows of the connection —
never with anything the message claims. Comparable systems failed exactly
there (Jitsi trusted client-sent ids, Nextcloud Talk let anyone mute anyone).

- Only the appointment's advisor directs the call (admit, remove, end); admins
  may, as they may act on any appointment elsewhere.
- Only an admitted participant with a live connection takes part (signal,
  media, chat); admission survives a reload or a dropped connection while the
  call runs, and ends with removal or hanging up — and with its sitting: an
  appointment moved to another time starts again in the waiting room.
- The call is a mesh of at most ``max_participants`` people, the advisor
  included: every pair has its own connection, so each extra person costs
  every other one an upload.
- Peer ids are opaque: derived from a per-call secret, so they reveal no
  database id and stay the same on every app instance and across reconnects.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from videotermin.domain.appointments import Status, end_of
from videotermin.domain.journey import Slot, window_closes_at, window_opens_at

ADVISOR = "advisor"
"""The subject whose peer id is the advisor's (participants use their id)."""
ADMIT_ALL = "all"
ENDING = (Status.SCHEDULED, Status.COMPLETED)
"""Ending the call completes a scheduled appointment; any other status stays as it is."""


def may_direct(user_role: str, user_id: int, advisor_id: int) -> bool:
    """Admit, remove, end and open the advisor's side of the call."""
    return user_role == "admin" or (user_role == "advisor" and user_id == advisor_id)


def call_running(status: str, start: datetime, duration_minutes: int, now: datetime) -> bool:
    """The call can go on while the appointment is scheduled and its time not over."""
    return status == Status.SCHEDULED and now < end_of(start, duration_minutes)


def rejoins(admitted_at: datetime | None, running: bool) -> bool:
    """A reload or reconnect goes straight back into the call, without a new admission."""
    return admitted_at is not None and running


def admissions_hold(before: Slot, after: Slot, now: datetime, early_minutes: int) -> bool:
    """Whether admissions survive moving or lengthening the appointment from ``before`` to
    ``after``. An admission is for one sitting of the call: it holds only while that sitting
    goes on, the join window open now under the old time and the new one. Otherwise the
    next sitting starts in the waiting room — or a person admitted today would be back in
    the call on the new day before the advisor has even opened it (a lobby bypass)."""

    def open_now(slot: Slot) -> bool:
        return window_opens_at(slot, early_minutes) <= now < window_closes_at(slot)

    return open_now(before) and open_now(after)


def may_take_part(admitted: bool, in_call: bool) -> bool:
    """Send signal, media and chat: admitted, and this connection holds the call seat."""
    return admitted and in_call


def fits(max_participants: int, admitted: int, adding: int) -> bool:
    """Room for ``adding`` more next to ``admitted`` participants and the advisor."""
    return adding >= 0 and 1 + admitted + adding <= max_participants


def polite(own_peer: str, other_peer: str) -> bool:
    """Perfect negotiation: in each pair the peer whose id sorts lower is the polite one
    (it rolls back its own offer when offers collide)."""
    return own_peer < other_peer


def new_call_key() -> str:
    """A call's secret for its peer ids, made with the appointment."""
    return secrets.token_hex(16)


def peer_id(call_key: str, subject: str) -> str:
    """The opaque peer id of ``subject`` (a participant id, or :data:`ADVISOR`)."""
    digest = hmac.new(call_key.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return digest[:20]
