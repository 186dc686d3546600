"""What the benchmarks share: a database seeded with an advisor and appointments for
agreed participants, a free local port, and Debian's Chromium with fake devices."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx
from sqlalchemy import select

from videotermin.context import AppContext
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.passwords import hash_password
from videotermin.services import appointments as scheduling
from videotermin.services.consent_texts import current_version
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.migrate import upgrade
from videotermin.store.models import ConsentRecord, StaffUser, Unit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
USERNAME, PASSWORD = "bench", "bench-password-1"
"""The advisor's login ("Bea Berater")."""


def serve(settings: Settings, port: int, log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """``videotermin serve`` (the embedded default) on the seeded data directory, once it
    answers; its output into ``log`` when given."""
    env = {
        **os.environ,
        "VIDEOTERMIN_DATA_DIR": str(settings.data_dir),
        "VIDEOTERMIN_PUBLIC_URL": settings.public_url,
    }
    server = subprocess.Popen(
        [Path(sys.executable).with_name("videotermin"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{settings.public_url}/login", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("videotermin serve did not answer within 30 s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(
    settings: Settings, names: list[str], starts_in: timedelta, *, agreed: bool = True
) -> list[tuple[str, str]]:
    """Migrate the database and add the advisor (or take the one an earlier run added)
    and, for each name, an appointment starting after ``starts_in`` with that one
    participant, who agreed unless ``agreed`` is false (personal links are not
    rate-limited). Returns (appointment id, link token) per appointment."""
    engine = create_engine(settings.database_url or "")
    await upgrade(engine, settings.timezone)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    ctx = AppContext(settings=settings, clock=lambda: now, engine=engine, sessions=sessions)
    made = []
    async with sessions() as session, session.begin():
        unit = await session.scalar(select(Unit).where(Unit.is_default.is_(True)))
        assert unit is not None
        advisor = await session.scalar(select(StaffUser).where(StaffUser.username == USERNAME))
        if advisor is None:
            advisor = StaffUser(
                username=USERNAME,
                display_name="Bea Berater",
                role="advisor",
                unit_id=unit.id,
                password_hash=hash_password(PASSWORD),
                created_at=now,
            )
            session.add(advisor)
            await session.flush()
        for number, name in enumerate(names):
            appointment, links = await scheduling.create_appointment(
                session,
                ctx,
                advisor=advisor,
                start=now + starts_in,
                duration_minutes=60,
                subject=None,
                participants=[ParticipantDraft(name=name, email=f"p{number}@example.org")],
            )
            if agreed:
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
            made.append((appointment.id, links[0].link.rsplit("/", 1)[1]))
    await engine.dispose()
    return made
