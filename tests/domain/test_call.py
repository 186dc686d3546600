"""The call's rules: direction, taking part, rejoining, the mesh limit, peer ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from videotermin.domain.call import (
    ADVISOR,
    call_running,
    fits,
    may_direct,
    may_take_part,
    peer_id,
    polite,
    rejoins,
)

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "user_id", "allowed"),
    [("advisor", 7, True), ("advisor", 8, False), ("admin", 8, True), ("support", 7, False)],
)
def test_only_the_appointments_advisor_or_an_admin_directs_the_call(
    role: str, user_id: int, allowed: bool
) -> None:
    assert may_direct(role, user_id, advisor_id=7) is allowed


def test_the_call_runs_while_scheduled_and_until_the_end() -> None:
    assert call_running("scheduled", START, 30, START + timedelta(minutes=29, seconds=59))
    assert not call_running("scheduled", START, 30, START + timedelta(minutes=30))
    assert not call_running("completed", START, 30, START)
    assert not call_running("cancelled", START, 30, START)


def test_a_reconnect_rejoins_only_when_admitted_and_the_call_runs() -> None:
    assert rejoins(START, running=True)
    assert not rejoins(None, running=True)
    assert not rejoins(START, running=False)


def test_only_admitted_and_seated_connections_take_part() -> None:
    assert may_take_part(admitted=True, in_call=True)
    assert not may_take_part(admitted=False, in_call=True)
    assert not may_take_part(admitted=True, in_call=False)


def test_the_mesh_counts_the_advisor() -> None:
    assert fits(4, admitted=2, adding=1)
    assert not fits(4, admitted=3, adding=1)
    assert not fits(4, admitted=1, adding=3)
    assert fits(2, admitted=0, adding=1)
    assert not fits(4, admitted=0, adding=-1)


def test_exactly_one_peer_of_a_pair_is_polite() -> None:
    assert polite("a1", "b2") and not polite("b2", "a1")


def test_peer_ids_are_stable_opaque_and_differ_per_call() -> None:
    first = peer_id("key-1", "participant-uuid")
    assert first == peer_id("key-1", "participant-uuid")
    assert first != peer_id("key-2", "participant-uuid")
    assert first != peer_id("key-1", ADVISOR)
    assert "participant" not in first and len(first) == 20
