"""Failed-login limit for staff accounts.

Within one lock period at most ``max_failures`` passwords are checked per attempted
username; the attempt that fails the ``max_failures``-th time locks the name for the
period, and a successful login starts afresh. The lock is kept per username (not per
IP), so it holds across app instances and stores no IPs.

An attempt takes its number *before* its password is checked (an atomic counter in
the store), so parallel requests cannot all pass one read of the count: the first
``max_failures`` are checked, every later one is refused unchecked — as if it had come
after the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Turn:
    """One login attempt's place in its username's current period."""

    number: int
    """1 for the first attempt of the period; counted before the password is checked."""
    locked_until: datetime | None = None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def starts_new_period(
    first_at: datetime, locked_until: datetime | None, now: datetime, lock: timedelta
) -> bool:
    """Failures older than the lock period are forgotten, unless a lock still runs."""
    return first_at < now - lock and not is_locked(locked_until, now)


def may_check(turn: Turn, now: datetime, max_failures: int) -> bool:
    """Is this attempt's password checked at all?"""
    return not is_locked(turn.locked_until, now) and turn.number <= max_failures


def lock_after_failure(
    turn: Turn, now: datetime, max_failures: int, lock: timedelta
) -> datetime | None:
    """Until when a failed attempt locks the name: the last allowed failure locks it."""
    return now + lock if turn.number >= max_failures else None
