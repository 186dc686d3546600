"""The outbox retry rule: exponential backoff, capped, and a final "failed"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from videotermin.domain.outbox import MAX_DELAY, MailStatus, after_failure, retry_delay

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_delay_doubles_from_the_base() -> None:
    delays = [retry_delay(attempts, 30) for attempts in range(1, 6)]
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480)]


def test_delay_is_capped_at_six_hours() -> None:
    assert retry_delay(12, 30) == MAX_DELAY == timedelta(hours=6)
    assert retry_delay(10_000, 3600) == MAX_DELAY


def test_delay_before_any_failure_is_the_base() -> None:
    assert retry_delay(0, 30) == timedelta(seconds=30)


def test_a_failure_below_the_limit_schedules_a_retry() -> None:
    assert after_failure(1, 8, 30, NOW) == (MailStatus.QUEUED, NOW + timedelta(seconds=30))
    assert after_failure(3, 8, 30, NOW) == (MailStatus.QUEUED, NOW + timedelta(seconds=120))


def test_the_last_allowed_attempt_fails_for_good() -> None:
    assert after_failure(8, 8, 30, NOW) == (MailStatus.FAILED, None)
    assert after_failure(9, 8, 30, NOW) == (MailStatus.FAILED, None)


def test_a_single_attempt_allowed_means_no_retry() -> None:
    assert after_failure(1, 1, 30, NOW) == (MailStatus.FAILED, None)
