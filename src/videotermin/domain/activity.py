"""Where a citizen is on their journey, as the support desk shows it.

The waiting room and the call are known live from presence; before that, the
citizen's pages report where they are: the link page, and each step of the
device check (opened, running, a device failure, grading). A report older than
:data:`STALE_AFTER` says where they were, not where they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

STALE_AFTER = timedelta(minutes=15)


class Activity(StrEnum):
    LINK_PAGE = "link_page"
    CHECK_OPENED = "check_opened"
    CHECK_RUNNING = "check_running"
    CHECK_BLOCKED = "check_blocked"
    CHECK_NOTFOUND = "check_notfound"
    CHECK_BUSY = "check_busy"
    CHECK_UNSUPPORTED = "check_unsupported"
    CHECK_GRADING = "check_grading"
    CHECK_DONE = "check_done"


CHECK_STEPS = {
    "running": Activity.CHECK_RUNNING,
    "blocked": Activity.CHECK_BLOCKED,
    "notfound": Activity.CHECK_NOTFOUND,
    "busy": Activity.CHECK_BUSY,
    "unsupported": Activity.CHECK_UNSUPPORTED,
    "grading": Activity.CHECK_GRADING,
}
"""The steps the device-check page reports, by the name it sends."""

PROBLEMS = frozenset(
    {
        Activity.CHECK_BLOCKED,
        Activity.CHECK_NOTFOUND,
        Activity.CHECK_BUSY,
        Activity.CHECK_UNSUPPORTED,
    }
)


class Place(StrEnum):
    UNSEEN = "unseen"
    LINK_PAGE = "link_page"
    CHECK = "check"
    WAITING = "waiting"
    CALL = "call"
    LEFT = "left"
    """Seen, but not within :data:`STALE_AFTER`."""


@dataclass(frozen=True)
class Whereabouts:
    place: Place
    activity: Activity | None = None
    since: datetime | None = None


def whereabouts(
    activity: str | None,
    activity_at: datetime | None,
    *,
    waiting_since: datetime | None,
    in_call: bool,
    now: datetime,
) -> Whereabouts:
    """Presence wins (it is live); otherwise the latest report, if it is recent."""
    if in_call:
        return Whereabouts(Place.CALL)
    if waiting_since is not None:
        return Whereabouts(Place.WAITING, since=waiting_since)
    if activity is None or activity_at is None:
        return Whereabouts(Place.UNSEEN)
    try:
        known = Activity(activity)
    except ValueError:
        return Whereabouts(Place.UNSEEN)
    if now - activity_at > STALE_AFTER:
        return Whereabouts(Place.LEFT, known, activity_at)
    place = Place.LINK_PAGE if known is Activity.LINK_PAGE else Place.CHECK
    return Whereabouts(place, known, activity_at)
