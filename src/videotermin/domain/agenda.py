"""Order of an advisor's list: today's appointments first, then the upcoming days.

Days are counted in the unit's time zone, so an appointment at 00:30 local time
belongs to that local day. Appointments from earlier days are not on the list;
today's ones stay on it all day, so the advisor sees what has just happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from itertools import groupby
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo


class HasStart(Protocol):
    @property
    def start_at(self) -> datetime: ...


T = TypeVar("T", bound=HasStart)


def agenda_days(items: Iterable[T], now: datetime, zone: ZoneInfo) -> list[tuple[date, list[T]]]:
    """Group items by local day from today on, each day in start order."""
    today = now.astimezone(zone).date()
    upcoming = sorted(
        (item for item in items if item.start_at.astimezone(zone).date() >= today),
        key=lambda item: item.start_at,
    )
    return [
        (day, list(group))
        for day, group in groupby(upcoming, key=lambda item: item.start_at.astimezone(zone).date())
    ]


def is_today(day: date, now: datetime, zone: ZoneInfo) -> bool:
    return day == now.astimezone(zone).date()
