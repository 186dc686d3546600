"""Anonymous statistics: what is counted, in which buckets, and how a table is published
without letting anyone recover a small count.

Counts are kept per unit, day and figure (``metric``/``key``) and nothing else — no
appointment, participant, time of day or person. Durations are kept as histograms
(:data:`WAIT_BUCKETS`, :data:`CALL_BUCKETS`), from which the median and the 90th
percentile are read (:func:`quantile`), so no single waiting time is ever stored.

Publishing (:func:`suppress`): every cell below :data:`THRESHOLD` is hidden ("<5"),
zero included; then, so that no hidden cell can be recovered by subtraction from a
total, each line (a row or a column, its total included) that hides exactly one cell
hides a second one too — the smallest visible cell of that line — until no line hides
exactly one. A hidden total then needs a second hidden cell in its line like any other.
The one exception is a line whose only hidden cell is a zero: subtraction would tell
that nobody is counted there, which says nothing about anybody.
See docs/privacy.md for why this rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

THRESHOLD = 5
LATE_AFTER = timedelta(minutes=5)
"""An advisor who admits the citizen later than this after the start counts as late."""


class Metric(StrEnum):
    APPOINTMENTS = "appointments"
    WAITING = "waiting_minutes"
    ADVISOR = "advisor"
    CALL_LENGTH = "call_minutes"
    VERDICT = "check_verdict"
    REASON = "check_reason"
    BROWSER = "browser"
    SYSTEM = "os"
    QUALITY = "call_quality"


class Outcome(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


WAIT_BUCKETS = (0, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60)
"""Lower bounds in minutes; a wait falls into the last bound it reaches."""
CALL_BUCKETS = (0, 10, 20, 30, 45, 60)
MAX_KEY = 60


def bucket(minutes: float, bounds: Sequence[int]) -> str:
    """The histogram key of a duration: its bucket's lower bound, as text."""
    chosen = bounds[0]
    for bound in bounds:
        if minutes >= bound:
            chosen = bound
    return str(chosen)


def bucket_label(key: str, bounds: Sequence[int]) -> str:
    """``"10"`` → ``"10–14 min"``; the last bucket is open (``"60+ min"``)."""
    low = int(key)
    index = bounds.index(low)
    if index == len(bounds) - 1:
        return f"{low}+ min"
    return f"{low}–{bounds[index + 1] - 1} min" if bounds[index + 1] - low > 1 else f"{low} min"


def quantile(histogram: Mapping[str, int], share: float, bounds: Sequence[int]) -> int | None:
    """The bucket (its lower bound) holding the ``share`` quantile; ``None`` when empty.
    A bucket's lower bound is what the table shows: "median 5–9 min"."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = math.ceil(share * total)
    seen = 0
    for bound in bounds:
        seen += histogram.get(str(bound), 0)
        if seen >= rank:
            return bound
    return bounds[-1]


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def is_late(start: datetime, admitted: datetime) -> bool:
    return admitted - start > LATE_AFTER


def clean_key(key: str) -> str:
    """A key from outside (a browser family) as it may be stored: printable, short."""
    printable = "".join(ch for ch in key if ch.isprintable())
    return printable[:MAX_KEY] or "?"


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def grain_for(first: date, last: date) -> Grain:
    """Days for up to a month, weeks up to half a year, months beyond: a table a person
    can read, whatever the range."""
    days = (last - first).days + 1
    if days <= 31:
        return Grain.DAY
    if days <= 183:
        return Grain.WEEK
    return Grain.MONTH


def period_of(day: date, grain: Grain) -> date:
    """The first day of the period ``day`` belongs to (weeks start on Monday)."""
    if grain is Grain.DAY:
        return day
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


# --- publishing without small counts ------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    value: int
    hidden: bool

    def shown(self) -> str:
        return f"<{THRESHOLD}" if self.hidden else str(self.value)


@dataclass(frozen=True)
class Published:
    """A table as it may be shown: its cells, row totals, column totals and the grand
    total, each possibly hidden."""

    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell


def suppress(values: Sequence[Sequence[int]], *, row_totals: bool = True) -> Published:
    """Hide small cells, and enough others that none can be recovered from the totals.
    Without ``row_totals`` (a table whose columns do not add up, such as scheduled and
    held appointments) only the columns and their totals are lines to protect."""
    rows, columns = len(values), len(values[0]) if values else 0
    row_sums = [sum(row) for row in values]
    column_sums = [sum(values[r][c] for r in range(rows)) for c in range(columns)]
    grand = sum(row_sums)
    # The full grid with totals: index rows .. rows (totals row), columns .. columns.
    grid = [[*values[r], row_sums[r]] for r in range(rows)] + [[*column_sums, grand]]
    hidden = [[grid[r][c] < THRESHOLD for c in range(columns + 1)] for r in range(rows + 1)]
    column_lines = [
        [(r, c) for r in range(rows + 1)] for c in range(columns + (1 if row_totals else 0))
    ]
    row_lines = (
        [[(r, c) for c in range(columns + 1)] for r in range(rows + 1)] if row_totals else []
    )
    lines = row_lines + column_lines
    changed = True
    while changed:
        changed = False
        for line in lines:
            if len(line) < 2:
                continue
            concealed = [spot for spot in line if hidden[spot[0]][spot[1]]]
            if len(concealed) != 1 or grid[concealed[0][0]][concealed[0][1]] == 0:
                continue  # nothing hidden alone, or what subtraction finds is "nobody"
            visible = [spot for spot in line if not hidden[spot[0]][spot[1]]]
            r, c = min(visible, key=lambda spot: (grid[spot[0]][spot[1]], spot))
            hidden[r][c] = True
            changed = True

    def cell(r: int, c: int) -> Cell:
        return Cell(grid[r][c], hidden[r][c])

    return Published(
        cells=[[cell(r, c) for c in range(columns)] for r in range(rows)],
        row_totals=[cell(r, columns) for r in range(rows)],
        column_totals=[cell(rows, c) for c in range(columns)],
        total=cell(rows, columns),
    )
