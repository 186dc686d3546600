"""The rule "this device has passed the check" (web.device_memory), shared by the link
page, the device check and the waiting room."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from videotermin.domain.tokens import hash_token
from videotermin.store.models import DeviceCheck, Participant
from videotermin.web.citizen.device_memory import passed_check_on_this_device

MINE, OTHER = "key-of-this-browser", "key-of-another-browser"


def request_with(cookie: str | None) -> Request:
    headers = [(b"cookie", f"vt_device={cookie}".encode())] if cookie is not None else []
    return Request({"type": "http", "method": "GET", "path": "/v/x", "headers": headers})


def participant_with(*checks: tuple[str, str | None]) -> Participant:
    participant = Participant(id="p")
    participant.device_checks = [
        DeviceCheck(id=number, verdict=verdict, device_key_hash=key and hash_token(key))
        for number, (verdict, key) in enumerate(checks, start=1)
    ]
    return participant


@pytest.mark.parametrize("verdict", ["green", "yellow"])
def test_the_latest_passing_check_of_this_device_counts(verdict: str) -> None:
    participant = participant_with(("red", MINE), (verdict, MINE), ("green", OTHER))

    found = passed_check_on_this_device(participant, request_with(MINE))

    assert found is participant.device_checks[1]


@pytest.mark.parametrize(
    ("checks", "cookie"),
    [
        ((("green", MINE), ("red", MINE)), MINE),
        ((("green", OTHER),), MINE),
        ((("green", MINE),), None),
        ((("green", MINE),), ""),
        ((("green", None),), MINE),
        ((("green", "x" * 200),), "x" * 200),
        ((), MINE),
    ],
    ids=["red after green", "other device", "no cookie", "empty", "erased", "oversized", "none"],
)
def test_nothing_else_counts(
    checks: tuple[tuple[str, str | None], ...], cookie: str | None
) -> None:
    assert passed_check_on_this_device(participant_with(*checks), request_with(cookie)) is None
