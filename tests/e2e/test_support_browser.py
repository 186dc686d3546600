"""The support desk in Debian's Chromium, as it is used on the phone.

A citizen opens her link; a supporter types the code her page shows (as read aloud:
lower case, with spaces) and sees her on her link page. She opens the device check,
and the supporter's open page shows the check running, then — when she blocks
camera and microphone — the blocked camera, as an alert, without a reload. axe-core
finds no violations on the search form and the participant's view, at 360 px and
1280 px, and neither page is wider than its window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from chromium import ARGS, FAKE_MEDIA, launch_chromium
from device_check_pages import agreed_participant
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD, LiveServer, add_staff
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

# The citizen takes a moment before she clicks "Block": getUserMedia refuses after 1.5 s.
SLOW_BLOCK = """
navigator.mediaDevices.getUserMedia = () => new Promise((_, reject) =>
    setTimeout(() => reject(new DOMException('denied', 'NotAllowedError')), 1500));
"""


async def problems(page: Page) -> list[str]:
    found = [v["id"] for v in (await Axe().run(page)).response["violations"]]
    wide = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    return [*found, "wider than the window"] if wide else found


async def test_a_supporter_watches_the_citizens_camera_get_blocked_live(
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    token = await agreed_participant(db, settings, clock, timedelta(minutes=20))
    await add_staff(db, "support-sven", role="support", display_name="Sven Support")
    async with launch_chromium([*ARGS, *FAKE_MEDIA]) as browser:
        citizen_context = await browser.new_context(
            viewport={"width": 360, "height": 740}, locale="de-DE"
        )
        await citizen_context.add_init_script(SLOW_BLOCK)
        citizen = await citizen_context.new_page()
        await citizen.goto(f"{live_server.url}/v/{token}")
        shown_code = (await citizen.locator(".support-code strong").inner_text()).strip()

        found: dict[str, list[str]] = {}
        for width in (1280, 360):
            context = await browser.new_context(
                viewport={"width": width, "height": 900}, locale="de-DE"
            )
            supporter = await context.new_page()
            errors: list[str] = []
            supporter.on(
                "console",
                lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None,
            )
            await supporter.goto(f"{live_server.url}/login")
            await supporter.get_by_label("Benutzername").fill("support-sven")
            await supporter.get_by_label("Passwort").fill(PASSWORD)
            await supporter.get_by_role("button", name="Anmelden").click()
            await expect(supporter).to_have_url(f"{live_server.url}/support")
            found[f"search {width}"] = await problems(supporter)
            code_field = supporter.get_by_label("Support-Code")
            await expect(code_field).to_be_focused()
            await code_field.fill(" ".join(shown_code.lower()))
            await code_field.press("Enter")
            await expect(supporter.get_by_role("heading", name="Support-Ansicht")).to_be_visible()
            details = supporter.locator("#support-details")
            await expect(details).to_contain_text("Clara Kundin")
            await expect(details).to_contain_text("Auf der Seite des persönlichen Links")
            await expect(supporter.locator("#support-live-state")).to_have_attribute(
                "data-state", "open"
            )
            found[f"view {width}"] = await problems(supporter)
            assert errors == []
            if width == 1280:
                watcher = supporter

        await citizen.goto(f"{live_server.url}/v/{token}/geraete")
        live = watcher.locator("#support-details")
        await expect(live).to_contain_text("Gerätetest: geöffnet", timeout=5_000)
        await expect(citizen.locator("#check-failure-blocked")).to_be_visible(timeout=10_000)
        alert = watcher.locator("#support-details [role=alert]")
        await expect(alert).to_contain_text(
            "Kamera und Mikrofon sind im Browser blockiert", timeout=2_000
        )
        await expect(live).to_have_attribute("data-problem", "true")
        found["view with alert"] = await problems(watcher)

    assert found == {key: [] for key in found}
