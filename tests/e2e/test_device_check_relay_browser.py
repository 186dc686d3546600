"""The device check's test call forced through a real coturn (``ICE_TRANSPORT_POLICY=relay``).

The test starts its own ``turnserver`` with a random shared secret; the app hands
the browser TURN REST credentials for it and the policy ``relay``. The call must
then bring the picture back, and the browser's own statistics must show that the
selected candidate pair's local candidate is a relay candidate on this coturn's
relay ports — in Chromium and in Firefox. With a wrong secret the same call fails:
coturn checks the credentials, and under ``relay`` the browser has no other way to
the echo.

The echo peer itself uses STUN only (see videotermin.media.ice); what is proven is
the browser's side, which is the side a participant behind a firewall needs.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from chromium import ARGS, FAKE_MEDIA, launch_chromium
from device_check_pages import VERDICT, open_check
from firefox_driver import firefox
from playwright.async_api import Browser, Page, expect
from webrtc_probe import RECORD_PEER_CONNECTIONS, SELECTED_LOCAL_CANDIDATE

from conftest import LiveServer
from turn_server import TurnServer, relay_settings
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


@pytest.fixture
def app_secret(turn_server: TurnServer) -> str:
    """The app's copy of coturn's shared secret; a test parametrizes a wrong one."""
    return turn_server.secret


@pytest.fixture
def settings(settings: Settings, turn_server: TurnServer, app_secret: str) -> Settings:
    return relay_settings(settings, turn_server, secret=app_secret)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium([*ARGS, *FAKE_MEDIA]) as launched:
        yield launched


async def finish_with_verdict(page: Page, verdict: re.Pattern[str]) -> None:
    await page.get_by_role("button", name="Ich höre den Ton").click()
    await expect(page.get_by_role("heading", level=2, name=verdict)).to_be_visible(timeout=30_000)


async def test_the_relay_only_test_call_goes_through_coturn(
    browser: Browser, live_server: LiveServer, advisor: StaffUser, turn_server: TurnServer
) -> None:
    page, errors = await open_check(browser, f"{live_server.url}/check")

    call: dict[str, Any] = await page.evaluate(SELECTED_LOCAL_CANDIDATE)
    await expect(page.locator("#check-returned")).to_have_js_property(
        "videoWidth", 640, timeout=10_000
    )
    await finish_with_verdict(page, VERDICT)
    finding = page.locator("#check-findings li").filter(has_text="Testanruf:")
    await expect(finding).to_contain_text(
        "Ihr Bild und Ton sind über unseren Server zu Ihnen zurückgekommen."
    )

    assert (call["state"], call["policy"]) == ("connected", "relay")
    local = call["local"]
    assert local is not None and local["type"] == "relay"
    assert turn_server.relays(local["address"], local["port"]), local
    assert errors == []


@pytest.mark.parametrize("app_secret", ["nicht-das-geheimnis"])
async def test_with_a_wrong_secret_the_relay_only_call_fails(
    browser: Browser, live_server: LiveServer, advisor: StaffUser
) -> None:
    page, errors = await open_check(browser, f"{live_server.url}/check")

    call: dict[str, Any] = await page.evaluate(SELECTED_LOCAL_CANDIDATE)
    await finish_with_verdict(page, re.compile("Ergebnis: rot"))
    finding = page.locator("#check-findings li").filter(has_text="Testanruf:")
    await expect(finding).to_contain_text("Der Testanruf kam nicht zustande.")

    assert call["policy"] == "relay"
    assert call["state"] != "connected"
    assert errors == []


async def test_firefox_relays_the_test_call_through_coturn_too(
    live_server: LiveServer, advisor: StaffUser, turn_server: TurnServer
) -> None:
    async with firefox() as fox:
        await fox.init(RECORD_PEER_CONNECTIONS)
        await fox.goto(f"{live_server.url}/check?lang=de")

        call: dict[str, Any] = await fox.evaluate(SELECTED_LOCAL_CANDIDATE)
        await fox.click("button", "Ich höre den Ton")
        verdict = await fox.wait("#check-verdict h2", "Ergebnis:", timeout_ms=30_000)
        finding = await fox.wait("#check-findings li", "Testanruf:")
        errors = await fox.errors()

    assert (call["state"], call["policy"]) == ("connected", "relay")
    local = call["local"]
    assert local is not None and local["type"] == "relay"
    assert turn_server.relays(local["address"], local["port"]), local
    assert VERDICT.match(verdict.strip()), verdict
    assert "Ihr Bild und Ton sind über unseren Server zu Ihnen zurückgekommen." in finding
    assert errors == []
