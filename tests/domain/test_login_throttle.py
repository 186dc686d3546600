"""Failed-login limit (domain.login_throttle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from videotermin.domain.login_throttle import LoginFailures, is_locked, record_failure

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LOCK = timedelta(minutes=15)


def test_locks_after_the_limit_for_the_lock_period() -> None:
    state = LoginFailures()
    for i in range(4):
        state = record_failure(state, NOW + timedelta(seconds=i), 5, LOCK)
        assert not is_locked(state, NOW + timedelta(seconds=i))
    state = record_failure(state, NOW + timedelta(seconds=5), 5, LOCK)
    assert state.count == 5
    assert is_locked(state, NOW + timedelta(seconds=5))
    assert is_locked(state, NOW + timedelta(seconds=5) + LOCK - timedelta(seconds=1))
    assert not is_locked(state, NOW + timedelta(seconds=5) + LOCK)


def test_old_failures_are_forgotten() -> None:
    state = LoginFailures()
    for _ in range(4):
        state = record_failure(state, NOW, 5, LOCK)
    later = NOW + LOCK + timedelta(seconds=1)
    state = record_failure(state, later, 5, LOCK)
    assert state.count == 1
    assert state.first_at == later
    assert not is_locked(state, later)
