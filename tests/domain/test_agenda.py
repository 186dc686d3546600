"""Order of the advisor's list (domain.agenda)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from videotermin.domain.agenda import agenda_days, is_today

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Berlin


@dataclass
class Item:
    start_at: datetime


def test_today_first_then_upcoming_days_in_local_time() -> None:
    yesterday = Item(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    earlier_today = Item(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    late_today = Item(datetime(2026, 12, 2, 22, 30, tzinfo=UTC))  # 23:30 Berlin, still today
    after_midnight = Item(datetime(2026, 12, 2, 23, 30, tzinfo=UTC))  # 00:30 Thursday
    next_week = Item(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))

    days = agenda_days(
        [next_week, after_midnight, late_today, yesterday, earlier_today], NOW, BERLIN
    )

    assert [day for day, _ in days] == [date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 9)]
    assert days[0][1] == [earlier_today, late_today]
    assert days[1][1] == [after_midnight]
    assert is_today(days[0][0], NOW, BERLIN)
    assert not is_today(days[1][0], NOW, BERLIN)
