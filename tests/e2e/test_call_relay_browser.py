"""A call forced through a real coturn (``VIDEOTERMIN_ICE_TRANSPORT_POLICY=relay``).

Operators set ``relay`` so that participants never learn each other's network
addresses and so that calls work behind firewalls that allow nothing but the TURN
server. The test starts its own ``turnserver`` with a random shared secret; the app
hands the TURN REST credentials made from it and the policy ``relay`` to admitted
participants only (in ``admitted``). The citizen and the advisor (two Chromium
contexts) must then see each other's moving picture, and on BOTH sides the browser's
own statistics must show that the selected candidate pair's local candidate is a
relay candidate on this coturn's relay ports — no direct path was used.

When every relayed path breaks (coturn paused), both sides show the other as
"Verbindung wird wiederhergestellt", restart ICE (new ICE credentials on both
sides) and, once coturn answers again, see each other's moving picture again.
Before the client watched for a stuck picture (quality.js), that last step failed in about one
run in four: ICE was connected again, but the keyframe asked for during the
outage had been lost and the tile stayed black.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest
from call_pages import (
    browser,  # noqa: F401 - the Chromium fixture with fake devices
    clara_admitted,
    grows,
    received_video,
    tile,
)
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from turn_server import TurnServer, relay_settings
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]

# Every open peer connection of the page (recorded by call_pages.PEER_CONNECTIONS)
# with its state, its ICE transport policy and the local and remote candidate types of
# each transport's selected pair: transport → selectedCandidatePairId → candidate-pair
# → local-candidate.
SELECTED_PAIRS = """async () => {
  const found = [];
  for (const pc of window.__peerConnections || []) {
    if (pc.connectionState === 'closed') continue;
    const report = await pc.getStats();
    const pairs = [];
    report.forEach((stat) => {
      if (stat.type !== 'transport') return;
      const pair = stat.selectedCandidatePairId && report.get(stat.selectedCandidatePairId);
      const local = pair && report.get(pair.localCandidateId);
      pairs.push(local
        ? { type: local.candidateType, address: local.address, port: local.port,
            relayProtocol: local.relayProtocol, bytesSent: pair.bytesSent,
            bytesReceived: pair.bytesReceived }
        : null);
    });
    found.push({
      state: pc.connectionState,
      policy: pc.getConfiguration().iceTransportPolicy,
      pairs,
    });
  }
  return found;
}"""


@pytest.fixture
def settings(settings: Settings, turn_server: TurnServer) -> Settings:
    return relay_settings(settings, turn_server)


async def sees_video(page: Page, name: str) -> None:
    """``name``'s tile shows a received, rendered picture and the page decodes frames."""
    await received_video(page, tile(page, name).locator("video"))
    await grows(page, "video", "framesDecoded")


async def relayed(page: Page, turn: TurnServer, settle_s: float = 15.0) -> list[dict[str, Any]]:
    """The page's one open connection, connected under ``relay`` through ``turn`` only.

    Asked again for up to ``settle_s`` seconds: right after an ICE restart (the stuck-picture
    watch may start one more while the first settles) the newly selected pair has not yet
    counted a received byte, although pictures already arrive.
    """
    deadline = asyncio.get_running_loop().time() + settle_s
    while True:
        try:
            return await _relayed_now(page, turn)
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _relayed_now(page: Page, turn: TurnServer) -> list[dict[str, Any]]:
    connections: list[dict[str, Any]] = await page.evaluate(SELECTED_PAIRS)
    assert len(connections) == 1, connections
    [connection] = connections
    assert (connection["state"], connection["policy"]) == ("connected", "relay"), connection
    pairs = connection["pairs"]
    assert pairs, f"no transport stat: {connection}"
    for local in pairs:
        assert local is not None, f"a transport without a selected pair: {connection}"
        assert local["type"] == "relay", connection
        assert turn.relays(local["address"], local["port"]), (local, turn)
        assert local["bytesSent"] > 0 and local["bytesReceived"] > 0, connection
    return pairs


async def test_a_relay_only_call_goes_through_coturn_on_both_sides(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    turn_server: TurnServer,
) -> None:
    _appointment_id, _token, room, room_errors, desk, desk_errors = await clara_admitted(
        browser, live_server, db, settings, clock
    )

    await sees_video(room, "Bea Berater")
    await sees_video(desk, "Clara Kundin")

    citizen_side = await relayed(room, turn_server)
    advisor_side = await relayed(desk, turn_server)
    # Two allocations on the one coturn: each side relays through its own.
    assert {(p["address"], p["port"]) for p in citizen_side}.isdisjoint(
        (p["address"], p["port"]) for p in advisor_side
    )
    assert room_errors == [] and desk_errors == [], "no script errors, no CSP refusals"


# The ICE username fragment each open connection negotiated last: an ICE restart
# (restartIce, negotiated like any offer) gives both sides new ones.
UFRAGS = """() => (window.__peerConnections || [])
  .filter((pc) => pc.connectionState !== 'closed')
  .map((pc) => (/a=ice-ufrag:(\\S+)/.exec(pc.currentLocalDescription?.sdp || '') || [])[1])"""


async def test_a_relayed_path_that_breaks_is_restarted_and_the_picture_comes_back(
    browser: Browser,  # noqa: F811 - the imported fixture
    live_server: LiveServer,
    advisor: StaffUser,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    turn_server: TurnServer,
) -> None:
    _appointment_id, _token, room, room_errors, desk, desk_errors = await clara_admitted(
        browser, live_server, db, settings, clock
    )
    await sees_video(room, "Bea Berater")
    await sees_video(desk, "Clara Kundin")
    before = {page: await page.evaluate(UFRAGS) for page in (room, desk)}

    # Every relayed path breaks at once: coturn stops answering (paused, not killed).
    os.kill(turn_server.pid, signal.SIGSTOP)
    try:
        for page, name in ((desk, "Clara Kundin"), (room, "Bea Berater")):
            their = tile(page, name)
            await expect(their).to_have_attribute("data-reconnecting", "true", timeout=20_000)
            await expect(their).to_contain_text("Verbindung wird wiederhergestellt")
        for page in (room, desk):
            await page.wait_for_function(
                f"(before) => {{ const now = ({UFRAGS})();"
                " return now.length === 1 && now[0] && !before.includes(now[0]); }",
                arg=before[page],
                polling=200,
                timeout=20_000,
            )
    finally:
        os.kill(turn_server.pid, signal.SIGCONT)

    # The restarted connection finds its relays again: moving picture, through coturn.
    for page, name in ((desk, "Clara Kundin"), (room, "Bea Berater")):
        await expect(tile(page, name)).to_have_attribute(
            "data-reconnecting", "false", timeout=30_000
        )
        await sees_video(page, name)
        await relayed(page, turn_server)
    assert room_errors == [] and desk_errors == [], "no script errors, no CSP refusals"
