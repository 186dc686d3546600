"""Failed-login limit for staff accounts.

After ``max_failures`` wrong passwords within the lock period the account is
locked for that period; a successful login resets the count. The lock is kept
per account (not per IP) so it holds across app instances and stores no IPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LoginFailures:
    count: int = 0
    first_at: datetime | None = None
    locked_until: datetime | None = None


def is_locked(state: LoginFailures, now: datetime) -> bool:
    return state.locked_until is not None and now < state.locked_until


def record_failure(
    state: LoginFailures, now: datetime, max_failures: int, lock: timedelta
) -> LoginFailures:
    if state.first_at is None or now - state.first_at > lock:
        state = LoginFailures(count=0, first_at=now)
    count = state.count + 1
    locked_until = now + lock if count >= max_failures else None
    return LoginFailures(count=count, first_at=state.first_at, locked_until=locked_until)
