"""The typed bus events: each one travels as the JSON it always was, comes back as the
same model, and anything a receiver does not know is dropped with a log line instead
of reaching a session."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from videotermin.bus.events import (
    AppointmentChanged,
    CallAdmit,
    CallChat,
    CallRemove,
    CallRemoved,
    CallSignal,
    EntryWire,
    Event,
    ParticipantChanged,
    PresenceDrop,
    PresenceEnter,
    PresenceHeartbeat,
    PresenceLeave,
    PresenceSync,
    Resync,
    SeatWire,
    Takeover,
    WaitingMessageChanged,
    read,
)

AT = datetime(2026, 12, 3, 9, 58, tzinfo=UTC)
ENTRY = EntryWire(
    participant_id="p1",
    appointment_id="a1",
    connection_id="c1",
    since=AT,
    call=SeatWire(peer="peer1", audio=True),
)
EVERY_EVENT: list[Event] = [
    ParticipantChanged(appointment_id="a1", participant_id="p1"),
    AppointmentChanged(appointment_id="a1"),
    WaitingMessageChanged(appointment_id="a1"),
    Takeover(connection_id="c1", order=(1_700_000_000_000_000_000, "c1")),
    CallAdmit(),
    CallRemove(),
    CallRemoved(peer="peer1"),
    CallSignal(
        from_="peer1", connection="c1", to="peer2", description={"type": "offer", "sdp": "v=0"}
    ),
    CallChat(from_="peer1", name="Clara", role="citizen", text="Hallo", at=AT),
    PresenceSync(instance="i1"),
    PresenceEnter(instance="i1", entry=ENTRY),
    PresenceDrop(instance="i1", participant_id="p1", connection_id="c1"),
    PresenceLeave(instance="i1", participant_id="p1", connection_id="c1"),
    PresenceHeartbeat(instance="i1", entries=[ENTRY]),
    Resync(),
]


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda e: e.wire()["type"])
def test_every_event_comes_back_as_itself_through_json(event: Event) -> None:
    travelled = json.loads(json.dumps(event.wire()))
    assert read(travelled) == event


def test_the_wire_keeps_the_field_names_receivers_always_read() -> None:
    signal = CallSignal(from_="peer1", connection="c1", to="peer2", candidate={"candidate": ""})
    assert signal.wire() == {
        "type": "call_signal",
        "from": "peer1",
        "connection": "c1",
        "to": "peer2",
        "description": None,
        "candidate": {"candidate": ""},
    }
    assert Takeover(connection_id="c", order=(5, "c")).wire() == {
        "type": "takeover",
        "connection_id": "c",
        "order": [5, "c"],
    }


@pytest.mark.parametrize(
    "data",
    [
        {"type": "no_such_event"},
        {"type": "participant_changed", "appointment_id": "a1"},  # a field missing
        {"type": "takeover", "connection_id": "c", "order": ["late", "c"]},
        {"type": "takeover", "connection_id": "c", "order": [1, "c", "extra"]},
        {"type": "call_chat", "from": "p", "name": "n", "role": "r", "text": "t", "at": "now"},
        {"type": "presence_enter", "instance": "i", "entry": {**ENTRY.model_dump(), "since": "x"}},
        {"no type": True},
        ["participant_changed"],
        "participant_changed",
        None,
        42,
    ],
)
def test_anything_unknown_or_malformed_is_dropped_with_a_log_line(
    data: object, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="videotermin.bus.events"):
        assert read(data) is None
    assert "bus event ignored reason=invalid" in caplog.text


def test_a_naive_time_is_refused_so_no_instance_compares_it_with_an_aware_one() -> None:
    naive = {**ENTRY.model_dump(mode="json"), "since": "2026-12-03T09:58:00"}
    assert read({"type": "presence_enter", "instance": "i1", "entry": naive}) is None
