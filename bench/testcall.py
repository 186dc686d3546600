"""Concurrent echo test calls that one app process sustains with green quality.

The app runs in its own process (pinned to CPU 0 when there are two or more);
the callers are aiortc clients in this process (pinned to the other CPUs). Each
caller sends what a browser sends in the test call — VP8 640×480 at 20 fps and
about 1 Mbit/s, Opus in 20 ms packets — pre-encoded once, so the callers spend
their CPU on packets as the server does, not on encoding. The callers do not
decode what comes back either; they count it.

For each number of concurrent calls the run measures, over a steady window:
the server process's CPU time (→ CPU per call = CPU time / wall / calls) and
each call's round trip, packet loss, jitter and returned video bitrate, graded
with :data:`videotermin.domain.quality.LIMITS`. Prints figures; asserts nothing.
Target: at least 15 green calls per core.

    .venv/bin/python bench/testcall.py [--calls 1 4 8 16 24 32] [--window 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from seed import free_port, seed
from videotermin.domain.quality import LIMITS, Grade, Item
from videotermin.media.passthrough import EncodedTrack
from videotermin.settings import Settings, load_settings

WIDTH, HEIGHT, FPS = 640, 480, 20
VIDEO_KBPS = 1000
SECONDS_OF_MEDIA = 10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- media a browser would send, encoded once -----------------------------------


@dataclass(frozen=True)
class Encoded:
    payloads: list[bytes]
    ticks_per_frame: int
    clock_rate: int


def encode_video() -> Encoded:
    """Faint noise, as a camera sees it: the encoder spends its whole bitrate on it."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.bit_rate = VIDEO_KBPS * 1000
    codec.time_base = fractions.Fraction(1, FPS)
    codec.gop_size = FPS * SECONDS_OF_MEDIA
    codec.qmin, codec.qmax = 2, 63
    rate = str(VIDEO_KBPS * 1000)
    codec.options = {  # constant bitrate, as aiortc's own VP8 encoder sets it
        "bufsize": rate,
        "minrate": rate,
        "maxrate": rate,
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "undershoot-pct": "100",
        "overshoot-pct": "15",
    }
    payloads = []
    rng = random.Random(1)
    for index in range(FPS * SECONDS_OF_MEDIA):
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        noise = rng.randbytes(frame.planes[0].buffer_size)  # a camera's sensor noise, faint
        frame.planes[0].update(bytes(96 + (b & 7) for b in noise))
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = index
        frame.time_base = codec.time_base
        payloads += [bytes(packet) for packet in codec.encode(frame)]
    return Encoded(payloads, 90_000 // FPS, 90_000)


def encode_audio() -> Encoded:
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.format, codec.layout = 48_000, "s16", "mono"
    codec.bit_rate = 32_000
    payloads = []
    for index in range(50 * SECONDS_OF_MEDIA):
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        tone = bytes(((index * 960 + i) * 7) % 256 for i in range(960)) * 2
        frame.planes[0].update(tone)
        frame.sample_rate, frame.pts = 48_000, index * 960
        payloads += [bytes(packet) for packet in codec.encode(frame)]
    return Encoded(payloads, 960, 48_000)


class PreEncodedTrack(MediaStreamTrack):
    """Plays pre-encoded packets in real time, looping; the sender only packetizes them."""

    def __init__(self, kind: str, media: Encoded) -> None:
        super().__init__()
        self.kind = kind
        self.media = media
        self.index = 0
        self.started: float | None = None

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self.started is None:
            self.started = time.monotonic()
        due = self.started + self.index * self.media.ticks_per_frame / self.media.clock_rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        packet = av.Packet(self.media.payloads[self.index % len(self.media.payloads)])
        packet.pts = self.index * self.media.ticks_per_frame
        packet.time_base = fractions.Fraction(1, self.media.clock_rate)
        self.index += 1
        return packet


# --- one caller -------------------------------------------------------------------


class Caller:
    """A test call from this process; counts the returned video without decoding it."""

    def __init__(self, video: Encoded, audio: Encoded) -> None:
        self.pc = RTCPeerConnection()
        self.pc.addTrack(PreEncodedTrack("audio", audio))
        self.pc.addTrack(PreEncodedTrack("video", video))
        self.returned_bytes = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def call(self, http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        for transceiver in self.pc.getTransceivers():
            track = EncodedTrack(transceiver.receiver, transceiver.kind)
            self.tasks.append(asyncio.ensure_future(self._count(track)))
        offer = {"type": "offer", "sdp": self.pc.localDescription.sdp}
        response = await http.post(url, json=offer, headers=headers)
        response.raise_for_status()
        await self.pc.setRemoteDescription(RTCSessionDescription(**response.json()))

    async def flowing(self) -> None:
        """Wait until the echo's video comes back."""
        while not self.returned_bytes:
            await asyncio.sleep(0.1)

    async def _count(self, track: EncodedTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                packet = await track.recv()
                if track.kind == "video":
                    self.returned_bytes += packet.size

    async def snapshot(self) -> dict[str, Any]:
        stats = await self.pc.getStats()
        report: dict[str, Any] = {"bytes": self.returned_bytes, "at": time.monotonic()}
        for stat in stats.values():
            kind = getattr(stat, "kind", "")
            if stat.type == "remote-inbound-rtp":
                report[f"up_{kind}"] = (stat.packetsLost, stat.roundTripTime, stat.jitter)
            elif stat.type == "outbound-rtp":
                report[f"sent_{kind}"] = stat.packetsSent
            elif stat.type == "inbound-rtp":
                report[f"down_{kind}"] = (stat.packetsReceived, stat.packetsLost, stat.jitter)
        return report

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.pc.close()


async def loop_lag(seconds: float) -> float:
    """The callers' worst event-loop delay (ms): large means the callers, not the
    server, were the bottleneck, and the row's quality says little about the echo."""
    worst = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        before = time.monotonic()
        await asyncio.sleep(0.01)
        worst = max(worst, time.monotonic() - before - 0.01)
    return round(worst * 1000, 1)


def quality(first: dict[str, Any], last: dict[str, Any]) -> dict[Item, float]:
    """The test call's figures over the window, as the page computes them."""
    seconds = last["at"] - first["at"]
    sent = sum(last.get(f"sent_{k}", 0) - first.get(f"sent_{k}", 0) for k in ("audio", "video"))
    lost_up = sum(
        last.get(f"up_{k}", (0,))[0] - first.get(f"up_{k}", (0,))[0] for k in ("audio", "video")
    )
    received = sum(
        last.get(f"down_{k}", (0, 0))[0] - first.get(f"down_{k}", (0, 0))[0]
        for k in ("audio", "video")
    )
    lost_down = sum(
        last.get(f"down_{k}", (0, 0))[1] - first.get(f"down_{k}", (0, 0))[1]
        for k in ("audio", "video")
    )
    up = lost_up / sent if sent else 1.0
    down = lost_down / (received + lost_down) if received + lost_down else 1.0
    rtts = [last[f"up_{k}"][1] for k in ("audio", "video") if last.get(f"up_{k}", (0, None))[1]]
    jitter_ticks = [last[key][-1] for key in ("down_audio", "up_audio") if key in last]
    return {
        Item.ROUND_TRIP: 1000 * max(rtts) if rtts else float("inf"),
        Item.PACKET_LOSS: 100 * (1 - (1 - up) * (1 - down)),
        Item.JITTER: 1000 * max(jitter_ticks) / 48_000 if jitter_ticks else float("inf"),
        Item.BITRATE: (last["bytes"] - first["bytes"]) * 8 / seconds / 1000,
    }


# --- the server process ---------------------------------------------------------------


def process_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def serve(port: int) -> None:
    """The app alone in this process (started by :func:`main` with the settings in env)."""
    import uvicorn

    from videotermin.app import create_app

    uvicorn.run(create_app(load_settings()), host="127.0.0.1", port=port, log_level="warning")


# --- the run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    calls: int
    server_cores: float
    green: int
    worst: dict[Item, float]
    callers_cores: float
    callers_lag_ms: float

    @property
    def all_green(self) -> bool:
        return self.green == self.calls

    def __str__(self) -> str:
        per_call = self.server_cores / self.calls
        return (
            f"{self.calls:5d} {self.server_cores:9.2f} {per_call:9.3f} {1 / per_call:10.1f}"
            f" {self.green:4d}/{self.calls:<4d} {self.worst[Item.ROUND_TRIP]:7.0f}"
            f" {self.worst[Item.PACKET_LOSS]:6.2f} {self.worst[Item.JITTER]:7.1f}"
            f" {self.worst[Item.BITRATE]:8.0f} {self.callers_cores:8.2f} {self.callers_lag_ms:7.0f}"
        )


@dataclass(frozen=True)
class Bench:
    base: str
    server_pid: int
    tokens: list[str]
    window: float
    video: Encoded
    audio: Encoded

    async def measure(self, calls: int) -> Row:
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as http:
            (await http.get("/check")).raise_for_status()  # sets the page-token cookie
            headers = {"X-Check-Token": http.cookies["vt_check_csrf"]}
            callers = [Caller(self.video, self.audio) for _ in range(calls)]
            await asyncio.gather(
                *(
                    caller.call(http, f"/v/{token}/geraete/anruf", headers)
                    for caller, token in zip(callers, self.tokens, strict=False)
                )
            )
            await asyncio.wait_for(asyncio.gather(*(c.flowing() for c in callers)), 30)
            await asyncio.sleep(2.0)  # past the first keyframes and RTCP reports
            lag = asyncio.ensure_future(loop_lag(self.window))
            first = await asyncio.gather(*(c.snapshot() for c in callers))
            server_before, own_before = process_seconds(self.server_pid), time.process_time()
            started = time.monotonic()
            await asyncio.sleep(self.window)
            wall = time.monotonic() - started
            server_cores = (process_seconds(self.server_pid) - server_before) / wall
            callers_cores = (time.process_time() - own_before) / wall
            last = await asyncio.gather(*(c.snapshot() for c in callers))
            await asyncio.gather(*(c.close() for c in callers))
        figures = [quality(a, b) for a, b in zip(first, last, strict=True)]
        worst = {
            item: (min if item == Item.BITRATE else max)(f[item] for f in figures)
            for item in (Item.ROUND_TRIP, Item.PACKET_LOSS, Item.JITTER, Item.BITRATE)
        }
        green = sum(all(LIMITS[i].grade(v) == Grade.GREEN for i, v in f.items()) for f in figures)
        return Row(calls, server_cores, green, worst, callers_cores, await lag)


async def run(bench: Bench, sizes: list[int]) -> None:
    print(
        f"echo test calls, {WIDTH}x{HEIGHT}@{FPS} VP8 ~{VIDEO_KBPS} kbit/s + Opus,"
        f" window {bench.window:.0f} s, server pinned to one core"
    )
    print(
        "calls  srv-cores  core/call  calls/core  green  rtt-ms  loss-%  jit-ms  min-kbps"
        "  callers  lag-ms"
    )
    rows = []
    for calls in sizes:
        rows.append(await bench.measure(calls))
        print(rows[-1], flush=True)
        await asyncio.sleep(3.0)  # let the echo see the hang-ups
    green = [row for row in rows if row.all_green]
    if green:
        best = max(green, key=lambda row: row.calls)
        per_call = statistics.median(row.server_cores / row.calls for row in green)
        print(
            f"largest all-green run: {best.calls} calls on {best.server_cores:.2f} core(s);"
            f" CPU per call (median of green runs) {per_call:.3f} core"
            f" = {1 / per_call:.0f} calls per core"
        )


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 4, 8, 12, 16, 20, 24])
    parser.add_argument("--window", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **os.environ,
            "VIDEOTERMIN_DATA_DIR": tmp,
            "VIDEOTERMIN_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "VIDEOTERMIN_TESTCALL_MAX_CONCURRENT": "1000",
            "VIDEOTERMIN_TESTCALL_SECONDS": "30",
        }
        settings = Settings(data_dir=Path(tmp), public_url=env["VIDEOTERMIN_PUBLIC_URL"])
        names = [f"P{number}" for number in range(max(args.calls))]
        tokens = [token for _, token in asyncio.run(seed(settings, names, timedelta(hours=1)))]
        server = subprocess.Popen([sys.executable, __file__, "serve", str(port)], env=env)
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(server.pid, {cpus[0]})
            os.sched_setaffinity(0, set(cpus[1:]))
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/check").status_code == 200:
                        break
                time.sleep(0.2)
            media = encode_video(), encode_audio()
            bench = Bench(f"http://127.0.0.1:{port}", server.pid, tokens, args.window, *media)
            asyncio.run(run(bench, args.calls))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
