"""What the device-check page sends and gets back, validated strictly.

The browser's figures become personal data in ``DeviceCheck`` and drive the
verdict, so nothing loose gets in: unknown keys, strings for numbers, booleans
for numbers and values outside a physically sensible range are refused with
the names of the offending fields, and nothing is stored. The verdict itself
comes from :func:`videotermin.domain.quality.judge`.

Each finding carries an ``advice`` key (item and outcome) that selects the
server-rendered, translated text block the page shows for it
(``templates/check_advice.html``), so the browser code holds no wording.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from videotermin.domain.quality import (
    CameraState,
    Finding,
    Item,
    Measurements,
    MicrophoneState,
    SpeakerAnswer,
    Verdict,
)

# Largest request bodies the JSON endpoints read: an SDP offer is a few kilobytes.
MAX_RESULT_BYTES = 4_096
MAX_SDP_CHARS = 32_000

Milliseconds = Annotated[float, Field(ge=0, le=60_000)]
Percent = Annotated[float, Field(ge=0, le=100)]
Kbps = Annotated[float, Field(ge=0, le=10_000_000)]

# Items whose outcome is a state (camera "black"); the others are graded figures.
_STATE_ITEMS = (Item.CAMERA, Item.MICROPHONE, Item.SPEAKER, Item.CONNECTION)


class CheckProgress(BaseModel):
    """A step of the check as it happens, for the support desk (domain.activity)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    step: Literal["running", "blocked", "notfound", "busy", "unsupported", "grading"]


MAX_PROGRESS_BYTES = 256


class CheckResult(BaseModel):
    """The browser's measurements. ``None`` means the item could not be measured."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    camera: Literal["ok", "black", "missing"]
    microphone: Literal["ok", "silent", "missing"]
    speaker: Literal["heard", "not_heard"] | None
    connected: bool
    round_trip_ms: Milliseconds | None = None
    packet_loss_pct: Percent | None = None
    jitter_ms: Milliseconds | None = None
    bitrate_kbps: Kbps | None = None
    upload_kbps: Kbps | None = None
    download_kbps: Kbps | None = None

    def measurements(self) -> Measurements:
        return Measurements(
            camera=CameraState(self.camera),
            microphone=MicrophoneState(self.microphone),
            speaker=SpeakerAnswer(self.speaker) if self.speaker else None,
            connected=self.connected,
            round_trip_ms=self.round_trip_ms,
            packet_loss_pct=self.packet_loss_pct,
            jitter_ms=self.jitter_ms,
            bitrate_kbps=self.bitrate_kbps,
            upload_kbps=self.upload_kbps,
            download_kbps=self.download_kbps,
        )


class Offer(BaseModel):
    """A browser's SDP offer for the test call (non-trickle: all candidates included)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    type: Literal["offer"]
    sdp: Annotated[str, Field(min_length=1, max_length=MAX_SDP_CHARS)]


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """One entry per refused field: its dotted name (``body`` for the JSON as a whole)."""
    return [
        {"field": ".".join(str(part) for part in e["loc"]) or "body", "message": e["msg"]}
        for e in error.errors(include_url=False)
    ]


def advice_key(finding: Finding) -> str:
    """``camera/black``, ``round_trip/yellow``, ``jitter/none`` (could not be measured)."""
    if finding.item in _STATE_ITEMS:
        return f"{finding.item.value}/{finding.value or 'none'}"
    if finding.value is None:
        return f"{finding.item.value}/none"
    return f"{finding.item.value}/{finding.grade.label}"


def findings_json(verdict: Verdict) -> list[dict[str, Any]]:
    return [
        {
            "item": f.item.value,
            "grade": f.grade.label,
            "value": f.value,
            "advice": advice_key(f),
        }
        for f in verdict.findings
    ]


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {"verdict": verdict.grade.label, "findings": findings_json(verdict)}


def stored_findings(verdict: Verdict) -> str:
    return json.dumps(findings_json(verdict), separators=(",", ":"))
