"""The device check in Debian's Chromium with its fake camera and microphone.

A participant who has agreed opens the check: it runs by itself up to the speaker
question, makes a real test call through the echo peer (the returned picture is
decoded in the page's <video>), shows a verdict and stores a DeviceCheck. A browser
that denies camera and microphone gets the unblock help with the hotline; without a
camera the check goes on with sound only, a black picture is noticed, and every
other failure has its own help. axe-core finds no violations on the check during and
after it, on the help and on /check, and the speaker question works by keyboard.

The server's clock is the test's FakeClock; the page itself never reads the time."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
from axe_playwright_python.async_playwright import Axe
from chromium import ARGS, FAKE_MEDIA, launch_chromium
from device_check_pages import VERDICT, agreed_participant
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import DeviceCheck, StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

Launcher = Callable[[list[str]], AbstractAsyncContextManager[Browser]]


@pytest.fixture
def chromium() -> Launcher:
    return lambda extra: launch_chromium([*ARGS, *extra])


async def phone_page(browser: Browser) -> tuple[Page, list[str]]:
    """A 360px phone, and the console errors its pages report (CSP refusals among them)."""
    context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="de-DE")
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


async def violations(page: Page) -> list[str]:
    """axe-core's violations (by rule id), plus a page wider than the phone."""
    found = [v["id"] for v in (await Axe().run(page)).response["violations"]]
    wide = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    return [*found, "wider than 360px"] if wide else found


async def returned_picture_brightness(page: Page, enough: float = 40) -> float:
    """Mean brightness (0–255) of the echo's returned picture, read from the <video>:
    the brightest reading within five seconds, stopping once it reaches ``enough``.

    Chromium paints a video only while it is on screen, so it is scrolled into view;
    under load the first painted frames may still be dark, hence the repeated reading."""
    video = page.locator("#check-returned")
    await video.scroll_into_view_if_needed()
    brightest = 0.0
    for _ in range(50):
        await page.wait_for_timeout(100)
        brightest = max(
            brightest,
            float(
                await video.evaluate(
                    """video => {
                        const canvas = document.createElement('canvas');
                        canvas.width = 32;
                        canvas.height = 24;
                        const context = canvas.getContext('2d');
                        context.drawImage(video, 0, 0, 32, 24);
                        const pixels = context.getImageData(0, 0, 32, 24).data;
                        let total = 0;
                        for (let i = 0; i < pixels.length; i += 4) total += pixels[i + 1];
                        return total / (pixels.length / 4);
                    }"""
                )
            ),
        )
        if brightest >= enough:
            break
    return brightest


async def returned_frames(page: Page) -> int:
    """Frames of the echo's returned video that the page decoded and showed."""
    return int(
        await page.locator("#check-returned").evaluate(
            "video => video.getVideoPlaybackQuality().totalVideoFrames"
        )
    )


async def test_the_check_runs_by_itself_and_stores_a_verdict(
    chromium: Launcher,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_participant(db, settings, clock)
    async with chromium(FAKE_MEDIA) as browser:
        page, errors = await phone_page(browser)
        await page.goto(f"{live_server.url}/v/{token}/geraete")

        heard = page.get_by_role("button", name="Ich höre den Ton")
        await expect(heard).to_be_visible(timeout=10_000)
        await expect(page.locator("#check-returned")).to_have_js_property(
            "videoWidth", 640, timeout=10_000
        )
        during = await violations(page)
        brightness = await returned_picture_brightness(page)
        await heard.click()

        verdict = page.get_by_role("heading", level=2, name=VERDICT)
        await expect(verdict).to_be_visible(timeout=30_000)
        await expect(page.locator("#check-verdict")).to_be_focused()
        await expect(page.get_by_role("status")).to_have_text(
            "Der Gerätetest ist fertig. Das Ergebnis steht unten."
        )
        findings = page.locator("#check-findings li")
        await expect(findings.filter(has_text="Testanruf:")).to_contain_text("in Ordnung")
        await expect(findings.filter(has_text="Lautsprecher:")).to_contain_text(
            "Sie hören den Testton."
        )
        await expect(page.get_by_role("link", name="Beratungsraum betreten")).to_have_attribute(
            "href", f"/v/{token}/warteraum"
        )
        frames = await returned_frames(page)
        after = await violations(page)
        echo = live_server.server.config.app.state.ctx.echo  # type: ignore[attr-defined]
        for _ in range(30):  # the page hung up: well before the echo's own deadline
            if echo.active_calls == 0:
                break
            await asyncio.sleep(0.1)
        assert echo.active_calls == 0

    assert frames > 0, "the echo's video came back and was decoded"
    assert brightness > 40, "the returned picture is the fake camera's, not black"
    assert (during, after) == ([], [])
    assert errors == []
    async with db() as session:
        [check] = list(await session.scalars(select(DeviceCheck)))
    assert check.verdict in ("green", "yellow")
    assert check.browser_family in ("Chrome", "Chromium")
    assert check.os_family == "Linux"
    assert check.bitrate_kbps and check.bitrate_kbps > 0
    assert check.round_trip_ms is not None and check.download_kbps and check.upload_kbps
    assert '"connection/ok"' in (check.findings or "")


async def test_a_blocked_camera_shows_how_to_unblock_it(
    chromium: Launcher,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_participant(db, settings, clock)
    async with chromium(
        ["--use-fake-device-for-media-stream", "--deny-permission-prompts"]
    ) as browser:
        page, errors = await phone_page(browser)
        await page.goto(f"{live_server.url}/v/{token}/geraete")

        help_ = page.locator("#check-failure-blocked")
        await expect(help_).to_be_visible(timeout=10_000)
        await expect(help_).to_be_focused()
        await expect(help_.get_by_role("heading", level=2)).to_have_text(
            "Kamera und Mikrofon sind blockiert"
        )
        await expect(help_.get_by_role("heading", level=3)).to_have_text(
            "Chrome und Edge am Computer"
        )
        await expect(help_.get_by_role("link", name="0800 123 4567")).to_have_attribute(
            "href", "tel:08001234567"
        )
        await expect(page.locator("#check-steps")).to_be_hidden()
        found = await violations(page)

    assert found == []
    assert errors == []
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(DeviceCheck)) == 0


# Stand-ins for a device without a camera, and for getUserMedia's other refusals;
# they replace the browser's API before the page's script runs.
NO_CAMERA = """
const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) => constraints && constraints.video
    ? Promise.reject(new DOMException('no camera', 'NotFoundError'))
    : real(constraints);
"""
BLACK_CAMERA = """
const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await real(constraints);
    if (!constraints || !constraints.video) return stream;
    const canvas = Object.assign(document.createElement('canvas'), { width: 640, height: 480 });
    const context = canvas.getContext('2d');
    setInterval(() => context.fillRect(0, 0, 640, 480), 50);
    for (const track of stream.getVideoTracks()) { stream.removeTrack(track); track.stop(); }
    stream.addTrack(canvas.captureStream(20).getVideoTracks()[0]);
    return stream;
};
"""
REFUSE_WITH = (
    "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('', '%s'));"
)
NO_WEBRTC = "window.RTCPeerConnection = undefined;"


async def test_without_a_camera_the_check_goes_on_with_sound_only(
    chromium: Launcher,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_participant(db, settings, clock)
    async with chromium(FAKE_MEDIA) as browser:
        page, errors = await phone_page(browser)
        await page.add_init_script(NO_CAMERA)
        await page.goto(f"{live_server.url}/v/{token}/geraete")

        await expect(page.locator('[data-state="camera"]')).to_have_text(
            "Kamera: keine Kamera gefunden."
        )
        await page.get_by_role("button", name="Ich höre den Ton").click()
        verdict = page.get_by_role("heading", level=2, name=re.compile("Ergebnis: gelb"))
        await expect(verdict).to_be_visible(timeout=30_000)
        await expect(page.locator("#check-findings")).to_contain_text(
            "Der Termin ist ohne Bild möglich"
        )

    assert errors == []
    async with db() as session:
        [check] = list(await session.scalars(select(DeviceCheck)))
    assert check.verdict == "yellow"
    assert '"camera/missing"' in (check.findings or "")
    assert '"connection/ok"' in (check.findings or ""), "the call ran with sound only"


async def test_a_black_camera_picture_is_found(
    chromium: Launcher, live_server: LiveServer, advisor: StaffUser
) -> None:
    async with chromium(FAKE_MEDIA) as browser:
        page, errors = await phone_page(browser)
        await page.add_init_script(BLACK_CAMERA)
        await page.goto(f"{live_server.url}/check")

        await expect(page.locator('[data-state="camera"]')).to_have_text(
            "Kamera: Das Bild bleibt schwarz.", timeout=10_000
        )
        await page.get_by_role("button", name="Ich höre den Ton").click()
        verdict = page.get_by_role("heading", level=2, name=re.compile("Ergebnis: gelb"))
        await expect(verdict).to_be_visible(timeout=30_000)
        await expect(page.locator("#check-findings")).to_contain_text(
            "Prüfen Sie, ob die Kamera abgedeckt ist"
        )

    assert errors == []


@pytest.mark.parametrize(
    ("script", "failure", "heading"),
    [
        (REFUSE_WITH % "NotFoundError", "notfound", "Keine Kamera und kein Mikrofon gefunden"),
        (REFUSE_WITH % "NotReadableError", "busy", "Kamera oder Mikrofon wird gerade benutzt"),
        (NO_WEBRTC, "unsupported", "Ihr Browser unterstützt keine Videoanrufe"),
    ],
    ids=["no devices", "in use", "no webrtc"],
)
async def test_each_failure_has_its_own_help(
    chromium: Launcher,
    live_server: LiveServer,
    advisor: StaffUser,
    script: str,
    failure: str,
    heading: str,
) -> None:
    async with chromium(FAKE_MEDIA) as browser:
        page, errors = await phone_page(browser)
        await page.add_init_script(script)
        await page.goto(f"{live_server.url}/check")

        help_ = page.locator(f"#check-failure-{failure}")
        await expect(help_).to_be_focused(timeout=10_000)
        await expect(help_.get_by_role("heading", level=2)).to_have_text(heading)
        await expect(help_).to_contain_text("0800 123 4567")
        assert await page.locator(".check-failure:visible").count() == 1

    assert errors == []


async def test_the_public_check_runs_and_stores_nothing(
    chromium: Launcher,
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with chromium(FAKE_MEDIA) as browser:
        page, errors = await phone_page(browser)
        await page.goto(f"{live_server.url}/check?lang=en")

        before = await violations(page)
        nothing = page.get_by_role("button", name="I hear nothing")
        await expect(page.get_by_role("button", name="I can hear the tone")).to_be_focused(
            timeout=20_000
        )
        await page.keyboard.press("Tab")
        await expect(nothing).to_be_focused()
        await page.keyboard.press("Enter")
        verdict = page.get_by_role("heading", level=2, name=re.compile(r"Result: yellow"))
        await expect(verdict).to_be_visible(timeout=30_000)
        await expect(page.locator("#check-findings")).to_contain_text(
            "You cannot hear the test tone."
        )
        after = await violations(page)

    assert (before, after) == ([], [])
    assert errors == []
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(DeviceCheck)) == 0
