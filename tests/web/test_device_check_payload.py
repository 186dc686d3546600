"""From the posted figures to the verdict: strict parsing, grading by
``domain.quality.judge`` and the advice key of each finding."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from videotermin.domain.quality import judge
from videotermin.web.citizen.check_payload import CheckResult, field_errors, verdict_json

GOOD: dict[str, Any] = {
    "camera": "ok",
    "microphone": "ok",
    "speaker": "heard",
    "connected": True,
    "round_trip_ms": 40,
    "packet_loss_pct": 0.5,
    "jitter_ms": 5,
    "bitrate_kbps": 800,
    "upload_kbps": 5000,
    "download_kbps": 20000,
}


def graded(**changes: Any) -> dict[str, Any]:
    """The answer the server gives for GOOD with ``changes``, posted as JSON."""
    posted = CheckResult.model_validate_json(json.dumps({**GOOD, **changes}))
    return verdict_json(judge(posted.measurements()))


def test_a_clean_result_is_green_with_an_advice_key_per_finding() -> None:
    answer = graded()

    assert answer["verdict"] == "green"
    assert [f["advice"] for f in answer["findings"]] == [
        "camera/ok",
        "microphone/ok",
        "speaker/heard",
        "connection/ok",
        "round_trip/green",
        "packet_loss/green",
        "jitter/green",
        "bitrate/green",
        "upload/green",
        "download/green",
    ]


@pytest.mark.parametrize(
    ("changes", "verdict", "advice"),
    [
        ({"camera": "missing"}, "yellow", "camera/missing"),
        ({"microphone": "silent"}, "red", "microphone/silent"),
        ({"speaker": None}, "yellow", "speaker/none"),
        ({"round_trip_ms": 650}, "red", "round_trip/red"),
        ({"bitrate_kbps": 300}, "yellow", "bitrate/yellow"),
        ({"upload_kbps": None}, "yellow", "upload/none"),
    ],
)
def test_each_problem_is_graded_and_named(
    changes: dict[str, Any], verdict: str, advice: str
) -> None:
    answer = graded(**changes)

    assert answer["verdict"] == verdict
    assert advice in [f["advice"] for f in answer["findings"]]


def test_a_failed_call_leaves_out_the_call_figures_and_is_red() -> None:
    answer = graded(connected=False)

    assert answer["verdict"] == "red"
    items = [f["item"] for f in answer["findings"]]
    assert "connection" in items and "round_trip" not in items


def test_errors_name_every_refused_field() -> None:
    with pytest.raises(ValidationError) as error:
        CheckResult.model_validate_json('{"camera": 1, "connected": "yes", "extra": 0}')

    assert {e["field"] for e in field_errors(error.value)} == {
        "camera",
        "microphone",
        "speaker",
        "connected",
        "extra",
    }
