"""Known failure classes of comparable systems (issue 13, item 4) that only a browser shows:
a stale frame after camera off, markup in a display name, and media fetched from a URL a
participant sends. Debian's Chromium with fake camera and microphone, the real app, the
test's FakeClock (the appointment starts in two minutes); the call is set up as in
tests/e2e/test_call_browser.py, with the helpers of tests/e2e/call_pages.py.

The server-side halves of the classes are in tests/web/test_known_failure_classes.py;
docs/known-failure-classes.md maps every class to its tests.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from call_pages import (
    INBOUND,
    START,
    appointment_with,
    browser,  # noqa: F401 - the Chromium fixture with fake devices (CALL_ARGS)
    clara_admitted,
    grows,
    open_page,
    sees_video_and_hears,
    tile,
    waiting,
)
from playwright.async_api import Browser, Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD, LiveServer
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


async def no_stale_picture(page: Page, name: str) -> bool:
    """``name``'s tile shows no video element, and none holding a stream whose last frame
    could stay on screen."""
    video = tile(page, name).locator("video")
    return bool(await video.evaluate("(v) => v.hidden && v.srcObject === null"))


# The tracks the page's peer connections send to the others, by kind and state.
SENT_TRACKS = """() => (window.__peerConnections || [])
  .filter((pc) => pc.connectionState !== 'closed')
  .flatMap((pc) => pc.getSenders())
  .filter((s) => s.track)
  .map((s) => `${s.track.kind}:${s.track.readyState}`)"""

# The page's own picture: live camera tracks it still holds (the camera light is on).
LIVE_CAMERA = """() => {
  const video = document.querySelector('figure.tile--self video');
  const stream = video && video.srcObject;
  return stream ? stream.getVideoTracks().filter((t) => t.readyState === 'live').length : 0;
}"""


async def test_a_stale_frame_after_camera_off_nothing_of_the_camera_reaches_the_others(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    """GHSA-wq3g-2x46-q2gv: the last video frame stayed visible to others after the camera
    was switched off. Here camera off stops the camera track and sends no video at all
    (``replaceTrack(null)``): the others' tile shows the initials, a page that joins
    afterwards (the advisor reloads) decodes no video frame of her while her sound flows,
    and camera on brings the moving picture back."""
    admitted = await clara_admitted(browser, live_server, db, settings, clock, width=1024)
    room, desk = admitted.room, admitted.desk
    await sees_video_and_hears(desk, "Clara Kundin")

    camera = room.get_by_role("button", name="Kamera aus")
    await camera.click()
    await expect(camera).to_have_attribute("aria-pressed", "true")
    await expect(tile(desk, "Clara Kundin")).to_have_attribute("data-video", "off")
    assert await no_stale_picture(desk, "Clara Kundin"), "no stale frame at the advisor"
    await room.wait_for_function(f"() => !({SENT_TRACKS})().some((t) => t.startsWith('video'))")
    assert await room.evaluate(SENT_TRACKS) == ["audio:live"], "only her sound leaves the page"
    assert await room.evaluate(LIVE_CAMERA) == 0, "the camera is released"

    await desk.reload()
    clara = tile(desk, "Clara Kundin")
    await expect(clara).to_be_visible()
    await expect(clara).to_have_attribute("data-video", "off")
    await expect(clara.locator(".tile__avatar")).to_have_text("CK")
    await grows(desk, "audio", "packetsReceived")
    assert await no_stale_picture(desk, "Clara Kundin"), "no frame for a page that joins later"
    assert await desk.evaluate(INBOUND, ["video", "framesDecoded"]) == 0

    await camera.click()
    await expect(camera).to_have_attribute("aria-pressed", "false")
    await expect(clara).to_have_attribute("data-video", "on")
    await sees_video_and_hears(desk, "Clara Kundin")
    assert admitted.room_errors == [] and admitted.desk_errors == []


EVIL_CITIZEN = 'Clara <img src=x onerror="window.pwned=1"><b class="injected">Kundin</b>'
EVIL_ADVISOR = 'Bea <img src=x onerror="window.pwned=1"><i class="injected">Berater</i>'
# Markup a name would have made: the probe elements, images, and a script that ran.
INJECTED = """() => document.querySelectorAll('.injected, img').length
  + (window.pwned === undefined ? 0 : 100)"""


async def test_xss_through_a_display_name_is_shown_as_text_in_the_live_list_and_the_call(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    """BigBlueButton CVE-2022-31064: XSS through a display name. A citizen's and an
    advisor's name made of markup show as the text they are, and make no element, in every
    place a script puts them: the live list's row and alert, the call page's waiting list,
    tiles, participant list and chat, and the citizen's view of the advisor."""
    appointment_id, [(_, token)] = await appointment_with(
        db, settings, clock, [ParticipantDraft(name=EVIL_CITIZEN, email="clara@example.org")]
    )
    async with db() as session, session.begin():
        await session.execute(
            update(StaffUser).where(StaffUser.id == advisor.id).values(display_name=EVIL_ADVISOR)
        )
    clock.set(START - timedelta(minutes=2))
    desk, desk_errors = await open_page(browser, 1280)
    await desk.goto(f"{live_server.url}/login")
    await desk.get_by_label("Benutzername").fill("berater")
    await desk.get_by_label("Passwort").fill(PASSWORD)
    await desk.get_by_role("button", name="Anmelden").click()
    await desk.goto(f"{live_server.url}/termine/{appointment_id}")

    room, room_errors = await waiting(browser, live_server, token, 1024)
    await expect(desk.locator(".live-alert")).to_contain_text(f"{EVIL_CITIZEN} (Kundin/Kunde)")
    await expect(desk.locator(".participant--entered")).to_contain_text(EVIL_CITIZEN)
    assert await desk.evaluate(INJECTED) == 0, "the live list"

    await desk.get_by_role("link", name=re.compile(r"^Abholen\W+Clara")).click()
    await expect(tile(desk, EVIL_CITIZEN)).to_be_visible()
    await expect(tile(room, EVIL_ADVISOR)).to_be_visible()
    await room.get_by_role("button", name="Chat").click()
    await room.get_by_label("Ihre Nachricht").fill("Guten Tag")
    await room.get_by_role("button", name="Senden").click()
    await desk.get_by_role("button", name=re.compile("^Chat")).click()
    await expect(desk.locator(".call-chat__who").last).to_have_text(EVIL_CITIZEN)
    await desk.get_by_role("button", name="Teilnehmende").click()
    await expect(desk.locator(".call-participants__list")).to_contain_text(EVIL_CITIZEN)
    await room.get_by_role("button", name="Teilnehmende").click()
    await expect(room.locator(".call-participants__list")).to_contain_text(EVIL_ADVISOR)

    assert await desk.evaluate(INJECTED) == 0, "the advisor's call page"
    assert await room.evaluate(INJECTED) == 0, "the citizen's call view"
    assert room_errors == [] and desk_errors == [], "no script errors, no CSP refusals"


FOREIGN = "media.evil.example"
LINE = (
    f"Mein Foto: https://{FOREIGN}/a.png <img src=https://{FOREIGN}/p.gif> "
    f"<video src=https://{FOREIGN}/v.mp4></video> ![x](https://{FOREIGN}/m.png)"
)
WATCH_CSP = """() => {
  window.refusedLoads = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.refusedLoads.push(e.blockedURI);
  });
}"""
EMBEDDED = "a, img, video:not(.tile__video), audio, iframe, object, embed, source, picture"


async def test_media_fetched_from_urls_other_participants_send_a_chat_link_loads_nothing(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    """Jitsi CVE-2024-44080: a participant made the others' pages load media from a URL of
    their choosing (and so learn their addresses). A chat line full of links and media
    markup shows as text on both pages; neither page makes an element of it, requests
    anything from that host, or even tries to (no load refused by the CSP either)."""
    admitted = await clara_admitted(browser, live_server, db, settings, clock, width=1024)
    room, desk = admitted.room, admitted.desk
    asked: list[str] = []
    for page in (room, desk):
        page.on("request", lambda request: asked.append(request.url))
        await page.evaluate(WATCH_CSP)
    await sees_video_and_hears(desk, "Clara Kundin")

    await room.get_by_role("button", name="Chat").click()
    await room.get_by_label("Ihre Nachricht").fill(LINE)
    await room.get_by_role("button", name="Senden").click()
    await desk.get_by_role("button", name=re.compile("^Chat")).click()
    for page in (desk, room):
        await expect(page.locator(".call-chat__text-line").last).to_have_text(LINE)
        assert await page.locator(".call-chat__log").locator(EMBEDDED).count() == 0
    # Both pages have drawn the line; anything it made them fetch was asked for by now.
    await sees_video_and_hears(room, "Bea Berater")

    assert [url for url in asked if FOREIGN in url] == []
    assert await desk.evaluate("() => window.refusedLoads") == []
    assert await room.evaluate("() => window.refusedLoads") == []
    assert admitted.room_errors == [] and admitted.desk_errors == []
