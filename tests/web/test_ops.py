"""The operators' endpoints against the real app: ``/healthz`` (alive), ``/readyz`` (the
database, and Redis when configured) and ``/metrics`` (Prometheus text from the app's own
registry, by route template, without tokens, names or addresses)."""

from __future__ import annotations

import asyncio
import gc
import re
import time
from pathlib import Path

import httpx
import pytest
from page_helpers import Booking
from two_instances import REDIS_URL, require_redis
from waiting_helpers import booking, citizen, eventually, fast_timing, greet

from conftest import LiveServer, free_port, start_server
from private_postgres import PrivatePostgres, until_accepting
from videotermin.bus.core import MemoryBus
from videotermin.bus.redis_bus import RedisBus
from videotermin.context import AppContext
from videotermin.domain.clock import FakeClock
from videotermin.services.health import readiness
from videotermin.settings import Settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.migrate import upgrade

__all__ = ["booking", "fast_timing"]


def free_prefix() -> str:
    return f"vt-test-ops-{free_port()}"


def closed_redis_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


class DeadBus(MemoryBus):
    """The embedded bus, answering the readiness PING as an unreachable Redis would."""

    async def ping(self) -> bool:
        return False


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or ``None`` when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    match = re.search(rf"^{pattern}$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


async def metrics_text(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture
async def redis_reachable() -> None:
    await require_redis()


# --- liveness and readiness ------------------------------------------------------------


async def test_healthz_answers_ok_and_is_not_cached(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_names_the_unreachable_database(tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test",
        public_url="http://testserver.invalid",
    )
    server = start_server(settings, clock)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            response = await http.get("/readyz")
            alive = await http.get("/healthz")
    finally:
        server.stop()

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert "Traceback" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert alive.status_code == 200


async def test_readyz_names_redis_when_it_does_not_answer(
    settings: Settings, clock: FakeClock
) -> None:
    configured = settings.model_copy(update={"redis_url": closed_redis_url()})
    server = start_server(configured, clock, DeadBus())
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            response = await http.get("/readyz")
    finally:
        server.stop()

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "redis": "unreachable"}


async def test_readiness_with_a_redis_on_a_closed_port(
    settings: Settings, db_url: str, clock: FakeClock
) -> None:
    """The real Redis bus, pointed at a port nobody listens on: its PING fails quickly."""
    configured = settings.model_copy(update={"redis_url": closed_redis_url()})
    assert configured.redis_url is not None
    engine = create_engine(db_url)
    bus = RedisBus(configured.redis_url)
    ctx = AppContext(
        settings=configured,
        clock=clock,
        engine=engine,
        sessions=session_factory(engine),
        bus=bus,
    )
    try:
        state = await readiness(ctx)
    finally:
        await bus.close()
        await engine.dispose()

    assert not state.ready
    assert state.as_dict() == {"status": "unavailable", "database": "ok", "redis": "unreachable"}


async def test_readyz_with_a_reachable_redis(
    redis_reachable: None, settings: Settings, clock: FakeClock
) -> None:
    configured = settings.model_copy(update={"redis_url": REDIS_URL})
    server = start_server(configured, clock, RedisBus(REDIS_URL, channel_prefix=free_prefix()))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            response = await http.get("/readyz")
    finally:
        server.stop()

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


# --- metrics ---------------------------------------------------------------------------


async def test_metrics_name_route_templates_never_tokens_or_people(
    booking: Booking, client: httpx.AsyncClient
) -> None:
    token = booking.tokens[0]
    assert (await client.get(f"/v/{token}")).status_code == 200
    assert (await client.get(f"/v/{token}/warteraum")).status_code == 200
    assert (await client.get("/gibt-es-nicht")).status_code == 404
    assert (await client.get("/api/v1/appointments/xyz")).status_code == 401
    assert (await client.get("/api/v1/gibt-es-nicht")).status_code == 404
    assert (await client.get("/static/js/constants.js")).status_code == 200

    text = await metrics_text(client)

    count = "videotermin_http_request_duration_seconds_count"
    assert sample(text, count, method="GET", route="/v/{token}", status="2xx") == 1
    assert sample(text, count, method="GET", route="/v/{token}/warteraum", status="2xx") == 1
    assert sample(text, count, method="GET", route="unmatched", status="4xx") == 2
    api = "/api/v1/appointments/{appointment_id}"
    assert sample(text, count, method="GET", route=api, status="4xx") == 1
    assert sample(text, count, method="GET", route="/static/{path}", status="2xx") == 1
    assert token not in text
    for personal in ("Clara", "Kundin", "clara@example.org", "123D456", "Bea", "berater@"):
        assert personal not in text
    assert "@" not in text


async def test_metrics_list_every_family_with_zeroes(client: httpx.AsyncClient) -> None:
    text = await metrics_text(client)

    assert sample(text, "videotermin_websocket_connections", kind="staff_list") == 0
    assert sample(text, "videotermin_waiting_participants") == 0
    assert sample(text, "videotermin_call_seats") == 0
    assert sample(text, "videotermin_admissions_total") == 0
    assert sample(text, "videotermin_test_calls_total") == 0
    for outcome in ("sent", "failed", "retried"):
        assert sample(text, "videotermin_mails_total", outcome=outcome) == 0
    for table in ("appointments", "participants", "device_checks", "sessions"):
        assert sample(text, "videotermin_purged_rows_total", table=table) == 0
    assert "videotermin_event_loop_lag_seconds" in text


async def test_garbage_collector_pauses_are_timed_while_the_app_runs(
    client: httpx.AsyncClient,
) -> None:
    before = sample(
        await metrics_text(client), "videotermin_gc_pause_seconds_count", generation="2"
    )
    gc.collect()  # the same process as the served app: a full collection it must time
    text = await metrics_text(client)
    after = sample(text, "videotermin_gc_pause_seconds_count", generation="2")
    assert before is not None and after is not None and after >= before + 1
    total = sample(text, "videotermin_gc_pause_seconds_sum", generation="2")
    assert total is not None and 0 < total < 60


async def test_a_citizen_socket_is_counted_while_open(
    booking: Booking, live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    async def reading(name: str, **labels: str) -> float | None:
        return sample(await metrics_text(client), name, **labels)

    async def citizens_are(expected: float) -> bool:
        return await reading("videotermin_websocket_connections", kind="citizen") == expected

    async def waiting_are(expected: float) -> bool:
        return await reading("videotermin_waiting_participants") == expected

    assert await citizens_are(0)
    async with citizen(live_server, booking.tokens[0]) as ws:
        await greet(ws, role="citizen")
        assert await citizens_are(1)
        assert await eventually(lambda: waiting_are(1))
    assert await eventually(lambda: citizens_are(0))


# --- bad input -------------------------------------------------------------------------


async def test_odd_requests_get_clean_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics?x=%00")
    assert response.status_code == 404, "an address holding NUL names nothing here"
    assert "Traceback" not in response.text
    for path in ("/healthz", "/readyz", "/metrics"):
        head = await client.head(path)
        assert head.status_code == 200
        assert head.headers["cache-control"] == "no-store"
        post = await client.post(path, content=b"\x00")
        assert post.status_code == 405
        assert "Traceback" not in post.text
    assert (await client.get("/healthz/%00")).status_code == 404


async def test_readyz_turns_unready_while_postgresql_is_stopped_and_ready_after(
    private_postgres: PrivatePostgres, tmp_path: Path, clock: FakeClock
) -> None:
    engine = create_engine(private_postgres.url)
    await upgrade(engine, "Europe/Berlin")
    await engine.dispose()
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=private_postgres.url,
        public_url="http://testserver.invalid",
    )
    server = start_server(settings, clock)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            before = await http.get("/readyz")
            await asyncio.to_thread(private_postgres.stop)
            stopped = await http.get("/readyz")
            alive = await http.get("/healthz")
            await asyncio.to_thread(private_postgres.start)
            await until_accepting(private_postgres)
            after, attempts = await ready_within(http, seconds=10)
    finally:
        server.stop()

    assert (before.status_code, before.json()["database"]) == (200, "ok")
    assert stopped.status_code == 503
    assert stopped.json() == {"status": "unavailable", "database": "unreachable"}
    assert alive.status_code == 200, "the process lives on; only readiness changes"
    assert after == {"status": "ok", "database": "ok"}
    assert attempts <= 2, "one answer at most fails on a connection the restart dropped"


async def ready_within(http: httpx.AsyncClient, seconds: float) -> tuple[dict[str, str], int]:
    """The first ready answer of ``/readyz``, and how many answers that took."""
    deadline = time.monotonic() + seconds
    attempts = 0
    while True:
        attempts += 1
        response = await http.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            body: dict[str, str] = response.json()
            return body, attempts
        await asyncio.sleep(0.2)
