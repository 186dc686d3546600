"""Shared fixtures: a migrated database (SQLite and PostgreSQL), a fake clock and the
real app served by uvicorn on a free port.

Integration tests that take ``db_url`` run once per database. PostgreSQL is the
machine's server at 127.0.0.1:5432 (trust auth); each test gets its own
database cloned from a template migrated once per run. With ``CI=true`` a
missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from turn_server import TurnServer, running_turn_server, turnserver_available
from videotermin.app import create_app
from videotermin.bus.core import Bus
from videotermin.domain.clock import FakeClock
from videotermin.realtime.protocol import MAX_FRAME_BYTES
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.migrate import upgrade
from videotermin.store.models import StaffUser, Unit

# The helper modules' asserts explain their failures like the tests' own (pytest rewrites
# only test modules and conftest by itself); those imported above are too late for that.
pytest.register_assert_rewrite(
    *(
        path.stem
        for folder in ("", "web", "e2e")
        for path in sorted((Path(__file__).parent / folder).glob("*.py"))
        if not path.stem.startswith(("test_", "conftest")) and path.stem not in sys.modules
    )
)

# Fixtures kept beside the helpers they serve: ``private_redis`` and ``private_postgres``
# (a Redis or PostgreSQL of the test's own, which it may stop and start).
pytest_plugins = ["private_redis", "private_postgres"]

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "VIDEOTERMIN_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# A fixed "now" on a Wednesday morning in Berlin, so tests read like a calendar.
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
PASSWORD = "richtig-geheim-42"


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(f"SKIPPED LOUDLY: {reason}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- databases ---------------------------------------------------------------


class _PostgresTemplate:
    """One migrated template database per test run; tests get cheap clones of it."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.error: str | None = None

    def admin_url(self) -> str:
        return PG_ADMIN_URL

    def url_for(self, database: str) -> str:
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


_pg = _PostgresTemplate()


async def _pg_execute(statement: str) -> None:
    engine = create_engine(PG_ADMIN_URL)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _pg_template() -> str:
    if _pg.name is None and _pg.error is None:
        name = f"vt_template_{uuid.uuid4().hex[:10]}"
        try:
            await _pg_execute(f'CREATE DATABASE "{name}"')
        except Exception as exc:
            _pg.error = f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc!r}"
        else:
            engine = create_engine(_pg.url_for(name))
            await upgrade(engine, "Europe/Berlin")
            await engine.dispose()
            _pg.name = name
    if _pg.error:
        skip_or_fail(_pg.error)
    assert _pg.name is not None
    return _pg.name


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_template() -> Iterator[None]:
    yield
    if _pg.name:
        asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{_pg.name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def db_url(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A freshly migrated, empty database (with the default unit) of the given kind."""
    if db_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        engine = create_engine(url)
        await upgrade(engine, "Europe/Berlin")
        await engine.dispose()
        yield url
        return
    template = await _pg_template()
    name = f"vt_test_{uuid.uuid4().hex[:12]}"
    await _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _pg.url_for(name)
    finally:
        await _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on the test database, for arranging data and checking results."""
    engine: AsyncEngine = create_engine(db_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


# --- people ------------------------------------------------------------------


_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


async def add_staff(
    sessions: async_sessionmaker[AsyncSession],
    username: str,
    role: str = "advisor",
    display_name: str | None = None,
    password: str = PASSWORD,
) -> StaffUser:
    async with sessions() as session, session.begin():
        unit = await session.scalar(select(Unit).where(Unit.is_default.is_(True)))
        assert unit is not None
        user = StaffUser(
            username=username,
            display_name=display_name or username.title(),
            email=f"{username}@agentur.example",
            phone="+49 30 1234-567",
            role=role,
            unit_id=unit.id,
            password_hash=_hasher.hash(password),
            created_at=NOW,
        )
        session.add(user)
    return user


@pytest.fixture
async def advisor(db: async_sessionmaker[AsyncSession]) -> StaffUser:
    async with db() as session, session.begin():
        unit = await session.scalar(select(Unit).where(Unit.is_default.is_(True)))
        assert unit is not None
        unit.name = "Agentur für Arbeit Musterstadt"
        unit.address = "Hauptstraße 1, 12345 Musterstadt"
        unit.phone = "+49 30 5555-0"
        unit.email = "musterstadt@agentur.example"
        unit.hotline = "0800 123 4567"
    return await add_staff(db, "berater", display_name="Bea Berater")


# --- the running app ---------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=db_url,
        public_url="http://testserver.invalid",
        mail_from="Videotermin <noreply@agentur.example>",
    )


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(settings: Settings, clock: FakeClock, bus: Bus | None = None) -> LiveServer:
    """Serve the app on a free port; ``bus`` replaces the one the settings would choose
    (two instances on one Redis), like the clock never through a setting."""
    port = free_port()
    settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings, clock=clock, bus=bus)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws_max_size=MAX_FRAME_BYTES,  # as ``videotermin serve`` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    return LiveServer(url=f"http://127.0.0.1:{port}", server=server, thread=thread)


@pytest.fixture
def live_server(settings: Settings, clock: FakeClock) -> Iterator[LiveServer]:
    """The real app, served by uvicorn in a thread; the test owns the clock."""
    server = start_server(settings, clock)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=20) as http:
        yield http


@pytest.fixture
def turn_server(clock: FakeClock) -> Iterator[TurnServer]:
    """A real coturn on free ports with a random secret, its clock at the test's fake time
    (see tests/turn_server.py)."""
    if not turnserver_available():
        skip_or_fail("turnserver or faketime is missing (apt-get install coturn faketime)")
    with running_turn_server(clock()) as turn:
        yield turn


def random_name() -> str:
    return secrets.token_hex(4)
