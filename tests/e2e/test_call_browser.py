"""The call in Debian's Chromium with fake camera and microphone: citizen, interpreter and
advisor in separate browser contexts, admitted from the advisor's call page.

Media is judged by the browser, not by the page's claims: a test-only init script
(``PEER_CONNECTIONS`` in call_pages.py, added by Playwright to the test's contexts —
nothing in the served pages knows about it) keeps a list of the page's RTCPeerConnections,
so the test reads ``getStats()`` — ``inbound-rtp`` video ``framesDecoded`` growing, audio
packets arriving — and checks that the picture in a participant's tile is a track received
from a peer connection, rendered (``videoWidth`` > 0) and moving (``currentTime``
advancing). The server's clock is the test's FakeClock: the appointment starts in two
minutes.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from call_pages import (
    CLARA,
    IVO,
    LINE_CUTTER,
    START,
    advisor_call_page,
    appointment_with,
    axe_violations,
    browser,
    clara_admitted,
    grows,
    open_page,
    received_video,
    sees_video_and_hears,
    tile,
    waiting,
)
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD, LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import Appointment, StaffUser, SurveyResponse

__all__ = ["browser"]  # the fixture, launched with the fake devices and screen capture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


async def all_three_see_each_other(desk: Page, citizen: Page, interpreter: Page) -> None:
    for page, others in (
        (desk, ["Clara Kundin", "Ivo Dolmetscher"]),
        (citizen, ["Bea Berater", "Ivo Dolmetscher"]),
        (interpreter, ["Bea Berater", "Clara Kundin"]),
    ):
        for name in others:
            await sees_video_and_hears(page, name)


async def test_admitted_citizen_and_advisor_see_hear_chat_mute_and_share(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    appointment_id, [(_, token)] = await appointment_with(db, settings, clock, [CLARA])
    clock.set(START - timedelta(minutes=2))
    room, room_errors = await waiting(browser, live_server, token)

    # "Abholen" on the appointment page opens the call page and admits her.
    desk, desk_errors = await open_page(browser)
    await desk.goto(f"{live_server.url}/login")
    await desk.get_by_label("Benutzername").fill("berater")
    await desk.get_by_label("Passwort").fill(PASSWORD)
    await desk.get_by_role("button", name="Anmelden").click()
    await desk.goto(f"{live_server.url}/termine/{appointment_id}")
    await desk.get_by_role("link", name=re.compile(r"^Abholen\W+Clara Kundin$")).click()
    await expect(desk).to_have_url(f"{live_server.url}/appointments/{appointment_id}/call")

    await expect(room.get_by_role("heading", level=1)).to_have_text("Videogespräch")
    await expect(room.locator("#waiting-view")).to_be_hidden()
    await sees_video_and_hears(room, "Bea Berater")
    await sees_video_and_hears(desk, "Clara Kundin")
    await expect(desk.locator("#waiting-summary")).to_have_text("Niemand wartet gerade.")
    await expect(tile(desk, "Clara Kundin").locator(".tile__quality")).to_have_text(
        re.compile(r"Verbindung: (gut|mittel|schlecht)")
    )

    # Mute: the advisor sees it on her tile and in the participant list.
    mute = room.get_by_role("button", name="Stummschalten")
    await expect(mute).to_have_attribute("aria-pressed", "false")
    await mute.click()
    await expect(mute).to_have_attribute("aria-pressed", "true")
    await expect(tile(desk, "Clara Kundin").locator(".tile__badge--muted")).to_have_text(
        "Mikrofon aus"
    )
    await mute.press("Enter")
    await expect(tile(desk, "Clara Kundin").locator(".tile__badge--muted")).to_be_hidden()

    # Camera off: no picture, no track left in her tile — her initials instead.
    camera = room.get_by_role("button", name="Kamera aus")
    await camera.click()
    await expect(camera).to_have_attribute("aria-pressed", "true")
    clara = tile(desk, "Clara Kundin")
    await expect(clara).to_have_attribute("data-video", "off")
    await expect(clara.locator("video")).to_be_hidden()
    assert await clara.locator("video").evaluate("(v) => v.srcObject === null"), "no stale frame"
    await expect(clara.locator(".tile__avatar")).to_have_text("CK")
    await expect(clara.locator(".tile__avatar")).to_be_visible()
    await camera.click()
    await expect(clara).to_have_attribute("data-video", "on")
    await sees_video_and_hears(desk, "Clara Kundin")

    # Chat: text only, both ways.
    await room.get_by_role("button", name="Chat").click()
    await room.get_by_label("Ihre Nachricht").fill("<b>x</b> Guten Tag")
    await room.get_by_role("button", name="Senden").click()
    await expect(desk.locator(".call-unread")).to_have_text("1")
    await desk.get_by_role("button", name=re.compile("^Chat")).click()
    line = desk.locator(".call-chat__line").last
    await expect(line).to_contain_text("<b>x</b> Guten Tag")
    await expect(line).to_contain_text("Clara Kundin")
    assert await desk.locator(".call-chat__log b").count() == 0, "text, never HTML"
    await expect(room.locator(".call-chat__line").last).to_contain_text("<b>x</b> Guten Tag")

    # Screen share from the advisor: a screen tile appears at the citizen, then goes.
    share = desk.get_by_role("button", name="Bildschirm teilen")
    await share.click()
    await expect(share).to_have_attribute("aria-pressed", "true")
    screen = tile(room, "Bildschirm von Bea Berater")
    await expect(screen).to_be_visible()
    await received_video(room, screen.locator("video"))
    await share.click()
    await expect(share).to_have_attribute("aria-pressed", "false")
    await expect(screen).to_have_count(0)
    await sees_video_and_hears(room, "Bea Berater")

    # Participant list with names and roles.
    await room.get_by_role("button", name="Teilnehmende").click()
    people = room.locator(".call-participants__list")
    await expect(people).to_contain_text("Bea Berater (Beratung)")
    await expect(people).to_contain_text("Clara Kundin (Sie) (Kundin/Kunde)")

    # Full screen: the call fills the screen, and the same button (by keyboard) leaves it.
    fullscreen = desk.get_by_role("button", name="Vollbild")
    await fullscreen.click()
    await expect(fullscreen).to_have_attribute("aria-pressed", "true")
    assert await desk.evaluate("() => document.fullscreenElement?.id") == "call"
    await fullscreen.press("Enter")
    await expect(fullscreen).to_have_attribute("aria-pressed", "false")
    assert await desk.evaluate("() => document.fullscreenElement") is None

    assert await axe_violations(room) == [], "the citizen's call view"
    assert await axe_violations(desk) == [], "the advisor's call page"
    assert room_errors == [] and desk_errors == [], "no script errors, no CSP refusals"


async def test_an_interpreter_joins_and_all_three_see_each_other(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    appointment_id, [(_, citizen), (_, interpreter)] = await appointment_with(
        db, settings, clock, [CLARA, IVO]
    )
    clock.set(START - timedelta(minutes=2))
    room, room_errors = await waiting(browser, live_server, citizen)
    desk, desk_errors = await advisor_call_page(browser, live_server, appointment_id)
    await expect(desk.locator("#waiting-summary")).to_have_text("1 Person wartet.")
    await desk.get_by_role("button", name="Abholen: Clara Kundin").click()
    await sees_video_and_hears(room, "Bea Berater")

    third, third_errors = await waiting(browser, live_server, interpreter, width=800)
    await expect(desk.get_by_role("button", name="Abholen: Ivo Dolmetscher")).to_be_visible()
    await desk.get_by_role("button", name="Alle abholen").click()
    await all_three_see_each_other(desk, room, third)
    await expect(tile(room, "Ivo Dolmetscher").locator(".tile__name")).to_have_text(
        "Ivo Dolmetscher (Dolmetschung)"
    )
    assert room_errors == [] and desk_errors == [] and third_errors == []


# The advisor's page keeps a connection with its offer ready while someone waits (spare.js,
# "spare"): one made before the click, waiting for an answer.
PREPARED = """() => (window.__peerConnections || []).filter(
  (pc) => pc.signalingState === 'have-local-offer' && pc.connectionState === 'new').length"""


async def prepared(desk: Page) -> int:
    """Index (in the order made) of the connection the advisor's page has ready."""
    await desk.wait_for_function(f"() => ({PREPARED})() === 1", polling=100)
    return int(
        await desk.evaluate(
            "() => window.__peerConnections.findIndex("
            "(pc) => pc.signalingState === 'have-local-offer' && pc.connectionState === 'new')"
        )
    )


async def test_a_connection_made_while_people_wait_carries_each_admission(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    appointment_id, [(_, citizen), (_, interpreter)] = await appointment_with(
        db, settings, clock, [CLARA, IVO]
    )
    clock.set(START - timedelta(minutes=2))
    room, room_errors = await waiting(browser, live_server, citizen)
    desk, desk_errors = await advisor_call_page(browser, live_server, appointment_id)
    first = await prepared(desk)
    await desk.get_by_role("button", name="Abholen: Clara Kundin").click()
    await sees_video_and_hears(room, "Bea Berater")
    await sees_video_and_hears(desk, "Clara Kundin")
    states = await desk.evaluate("() => window.__peerConnections.map((pc) => pc.connectionState)")
    assert states[first] == "connected", "Clara's call runs on the connection made beforehand"

    third, third_errors = await waiting(browser, live_server, interpreter, width=800)
    second = await prepared(desk)
    assert second > first, "a new one is made for the next person waiting"
    await desk.get_by_role("button", name="Abholen: Ivo Dolmetscher").click()
    await all_three_see_each_other(desk, room, third)
    states = await desk.evaluate("() => window.__peerConnections.map((pc) => pc.connectionState)")
    assert states[second] == "connected"
    assert await desk.evaluate(f"({PREPARED})()") == 0, "nobody waits: nothing kept ready"
    assert room_errors == [] and desk_errors == [] and third_errors == []


# A device stopping on its own (unplugged, taken by another program) ends its track; the
# test stands in for the unplugging by firing that "ended" event on the track in use.
DEVICE_STOPS = """(kind) => {
  const self = document.querySelector('figure.tile--self video');
  const stream = self && self.srcObject;
  const track = stream.getTracks().find((t) => t.kind === kind);
  track.dispatchEvent(new Event('ended'));
}"""


async def test_a_device_that_stops_during_the_call_is_explained_and_can_be_replaced(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment_id, _token, room, room_errors, desk, desk_errors = await clara_admitted(
        browser, live_server, db, settings, clock, width=1024
    )
    await sees_video_and_hears(desk, "Clara Kundin")
    clara = tile(desk, "Clara Kundin")
    problem = room.locator(".call-media-problem[role=alert]")

    await room.evaluate(DEVICE_STOPS, "video")
    await expect(problem).to_contain_text("Ihre Kamera liefert kein Bild mehr")
    await expect(room.get_by_role("button", name="Kamera aus")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(clara).to_have_attribute("data-video", "off")
    assert await clara.locator("video").evaluate("(v) => v.srcObject === null"), "no stale frame"

    await room.get_by_role("button", name="Kamera aus").click()
    await expect(problem).to_be_hidden()
    await expect(clara).to_have_attribute("data-video", "on")
    await received_video(desk, clara.locator("video"))

    await room.evaluate(DEVICE_STOPS, "audio")
    await expect(problem).to_contain_text("Ihr Mikrofon ist nicht mehr verfügbar")
    await expect(clara.locator(".tile__badge--muted")).to_be_visible()
    await expect(room.get_by_role("button", name="Stummschalten")).to_be_disabled()

    await room.get_by_role("button", name="Geräte").click()
    microphones = room.locator("#call").get_by_label("Mikrofon", exact=True)
    other = await microphones.locator("option").nth(1).get_attribute("value")
    await microphones.select_option(other)
    await expect(problem).to_be_hidden()
    await expect(clara.locator(".tile__badge--muted")).to_be_hidden()
    await expect(room.get_by_role("button", name="Stummschalten")).to_be_enabled()
    await grows(desk, "audio", "packetsReceived")
    assert await axe_violations(room) == []
    assert room_errors == [] and desk_errors == []


async def test_a_dropped_signaling_connection_comes_back_into_the_same_call(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment_id, _token, room, room_errors, desk, desk_errors = await clara_admitted(
        browser, live_server, db, settings, clock, width=1024, scripts=[LINE_CUTTER]
    )
    await sees_video_and_hears(desk, "Clara Kundin")

    await room.evaluate("() => window.__cutLine(4000)")
    await expect(room.locator("#call .call-status")).to_have_text(
        "Die Verbindung ist unterbrochen. Wir verbinden Sie wieder …"
    )
    clara = tile(desk, "Clara Kundin")
    await expect(clara).to_contain_text("Verbindung wird wiederhergestellt")
    await expect(clara).to_have_attribute("data-reconnecting", "true")

    # Back after the backoff, in the same call — nobody admitted her again.
    await expect(room.locator("#call .call-status")).to_have_text(
        "Sie sind im Gespräch.", timeout=20_000
    )
    await expect(clara).to_have_attribute("data-reconnecting", "false", timeout=20_000)
    await expect(tile(desk, "Clara Kundin")).to_have_count(1)
    await sees_video_and_hears(desk, "Clara Kundin")
    await sees_video_and_hears(room, "Bea Berater")
    await expect(desk.locator("#waiting-summary")).to_have_text("Niemand wartet gerade.")
    assert room_errors == [] and desk_errors == []


async def test_reload_rejoins_remove_leads_out_and_hang_up_leads_to_the_survey(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    appointment_id, token, room, room_errors, desk, desk_errors = await clara_admitted(
        browser, live_server, db, settings, clock
    )
    await sees_video_and_hears(room, "Bea Berater")

    # A reload rejoins the running call; the advisor does nothing.
    await room.reload()
    await expect(room.get_by_role("heading", level=1)).to_have_text("Videogespräch")
    await sees_video_and_hears(room, "Bea Berater")
    await sees_video_and_hears(desk, "Clara Kundin")
    await expect(desk.locator("#waiting-summary")).to_have_text("Niemand wartet gerade.")

    # Removed: her page says so and leads back into the waiting room.
    await desk.get_by_role("button", name="Teilnehmende").click()
    await desk.get_by_role("button", name="Entfernen: Clara Kundin").click()
    await expect(desk.get_by_role("dialog")).to_contain_text(
        "Clara Kundin aus dem Gespräch entfernen?"
    )
    await desk.get_by_role("button", name="Entfernen", exact=True).click()
    await expect(room.get_by_role("heading", level=1)).to_have_text(
        "Sie wurden aus dem Gespräch entfernt"
    )
    await expect(tile(desk, "Clara Kundin")).to_have_count(0)
    await room.get_by_role("link", name="Zurück in den Warteraum").click()
    await expect(room.locator("#connection-state")).to_have_text(
        "Verbunden. Sie sind im Warteraum."
    )
    await expect(room.get_by_role("heading", level=1)).to_have_text("Warteraum")

    # Admitted again, she hangs up: the survey follows.
    await desk.get_by_role("button", name="Abholen: Clara Kundin").click()
    await sees_video_and_hears(room, "Bea Berater")
    await room.get_by_role("button", name="Auflegen").click()
    await expect(room).to_have_url(re.compile(r"/umfrage$"))
    await expect(room.get_by_role("heading", level=1)).to_have_text("Drei kurze Fragen")
    await expect(tile(desk, "Clara Kundin")).to_have_count(0)

    # Her answers are kept with the unit and the month only; the link cannot answer twice.
    overall = room.get_by_role("group", name=re.compile("insgesamt"))
    await overall.get_by_label("4", exact=True).check()
    await room.get_by_role("group", name=re.compile("Bild und Ton")).get_by_label("5").check()
    await room.get_by_label("Ja", exact=True).check()
    await room.get_by_role("button", name="Antworten senden").click()
    await expect(room.get_by_role("heading", level=1)).to_have_text("Vielen Dank")
    async with db() as session:
        stored = (await session.scalars(select(SurveyResponse))).all()
        unit_id = await session.scalar(
            select(Appointment.unit_id).where(Appointment.id == appointment_id)
        )
    assert [(r.unit_id, r.month, r.satisfaction, r.av_quality, r.use_again) for r in stored] == [
        (unit_id, START.strftime("%Y-%m"), 4, 5, "yes")
    ]
    await room.goto(f"{live_server.url}/v/{token}/umfrage")
    await expect(room.get_by_role("button", name="Antworten senden")).to_have_count(0)
    assert room_errors == [] and desk_errors == []


async def test_the_advisor_ends_the_call_for_everyone(
    browser: Browser,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    _appointment_id, _token, room, room_errors, desk, desk_errors = await clara_admitted(
        browser, live_server, db, settings, clock
    )
    await sees_video_and_hears(room, "Bea Berater")

    await desk.get_by_role("button", name="Gespräch für alle beenden").click()
    dialog = desk.get_by_role("dialog")
    await expect(dialog).to_contain_text("Das Gespräch für alle beenden?")
    await desk.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await sees_video_and_hears(room, "Bea Berater")

    await desk.get_by_role("button", name="Gespräch für alle beenden").click()
    await desk.get_by_role("button", name="Ja, für alle beenden").click()
    await expect(room.get_by_role("heading", level=1)).to_have_text("Dieser Termin ist vorbei")
    await expect(room.get_by_role("link", name="Zur Umfrage")).to_be_visible()
    await expect(desk.locator("#call-closed")).to_contain_text("Das Gespräch ist beendet.")
    assert room_errors == [] and desk_errors == []
