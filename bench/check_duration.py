"""How long the automatic part of the device check takes in headless Chromium.

Measures, for each run, the wall time from starting to load ``/v/<token>/geraete``
until the verdict is on the screen. The speaker question is answered the moment
its button appears, so the figure excludes the participant's thinking time.
Prints every run, the p50 and the verdicts; asserts nothing (target: p50 ≤ 10 s).

    .venv/bin/python bench/check_duration.py [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import uvicorn
from playwright.async_api import async_playwright
from sqlalchemy import select

from seed import CHROMIUM, CHROMIUM_ARGS, free_port, seed
from videotermin.app import create_app
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.models import DeviceCheck


async def verdicts(settings: Settings) -> list[tuple[str, dict[str, object]]]:
    engine = create_engine(settings.database_url or "")
    async with session_factory(engine)() as session:
        checks = list(await session.scalars(select(DeviceCheck).order_by(DeviceCheck.id)))
    await engine.dispose()
    return [
        (
            c.verdict,
            {
                "rtt_ms": c.round_trip_ms,
                "loss_pct": c.packet_loss_pct,
                "jitter_ms": c.jitter_ms,
                "video_kbps": c.bitrate_kbps,
                "up_kbps": c.upload_kbps and round(c.upload_kbps),
                "down_kbps": c.download_kbps and round(c.download_kbps),
                "problems": [
                    f["advice"] for f in json.loads(c.findings or "[]") if f["grade"] != "green"
                ],
            },
        )
        for c in checks
    ]


async def run(url: str, runs: int) -> list[float]:
    durations = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            context = await browser.new_context(viewport={"width": 1024, "height": 800})
            page = await context.new_page()
            started = time.perf_counter()
            await page.goto(url)
            await page.get_by_role("button", name="Ich höre den Ton").click(timeout=20_000)
            await page.locator("#check-verdict").wait_for(state="visible", timeout=60_000)
            durations.append(time.perf_counter() - started)
            await context.close()
        await browser.close()
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = Settings(
            data_dir=Path(tmp),
            public_url=f"http://127.0.0.1:{port}",
        )
        [(_, token)] = asyncio.run(seed(settings, ["Bench"], timedelta(minutes=3)))
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            durations = asyncio.run(run(f"{settings.public_url}/v/{token}/geraete", args.runs))
        finally:
            server.should_exit = True
            thread.join(10)
        results = asyncio.run(verdicts(settings))
    print(f"device check, automatic part (page load → verdict), {args.runs} runs")
    print(f"  testcall_seconds = {settings.testcall_seconds}")
    for seconds, (verdict, figures) in zip(durations, results, strict=False):
        print(f"  {seconds:5.2f} s  {verdict:6}  {figures}")
    print(f"  p50 = {statistics.median(durations):.2f} s   max = {max(durations):.2f} s")


if __name__ == "__main__":
    main()
