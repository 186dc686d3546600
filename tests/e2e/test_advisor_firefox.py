"""The advisor in Firefox ESR and the citizen in Chromium: the second pairing of the call.

Agencies do not all give their advisors Chromium. The advisor logs in in Firefox (driven
over WebDriver BiDi by tests/e2e/firefox_driver.py) and keeps "Meine Termine" open; the
citizen (Playwright, Chromium) enters the waiting room, and the advisor's list says so
without a reload. On the call page the advisor picks her up with "Abholen". Both must
then see the other's moving picture and receive the other's sound — judged by each
browser's own ``getStats()`` and by the tile's media elements. What the advisor does in
Firefox must reach Chromium as it does between two Chromiums: the microphone switched
off shows as "Mikrofon aus" on the advisor's tile, the camera switched off leaves no
stale frame and shows the initials, and back on the picture returns. Chat reaches each
side as text, and "Gespräch für alle beenden" ends the call on both pages. Neither page
may report a script error.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from call_pages import (
    CLARA,
    PEER_CONNECTIONS,
    START,
    appointment_with,
    browser,  # noqa: F401 - the Chromium fixture with fake devices
    sees_video_and_hears,
    tile,
    waiting,
)
from firefox_driver import firefox
from firefox_pages import firefox_hears, firefox_login, firefox_sees_video
from page_audit import AUDIT, SHOTS
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

CITIZEN = CLARA.name
TO_CITIZEN = "Guten Tag, Frau Kundin! <b>Hören</b> Sie mich?"
TO_ADVISOR = "Ja, Bild und Ton sind da."


async def test_a_firefox_advisor_sees_her_wait_picks_her_up_and_controls_the_call(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    appointment_id, [(citizen_id, token)] = await appointment_with(db, settings, clock, [CLARA])
    clock.set(START - timedelta(minutes=2))

    async with firefox() as fox:
        await fox.init(PEER_CONNECTIONS)
        await firefox_login(fox, live_server)
        row = f'[data-participant-id="{citizen_id}"]'
        before = await fox.wait(row, CITIZEN)
        await fox.evaluate("window.stayedOnThisPage = true")

        # She enters the waiting room in Chromium: the advisor's list says so by itself.
        room, room_errors = await waiting(browser, live_server, token)
        waiting_row = await fox.wait(row, "wartet seit 09:58 Uhr")
        alert = await fox.wait("#live-alerts [role=alert], #live-alerts .live-alert", CITIZEN)
        stayed = await fox.evaluate("window.stayedOnThisPage === true")

        # The call page: she is on its waiting list; "Abholen" brings her in.
        await fox.goto(f"{live_server.url}/appointments/{appointment_id}/call")
        await fox.wait("#call .call-status", "Sie sind im Gespräch. Noch ist niemand sonst da.")
        await fox.wait("#waiting-summary", "1 Person wartet.")
        await fox.click("button.call-waiting__admit", "Abholen")
        await expect(room.get_by_role("heading", level=1)).to_have_text("Videogespräch")
        summary = await fox.until(
            "document.querySelector('#waiting-summary').textContent.includes('Niemand')"
            " && document.querySelector('#waiting-summary').textContent"
        )

        await fox.viewport(1280, 800)
        seen_by_advisor = await firefox_sees_video(fox, CITIZEN)
        await fox.screenshot(SHOTS / "firefox-advisor-call-1280.png")
        call_layout = await fox.evaluate(f"({AUDIT})()")
        await firefox_hears(fox, CITIZEN)
        await sees_video_and_hears(room, "Bea Berater")

        # Her microphone off in Firefox: Chromium shows it on her tile, and back.
        advisor_tile = tile(room, "Bea Berater")
        await fox.click('[data-action="microphone"]', "Stummschalten")
        await fox.until("""document.querySelector('[data-action="microphone"]')
            .getAttribute('aria-pressed') === 'true'""")
        await expect(advisor_tile.locator(".tile__badge--muted")).to_have_text("Mikrofon aus")
        await fox.click('[data-action="microphone"]')
        await expect(advisor_tile.locator(".tile__badge--muted")).to_be_hidden()

        # Her camera off: no picture and no stale frame in Chromium, her initials instead.
        await fox.click('[data-action="camera"]', "Kamera aus")
        await expect(advisor_tile).to_have_attribute("data-video", "off")
        await expect(advisor_tile.locator("video")).to_be_hidden()
        stale = await advisor_tile.locator("video").evaluate("(v) => v.srcObject !== null")
        await expect(advisor_tile.locator(".tile__avatar")).to_have_text("BB")
        await fox.click('[data-action="camera"]')
        await expect(advisor_tile).to_have_attribute("data-video", "on")
        await sees_video_and_hears(room, "Bea Berater")

        # Sharing her screen fails in headless Firefox (there is no screen): she is told so,
        # and nothing half-shared reaches the citizen.
        await fox.click('[data-action="screen"]', "Bildschirm teilen")
        screen_problem = await fox.wait(".call-media-problem", "Bildschirm")
        await fox.screenshot(SHOTS / "firefox-advisor-screen-failed-1280.png")
        share_pressed = await fox.evaluate(
            "document.querySelector('[data-action=\"screen\"]').getAttribute('aria-pressed')"
        )
        await expect(tile(room, "Bildschirm von Bea Berater")).to_have_count(0)

        # Chat from Firefox reaches Chromium as text, and back.
        await fox.click(".call-controls button", "Chat")
        await fox.type("#call-chat-text", TO_CITIZEN)
        await fox.click(".call-chat__form button[type=submit]", "Senden")
        await expect(room.locator(".call-unread")).to_have_text("1")
        await room.get_by_role("button", name="Chat").click()
        at_citizen = room.locator(".call-chat__line").filter(has_text=TO_CITIZEN)
        await expect(at_citizen).to_contain_text("Bea Berater")
        markup_at_citizen = await room.locator(".call-chat__log b").count()
        await room.get_by_label("Ihre Nachricht").fill(TO_ADVISOR)
        await room.get_by_role("button", name="Senden").click()
        line_at_advisor = await fox.wait(".call-chat__line", TO_ADVISOR)

        # "Gespräch für alle beenden", confirmed: the call is over on both pages.
        await fox.click("#end-call", "Gespräch für alle beenden")
        question = await fox.wait("#confirm-text", "Das Gespräch für alle beenden?")
        await fox.click("#confirm-yes", "Ja, für alle beenden")
        closed = await fox.wait("#call-closed", "Das Gespräch ist beendet.")
        await expect(room.get_by_role("heading", level=1)).to_have_text("Dieser Termin ist vorbei")
        await expect(room.get_by_role("link", name="Zur Umfrage")).to_be_visible()
        advisor_errors = await fox.errors()

    assert summary == "Niemand wartet gerade."
    assert "Gerätetest: noch nicht gemacht" in before
    assert "wartet seit 09:58 Uhr" in waiting_row and stayed, "the list updated without a reload"
    assert f"{CITIZEN} (Kundin/Kunde) wartet im Warteraum" in alert
    assert min(seen_by_advisor.values()) > 0, seen_by_advisor
    assert call_layout == [], f"the call page in Firefox at 1280 px; shot in {SHOTS}"
    assert not stale, "no stale frame after the camera went off"
    assert screen_problem == (
        "Ihr Bildschirm ließ sich gerade nicht teilen. Bitte versuchen Sie es noch einmal, "
        "oder wählen Sie ein einzelnes Fenster statt des ganzen Bildschirms."
    )
    assert share_pressed == "false"
    assert markup_at_citizen == 0, "text, never HTML"
    assert CITIZEN in line_at_advisor
    assert "Danach kann niemand mehr teilnehmen" in question
    assert closed.strip().startswith("Das Gespräch ist beendet.")
    assert advisor_errors == [], "no script errors in Firefox"
    assert room_errors == [], "no script errors in Chromium"
