"""The whole journey in Firefox ESR, on both sides: from the booking form to the survey.

The Chromium journeys have their twin here, with no Chromium at all. The advisor (one
Firefox) books through the form; the invitation mail the app writes carries the personal
link; the citizen (another Firefox, 360 px wide like a phone) opens it, agrees, passes
the device check with its test call, enters the waiting room, reads the advisor's
message there without a reload, is picked up with the appointment page's "Abholen", sees
and hears the advisor (and the advisor her, Firefox to Firefox), hangs up, and answers
the survey. On each citizen page the layout audit (page_audit.py) must find nothing in
Firefox's rendering (a screenshot of each is kept in ``LAYOUT_SHOTS``), and neither
browser may report a script error.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from call_pages import PEER_CONNECTIONS
from firefox_driver import Firefox, firefox
from firefox_pages import firefox_hears, firefox_login, firefox_sees_video, looks_right, tile_video
from journey_pages import OPENS_AT
from page_audit import SHOTS
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import DeviceCheck, StaffUser, SurveyResponse

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

CITIZEN = "Clara Kundin"
ADVISOR = "Bea Berater"
TOMORROW = (OPENS_AT + timedelta(minutes=5)).strftime("%Y-%m-%d")  # Thursday, 3 December 2026
MESSAGE = "Ich bin gleich bei Ihnen. Bitte bleiben Sie im Warteraum."
LINK = re.compile(r"http://127\.0\.0\.1:\d+/v/[A-Za-z0-9_-]{32}")
# The automatic part of the check takes at most ten seconds; the test call may queue.
CHECK_TIMEOUT_MS = 30_000


async def book_in_firefox(desk: Firefox, live_server: LiveServer) -> str:
    """The advisor books tomorrow at 10:00 through the form; the new appointment's path."""
    await desk.click("a", "Neuen Termin anlegen")
    await desk.wait("h1", "Neuen Termin anlegen")
    # Date and time as their pickers set them (typed digits depend on Firefox's locale).
    await desk.evaluate(
        f"document.querySelector('input[name=date]').value = '{TOMORROW}';"
        "document.querySelector('input[name=time]').value = '10:00'"
    )
    await desk.type('input[name="participants.0.name"]', CITIZEN)
    await desk.type('input[name="participants.0.email"]', "clara@example.org")
    await desk.click("button[type=submit]", "Termin anlegen und Einladungen senden")
    await desk.wait("[role=status]", "Der Termin ist angelegt.")
    return str(await desk.evaluate("location.pathname"))


async def invitation_link(mail_dir: Path) -> str:
    """The personal link in the invitation mail, once the app has written it."""
    for _ in range(200):
        for path in sorted(mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(("plain",))  # type: ignore[attr-defined]
            found = LINK.search(body.get_content()) if body else None
            if found:
                return found.group(0)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no invitation with a link in {mail_dir}")


async def test_booked_in_firefox_and_the_citizen_goes_the_whole_way_in_firefox(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    layout: dict[str, list[str]] = {}
    async with firefox() as desk, firefox() as fox:
        await desk.init(PEER_CONNECTIONS)
        await fox.init(PEER_CONNECTIONS)
        await fox.viewport(360, 740)
        await firefox_login(desk, live_server)
        appointment_page = await book_in_firefox(desk, live_server)
        link = await invitation_link(settings.mail_dir)
        assert link.startswith(live_server.url)

        # Tomorrow, a few minutes before the start (yesterday's session has expired): the
        # advisor logs in again and opens the appointment.
        clock.set(OPENS_AT + timedelta(minutes=1))
        await firefox_login(desk, live_server)
        await desk.goto(live_server.url + appointment_page)
        await desk.wait("#live-state", "Live-Anzeige: aktiv")
        await desk.evaluate("window.stayedOnThisPage = true")

        # The link, consent, and the device check up to its verdict.
        await fox.goto(link)
        await fox.wait("h1", "Ihr Videotermin")
        layout["link"] = await looks_right(fox, "link")
        await fox.click("button", "Ich stimme zu")
        await fox.wait("button", "Ich höre den Ton", timeout_ms=CHECK_TIMEOUT_MS)
        await fox.click("button", "Ich höre den Ton")
        verdict = await fox.wait("#check-verdict h2", "Ergebnis:", timeout_ms=CHECK_TIMEOUT_MS)
        call_finding = await fox.wait("#check-findings li", "Testanruf:")
        layout["check"] = await looks_right(fox, "check")

        # The waiting room; the advisor's page says so and her message arrives live.
        await fox.click("#check-enter", "Beratungsraum betreten")
        await fox.wait("#connection-state", "Verbunden. Sie sind im Warteraum.")
        await fox.evaluate("window.stayedOnThisPage = true")
        layout["waiting room"] = await looks_right(fox, "waiting-room")
        row = await desk.wait(".participant", "wartet seit 09:56 Uhr")
        await desk.type("#f-waiting_message", MESSAGE)
        await desk.click(".waiting-message button[type=submit]", "Nachricht senden")
        await desk.wait("[role=status]", "Die Nachricht ist jetzt im Warteraum zu sehen.")
        shown = await fox.wait("#advisor-message", MESSAGE)
        citizen_stayed = await fox.evaluate("window.stayedOnThisPage === true")

        # "Abholen" on the appointment page: the call, Firefox to Firefox.
        await desk.click("a.admit", "Abholen")
        await fox.wait("#call-title", "Videogespräch")
        seen_by_citizen = await firefox_sees_video(fox, ADVISOR)
        await firefox_hears(fox, ADVISOR)
        seen_by_advisor = await firefox_sees_video(desk, CITIZEN)
        await firefox_hears(desk, CITIZEN)
        await fox.screenshot(SHOTS / "firefox-call-360.png")

        # She hangs up; the advisor's grid lets her go; the survey, answered.
        await fox.click('[data-action="hangup"]', "Auflegen")
        await fox.wait("h1", "Drei kurze Fragen", timeout_ms=15_000)
        await desk.until(f"!({tile_video(CITIZEN)})")
        layout["survey"] = await looks_right(fox, "survey")
        await fox.click("fieldset:nth-of-type(1) label", "5")
        await fox.click("fieldset:nth-of-type(2) label", "4")
        await fox.click("fieldset:nth-of-type(3) label", "Ja")
        await fox.click("button[type=submit]", "Antworten senden")
        thanks = await fox.wait("h1", "Vielen Dank")
        layout["thanks"] = await looks_right(fox, "thanks")
        citizen_errors = await fox.errors()
        advisor_errors = await desk.errors()

    assert re.match(r"Ergebnis: (grün|gelb)", verdict.strip()), verdict
    assert "Ihr Bild und Ton sind über unseren Server zu Ihnen zurückgekommen." in call_finding
    assert CITIZEN in row
    assert MESSAGE in shown and citizen_stayed, "the message came without a reload"
    assert min(seen_by_citizen.values()) > 0 and min(seen_by_advisor.values()) > 0
    assert thanks.strip() == "Vielen Dank"
    problems = {page: found for page, found in layout.items() if found}
    assert problems == {}, f"Firefox at 360 px; shots in {SHOTS}"
    assert citizen_errors == [] and advisor_errors == [], "no script errors in either Firefox"
    async with db() as session:
        [check] = list(await session.scalars(select(DeviceCheck)))
        [answer] = list(await session.scalars(select(SurveyResponse)))
    assert check.browser_family == "Firefox"
    assert (answer.satisfaction, answer.av_quality, answer.use_again) == (5, 4, "yes")
