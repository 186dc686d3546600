"""Retry rule for the mail outbox.

A mail accepted once is never dropped silently: it is retried with
exponential backoff (base, 2×base, 4×base … capped at six hours) and marked
``failed`` only after the configured number of attempts, so the advisor sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

MAX_DELAY = timedelta(hours=6)


class MailKind(StrEnum):
    """What a mail announces; the kind picks its texts and its calendar method."""

    INVITATION = "invitation"
    UPDATE = "update"
    CANCEL = "cancel"
    REMOVED = "removed"


class MailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


def retry_delay(attempts_made: int, base_seconds: int) -> timedelta:
    """Delay before the next try after ``attempts_made`` failed attempts (>= 1)."""
    exponent = max(attempts_made - 1, 0)
    return min(timedelta(seconds=base_seconds * 2 ** min(exponent, 20)), MAX_DELAY)


def after_failure(
    attempts_made: int, max_attempts: int, base_seconds: int, now: datetime
) -> tuple[MailStatus, datetime | None]:
    """Status and next attempt time after a failed delivery attempt."""
    if attempts_made >= max_attempts:
        return MailStatus.FAILED, None
    return MailStatus.QUEUED, now + retry_delay(attempts_made, base_seconds)
