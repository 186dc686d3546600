"""The call pages in Debian's Chromium, as the call tests drive them: Clara (and Ivo the
interpreter) booked for START with consent given, their waiting rooms, the advisor's call
page, and what proves that someone is seen and heard.

Media is judged by the browser, not by the page's claims: ``PEER_CONNECTIONS``, a
test-only init script that ``open_page`` adds to every context (nothing in the served
pages knows about it), keeps a list of the page's RTCPeerConnections, so a test reads
``getStats()`` — ``inbound-rtp`` video ``framesDecoded`` growing, audio packets arriving —
and checks that the picture in a participant's tile is a track received from a peer
connection, rendered (``videoWidth`` > 0) and moving (``currentTime`` advancing).

Many test modules need these — the Chromium call tests, the Firefox pairings (the
advisor's side, and the scripts ``INBOUND``, ``RECEIVED_VIDEO``, ``RECEIVED_AUDIO`` run in
Firefox too) and the fault tests — so they live here rather than in one of them. A module
that uses the ``browser`` fixture imports it (Chromium with fake devices and screen
capture, ``CALL_ARGS``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import NamedTuple

import pytest
from axe_playwright_python.async_playwright import Axe
from chromium import ARGS, FAKE_MEDIA, launch_chromium
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW, PASSWORD, LiveServer
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.services import appointments as scheduling
from videotermin.services.consent_texts import current_version
from videotermin.settings import Settings
from videotermin.store.models import ConsentRecord

START = NOW + timedelta(days=1)  # Thursday, 3 December 2026, 10:00 in Berlin

# Screen capture without a picker: Chromium's fake UI picks the (fake) screen itself.
CALL_ARGS = [*ARGS, *FAKE_MEDIA, "--auto-select-desktop-capture-source=Entire screen"]

# Test-only instrumentation, injected before any page script: every RTCPeerConnection the
# page makes is kept so the test can ask the browser for its statistics.
PEER_CONNECTIONS = """
(() => {
  const Native = window.RTCPeerConnection;
  const made = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); made.push(this); }
  };
  window.__peerConnections = made;
})();
"""

# Sum of a statistic over the page's open peer connections.
INBOUND = """async ([kind, field]) => {
  let total = 0;
  for (const pc of window.__peerConnections || []) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === kind) total += s[field] || 0;
    });
  }
  return total;
}"""

# The tile's picture is a track received from a peer connection, rendered and moving.
RECEIVED_VIDEO = """(video) => {
  const track = video.srcObject && video.srcObject.getVideoTracks()[0];
  const received = (window.__peerConnections || []).some(
    (pc) => pc.getReceivers().some((r) => r.track === track));
  return received && track.readyState === 'live' && video.videoWidth > 0 && !video.hidden;
}"""

RECEIVED_AUDIO = """(audio) => {
  const track = audio.srcObject && audio.srcObject.getAudioTracks()[0];
  return Boolean(track) && track.readyState === 'live' && (window.__peerConnections || []).some(
    (pc) => pc.getReceivers().some((r) => r.track === track));
}"""


# Test-only: cut the page's signaling line for a while, as a dropped network would. The
# open WebSocket is closed the way the client closes a silent one (4000), and sockets
# opened meanwhile fail at once; the peer connections are left alone.
LINE_CUTTER = """
(() => {
  const Native = window.WebSocket;
  const open = [];
  let downUntil = 0;
  class Dead extends EventTarget {
    readyState = 3;
    constructor() {
      super();
      setTimeout(() => this.onclose && this.onclose({ code: 1006, reason: '' }), 50);
    }
    send() {}
    close() {}
  }
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      if (Date.now() < downUntil) return new Dead();
      super(url, protocols);
      open.push(this);
    }
  };
  window.__cutLine = (ms) => {
    downUntil = Date.now() + ms;
    for (const socket of open.splice(0)) socket.close(4000, 'silent');
  };
})();
"""


CLARA = ParticipantDraft(name="Clara Kundin", email="clara@example.org")
IVO = ParticipantDraft(name="Ivo Dolmetscher", email="ivo@example.org", role="interpreter")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium(CALL_ARGS) as browser:
        yield browser


async def appointment_with(
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    drafts: list[ParticipantDraft],
) -> tuple[str, list[tuple[str, str]]]:
    """An appointment at START whose participants all agreed; (id, [(participant id, token)])."""
    ctx = AppContext(settings=settings, clock=clock, engine=db.kw["bind"], sessions=db)
    async with db() as session, session.begin():
        advisor = await scheduling.find_advisor(session, "berater")
        assert advisor is not None
        appointment, links = await scheduling.create_appointment(
            session,
            ctx,
            advisor=advisor,
            start=START,
            duration_minutes=30,
            subject="Beratung",
            participants=drafts,
        )
        for link in links:
            session.add(
                ConsentRecord(
                    participant_id=link.participant.id,
                    version=current_version(settings),
                    language="de",
                    text_hash="0" * 64,
                    decision="agreed",
                    decided_at=NOW,
                )
            )
    return appointment.id, [(link.participant.id, link.link.rsplit("/", 1)[1]) for link in links]


async def open_page(browser: Browser, width: int = 1024, *scripts: str) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    for script in (PEER_CONNECTIONS, *scripts):
        await context.add_init_script(script)
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


async def advisor_call_page(
    browser: Browser, live_server: LiveServer, appointment_id: str
) -> tuple[Page, list[str]]:
    desk, errors = await open_page(browser)
    await desk.goto(f"{live_server.url}/login")
    await desk.get_by_label("Benutzername").fill("berater")
    await desk.get_by_label("Passwort").fill(PASSWORD)
    await desk.get_by_role("button", name="Anmelden").click()
    await expect(desk).to_have_url(re.compile(r"/termine$"))
    await desk.goto(f"{live_server.url}/appointments/{appointment_id}/call")
    await expect(desk.locator("#call .call-status")).to_have_text(
        "Sie sind im Gespräch. Noch ist niemand sonst da."
    )
    return desk, errors


async def waiting(
    browser: Browser, live_server: LiveServer, token: str, width: int = 360, *scripts: str
) -> tuple[Page, list[str]]:
    room, errors = await open_page(browser, width, *scripts)
    await room.goto(f"{live_server.url}/v/{token}/warteraum")
    await expect(room.locator("#connection-state")).to_have_text(
        "Verbunden. Sie sind im Warteraum."
    )
    return room, errors


class Admitted(NamedTuple):
    appointment_id: str
    token: str
    room: Page
    room_errors: list[str]
    desk: Page
    desk_errors: list[str]


async def clara_admitted(
    browser: Browser,
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    *,
    width: int = 360,
    scripts: Sequence[str] = (),
) -> Admitted:
    """Clara waits in her waiting room two minutes before the start (her page gets
    ``scripts`` first); the advisor opens the call page and clicks "Abholen"."""
    appointment_id, [(_, token)] = await appointment_with(db, settings, clock, [CLARA])
    clock.set(START - timedelta(minutes=2))
    room, room_errors = await waiting(browser, live_server, token, width, *scripts)
    desk, desk_errors = await advisor_call_page(browser, live_server, appointment_id)
    await desk.get_by_role("button", name="Abholen: Clara Kundin").click()
    return Admitted(appointment_id, token, room, room_errors, desk, desk_errors)


def tile(page: Page, name: str) -> Locator:
    return page.locator("figure.tile", has=page.locator(".tile__name", has_text=name))


async def sees_video_and_hears(page: Page, name: str) -> None:
    """``name``'s tile shows received, moving video and plays a received audio track, and
    the page's peer connections decode video frames and receive audio packets."""
    their = tile(page, name)
    video = their.locator("video")
    await expect(video).to_be_visible()
    await received_video(page, video)
    handle = await video.element_handle()
    start = await handle.evaluate("(v) => v.currentTime")
    await page.wait_for_function("([v, t]) => v.currentTime > t", arg=[handle, start], polling=100)
    assert await their.locator("audio").evaluate(RECEIVED_AUDIO), f"audio of {name}"
    await grows(page, "video", "framesDecoded")
    await grows(page, "audio", "packetsReceived")


async def received_video(page: Page, video: Locator) -> None:
    handle = await video.element_handle()
    await page.wait_for_function(f"(v) => ({RECEIVED_VIDEO})(v)", arg=handle, polling=100)


async def grows(page: Page, kind: str, field: str) -> None:
    first = await page.evaluate(INBOUND, [kind, field])
    await page.wait_for_function(
        f"async ([kind, field, first]) => ({INBOUND})([kind, field]) .then((n) => n > first)",
        arg=[kind, field, first],
        polling=100,
    )


async def axe_violations(page: Page) -> list[str]:
    return [v["id"] for v in (await Axe().run(page)).response["violations"]]
