"""Bytes a citizen's browser receives and sends, page by page, and for the device check.

Drives Debian's headless Chromium (fake camera and microphone) through the journey of
a fresh appointment: the personal link with the consent form, the device check with its
test call and speed test, and the waiting room, which becomes the call page when the
advisor (a second browser context, logged in) picks the citizen up. Then the same
pages again in the same browser context — a repeat visit with a warm cache: the call
page reloaded (it reconnects into the call), the link page, the device check again.
Last, the device check alone under emulated lines (Chromium's network emulation), each
in a fresh context, with the verdict it reached — once more with a camera that films
noise, the worst case for the test call's bytes (the fake camera's test pattern is
cheap to encode).

How bytes are counted (Chrome DevTools Protocol, per page):

* HTTP down: ``Network.loadingFinished.encodedDataLength`` — headers and body as they
  came over the wire (compressed where the server compressed); for a transfer cut off
  before its end, the ``Network.dataReceived`` chunks that arrived — or, where the page
  read a streamed body to its end and Chromium still reports the request cancelled
  (it does for some of the speed test's downloads), the body size the page's Resource
  Timing recorded. A response the browser took from its cache costs nothing and is
  counted under "cached".
* HTTP up: the request line, the headers the browser really sent
  (``Network.requestWillBeSentExtraInfo``) and the body (its ``Content-Length``).
* WebSocket: the handshake, and each frame's payload plus its frame header
  (``Network.webSocketFrameSent/Received``; the payload as the page sees it — the
  wire may be smaller where permessage-deflate compressed it).
* WebRTC (the test call; the call's media, reported apart): ``getStats()`` of every
  peer connection the page made — the ``transport`` stats' bytes plus 28 bytes of IPv4
  and UDP header per packet — read just before the page closes it or is left.

Chromium's network emulation throttles HTTP and WebSockets, not WebRTC's UDP: under an
emulated slow line the test call's media still moves at the loopback's pace, so the
test call's bytes there are what a line that carries them would cost.

Targets (issue 11): the call page under 100 KB with everything it loads (its media
apart), the whole device check — page, speed test and test call — under 3 MB on any line.

    .venv/bin/python bench/weight.py [--runs 1] [--url BASE | --nginx]

``--url BASE`` measures an already running deployment (behind nginx, say) instead of
starting the embedded default. The appointments it needs are seeded into the database
that the ``VIDEOTERMIN_*`` environment names — run it with the deployment's
environment — and the advisor ``bench`` is created there on first use.

``--nginx`` measures behind the shipped ``deploy/nginx/videotermin.conf``: Debian's nginx
in front of two app processes on a PostgreSQL database of the run's own and Redis (the
tests' deployment, ``tests/app_processes.py``, with a self-signed certificate). Chromium
keeps nothing in its cache from a site whose certificate it does not trust, so there the
"warm" columns show a second cold visit, not what a returning citizen pays.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, CDPSession, Page, async_playwright

from seed import CHROMIUM, CHROMIUM_ARGS, PASSWORD, USERNAME, free_port, seed, serve
from videotermin.settings import Settings

CITIZEN = "Clara Kundin"
TIMEOUT_MS = 60_000
# How long the call's media is measured once the first remote frame is shown.
CALL_SECONDS = 10
CALL_PAGE_TARGET = 100 * 1000
CHECK_TARGET = 3 * 1000 * 1000
# IPv4 (20) and UDP (8) headers around every WebRTC packet.
UDP_OVERHEAD = 28


@dataclass(frozen=True)
class Line:
    name: str
    down_kbps: int
    up_kbps: int
    latency_ms: int
    # A camera whose every frame is new noise: the encoder needs all the bitrate it may
    # use, as a real camera in a busy scene would (the fake camera's test pattern is
    # cheap to encode, so it shows less than a citizen may pay).
    noisy_camera: bool = False

    def conditions(self) -> dict[str, Any]:
        return {
            "offline": False,
            "latency": self.latency_ms,
            "downloadThroughput": self.down_kbps * 1000 / 8,
            "uploadThroughput": self.up_kbps * 1000 / 8,
        }


LINES = [
    Line("fast", 50_000, 50_000, 10),
    Line("mobile", 5_000, 1_000, 60),
    Line("slow", 400, 400, 150),
    Line("noisy camera, fast", 50_000, 50_000, 10, noisy_camera=True),
]

# Bench-only: keeps the page's peer connections and reads their transport bytes, last
# just before the page closes one (so a hung-up test call still counts in full).
PROBE = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  const last = new Map();
  const read = async (pc) => {
    try {
      const report = await pc.getStats();
      const sum = { sent: 0, received: 0, packetsSent: 0, packetsReceived: 0, frames: 0 };
      report.forEach((stat) => {
        if (stat.type === 'transport') {
          sum.sent += stat.bytesSent || 0;
          sum.received += stat.bytesReceived || 0;
          sum.packetsSent += stat.packetsSent || 0;
          sum.packetsReceived += stat.packetsReceived || 0;
        }
        if (stat.type === 'inbound-rtp' && stat.kind === 'video') {
          sum.frames += stat.framesDecoded || 0;
        }
      });
      last.set(pc, sum);
    } catch (error) {
      // closed meanwhile: the last reading stands
    }
  };
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      last.set(this, { sent: 0, received: 0, packetsSent: 0, packetsReceived: 0, frames: 0 });
      const timer = setInterval(() => {
        if (this.signalingState === 'closed') clearInterval(timer);
        else read(this);
      }, 250);
    }
    close() {
      read(this).finally(() => super.close());
    }
  };
  window.benchRtc = async () => {
    await Promise.all([...last.keys()].filter((pc) => pc.signalingState !== 'closed').map(read));
    const total = { sent: 0, received: 0, packetsSent: 0, packetsReceived: 0, frames: 0 };
    for (const sum of last.values()) for (const key of Object.keys(total)) total[key] += sum[key];
    return total;
  };
})();
"""


@dataclass
class Tally:
    requests: int = 0
    cached: int = 0
    down: int = 0
    up: int = 0

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.cached += other.cached
        self.down += other.down
        self.up += other.up


@dataclass
class _Request:
    bucket: tuple[str, str]
    url: str
    header_down: int = 0
    chunks_down: int = 0
    finished: bool = False


def _step_of(path: str) -> str:
    """Which page of the journey a document (or a request it made) belongs to."""
    if re.fullmatch(r"/v/[^/]+(/einwilligung)?", path):
        return "link"
    if re.fullmatch(r"/v/[^/]+/geraete(/.*)?|/check(/.*)?", path):
        return "check"
    if re.fullmatch(r"/v/[^/]+/warteraum", path):
        return "call"
    return "other"


def _kind_of(path: str) -> str:
    return "speed" if path.startswith("/check/speed/") else "http"


def _headers_size(headers: dict[str, str]) -> int:
    return sum(len(name) + len(str(value)) + 4 for name, value in headers.items()) + 2


class Meter:
    """Every byte one page's requests and sockets move, by (step, kind)."""

    def __init__(self) -> None:
        self.tallies: defaultdict[tuple[str, str], Tally] = defaultdict(Tally)
        self._requests: dict[str, _Request] = {}
        self._sockets: dict[str, tuple[str, str]] = {}
        # Chromium may report what it sent before it announces the request.
        self._early_up: dict[str, int] = {}
        self.step = "other"

    @classmethod
    async def attach(cls, context: BrowserContext, page: Page) -> tuple[Meter, CDPSession]:
        meter = cls()
        cdp = await context.new_cdp_session(page)
        handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "Network.requestWillBeSent": meter._sent,
            "Network.requestWillBeSentExtraInfo": meter._sent_extra,
            "Network.requestServedFromCache": meter._from_cache,
            "Network.responseReceived": meter._response,
            "Network.dataReceived": meter._data,
            "Network.loadingFinished": meter._finished,
            "Network.webSocketCreated": meter._socket,
            "Network.webSocketWillSendHandshakeRequest": meter._socket_request,
            "Network.webSocketHandshakeResponseReceived": meter._socket_response,
            "Network.webSocketFrameSent": meter._frame_sent,
            "Network.webSocketFrameReceived": meter._frame_received,
        }
        for event, handler in handlers.items():
            cdp.on(event, handler)
        await cdp.send("Network.enable")
        return meter, cdp

    def _bucket(self, document_url: str, url: str) -> tuple[str, str]:
        return (_step_of(urlsplit(document_url).path), _kind_of(urlsplit(url).path))

    def _sent(self, event: dict[str, Any]) -> None:
        request = event["request"]
        known = self._requests.get(event["requestId"])
        if known is not None and "redirectResponse" in event:
            # A redirect: its response was this hop's; the next hop may be another page.
            self.tallies[known.bucket].down += int(event["redirectResponse"]["encodedDataLength"])
        bucket = self._bucket(event.get("documentURL", request["url"]), request["url"])
        self._requests[event["requestId"]] = _Request(bucket, request["url"])
        self.tallies[bucket].requests += 1
        self.tallies[bucket].up += self._early_up.pop(event["requestId"], 0)

    def _sent_extra(self, event: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in event["headers"].items()}
        body = int(headers.get("content-length", "0") or 0)
        # "GET /path HTTP/1.1" — the line's length does not depend on the path much.
        size = 60 + _headers_size(event["headers"]) + body
        known = self._requests.get(event["requestId"])
        if known is None:
            self._early_up[event["requestId"]] = self._early_up.get(event["requestId"], 0) + size
        else:
            self.tallies[known.bucket].up += size

    def _from_cache(self, event: dict[str, Any]) -> None:
        known = self._requests.get(event["requestId"])
        if known is not None:
            self.tallies[known.bucket].cached += 1

    def _response(self, event: dict[str, Any]) -> None:
        known = self._requests.get(event["requestId"])
        if known is None:
            return
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.tallies[known.bucket].cached += 1
        known.header_down = int(response.get("encodedDataLength", 0) or 0)

    def _data(self, event: dict[str, Any]) -> None:
        known = self._requests.get(event["requestId"])
        if known is not None:
            known.chunks_down += int(event.get("encodedDataLength", 0) or 0)

    def _finished(self, event: dict[str, Any]) -> None:
        known = self._requests.get(event["requestId"])
        if known is not None and not known.finished:
            known.finished = True
            self.tallies[known.bucket].down += int(event["encodedDataLength"])

    async def reconcile(self, page: Page) -> None:
        """Body sizes from the page's Resource Timing, for requests the protocol reports
        cancelled: when a script has read a streamed body to its end, Chromium may
        report the request cancelled (and its last chunks unreported) although every
        byte arrived. Call before the page is left; entries match requests in order."""
        entries: list[list[Any]] = await page.evaluate(
            "() => performance.getEntriesByType('resource')"
            ".map((entry) => [entry.name, entry.encodedBodySize])"
        )
        sizes: defaultdict[str, list[int]] = defaultdict(list)
        for name, size in entries:
            sizes[name].append(int(size))
        for known in self._requests.values():
            if sizes.get(known.url):
                size = sizes[known.url].pop(0)
                if not known.finished:
                    known.chunks_down = max(known.chunks_down, size)

    def settle(self) -> None:
        """Transfers that never finished (cut off, still open) count what arrived."""
        for known in self._requests.values():
            if not known.finished:
                known.finished = True
                self.tallies[known.bucket].down += known.header_down + known.chunks_down

    def _socket(self, event: dict[str, Any]) -> None:
        self._sockets[event["requestId"]] = (self.step, "ws")
        self.tallies[(self.step, "ws")].requests += 1

    def _socket_request(self, event: dict[str, Any]) -> None:
        bucket = self._sockets.get(event["requestId"], (self.step, "ws"))
        self.tallies[bucket].up += 60 + _headers_size(event["request"]["headers"])

    def _socket_response(self, event: dict[str, Any]) -> None:
        bucket = self._sockets.get(event["requestId"], (self.step, "ws"))
        response = event["response"]
        text = response.get("headersText")
        size = len(text) if text else 20 + _headers_size(response.get("headers", {}))
        self.tallies[bucket].down += size

    @staticmethod
    def _frame_size(response: dict[str, Any], masked: bool) -> int:
        data = response.get("payloadData", "")
        payload = len(base64.b64decode(data)) if response.get("opcode") == 2 else len(data.encode())
        header = 2 if payload < 126 else 4 if payload < 65536 else 10
        return payload + header + (4 if masked else 0)

    def _frame_sent(self, event: dict[str, Any]) -> None:
        bucket = self._sockets.get(event["requestId"], (self.step, "ws"))
        self.tallies[bucket].up += self._frame_size(event["response"], masked=True)

    def _frame_received(self, event: dict[str, Any]) -> None:
        bucket = self._sockets.get(event["requestId"], (self.step, "ws"))
        self.tallies[bucket].down += self._frame_size(event["response"], masked=False)

    async def add_rtc(self, page: Page, step: str, kind: str = "rtc") -> dict[str, int]:
        """The page's WebRTC bytes so far, counted under (step, kind)."""
        rtc: dict[str, int] = (
            await page.evaluate("() => window.benchRtc ? window.benchRtc() : null") or {}
        )
        tally = self.tallies[(step, kind)]
        tally.down += rtc.get("received", 0) + UDP_OVERHEAD * rtc.get("packetsReceived", 0)
        tally.up += rtc.get("sent", 0) + UDP_OVERHEAD * rtc.get("packetsSent", 0)
        return rtc


@dataclass
class CheckOutcome:
    verdict: str
    upload_kbps: float | None
    download_kbps: float | None
    call_kbps: float | None
    seconds: float


@dataclass
class Run:
    """One run's tallies: (cache, step, kind) → bytes, plus the check outcomes."""

    tallies: defaultdict[tuple[str, str, str], Tally] = field(
        default_factory=lambda: defaultdict(Tally)
    )
    checks: dict[str, CheckOutcome] = field(default_factory=dict)
    call_media_seconds: float = 0.0

    def take(self, cache: str, meter: Meter) -> None:
        meter.settle()
        for (step, kind), tally in meter.tallies.items():
            self.tallies[(cache, step, kind)].add(tally)


async def run_check(page: Page, meter: Meter, url: str) -> CheckOutcome:
    """Open the device check, answer the speaker question, wait for the verdict."""
    meter.step = "check"
    started = time.perf_counter()
    posting = page.expect_request(lambda r: r.url.endswith("ergebnis"), timeout=TIMEOUT_MS)
    async with posting as posted:
        await page.goto(url)
        await page.get_by_role("button", name="Ich höre den Ton").click(timeout=TIMEOUT_MS)
    sent = (await posted.value).post_data_json or {}
    heading = page.get_by_role("heading", level=2, name=re.compile(r"^Ergebnis: "))
    await heading.wait_for(timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - started
    verdict = (await heading.inner_text()).removeprefix("Ergebnis: ").strip()
    await meter.add_rtc(page, "check")
    await meter.reconcile(page)
    return CheckOutcome(
        verdict.split(" ")[0],
        sent.get("upload_kbps"),
        sent.get("download_kbps"),
        sent.get("bitrate_kbps"),
        seconds,
    )


async def remote_frames(page: Page) -> int:
    rtc = await page.evaluate("() => window.benchRtc()")
    return int(rtc.get("frames", 0))


async def in_call(page: Page) -> None:
    """Until the citizen's page decodes the advisor's video."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while await remote_frames(page) == 0:
        if time.monotonic() > deadline:
            raise TimeoutError("no remote video frame on the citizen's call page")
        await asyncio.sleep(0.2)


async def call_page(page: Page, meter: Meter, run: Run, desk: Page | None) -> None:
    """The waiting room until the advisor picks the citizen up (``desk`` clicks), then
    the call; its media over CALL_SECONDS is counted apart from the page."""
    meter.step = "call"
    if desk is not None:
        await page.locator("#connection-state[data-state='open']").wait_for(timeout=TIMEOUT_MS)
        await desk.get_by_role("button", name=f"Abholen: {CITIZEN}").click(timeout=TIMEOUT_MS)
    await in_call(page)
    started = time.perf_counter()
    await page.wait_for_timeout(CALL_SECONDS * 1000)
    await meter.add_rtc(page, "call", "media")
    run.call_media_seconds = time.perf_counter() - started


async def advisor_desk(browser: Browser, base: str, appointment: str) -> Page:
    context = await browser.new_context(
        ignore_https_errors=True, locale="de-DE", viewport={"width": 1024, "height": 800}
    )
    desk = await context.new_page()
    await desk.goto(f"{base}/login")
    await desk.get_by_label("Benutzername").fill(USERNAME)
    await desk.get_by_label("Passwort").fill(PASSWORD)
    await desk.get_by_role("button", name="Anmelden").click()
    await desk.wait_for_url("**/termine")
    await desk.goto(f"{base}/appointments/{appointment}/call")
    await desk.get_by_text("Noch ist niemand sonst da.").wait_for(timeout=TIMEOUT_MS)
    return desk


async def citizen_page(context: BrowserContext) -> tuple[Page, Meter, CDPSession]:
    page = await context.new_page()
    meter, cdp = await Meter.attach(context, page)
    return page, meter, cdp


async def journey(browser: Browser, base: str, appointment: str, token: str) -> Run:
    """Cold: link and consent, device check, waiting room and call. Warm: the call page
    reloaded, the link page and the device check again, in the same context."""
    run = Run()
    link = f"{base}/v/{token}"
    context = await browser.new_context(
        ignore_https_errors=True, locale="de-DE", viewport={"width": 360, "height": 740}
    )
    await context.add_init_script(PROBE)
    desk = await advisor_desk(browser, base, appointment)
    try:
        page, meter, _ = await citizen_page(context)
        meter.step = "link"
        await page.goto(link)
        await page.get_by_role("button", name="Ich stimme zu").click()
        await page.wait_for_url("**/geraete")
        run.checks["cold"] = await run_check(page, meter, page.url)
        await page.get_by_role("link", name="Beratungsraum betreten").click()
        await page.wait_for_url("**/warteraum")
        await call_page(page, meter, run, desk)
        run.take("cold", meter)

        # A repeat visit: a new page in the same context has the same cache.
        await page.close()  # the citizen drops out; the call waits for the return
        page, meter, _ = await citizen_page(context)
        meter.step = "call"
        await page.goto(f"{link}/warteraum")
        await call_page(page, meter, run, None)
        meter.step = "link"
        await page.goto(link)
        await page.get_by_role("heading", level=1).wait_for()
        run.checks["warm"] = await run_check(page, meter, f"{link}/geraete")
        run.take("warm", meter)
    finally:
        await desk.context.close()
        await context.close()
    return run


async def lines_check(
    browsers: dict[bool, Browser], base: str, tokens: list[str], run: Run
) -> None:
    """The device check alone under each emulated line, each in a fresh context; the
    browser by whether the line's camera is noisy."""
    for line, token in zip(LINES, tokens, strict=True):
        browser = browsers[line.noisy_camera]
        context = await browser.new_context(
            ignore_https_errors=True, locale="de-DE", viewport={"width": 360, "height": 740}
        )
        await context.add_init_script(PROBE)
        try:
            page, meter, cdp = await citizen_page(context)
            await cdp.send("Network.emulateNetworkConditions", line.conditions())
            run.checks[line.name] = await run_check(page, meter, f"{base}/v/{token}/geraete")
            run.take(line.name, meter)
        finally:
            await context.close()


async def measure(
    base: str, journeys: list[tuple[str, str]], checks: list[tuple[str, str]]
) -> list[Run]:
    """One run per journey (a first visit: no consent yet), each followed by the checks
    under the emulated lines (participants who agreed)."""
    measured = []
    with tempfile.TemporaryDirectory() as tmp:
        noise = noise_video(Path(tmp) / "noise.y4m")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            noisy = await playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={noise}"],
            )
            browsers = {False: browser, True: noisy}
            try:
                for number, (appointment, token) in enumerate(journeys):
                    run = await journey(browser, base, appointment, token)
                    mine = checks[number * len(LINES) : (number + 1) * len(LINES)]
                    await lines_check(browsers, base, [token for _, token in mine], run)
                    measured.append(run)
            finally:
                await noisy.close()
                await browser.close()
    return measured


def noise_video(path: Path, seconds: int = 2, fps: int = 20) -> Path:
    """A 640×480 Y4M video of random noise, which Chromium's fake camera plays in a loop."""
    width, height = 640, 480
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(seconds * fps):
            out.write(b"FRAME\n" + os.urandom(width * height * 3 // 2))
    return path


# --- the report ------------------------------------------------------------------


def kb(value: float) -> str:
    return f"{value / 1000:9.1f}"


def median_tally(runs: list[Run], keys: list[tuple[str, str, str]]) -> Tally:
    """The median over runs of the sum of ``keys``."""
    sums = []
    for run in runs:
        total = Tally()
        for key in keys:
            total.add(run.tallies.get(key, Tally()))
        sums.append(total)
    return Tally(
        requests=round(statistics.median(t.requests for t in sums)),
        cached=round(statistics.median(t.cached for t in sums)),
        down=round(statistics.median(t.down for t in sums)),
        up=round(statistics.median(t.up for t in sums)),
    )


ROWS: list[tuple[str, str, list[str]]] = [
    ("personal link + consent", "link", ["http"]),
    ("device check: page", "check", ["http", "ws"]),
    ("device check: speed test", "check", ["speed"]),
    ("device check: test call (WebRTC)", "check", ["rtc"]),
    ("waiting room → call page", "call", ["http", "ws"]),
]


def report(runs: list[Run], base: str) -> None:
    print(f"bytes the citizen's browser moves, {base}, median of {len(runs)} run(s)")
    print("headless Chromium, fake camera 640×480, loopback; KB = 1000 bytes; down is on the wire")
    print()
    head = f"{'':34} {'cold cache':>30} {'warm (repeat visit)':>30}"
    print(head)
    print(
        f"{'page':34} {'requests':>10} {'down KB':>9} {'up KB':>9}"
        f" {'req/cached':>11} {'down KB':>9} {'up KB':>9}"
    )
    for label, step, kinds in ROWS:
        cells = []
        for cache in ("cold", "warm"):
            tally = median_tally(runs, [(cache, step, kind) for kind in kinds])
            if cache == "cold":
                count = f"{tally.requests:>10}"
            else:
                count = f"{f'{tally.requests}/{tally.cached}':>11}"
            cells.append(f"{count} {kb(tally.down)} {kb(tally.up)}")
        print(f"{label:34} {' '.join(cells)}")
    print()
    for cache in ("cold", "warm"):
        check = median_tally(runs, [(cache, "check", k) for k in ("http", "ws", "speed", "rtc")])
        call = median_tally(runs, [(cache, "call", k) for k in ("http", "ws")])
        both = check.down + check.up
        verdict = "OK" if both < CHECK_TARGET else "OVER"
        print(
            f"{cache:4} device check, all included: {kb(check.down)} KB down + {kb(check.up)} KB up"
            f" = {kb(both)} KB   target < 3000 KB: {verdict}"
        )
        verdict = "OK" if call.down < CALL_PAGE_TARGET else "OVER"
        print(
            f"{cache:4} call page, all it loads:    {kb(call.down)} KB down, {kb(call.up)} KB up"
            f"   target < 100 KB: {verdict}"
        )
    media = median_tally(runs, [("cold", "call", "media")])
    seconds = statistics.median(r.call_media_seconds for r in runs) or 1.0
    print(
        f"call media (WebRTC, connection to {CALL_SECONDS} s after the first frame, not in the"
        f" page's figure): {kb(media.down)} KB down, {kb(media.up)} KB up"
        f" (~{media.down * 8 / seconds / 1000:.0f} / {media.up * 8 / seconds / 1000:.0f} kbit/s)"
    )
    print()
    print("device check under emulated lines (HTTP throttled by Chromium; WebRTC is not)")
    print(
        f"{'line':32} {'page+speed KB':>14} {'test call KB':>13} {'total KB':>9}"
        f" {'verdict':>8} {'up kbps':>8} {'down kbps':>9} {'call kbps':>9} {'seconds':>8}"
    )
    names = [("cold", "unthrottled (cold)")] + [
        (line.name, f"{line.name} {line.down_kbps / 1000:g}/{line.up_kbps / 1000:g} Mbit/s")
        for line in LINES
    ]
    for key, label in names:
        http = median_tally(runs, [(key, "check", k) for k in ("http", "ws", "speed")])
        rtc = median_tally(runs, [(key, "check", "rtc")])
        outcomes = [r.checks[key] for r in runs if key in r.checks]
        verdicts = "/".join(sorted({o.verdict for o in outcomes}))
        up = statistics.median(o.upload_kbps or 0 for o in outcomes)
        down = statistics.median(o.download_kbps or 0 for o in outcomes)
        call = statistics.median(o.call_kbps or 0 for o in outcomes)
        seconds = statistics.median(o.seconds for o in outcomes)
        total = http.down + http.up + rtc.down + rtc.up
        print(
            f"{label:32} {kb(http.down + http.up):>14} {kb(rtc.down + rtc.up):>13} {kb(total)}"
            f" {verdicts:>8} {up:8.0f} {down:9.0f} {call:9.0f} {seconds:8.1f}"
        )


async def appointments(
    settings: Settings, runs: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Per run, one appointment whose citizen has not agreed yet (the journey) and one per
    emulated line whose citizen has (the device check alone)."""
    soon = timedelta(minutes=3)
    journeys = await seed(settings, [CITIZEN] * runs, soon, agreed=False)
    checks = await seed(settings, [CITIZEN] * runs * len(LINES), soon)
    return journeys, checks


def behind_nginx(runs: int) -> list[Run]:
    """Measure through the tests' deployment: nginx from deploy/ before two instances."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from sqlalchemy import text

    from app_processes import deployment
    from videotermin.store.db import create_engine
    from videotermin.store.migrate import upgrade

    admin_url = os.environ.get(
        "VIDEOTERMIN_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    database = f"vt_weight_{os.getpid()}"
    url = f"{admin_url.rsplit('/', 1)[0]}/{database}"

    async def admin(statement: str) -> None:
        engine = create_engine(admin_url)
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
        await engine.dispose()

    async def migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine, "Europe/Berlin")
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{database}"'))
    try:
        asyncio.run(migrate())
        with tempfile.TemporaryDirectory() as tmp, deployment(url, Path(tmp)) as site:
            settings = Settings(database_url=url, public_url=site.nginx.url)
            journeys, checks = asyncio.run(appointments(settings, runs))
            return asyncio.run(measure(settings.public_url, journeys, checks))
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--url",
        help="measure this running deployment (seeds into the database its VIDEOTERMIN_* "
        "environment names) instead of starting the embedded default",
    )
    parser.add_argument(
        "--nginx",
        action="store_true",
        help="measure behind deploy/'s nginx in front of two instances (PostgreSQL, Redis)",
    )
    args = parser.parse_args()
    if args.nginx:
        report(behind_nginx(args.runs), "nginx (deploy/) in front of two instances")
        return
    if args.url:
        settings = Settings(public_url=args.url.rstrip("/"))
        journeys, checks = asyncio.run(appointments(settings, args.runs))
        runs = asyncio.run(measure(settings.public_url, journeys, checks))
        report(runs, settings.public_url)
        return
    with tempfile.TemporaryDirectory() as tmp, (Path(tmp) / "server.log").open("wb") as log:
        port = free_port()
        settings = Settings(data_dir=Path(tmp), public_url=f"http://127.0.0.1:{port}")
        journeys, checks = asyncio.run(appointments(settings, args.runs))
        server = serve(settings, port, log)
        try:
            runs = asyncio.run(measure(settings.public_url, journeys, checks))
        finally:
            server.terminate()
            server.wait(10)
    report(runs, "the embedded default (videotermin serve)")


if __name__ == "__main__":
    main()
