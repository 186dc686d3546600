"""Whether this device has already passed the device check for this participant.

A returning citizen should not have to repeat the echo test before every join
(PRODUCT.md, "do better" 7): a passed check on the same device stays valid for
the appointment, and repeating it is offered, not forced. The device check
leaves an HttpOnly cookie ``vt_device`` (path ``/v/``) and stores only the
cookie's hash in ``DeviceCheck.device_key_hash``, so the database alone cannot
tell which browser a check ran in.

The rule is in one place because the link page, the device check and the
waiting room must agree on it.
"""

from __future__ import annotations

from fastapi import Request

from videotermin.domain.tokens import hash_token
from videotermin.store.models import DeviceCheck, Participant

DEVICE_COOKIE = "vt_device"
PASSING_VERDICTS = ("green", "yellow")
# A cookie longer than this was not set by us; it is not worth hashing.
_MAX_COOKIE_LENGTH = 128


def passed_check_on_this_device(participant: Participant, request: Request) -> DeviceCheck | None:
    """The latest check this device ran for ``participant``, if its verdict lets them join.

    Only the latest check of this device counts: a red result after a green one
    means the device no longer works (camera unplugged, network changed), so
    the citizen is sent to the check again. Checks of other devices never count.
    """
    key = request.cookies.get(DEVICE_COOKIE, "")
    if not key or len(key) > _MAX_COOKIE_LENGTH:
        return None
    key_hash = hash_token(key)
    on_this_device = [c for c in participant.device_checks if c.device_key_hash == key_hash]
    if not on_this_device:
        return None
    latest = on_this_device[-1]
    return latest if latest.verdict in PASSING_VERDICTS else None
