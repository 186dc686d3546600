"""When personal data must go (PRODUCT.md, privacy promises).

An appointment's personal data — its participants with everything hanging on
them, and the appointment's own personal columns — is erased ``retention_days``
after the appointment's planned end, whatever became of it (held, cancelled,
missed). A device check's data goes ``retention_days`` after the check, even
while the appointment is still ahead (a check made weeks before).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def appointments_ended_before(now: datetime, retention_days: int) -> datetime:
    """Appointments whose end lies before this moment are due for erasure."""
    return now - timedelta(days=retention_days)


def checks_made_before(now: datetime, retention_days: int) -> datetime:
    return now - timedelta(days=retention_days)
