"""Where the support desk says a citizen is: presence wins, then a recent report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from videotermin.domain.activity import STALE_AFTER, Activity, Place, whereabouts

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_the_call_and_the_waiting_room_win_over_any_report() -> None:
    seen = NOW - timedelta(minutes=1)
    assert whereabouts("check_blocked", seen, waiting_since=None, in_call=True, now=NOW).place is (
        Place.CALL
    )
    waiting = whereabouts("link_page", seen, waiting_since=seen, in_call=False, now=NOW)
    assert (waiting.place, waiting.since) == (Place.WAITING, seen)


def test_a_recent_report_says_where_they_are() -> None:
    seen = NOW - timedelta(minutes=2)
    link = whereabouts("link_page", seen, waiting_since=None, in_call=False, now=NOW)
    assert (link.place, link.activity) == (Place.LINK_PAGE, Activity.LINK_PAGE)
    blocked = whereabouts("check_blocked", seen, waiting_since=None, in_call=False, now=NOW)
    assert (blocked.place, blocked.activity, blocked.since) == (
        Place.CHECK,
        Activity.CHECK_BLOCKED,
        seen,
    )


def test_an_old_report_says_where_they_were() -> None:
    old = NOW - STALE_AFTER - timedelta(seconds=1)
    left = whereabouts("check_running", old, waiting_since=None, in_call=False, now=NOW)
    assert (left.place, left.activity, left.since) == (Place.LEFT, Activity.CHECK_RUNNING, old)
    edge = whereabouts(
        "check_running", NOW - STALE_AFTER, waiting_since=None, in_call=False, now=NOW
    )
    assert edge.place is Place.CHECK


def test_nothing_or_nonsense_reported_is_unseen() -> None:
    assert whereabouts(None, None, waiting_since=None, in_call=False, now=NOW).place is Place.UNSEEN
    assert (
        whereabouts("dropped_table", NOW, waiting_since=None, in_call=False, now=NOW).place
        is Place.UNSEEN
    )
