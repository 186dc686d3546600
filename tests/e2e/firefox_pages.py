"""The app's pages in Firefox ESR (driven over WebDriver BiDi by firefox_driver.py) as the
Firefox tests judge them: a participant's tile plays video and sound received from a peer
connection — by Firefox's own ``getStats()`` and the tile's media elements, with the same
scripts as in Chromium (call_pages.py) — the advisor's login as a person types it, and the
layout audit (page_audit.py) of a page as Firefox drew it.

The Firefox calls (citizen or advisor in Firefox), the whole journey in Firefox and the
consent journeys in Firefox share these, so they live here rather than in one of those
test modules."""

from __future__ import annotations

import json
from typing import Any

from call_pages import INBOUND, RECEIVED_AUDIO, RECEIVED_VIDEO
from firefox_driver import Firefox
from page_audit import AUDIT, SHOTS

from conftest import PASSWORD, LiveServer

# The video element in the tile of the named person (null while there is none).
TILE_VIDEO = """[...document.querySelectorAll('figure.tile')]
  .find((f) => (f.querySelector('.tile__name')?.textContent || '').includes(%s))
  ?.querySelector('video')"""


TILE_AUDIO = TILE_VIDEO.replace("querySelector('video')", "querySelector('audio')")


def tile_video(name: str) -> str:
    return TILE_VIDEO % json.dumps(name)


async def frames_decoded(fox: Firefox, more_than: int) -> int:
    """Wait until Firefox has decoded more than ``more_than`` video frames in all; the count."""
    expression = f"({INBOUND})(['video', 'framesDecoded']).then((n) => n > {more_than} && n)"
    return int(await fox.until(expression, timeout_ms=20_000))


async def firefox_hears(fox: Firefox, name: str) -> None:
    """``name``'s tile in Firefox plays a track received from a peer connection, and
    Firefox receives more and more audio packets."""
    audio = TILE_AUDIO % json.dumps(name)
    await fox.until(
        f"(() => {{ const a = {audio}; return Boolean(a) && ({RECEIVED_AUDIO})(a); }})()"
    )
    expression = f"({INBOUND})(['audio', 'packetsReceived'])"
    first = int(await fox.until(f"{expression}.then((n) => n > 0 && n)", timeout_ms=20_000))
    await fox.until(f"{expression}.then((n) => n > {first})")


async def firefox_sees_video(fox: Firefox, name: str) -> dict[str, Any]:
    """``name``'s tile in Firefox shows a received track, rendered and moving, and Firefox
    decodes more and more frames; the picture's size."""
    video = tile_video(name)
    await fox.until(
        f"(() => {{ const v = {video}; return Boolean(v) && ({RECEIVED_VIDEO})(v); }})()"
    )
    first = await frames_decoded(fox, 0)
    await frames_decoded(fox, first)
    start = await fox.evaluate(f"({video}).currentTime")
    await fox.until(f"({video}).currentTime > {start}")
    size: dict[str, Any] = await fox.evaluate(
        f"(() => {{ const v = {video}; return {{width: v.videoWidth, height: v.videoHeight}}; }})()"
    )
    return size


async def firefox_login(fox: Firefox, live_server: LiveServer) -> None:
    """The advisor logs in by typing, as a person would, and lands on "Meine Termine"."""
    await fox.goto(f"{live_server.url}/login")
    await fox.type("input[name=username]", "berater")
    await fox.type("input[name=password]", PASSWORD)
    await fox.click("button[type=submit]", "Anmelden")
    await fox.wait("h1", "Meine Termine")
    await fox.wait("#live-state", "Live-Anzeige: aktiv")


async def looks_right(fox: Firefox, name: str) -> list[str]:
    """What a person would notice on the page as Firefox drew it; a screenshot is kept."""
    await fox.screenshot(SHOTS / f"firefox-{name}-360.png")
    return list(await fox.evaluate(f"({AUDIT})()"))
