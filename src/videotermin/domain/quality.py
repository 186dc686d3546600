"""The device check's verdict: green (all good), yellow (works with limits), red (cannot work).

Each measured item is graded on its own and the verdict is the worst grade —
the approach of Twilio's video diagnostics app. Thresholds, and where they come from:

=============  ===========  =================  ===========  ==========================
item           green        yellow             red          sources
=============  ===========  =================  ===========  ==========================
round trip     < 300 ms     300 – 599 ms       >= 600 ms    Daily: < 300 good, >= 600 bad;
                                                            Twilio: 250 good, 400 fair
packet loss    < 3 %        3 – 9.9 %          >= 10 %      Twilio: 3 % good; Daily: >= 10 % bad
jitter         < 30 ms      30 – 99 ms         >= 100 ms    Twilio: 30 ms fair; above 100 ms
                                                            speech breaks up (ITU-T G.114 budget)
call bitrate   >= 500 kbps  150 – 499 kbps     < 150 kbps   Twilio: 500 good, 150 fair
up/download    >= 1100      300 – 1099 kbps    < 300 kbps   Daily: 1.1 Mbit/s good; below
               kbps                                         300 kbit/s no usable video
=============  ===========  =================  ===========  ==========================

Devices: no microphone signal or no microphone is red (nobody can hear the
participant); a missing or black camera is yellow (audio-only still works); a
speaker the participant cannot hear is yellow (a headset or the volume helps).
A test call that does not connect is red.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Grade(IntEnum):
    GREEN = 0
    YELLOW = 1
    RED = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class Item(StrEnum):
    CAMERA = "camera"
    MICROPHONE = "microphone"
    SPEAKER = "speaker"
    CONNECTION = "connection"
    ROUND_TRIP = "round_trip"
    PACKET_LOSS = "packet_loss"
    JITTER = "jitter"
    BITRATE = "bitrate"
    UPLOAD = "upload"
    DOWNLOAD = "download"


class CameraState(StrEnum):
    OK = "ok"
    BLACK = "black"
    MISSING = "missing"


class MicrophoneState(StrEnum):
    OK = "ok"
    SILENT = "silent"
    MISSING = "missing"


class SpeakerAnswer(StrEnum):
    HEARD = "heard"
    NOT_HEARD = "not_heard"


@dataclass(frozen=True)
class Limits:
    """``green`` and ``red`` bounds; lower-is-better unless ``higher_is_better``."""

    green: float
    red: float
    higher_is_better: bool = False

    def grade(self, value: float) -> Grade:
        if self.higher_is_better:
            return (
                Grade.GREEN
                if value >= self.green
                else Grade.RED
                if value < self.red
                else Grade.YELLOW
            )
        return (
            Grade.GREEN if value < self.green else Grade.RED if value >= self.red else Grade.YELLOW
        )


LIMITS: dict[Item, Limits] = {
    Item.ROUND_TRIP: Limits(green=300, red=600),
    Item.PACKET_LOSS: Limits(green=3, red=10),
    Item.JITTER: Limits(green=30, red=100),
    Item.BITRATE: Limits(green=500, red=150, higher_is_better=True),
    Item.UPLOAD: Limits(green=1100, red=300, higher_is_better=True),
    Item.DOWNLOAD: Limits(green=1100, red=300, higher_is_better=True),
}


@dataclass(frozen=True)
class Measurements:
    """What the browser measured; ``None`` means the item could not be measured."""

    camera: CameraState
    microphone: MicrophoneState
    speaker: SpeakerAnswer | None
    connected: bool
    round_trip_ms: float | None = None
    packet_loss_pct: float | None = None
    jitter_ms: float | None = None
    bitrate_kbps: float | None = None
    upload_kbps: float | None = None
    download_kbps: float | None = None


@dataclass(frozen=True)
class Finding:
    item: Item
    grade: Grade
    value: float | str | None


@dataclass(frozen=True)
class Verdict:
    grade: Grade
    findings: list[Finding]

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.grade != Grade.GREEN]


_CAMERA = {
    CameraState.OK: Grade.GREEN,
    CameraState.BLACK: Grade.YELLOW,
    CameraState.MISSING: Grade.YELLOW,
}
_MICROPHONE = {
    MicrophoneState.OK: Grade.GREEN,
    MicrophoneState.SILENT: Grade.RED,
    MicrophoneState.MISSING: Grade.RED,
}


def _measured(item: Item, value: float | None) -> Finding:
    """An unmeasured network figure is yellow: the call may work, but we cannot promise it."""
    if value is None:
        return Finding(item, Grade.YELLOW, None)
    return Finding(item, LIMITS[item].grade(value), value)


def judge(m: Measurements) -> Verdict:
    findings = [
        Finding(Item.CAMERA, _CAMERA[m.camera], m.camera.value),
        Finding(Item.MICROPHONE, _MICROPHONE[m.microphone], m.microphone.value),
        Finding(
            Item.SPEAKER,
            Grade.GREEN if m.speaker == SpeakerAnswer.HEARD else Grade.YELLOW,
            m.speaker.value if m.speaker else None,
        ),
        Finding(
            Item.CONNECTION,
            Grade.GREEN if m.connected else Grade.RED,
            (m.connected and "ok") or "failed",
        ),
    ]
    if m.connected:
        findings += [
            _measured(Item.ROUND_TRIP, m.round_trip_ms),
            _measured(Item.PACKET_LOSS, m.packet_loss_pct),
            _measured(Item.JITTER, m.jitter_ms),
            _measured(Item.BITRATE, m.bitrate_kbps),
        ]
    findings += [_measured(Item.UPLOAD, m.upload_kbps), _measured(Item.DOWNLOAD, m.download_kbps)]
    return Verdict(grade=max(f.grade for f in findings), findings=findings)
