"""Device-check verdict thresholds (domain.quality)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from videotermin.domain.quality import (
    CameraState,
    Grade,
    Item,
    Measurements,
    MicrophoneState,
    SpeakerAnswer,
    judge,
)

GOOD = Measurements(
    camera=CameraState.OK,
    microphone=MicrophoneState.OK,
    speaker=SpeakerAnswer.HEARD,
    connected=True,
    round_trip_ms=40,
    packet_loss_pct=0,
    jitter_ms=4,
    bitrate_kbps=1500,
    upload_kbps=5000,
    download_kbps=5000,
)


def test_all_good_is_green() -> None:
    verdict = judge(GOOD)
    assert verdict.grade == Grade.GREEN
    assert verdict.problems == []


@pytest.mark.parametrize(
    ("field", "value", "item", "grade"),
    [
        ("round_trip_ms", 299, Item.ROUND_TRIP, Grade.GREEN),
        ("round_trip_ms", 300, Item.ROUND_TRIP, Grade.YELLOW),
        ("round_trip_ms", 599, Item.ROUND_TRIP, Grade.YELLOW),
        ("round_trip_ms", 600, Item.ROUND_TRIP, Grade.RED),
        ("packet_loss_pct", 2.9, Item.PACKET_LOSS, Grade.GREEN),
        ("packet_loss_pct", 3, Item.PACKET_LOSS, Grade.YELLOW),
        ("packet_loss_pct", 10, Item.PACKET_LOSS, Grade.RED),
        ("jitter_ms", 29, Item.JITTER, Grade.GREEN),
        ("jitter_ms", 30, Item.JITTER, Grade.YELLOW),
        ("jitter_ms", 100, Item.JITTER, Grade.RED),
        ("bitrate_kbps", 500, Item.BITRATE, Grade.GREEN),
        ("bitrate_kbps", 499, Item.BITRATE, Grade.YELLOW),
        ("bitrate_kbps", 150, Item.BITRATE, Grade.YELLOW),
        ("bitrate_kbps", 149, Item.BITRATE, Grade.RED),
        ("upload_kbps", 1100, Item.UPLOAD, Grade.GREEN),
        ("upload_kbps", 1099, Item.UPLOAD, Grade.YELLOW),
        ("download_kbps", 299, Item.DOWNLOAD, Grade.RED),
        ("upload_kbps", None, Item.UPLOAD, Grade.YELLOW),
    ],
)
def test_threshold_edges(field: str, value: float | None, item: Item, grade: Grade) -> None:
    verdict = judge(replace(GOOD, **{field: value}))
    finding = next(f for f in verdict.findings if f.item == item)
    assert finding.grade == grade
    assert verdict.grade == grade, "the verdict is the worst item"


def test_devices() -> None:
    assert judge(replace(GOOD, camera=CameraState.MISSING)).grade == Grade.YELLOW
    assert judge(replace(GOOD, camera=CameraState.BLACK)).grade == Grade.YELLOW
    assert judge(replace(GOOD, microphone=MicrophoneState.SILENT)).grade == Grade.RED
    assert judge(replace(GOOD, microphone=MicrophoneState.MISSING)).grade == Grade.RED
    assert judge(replace(GOOD, speaker=SpeakerAnswer.NOT_HEARD)).grade == Grade.YELLOW
    assert judge(replace(GOOD, speaker=None)).grade == Grade.YELLOW


def test_a_failed_test_call_is_red_and_skips_call_figures() -> None:
    verdict = judge(replace(GOOD, connected=False, round_trip_ms=None))
    assert verdict.grade == Grade.RED
    assert Item.ROUND_TRIP not in {f.item for f in verdict.findings}
