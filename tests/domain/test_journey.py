"""Journey states and the join window (domain.journey)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from videotermin.domain.journey import (
    Consent,
    Journey,
    Slot,
    journey,
    may_check_devices,
    may_enter_waiting_room,
    window_opens_at,
)

START = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SLOT = Slot(start=START, duration_minutes=30, status="scheduled")
EARLY = 5


def state(now: datetime, consent: Consent = Consent.AGREED, slot: Slot = SLOT) -> Journey:
    return journey(slot, consent, now, EARLY)


def test_window_opens_exactly_five_minutes_before() -> None:
    opens = START - timedelta(minutes=5)
    assert window_opens_at(SLOT, EARLY) == opens
    assert state(opens - timedelta(seconds=1)) == Journey.BEFORE_WINDOW
    assert state(opens) == Journey.WINDOW_OPEN
    assert may_enter_waiting_room(SLOT, Consent.AGREED, opens, EARLY)
    assert not may_enter_waiting_room(SLOT, Consent.AGREED, opens - timedelta(seconds=1), EARLY)


def test_window_closes_at_the_end() -> None:
    end = START + timedelta(minutes=30)
    assert state(end - timedelta(seconds=1)) == Journey.WINDOW_OPEN
    assert state(end) == Journey.ENDED
    assert not may_check_devices(SLOT, Consent.AGREED, end, EARLY)


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        (Consent.NONE, Journey.CONSENT_NEEDED),
        (Consent.DECLINED, Journey.CONSENT_DECLINED),
        (Consent.WITHDRAWN, Journey.CONSENT_WITHDRAWN),
    ],
)
def test_no_entry_without_consent(consent: Consent, expected: Journey) -> None:
    assert state(START, consent) == expected
    assert not may_enter_waiting_room(SLOT, consent, START, EARLY)
    assert not may_check_devices(SLOT, consent, START, EARLY)


def test_device_check_is_open_before_the_window() -> None:
    days_before = START - timedelta(days=3)
    assert may_check_devices(SLOT, Consent.AGREED, days_before, EARLY)
    assert not may_enter_waiting_room(SLOT, Consent.AGREED, days_before, EARLY)


def test_cancelled_and_completed_win_over_everything() -> None:
    cancelled = Slot(START, 30, "cancelled")
    completed = Slot(START, 30, "completed")
    assert state(START, Consent.NONE, cancelled) == Journey.CANCELLED
    assert state(START - timedelta(days=1), Consent.AGREED, completed) == Journey.ENDED
    assert state(START + timedelta(hours=1), Consent.WITHDRAWN) == Journey.ENDED
