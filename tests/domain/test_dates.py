"""Dates read like a letter, in the unit's time zone, on both sides of a DST switch."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from videotermin.domain.dates import clock_time, long_date, long_datetime

BERLIN = ZoneInfo("Europe/Berlin")


def test_german_long_form_is_the_default() -> None:
    moment = datetime(2021, 12, 6, 12, 0, tzinfo=UTC)
    assert long_datetime(moment, BERLIN) == "Montag, 6. Dezember 2021, 13:00 Uhr"


def test_english_long_form() -> None:
    moment = datetime(2021, 12, 6, 12, 0, tzinfo=UTC)
    assert long_datetime(moment, BERLIN, "en") == "Monday, 6 December 2021, 1:00 pm"


def test_unknown_language_falls_back_to_german() -> None:
    moment = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    assert long_datetime(moment, BERLIN, "fr") == "Mittwoch, 9. Dezember 2026, 10:00 Uhr"


@pytest.mark.parametrize(
    ("utc", "german", "english"),
    [
        # Spring forward on 29 March 2026: noon UTC is 13:00 the day before, 14:00 after.
        (datetime(2026, 3, 28, 12, tzinfo=UTC), "Samstag, 28. März 2026, 13:00 Uhr", "1:00 pm"),
        (datetime(2026, 3, 29, 12, tzinfo=UTC), "Sonntag, 29. März 2026, 14:00 Uhr", "2:00 pm"),
        # Fall back on 25 October 2026.
        (datetime(2026, 10, 24, 12, tzinfo=UTC), "Samstag, 24. Oktober 2026, 14:00 Uhr", "2:00 pm"),
        (datetime(2026, 10, 25, 12, tzinfo=UTC), "Sonntag, 25. Oktober 2026, 13:00 Uhr", "1:00 pm"),
    ],
)
def test_daylight_saving_switch_in_berlin(utc: datetime, german: str, english: str) -> None:
    assert long_datetime(utc, BERLIN) == german
    assert clock_time(utc, BERLIN, "en") == english


def test_the_local_day_can_differ_from_the_utc_day() -> None:
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert long_date(new_year, BERLIN) == "Freitag, 1. Januar 2027"
    assert clock_time(new_year, BERLIN) == "00:30 Uhr"
    assert long_date(new_year, BERLIN, "en") == "Friday, 1 January 2027"


def test_a_plain_date_is_formatted_as_given() -> None:
    assert long_date(date(2026, 5, 1), BERLIN) == "Freitag, 1. Mai 2026"
    assert long_date(date(2026, 5, 1), BERLIN, "en") == "Friday, 1 May 2026"
