"""TURN REST API credentials: time-limited passwords that need no user database.

coturn's ``--use-auth-secret`` accepts any username of the form
``"<unix expiry>:<id>"`` whose password is ``base64(HMAC-SHA1(secret, username))``
and refuses it after the expiry. The app and coturn share only the secret, so a
page can hand out credentials without a round trip to the TURN server, and a
credential copied out of a page stops working on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

AFTER_THE_CALL = timedelta(minutes=5)
"""How long a call's credentials outlive its end: TURN and app servers' clocks may
differ a little, and a call must not lose its relay in its last minutes."""


@dataclass(frozen=True)
class TurnCredential:
    username: str
    credential: str


def expiry(now: datetime, ttl_seconds: int, call_ends: datetime | None = None) -> datetime:
    """When credentials handed out ``now`` stop working: after the configured TTL, or
    — for a call — :data:`AFTER_THE_CALL` past its end, whichever comes first. So
    a removed participant, or anyone they pass the credentials to, cannot go on
    using the relay long after the consultation."""
    expires = now + timedelta(seconds=ttl_seconds)
    if call_ends is None:
        return expires
    return min(expires, call_ends + AFTER_THE_CALL)


def turn_credential(secret: str, expires_at: int, user_id: str) -> TurnCredential:
    """The credential for ``user_id`` valid until the Unix time ``expires_at``.

    ``user_id`` ends up in the TURN server's log, so callers pass an opaque
    random id, never a name or a participant id.
    """
    if ":" in user_id:
        raise ValueError("the id must not contain ':' (it separates expiry and id)")
    username = f"{expires_at}:{user_id}"
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return TurnCredential(username=username, credential=base64.b64encode(digest).decode("ascii"))
