"""Failed-login limit (domain.login_throttle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from videotermin.domain.login_throttle import (
    Turn,
    is_locked,
    lock_after_failure,
    may_check,
    starts_new_period,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LOCK = timedelta(minutes=15)


def test_the_first_attempts_are_checked_and_the_last_allowed_failure_locks() -> None:
    for number in range(1, 5):
        assert may_check(Turn(number), NOW, 5)
        assert lock_after_failure(Turn(number), NOW, 5, LOCK) is None
    assert may_check(Turn(5), NOW, 5)
    assert lock_after_failure(Turn(5), NOW, 5, LOCK) == NOW + LOCK


def test_attempts_beyond_the_limit_are_refused_unchecked_even_before_any_lock() -> None:
    """Parallel attempts all took their numbers before the fifth failure locked the name."""
    assert not may_check(Turn(6), NOW, 5)
    assert not may_check(Turn(60), NOW, 5)


def test_a_lock_refuses_until_it_ends() -> None:
    until = NOW + LOCK
    assert not may_check(Turn(1, locked_until=until), NOW, 5)
    assert is_locked(until, until - timedelta(seconds=1))
    assert not is_locked(until, until)
    assert not is_locked(None, NOW)


def test_old_failures_are_forgotten_but_not_during_a_lock() -> None:
    first = NOW - LOCK - timedelta(seconds=1)
    assert starts_new_period(first, None, NOW, LOCK)
    assert not starts_new_period(NOW - LOCK + timedelta(seconds=1), None, NOW, LOCK)
    assert not starts_new_period(first, NOW + timedelta(minutes=1), NOW, LOCK)
    assert starts_new_period(first, NOW, NOW, LOCK)
