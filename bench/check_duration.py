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
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from playwright.async_api import async_playwright
from sqlalchemy import select

from videotermin import scheduling
from videotermin.app import create_app
from videotermin.consent_texts import current_version
from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.passwords import hash_password
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.migrate import upgrade
from videotermin.store.models import ConsentRecord, DeviceCheck, StaffUser, Unit

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def prepare(settings: Settings) -> str:
    """A migrated database with one agreed participant; returns the link token."""
    engine = create_engine(settings.database_url or "")
    await upgrade(engine, settings.timezone)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    ctx = AppContext(settings=settings, clock=lambda: now, engine=engine, sessions=sessions)
    async with sessions() as session, session.begin():
        unit = await session.scalar(select(Unit).where(Unit.is_default.is_(True)))
        assert unit is not None
        advisor = StaffUser(
            username="bench",
            display_name="Bench",
            role="advisor",
            unit_id=unit.id,
            password_hash=hash_password("bench-password-1"),
            created_at=now,
        )
        session.add(advisor)
        await session.flush()
        _appointment, links = await scheduling.create_appointment(
            session,
            ctx,
            advisor=advisor,
            start=now + timedelta(minutes=3),
            duration_minutes=60,
            subject=None,
            participants=[ParticipantDraft(name="Bench", email="bench@example.org")],
        )
        session.add(
            ConsentRecord(
                participant_id=links[0].participant.id,
                version=current_version(settings),
                language="de",
                text_hash="0" * 64,
                decision="agreed",
                decided_at=now,
            )
        )
    await engine.dispose()
    return links[0].link.rsplit("/", 1)[1]


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
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
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
        token = asyncio.run(prepare(settings))
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
