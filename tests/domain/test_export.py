"""Report filters and CSV cells at the edges: the calendar's first and last day, time
zones, and cells that would be formulas."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from videotermin.domain.export import day_range, parse_day, spreadsheet_safe

BERLIN = ZoneInfo("Europe/Berlin")


def test_days_are_whole_days_in_the_units_zone() -> None:
    span = day_range(date(2026, 12, 2), date(2026, 12, 2), BERLIN)
    assert span.since == datetime(2026, 12, 1, 23, tzinfo=UTC)
    assert span.until == datetime(2026, 12, 2, 23, tzinfo=UTC)
    summer = day_range(date(2026, 7, 1), None, BERLIN)
    assert summer.since == datetime(2026, 6, 30, 22, tzinfo=UTC) and summer.until is None


def test_the_calendars_edges_mean_no_bound_instead_of_an_error() -> None:
    assert day_range(date(1, 1, 1), date(9999, 12, 31), BERLIN) == day_range(None, None, BERLIN)
    assert day_range(None, None, BERLIN).since is None
    assert day_range(date(9999, 12, 30), None, BERLIN).since is not None


def test_days_as_the_date_field_sends_them_or_as_a_person_types_them() -> None:
    assert parse_day("") is None
    assert parse_day("2026-12-02") == date(2026, 12, 2)
    assert parse_day("02.12.2026") == parse_day("2.12.2026") == date(2026, 12, 2)
    assert parse_day("31.12.9999") == date(9999, 12, 31)
    assert parse_day("1.1.0001") == date(1, 1, 1)
    for text in (
        "2026-02-30",
        "30.02.2026",
        "0.1.2026",
        "1.13.2026",
        "1.1.0000",
        "2.12.26",
        "002.12.2026",
        "12/02/2026",
        "20261202",
        "2026-W49-3",
        "2026-12-02T10:00",
        " 2.12.2026",
        "٢٠٢٦-١٢-٠٢",
        "٢.١٢.٢٠٢٦",
    ):
        assert isinstance(parse_day(text), ValueError), text


def test_formulas_become_text() -> None:
    assert spreadsheet_safe('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    for start in "+-@\t\r":
        assert spreadsheet_safe(start + "1").startswith("'")
    assert spreadsheet_safe("Anmeldung") == "Anmeldung"
    assert spreadsheet_safe("") == ""
