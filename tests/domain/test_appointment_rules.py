"""Rules for appointments and participants (domain.appointments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videotermin.domain.appointments import (
    MAX_PARTICIPANTS,
    ParticipantDraft,
    check_added_participant,
    check_changeable,
    check_duration,
    check_new_appointment,
    check_participants,
    check_removable,
    check_start,
    end_of,
    is_over,
    normalise_email,
)
from videotermin.domain.text_input import is_one_line

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CITIZEN = ParticipantDraft(name="Clara", email="clara@example.org")


def codes(errors: list) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in errors]


def test_start_must_be_aware_and_in_the_future() -> None:
    assert check_start(NOW + timedelta(seconds=1), NOW) == []
    assert codes(check_start(NOW, NOW)) == [("start", "in_past")]
    assert codes(check_start(NOW - timedelta(days=1), NOW)) == [("start", "in_past")]
    naive = datetime(2026, 12, 3, 10, 0)
    assert codes(check_start(naive, NOW)) == [("start", "timezone_missing")]


@pytest.mark.parametrize(
    ("minutes", "ok"), [(4, False), (5, True), (30, True), (480, True), (481, False)]
)
def test_duration_bounds(minutes: int, ok: bool) -> None:
    assert (check_duration(minutes) == []) is ok


def test_exactly_one_citizen() -> None:
    interpreter = ParticipantDraft(name="Ivo", email="ivo@example.org", role="interpreter")
    assert check_participants([CITIZEN, interpreter]) == []
    assert codes(check_participants([interpreter])) == [("participants", "citizen_missing")]
    second = ParticipantDraft(name="Zweite", email="z@example.org")
    assert codes(check_participants([CITIZEN, second])) == [
        ("participants.1.role", "second_citizen")
    ]


def test_each_bad_field_is_named() -> None:
    bad = ParticipantDraft(name=" ", email="x@", role="boss", language="fr", customer_number="<>")
    assert set(codes(check_participants([CITIZEN, bad]))) == {
        ("participants.1.name", "required"),
        ("participants.1.email", "invalid_email"),
        ("participants.1.role", "invalid_role"),
        ("participants.1.language", "invalid_language"),
        ("participants.1.customer_number", "invalid"),
    }


def test_the_same_address_twice_is_refused_ignoring_case() -> None:
    twin = ParticipantDraft(name="Twin", email="CLARA@example.org", role="companion")
    assert codes(check_participants([CITIZEN, twin])) == [
        ("participants.1.email", "duplicate_email")
    ]


def test_participant_count_is_bounded() -> None:
    others = [
        ParticipantDraft(name=f"P{i}", email=f"p{i}@example.org", role="colleague")
        for i in range(MAX_PARTICIPANTS)
    ]
    assert ("participants", "too_many") in codes(check_participants([CITIZEN, *others]))


def test_new_appointment_collects_all_errors() -> None:
    errors = check_new_appointment(NOW, 2, "x" * 201, [], NOW)
    assert set(codes(errors)) == {
        ("start", "in_past"),
        ("duration_minutes", "duration_range"),
        ("subject", "too_long"),
        ("participants", "citizen_missing"),
    }


def test_added_participant_fields_are_relative() -> None:
    second = ParticipantDraft(name="Zweite", email="clara@example.org")
    assert set(codes(check_added_participant(second, [CITIZEN]))) == {
        ("role", "second_citizen"),
        ("email", "duplicate_email"),
    }
    companion = ParticipantDraft(name="Tina", email="tina@example.org", role="companion")
    assert check_added_participant(companion, [CITIZEN]) == []


def test_only_scheduled_appointments_change_and_the_citizen_stays() -> None:
    assert check_changeable("scheduled") == []
    assert codes(check_changeable("cancelled")) == [("status", "not_scheduled")]
    assert codes(check_changeable("completed")) == [("status", "not_scheduled")]
    assert codes(check_removable("citizen")) == [("participant", "citizen_not_removable")]
    assert check_removable("interpreter") == []


def test_over_at_the_end_or_when_not_scheduled() -> None:
    start = NOW
    assert end_of(start, 30) == NOW + timedelta(minutes=30)
    assert not is_over(start, 30, "scheduled", NOW + timedelta(minutes=29, seconds=59))
    assert is_over(start, 30, "scheduled", NOW + timedelta(minutes=30))
    assert is_over(start, 30, "cancelled", NOW - timedelta(days=1))


def test_email_is_normalised() -> None:
    assert normalise_email("  Clara@Example.ORG ") == "Clara@example.org"
    assert normalise_email("no at sign") is None


@given(st.text(max_size=60))
def test_any_name_either_passes_or_is_named_as_the_problem(name: str) -> None:
    errors = check_participants([ParticipantDraft(name=name, email="a@example.org")])
    assert all(e.field == "participants.0.name" for e in errors)
    assert (errors == []) == (bool(name.strip()) and is_one_line(name.strip()))
