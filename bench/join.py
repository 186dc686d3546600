"""Time from the advisor's "Abholen" click to the first remote video frame on screen.

For each run, a citizen waits in the waiting room of a fresh appointment and the
advisor has the call page open (alone in the call, camera on). The advisor clicks
"Abholen"; the run measures, in headless Chromium on loopback, how long until the
first video frame received from the other side is rendered — at the citizen and
at the advisor — and the later of the two (both see each other).

How it is measured, without touching the served pages: a bench-only init script
keeps the page's RTCPeerConnections and, whenever a <video> gets a stream, asks
``requestVideoFrameCallback`` for its first frame; if that frame's track is one a
peer connection received, its presentation time is the "first remote frame". The
click's time is the click event's own timestamp on the advisor's page. All times
are ``performance.timeOrigin``-based wall times of the same browser on the same
machine. One warm-up run is not counted. The app runs in its own process (as
``videotermin serve``), so the browser driver never competes with it for the
interpreter, and the bench waits for the frames with promises, not polling.

Prints every run and p50/p95; asserts nothing. Target: p50 under 400 ms.

The advisor looks at the list for ``--reading-ms`` (1 s) before clicking, as a
person does; the page uses that moment to get a connection ready (spare.js,
"spare"). ``--reading-ms 0`` clicks at once, before it can.

    .venv/bin/python bench/join.py [--runs 20] [--reading-ms 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from seed import CHROMIUM, CHROMIUM_ARGS, PASSWORD, USERNAME, free_port, seed, serve
from videotermin.settings import Settings

CITIZEN = "Clara Kundin"
ADMIT = "button.call-waiting__admit"
TIMEOUT_MS = 30_000

# Bench-only instrumentation (see the module docstring); times in ms since the epoch.
PROBE = """
(() => {
  const made = [];
  const at = () => performance.timeOrigin + performance.now();
  window.benchPeerConnectionAt = null;
  window.benchConnectedAt = null;
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      made.push(this);
      if (window.benchPeerConnectionAt === null) window.benchPeerConnectionAt = at();
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected' && window.benchConnectedAt === null) {
          window.benchConnectedAt = at();
        }
      });
    }
  };
  const received = (track) =>
    made.some((pc) => pc.getReceivers().some((receiver) => receiver.track === track));
  window.benchFirstRemoteFrameAt = null;
  let seen = () => {};
  window.benchFirstRemoteFrame = new Promise((resolve) => { seen = resolve; });
  window.benchAdmitClickAt = null;
  const source = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'srcObject');
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    configurable: true,
    get() { return source.get.call(this); },
    set(stream) {
      source.set.call(this, stream);
      if (!(this instanceof HTMLVideoElement) || !stream) return;
      this.requestVideoFrameCallback((now, frame) => {
        const shown = source.get.call(this);
        const remote = shown && shown.getVideoTracks().some(received);
        if (remote && window.benchFirstRemoteFrameAt === null) {
          window.benchFirstRemoteFrameAt = performance.timeOrigin + frame.presentationTime;
          seen();
        }
      });
    },
  });
  document.addEventListener('click', (event) => {
    if (event.target instanceof Element && event.target.closest('ADMIT')) {
      window.benchAdmitClickAt = performance.timeOrigin + event.timeStamp;
    }
  }, true);
})();
""".replace("ADMIT", ADMIT)


@dataclass(frozen=True)
class Side:
    """One page's milestones, in ms after the click."""

    peer_connection_ms: float  # the page made its first RTCPeerConnection
    connected_ms: float  # its connectionState became 'connected'
    frame_ms: float  # the first remote video frame was rendered


@dataclass(frozen=True)
class Run:
    citizen: Side
    advisor: Side

    @property
    def both_ms(self) -> float:
        return max(self.citizen.frame_ms, self.advisor.frame_ms)


async def advisor_page(browser: Browser, base: str) -> Page:
    context = await browser.new_context(locale="de-DE", viewport={"width": 1024, "height": 800})
    await context.add_init_script(PROBE)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("Benutzername").fill(USERNAME)
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await page.wait_for_url("**/termine")
    return page


async def milestones(page: Page, clicked: float) -> Side:
    times = await page.evaluate(
        "() => window.benchFirstRemoteFrame.then(() => [window.benchPeerConnectionAt,"
        " window.benchConnectedAt, window.benchFirstRemoteFrameAt])"
    )
    made, connected, frame = (float(t) - clicked if t is not None else math.nan for t in times)
    return Side(peer_connection_ms=made, connected_ms=connected, frame_ms=frame)


async def one_call(
    browser: Browser, desk: Page, base: str, reading_ms: int, appointment: str, token: str
) -> Run | None:
    """One admission; None when a side saw no remote frame within the timeout."""
    context = await browser.new_context(locale="de-DE", viewport={"width": 360, "height": 740})
    await context.add_init_script(PROBE)
    room = await context.new_page()
    try:
        await room.goto(f"{base}/v/{token}/warteraum")
        await room.locator("#connection-state[data-state='open']").wait_for(timeout=TIMEOUT_MS)
        await desk.goto(f"{base}/appointments/{appointment}/call")
        await desk.get_by_text("Noch ist niemand sonst da.").wait_for(timeout=TIMEOUT_MS)
        # An advisor takes a moment to read the list before clicking; the page uses it
        # to get a connection ready (spare.js).
        await desk.wait_for_timeout(reading_ms)
        await desk.get_by_role("button", name=f"Abholen: {CITIZEN}").click(timeout=TIMEOUT_MS)
        clicked = float(await desk.evaluate("() => window.benchAdmitClickAt"))
        citizen, advisor = await asyncio.wait_for(
            asyncio.gather(milestones(room, clicked), milestones(desk, clicked)),
            TIMEOUT_MS / 1000,
        )
        return Run(citizen=citizen, advisor=advisor)
    except (PlaywrightTimeout, TimeoutError):
        return None
    finally:
        await context.close()


async def measure(base: str, reading_ms: int, calls: list[tuple[str, str]]) -> list[Run | None]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            desk = await advisor_page(browser, base)
            return [await one_call(browser, desk, base, reading_ms, *call) for call in calls]
        finally:
            await browser.close()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--reading-ms",
        type=int,
        default=1000,
        help="how long the advisor looks at the list before clicking (0: at once)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = Settings(data_dir=Path(tmp), public_url=f"http://127.0.0.1:{port}")
        calls = asyncio.run(seed(settings, [CITIZEN] * (args.runs + 1), timedelta(minutes=3)))
        server = serve(settings, port)
        try:
            warmup, *results = asyncio.run(measure(settings.public_url, args.reading_ms, calls))
        finally:
            server.terminate()
            server.wait(10)
    runs = [run for run in results if run is not None]
    print(f"admit click → first remote video frame rendered, {len(results)} calls (+1 warm-up)")
    print("headless Chromium, fake camera, loopback, app in its own process; ms after the click")
    print(f"the advisor looks at the list for {args.reading_ms} ms before clicking")
    print("  per side: first RTCPeerConnection / connected / first remote frame")
    for label, run in [("warm-up", warmup), *((f"{i:7}", r) for i, r in enumerate(results, 1))]:
        if run is None:
            print(f"  {label}: FAILED — no remote frame within {TIMEOUT_MS / 1000:.0f} s")
            continue
        print(f"  {label}: citizen {describe(run.citizen)}   advisor {describe(run.advisor)}")
    if not runs:
        return
    for name, values in (
        ("citizen", [r.citizen.frame_ms for r in runs]),
        ("advisor", [r.advisor.frame_ms for r in runs]),
        ("both", [r.both_ms for r in runs]),
    ):
        print(
            f"  {name:8} first frame p50 = {percentile(values, 0.5):5.0f} ms"
            f"   p95 = {percentile(values, 0.95):5.0f} ms   max = {max(values):5.0f} ms"
        )
    for name, sides in (
        ("citizen", [r.citizen for r in runs]),
        ("advisor", [r.advisor for r in runs]),
    ):
        made = percentile([s.peer_connection_ms for s in sides], 0.5)
        connected = percentile([s.connected_ms for s in sides], 0.5)
        print(
            f"  {name:8} p50 of: peer connection made {made:5.0f} ms, connected {connected:5.0f} ms"
        )
    failed = len(results) - len(runs)
    print(f"  failed calls: {failed} of {len(results)}")
    print("  target: p50 < 400 ms")


def describe(side: Side) -> str:
    return f"{side.peer_connection_ms:5.0f} / {side.connected_ms:5.0f} / {side.frame_ms:5.0f}"


if __name__ == "__main__":
    main()
