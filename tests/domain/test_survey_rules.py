"""Survey rules (domain.survey)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from videotermin.domain.survey import (
    Again,
    Answers,
    InvalidAnswer,
    may_take_survey,
    month_bucket,
    parse_answers,
)


def test_empty_values_are_skipped_questions() -> None:
    assert parse_answers("", None, "") == Answers()
    assert parse_answers("", "", "").empty
    assert parse_answers("1", "5", "no") == Answers(1, 5, Again.NO)


@pytest.mark.parametrize(
    ("values", "field"),
    [(("0", "", ""), "satisfaction"), (("", "6", ""), "av_quality"), (("", "", "ja"), "use_again")],
)
def test_anything_else_is_refused_by_name(values: tuple[str, str, str], field: str) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        parse_answers(*values)
    assert refused.value.field == field


def test_who_is_asked() -> None:
    assert may_take_survey("citizen", True, False)
    assert may_take_survey("interpreter", True, False)
    assert may_take_survey("companion", True, False)
    assert not may_take_survey("colleague", True, False)
    assert not may_take_survey("citizen", False, False)
    assert not may_take_survey("citizen", True, True)


def test_only_the_local_month_is_kept() -> None:
    new_year_in_berlin = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert month_bucket(new_year_in_berlin, ZoneInfo("Europe/Berlin")) == "2027-01"
    assert month_bucket(new_year_in_berlin, ZoneInfo("UTC")) == "2026-12"
