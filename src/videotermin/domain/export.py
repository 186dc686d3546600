"""Filters and cells of the staff's reports (audit log, statistics): date ranges as
typed, in a unit's time zone, and CSV cells a spreadsheet cannot mistake for formulas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading ``=``, ``+``, ``-``, ``@``, tab or
    carriage return would make it a formula (CSV injection), so it gets a ``'``."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


@dataclass(frozen=True)
class DayRange:
    since: datetime | None
    until: datetime | None
    """Exclusive: the start of the day after the last one."""


def _start_of(day: date, zone: ZoneInfo) -> datetime | None:
    """The UTC instant a day starts in ``zone``; ``None`` beyond what datetime holds
    (the first and the last day of the calendar), which then means "no bound"."""
    try:
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def day_range(first: date | None, last: date | None, zone: ZoneInfo) -> DayRange:
    """Whole days from ``first`` to ``last`` (both included) in ``zone``."""
    since = _start_of(first, zone) if first else None
    until = None
    if last is not None and last < date.max:
        until = _start_of(last + timedelta(days=1), zone)
    return DayRange(since, until)


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_GERMAN_DAY = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


def parse_day(text: str) -> date | ValueError | None:
    """A date as an ``<input type=date>`` sends it (``YYYY-MM-DD``), or as a person types
    it where the browser shows a plain text field instead (``24.12.2026``, ``1.2.2027``);
    empty is ``None``, anything else a ``ValueError`` to show."""
    if not text:
        return None
    german = _GERMAN_DAY.fullmatch(text)
    try:
        if german:
            day, month, year = (int(part) for part in german.groups())
            return date(year, month, day)
        if _ISO_DAY.fullmatch(text):  # fromisoformat would take "2026-W49-4" and "20261203"
            return date.fromisoformat(text)
    except ValueError as error:
        return error
    return ValueError(text)
