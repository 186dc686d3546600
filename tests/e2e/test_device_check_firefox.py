"""The device check in Firefox ESR (fake camera and microphone through its prefs).

Citizens do not all use Chromium: a participant with Firefox opens the check on
the personal link; it runs by itself, the test call to the echo peer brings the
picture back (Firefox decodes growing numbers of frames), the verdict shows a
working camera, microphone and test call with measured figures, and the stored
DeviceCheck names Firefox. (Headless Firefox keeps Web Audio suspended without a
click and reports no microphone energy on ``media-source``; the microphone is then
judged by the energy of the audio the echo returns.) Firefox is driven over
WebDriver BiDi (tests/e2e/firefox_driver.py).
"""

from __future__ import annotations

import re

import pytest
from device_check_pages import agreed_participant
from firefox_driver import firefox
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webrtc_probe import FRAMES_DECODED, RECORD_PEER_CONNECTIONS

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import DeviceCheck, StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

# Mean brightness (0–255) of a picture on the page.
BRIGHTNESS = """(() => {
    const video = document.querySelector('%s');
    const canvas = Object.assign(document.createElement('canvas'), {width: 32, height: 24});
    const context = canvas.getContext('2d');
    context.drawImage(video, 0, 0, 32, 24);
    const pixels = context.getImageData(0, 0, 32, 24).data;
    let total = 0;
    for (let i = 0; i < pixels.length; i += 4) total += pixels[i] + pixels[i + 1] + pixels[i + 2];
    return total / (pixels.length / 4) / 3;
})()"""
FINDING = "#check-findings li"
VIDEOS = ("#check-self", "#check-returned")


async def test_the_check_runs_in_firefox_with_a_working_test_call(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_participant(db, settings, clock)
    async with firefox() as browser:
        await browser.init(RECORD_PEER_CONNECTIONS)
        await browser.goto(f"{live_server.url}/v/{token}/geraete?lang=de")

        first = await browser.until(f"{FRAMES_DECODED}.then((n) => n > 0 && n)", timeout_ms=20_000)
        returned = await browser.until(
            f"{FRAMES_DECODED}.then((n) => n > {first} && n)", timeout_ms=5_000
        )
        size = await browser.evaluate(
            "[...document.querySelectorAll('.check-video')].map((v) => v.videoWidth)"
        )
        brightness = [await browser.evaluate(BRIGHTNESS % v) for v in VIDEOS]
        camera = await browser.wait('[data-state="camera"]', "Kamera:")
        await browser.click("button", "Ich höre den Ton")
        verdict = await browser.wait("#check-verdict h2", "Ergebnis:", timeout_ms=30_000)
        call = await browser.wait(FINDING, "Testanruf:")
        microphone = await browser.wait(FINDING, "Mikrofon:")
        round_trip = await browser.wait(FINDING, "Laufzeit hin und zurück:")
        room = await browser.evaluate("document.querySelector('#check-enter').pathname")
        agent = await browser.evaluate("navigator.userAgent")
        errors = await browser.errors()

    assert re.match(r"Ergebnis: (grün|gelb)", verdict.strip()), verdict
    assert camera == "Kamera: Ihr Bild ist da."
    assert "Ihr Bild und Ton sind über unseren Server zu Ihnen zurückgekommen." in call
    assert "Ihr Mikrofon nimmt Ton auf." in microphone, "Firefox's fake tone was heard"
    assert re.search(r"\(\d+ ms\)", round_trip), round_trip
    assert returned > first > 0, "the echo's video comes back and Firefox decodes it"
    assert min(size) > 0
    assert min(brightness) > 20, "camera and returned picture show Firefox's fake camera"
    assert room == f"/v/{token}/warteraum"
    assert errors == []
    async with db() as session:
        [check] = list(await session.scalars(select(DeviceCheck)))
    assert check.browser_family == "Firefox"
    assert check.browser_version and f"Firefox/{check.browser_version}" in agent
    assert check.verdict in ("green", "yellow")
    assert '"connection/ok"' in (check.findings or "")
    assert check.round_trip_ms is not None
    assert check.bitrate_kbps and check.bitrate_kbps > 0
