"""A call between a citizen in Firefox ESR and an advisor in Chromium.

Citizens bring whatever browser they have; the call must not only work between two
Chromiums. The citizen (Firefox, fake camera and microphone through its prefs, driven
over WebDriver BiDi by tests/e2e/firefox_driver.py) has agreed and passed the device
check on this device; inside the join window she opens her link, enters the waiting
room with one click, and the advisor (Playwright, Chromium) picks her up with
"Abholen" on the call page. Both must then see the other's moving picture — judged
by each browser's own ``getStats()`` (``framesDecoded`` growing) and by the tile's
video element (a received track, ``videoWidth`` > 0) — chat must reach each side,
and hanging up must lead the citizen to the survey. Neither page may report a
script error.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from call_pages import (
    PEER_CONNECTIONS,
    START,
    advisor_call_page,
    appointment_with,
    browser,  # noqa: F401 - the Chromium fixture with fake devices
    sees_video_and_hears,
    tile,
)
from firefox_driver import firefox
from firefox_pages import firefox_hears, firefox_sees_video
from journey_pages import DEVICE_KEY, add_passed_check
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

CITIZEN = "Fritz Fuchs"
ADVISOR = "Bea Berater"
TO_CITIZEN = "Guten Tag, Herr Fuchs! <i>Können</i> Sie mich sehen?"
TO_ADVISOR = "Ja, ich sehe und höre Sie gut."


async def test_a_firefox_citizen_and_a_chromium_advisor_see_each_other_chat_and_hang_up(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    appointment_id, [(citizen_id, token)] = await appointment_with(
        db, settings, clock, [ParticipantDraft(name=CITIZEN, email="fritz@example.org")]
    )
    await add_passed_check(db, citizen_id)
    clock.set(START - timedelta(minutes=2))
    desk, desk_errors = await advisor_call_page(browser, live_server, appointment_id)

    async with firefox() as fox:
        await fox.init(PEER_CONNECTIONS)
        # The cookie the passed device check left in this browser (set once the
        # browser is on the site: from a blank page, Firefox stores none).
        await fox.goto(f"{live_server.url}/login")
        await fox.cookie(f"{live_server.url}/v/", "vt_device", DEVICE_KEY)

        # Link → one click → the waiting room.
        await fox.goto(f"{live_server.url}/v/{token}")
        await fox.click("a.button", "Beratungsraum betreten")
        # (a wait begun on the page being left goes on in the next one: puppeteer
        # re-runs it in each new document of the frame)
        await fox.wait("#connection-state", "Verbunden. Sie sind im Warteraum.")

        # "Abholen" on the advisor's call page: the waiting room turns into the call.
        await desk.get_by_role("button", name=f"Abholen: {CITIZEN}").click()
        await fox.wait("#call-title", "Videogespräch")
        seen_by_citizen = await firefox_sees_video(fox, ADVISOR)
        await firefox_hears(fox, ADVISOR)
        await sees_video_and_hears(desk, CITIZEN)
        seen_by_advisor = (
            await tile(desk, CITIZEN)
            .locator("video")
            .evaluate("(v) => ({width: v.videoWidth, height: v.videoHeight})")
        )

        # Chat from the advisor reaches Firefox (as text), and back.
        await desk.get_by_role("button", name=re.compile("^Chat")).click()
        await desk.get_by_label("Ihre Nachricht").fill(TO_CITIZEN)
        await desk.get_by_role("button", name="Senden").click()
        await fox.wait(".call-unread", "1")
        await fox.click(".call-controls button", "Chat")
        line_at_citizen = await fox.wait(".call-chat__line", TO_CITIZEN)
        markup_at_citizen = await fox.evaluate(
            "document.querySelectorAll('.call-chat__log i').length"
        )
        await fox.type("#call-chat-text", TO_ADVISOR)
        await fox.click(".call-chat__form button[type=submit]", "Senden")
        line = desk.locator(".call-chat__line").filter(has_text=TO_ADVISOR)
        await expect(line).to_contain_text(CITIZEN)

        # She hangs up: the survey follows; the advisor's grid no longer shows her.
        await fox.click('[data-action="hangup"]', "Auflegen")
        survey = await fox.wait("h1", "Drei kurze Fragen", timeout_ms=15_000)
        survey_path = await fox.evaluate("location.pathname")
        await expect(tile(desk, CITIZEN)).to_have_count(0)
        citizen_errors = await fox.errors()

    assert min(seen_by_citizen.values()) > 0, seen_by_citizen
    assert min(seen_by_advisor.values()) > 0, seen_by_advisor
    assert ADVISOR in line_at_citizen and markup_at_citizen == 0, "text, never HTML"
    assert survey.strip() == "Drei kurze Fragen"
    assert survey_path == f"/v/{token}/umfrage"
    assert citizen_errors == [], "no script errors in Firefox"
    assert desk_errors == [], "no script errors in Chromium"
