"""coturn down under the device check, in Debian's Chromium.

The operator sends all media through TURN (``ICE_TRANSPORT_POLICY=relay``) and the app
hands out credentials for a real coturn (``tests/turn_server.py``) — which then is down:
stopped (its ports closed, the browser is refused at once) or hanging (paused with SIGSTOP:
it takes every packet and answers none). Under ``relay`` the test call has no other way to
the echo, so it cannot connect; the check must say so within the test call's own time
budget (``GATHER_TIMEOUT_MS`` to gather candidates, then ``CONNECT_TIMEOUT_MS`` to connect,
in ``static/js/testcall.js``) instead of waiting for the TURN server: the call step reports
that no connection came about, and the verdict is red with the test call's advice.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from chromium import ARGS, FAKE_MEDIA, launch_chromium
from device_check_pages import open_check
from playwright.async_api import Browser, expect

from conftest import LiveServer
from turn_server import TurnServer, relay_settings
from videotermin.settings import Settings
from videotermin.store.models import StaffUser
from videotermin.web import static_files

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

TESTCALL_JS = Path(static_files.__file__).parent / "static" / "js" / "testcall.js"
CALL_FAILED = "Testanruf: Es kam keine Verbindung zustande."
SETTING_UP_MS = 5000
"""Besides the two waits: opening camera and microphone, posting the offer and getting the
echo's answer — generous, so a slow machine passes, while a check that waited for the TURN
server (a browser retries its allocation for about 40 s) fails."""


def js_constant(name: str) -> int:
    found = re.search(rf"^const {name} = (\d+);$", TESTCALL_JS.read_text("utf-8"), re.M)
    assert found, f"{name} in {TESTCALL_JS.name}"
    return int(found.group(1))


def budget_ms() -> int:
    """How long the test call may take before it has to give up."""
    gather, connect = (
        js_constant("GATHER_TIMEOUT_MS"),
        js_constant("CONNECT_TIMEOUT_MS"),
    )
    return SETTING_UP_MS + gather + connect


def listening(turn: TurnServer) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((turn.host, turn.port)) == 0


def take_down(turn: TurnServer, how: str) -> None:
    if how == "paused":  # it takes every packet and answers none
        os.kill(turn.pid, signal.SIGSTOP)
        return
    os.kill(turn.pid, signal.SIGTERM)  # stopped: its ports close
    deadline = time.monotonic() + 10
    while listening(turn):
        assert time.monotonic() < deadline, "coturn did not stop"
        time.sleep(0.05)


@pytest.fixture
def settings(settings: Settings, turn_server: TurnServer) -> Settings:
    return relay_settings(settings, turn_server)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium([*ARGS, *FAKE_MEDIA]) as launched:
        yield launched


@pytest.mark.parametrize("how", ["stopped", "paused"])
async def test_with_coturn_down_the_check_says_so_within_its_time_budget(
    how: str, browser: Browser, live_server: LiveServer, advisor: StaffUser, turn_server: TurnServer
) -> None:
    take_down(turn_server, how)

    page, errors = await open_check(browser, f"{live_server.url}/check")
    await expect(page.locator('[data-state="call"]')).to_have_text(CALL_FAILED, timeout=budget_ms())
    await page.get_by_role("button", name="Ich höre den Ton").click()
    await expect(page.get_by_role("heading", level=2, name="Ergebnis: rot")).to_be_visible()
    finding = page.locator("#check-findings li").filter(has_text="Testanruf:")
    await expect(finding).to_contain_text("Der Testanruf kam nicht zustande.")
    policy = await page.evaluate(
        "() => window.recordedPeerConnections[0].getConfiguration().iceTransportPolicy"
    )

    assert policy == "relay", "the test call took the only way the operator allows"
    assert errors == []
