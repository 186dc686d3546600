"""Statistics rules: buckets, quantiles from histograms, periods, and suppression of
small counts that no total can undo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import product
from zoneinfo import ZoneInfo

from videotermin.domain.statistics import (
    CALL_BUCKETS,
    THRESHOLD,
    WAIT_BUCKETS,
    Grain,
    bucket,
    bucket_label,
    clean_key,
    grain_for,
    is_late,
    local_day,
    period_of,
    quantile,
    suppress,
)


def test_durations_fall_into_the_last_bound_they_reach() -> None:
    assert [bucket(m, WAIT_BUCKETS) for m in (0, 0.9, 1, 4.99, 5, 59, 60, 600)] == [
        "0",
        "0",
        "1",
        "3",
        "5",
        "45",
        "60",
        "60",
    ]
    assert bucket_label("10", WAIT_BUCKETS) == "10–14 min"
    assert bucket_label("0", WAIT_BUCKETS) == "0 min"
    assert bucket_label("60", CALL_BUCKETS) == "60+ min"


def test_median_and_90th_percentile_come_from_the_histogram() -> None:
    waits = {"0": 3, "1": 2, "5": 4, "30": 1}  # ten waits
    assert quantile(waits, 0.5, WAIT_BUCKETS) == 1
    assert quantile(waits, 0.9, WAIT_BUCKETS) == 5
    assert quantile(waits, 1.0, WAIT_BUCKETS) == 30
    assert quantile({}, 0.5, WAIT_BUCKETS) is None


def test_days_periods_and_lateness() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert local_day(datetime(2026, 12, 2, 23, 30, tzinfo=UTC), berlin) == date(2026, 12, 3)
    assert grain_for(date(2026, 12, 1), date(2026, 12, 31)) is Grain.DAY
    assert grain_for(date(2026, 12, 1), date(2027, 1, 1)) is Grain.WEEK
    assert grain_for(date(2026, 1, 1), date(2026, 12, 31)) is Grain.MONTH
    assert period_of(date(2026, 12, 3), Grain.WEEK) == date(2026, 11, 30)
    assert period_of(date(2026, 12, 3), Grain.MONTH) == date(2026, 12, 1)
    start = datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert not is_late(start, start + timedelta(minutes=5))
    assert is_late(start, start + timedelta(minutes=5, seconds=1))


def test_keys_from_outside_are_short_and_printable() -> None:
    assert clean_key("Chrome\nMobile\x00") == "ChromeMobile"
    assert clean_key("x" * 500) == "x" * 60
    assert clean_key("\x00") == "?"


def shown(values: list[list[int]]) -> list[list[str]]:
    table = suppress(values)
    rows = [
        [c.shown() for c in row] + [t.shown()]
        for row, t in zip(table.cells, table.row_totals, strict=True)
    ]
    return [*rows, [*(c.shown() for c in table.column_totals), table.total.shown()]]


def test_small_cells_are_hidden_and_so_is_a_partner_in_each_line() -> None:
    assert shown([[10, 20], [30, 40]]) == [
        ["10", "20", "30"],
        ["30", "40", "70"],
        ["40", "60", "100"],
    ]
    # 3 alone would follow from 13 - 10: its row hides the 10; then the 10's column and the
    # 3's column each hide a partner in turn, until no line hides exactly one cell.
    assert shown([[10, 3], [30, 40]]) == [
        ["<5", "<5", "13"],
        ["<5", "<5", "70"],
        ["40", "43", "83"],
    ]


def recoverable(values: list[list[int]]) -> bool:
    """Whether some line of the published table hides exactly one cell that is not 0."""
    table = suppress(values)
    grid = [[*row, total] for row, total in zip(table.cells, table.row_totals, strict=True)]
    grid.append([*table.column_totals, table.total])
    lines = [list(row) for row in grid] + [list(col) for col in zip(*grid, strict=True)]
    return any(
        sum(cell.hidden for cell in line) == 1 and next(c for c in line if c.hidden).value > 0
        for line in lines
    )


def test_no_line_ever_hides_exactly_one_cell() -> None:
    for a, b, c, d in product((0, 1, 4, 5, 6, 20), repeat=4):
        values = [[a, b], [c, d]]
        assert not recoverable(values), values
        table = suppress(values)
        for row, expected in zip(table.cells, values, strict=True):
            for cell, value in zip(row, expected, strict=True):
                assert cell.value == value
                if value < THRESHOLD:
                    assert cell.hidden


def test_one_column_lists_hide_two_or_none() -> None:
    assert not recoverable([[50], [3], [40]])
    table = suppress([[50], [3], [40]])
    assert [row[0].shown() for row in table.cells] == ["50", "<5", "<5"]
    assert table.total.shown() == "93"


def test_a_zero_alone_needs_no_partner_but_counts_as_cover() -> None:
    table = suppress([[20, 16], [0, 0]], row_totals=False)
    assert [[c.shown() for c in row] for row in table.cells] == [["20", "16"], ["<5", "<5"]]
    assert [c.shown() for c in table.column_totals] == ["20", "16"]
    covered = suppress([[10], [3], [0]], row_totals=False)
    assert [row[0].shown() for row in covered.cells] == ["10", "<5", "<5"]
    assert covered.total.shown() == "13"
