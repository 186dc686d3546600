"""When a session reads its authority again before acting on a client frame: every frame
is answered by a read that began after it arrived, except that relay frames (signal,
media, chat) may use a read begun less than a second before; admitting, removing and
the like always read."""

from __future__ import annotations

import pytest

from videotermin.realtime import connection
from videotermin.realtime.connection import FromClient, Recheck
from videotermin.realtime.protocol import Admit, Chat, ClientMessage, Leave, Ping, Signal


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Arrivals:
    """Stands in for the inbox: only its count of arrived frames matters here."""

    frames = 0

    def arrive(self, message: ClientMessage) -> FromClient:
        self.frames += 1
        return FromClient(message, self.frames)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(connection.time, "monotonic", fake)
    return fake


def signal() -> Signal:
    return Signal.model_validate({"type": "signal", "to": "p" * 16, "candidate": None})


def test_nothing_is_covered_before_the_first_read(clock: Clock) -> None:
    inbox = Arrivals()
    assert not Recheck().covers(inbox.arrive(signal()))


def test_a_read_answers_for_every_frame_that_had_arrived_when_it_began(clock: Clock) -> None:
    inbox, recheck = Arrivals(), Recheck()
    waiting = [inbox.arrive(Admit(type="admit", participant="all")) for _ in range(3)]
    begun = Recheck.begin(inbox)
    later = inbox.arrive(Leave(type="leave"))
    recheck.passed(begun)

    assert all(recheck.covers(frame) for frame in waiting)
    assert not recheck.covers(later)


def test_relay_frames_may_use_a_read_begun_less_than_a_second_before(clock: Clock) -> None:
    inbox, recheck = Arrivals(), Recheck()
    recheck.passed(Recheck.begin(inbox))
    clock.now += 0.9
    relays = [inbox.arrive(signal()), inbox.arrive(Chat(type="chat", text="Hallo"))]
    others = [inbox.arrive(Admit(type="admit", participant="all")), inbox.arrive(Ping(type="ping"))]

    assert all(recheck.covers(frame) for frame in relays)
    assert not any(recheck.covers(frame) for frame in others)

    clock.now += Recheck.RELAY_SECONDS
    assert not recheck.covers(inbox.arrive(signal()))


def test_a_read_that_did_not_let_the_connection_go_on_covers_nothing(clock: Clock) -> None:
    inbox, recheck = Arrivals(), Recheck()
    frame = inbox.arrive(signal())
    Recheck.begin(inbox)  # …and the session closed instead of passed()
    assert not recheck.covers(frame)
