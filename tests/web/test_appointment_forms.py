"""Reading the advisor's form fields: local time, skipped rows, German messages."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from videotermin.domain.appointments import FieldError
from videotermin.web.staff import forms

BERLIN = ZoneInfo("Europe/Berlin")


def test_date_and_time_are_read_in_the_unit_time_zone() -> None:
    start, errors = forms.parse_start({"date": "2026-07-01", "time": "09:30"}, BERLIN)

    assert errors == []
    assert start == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)


def test_the_hour_skipped_in_spring_is_refused_not_moved() -> None:
    start, errors = forms.parse_start({"date": "2027-03-28", "time": "02:30"}, BERLIN)

    assert start is None
    assert [(e.field, e.code) for e in errors] == [("time", "nonexistent")]


def test_missing_and_garbled_values_are_told_apart() -> None:
    _, missing = forms.parse_start({}, BERLIN)
    _, garbled = forms.parse_start({"date": "morgen", "time": "25:00"}, BERLIN)

    assert [(e.field, e.code) for e in missing] == [("date", "required"), ("time", "required")]
    assert [(e.field, e.code) for e in garbled] == [("date", "invalid"), ("time", "invalid")]


def test_errors_of_a_later_row_land_on_that_row_when_an_earlier_one_is_empty() -> None:
    values = {
        "date": "2026-12-03",
        "time": "10:00",
        "duration_minutes": "30",
        "participants.0.name": "Clara",
        "participants.0.email": "clara@example.org",
        "participants.2.role": "companion",
        "participants.2.name": "Bernd",
        "participants.2.email": "kaputt",
    }

    draft, errors, rename = forms.parse_new_appointment(values, BERLIN)

    assert draft is not None and not errors
    assert [p.name for p in draft.participants] == ["Clara", "Bernd"]
    assert rename("participants.1.email") == "participants.2.email"
    assert rename("start") == "date"
    assert rename("participants") == forms.GENERAL


def test_field_specific_texts_win_over_the_generic_ones() -> None:
    assert forms.german_message(FieldError("participants.0.name", "required", "")) == (
        "Bitte geben Sie den Namen an."
    )
    assert forms.german_message(FieldError("subject", "required", "")) == (
        "Bitte füllen Sie dieses Feld aus."
    )
    assert forms.german_message(FieldError("x", "something_new", "")) == (
        "Bitte prüfen Sie diese Angabe."
    )


def test_summary_follows_the_order_of_the_page() -> None:
    errors = forms.FormErrors(forms.NEW_FORM_ORDER)
    errors.add("participants.0.email", "b")
    errors.add(forms.GENERAL, "c")
    errors.add("date", "a")

    assert list(errors.ordered()) == ["date", "participants.0.email", forms.GENERAL]
