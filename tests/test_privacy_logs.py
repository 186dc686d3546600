"""Logs hold no personal data and no link tokens — checked on real requests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from conftest import NOW, LiveServer
from videotermin.domain.tokens import hash_token, new_token
from videotermin.logs import quiet_libraries
from videotermin.store.models import ApiToken
from videotermin.web.middleware import redact_path


async def booked_link(client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> str:
    """Book through the API as an integration would; returns the citizen's link token."""
    api_token = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="t", token_hash=hash_token(api_token), created_at=NOW))
    created = await client.post(
        "/api/v1/appointments",
        headers={"Authorization": f"Bearer {api_token}"},
        json={
            "start": "2026-12-03T11:00:00+01:00",
            "advisor": "berater",
            "participants": [{"name": "Zacharias Privatmann", "email": "z@privat.example"}],
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["participants"][0]["link"]).rsplit("/", 1)[1]


@pytest.fixture
def uvicorn_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture uvicorn's own logger at INFO, as a production server runs it.

    The test server logs at WARNING and uvicorn's logger does not reach the root
    logger, so the capture is attached to it directly.
    """
    logger = logging.getLogger("uvicorn.error")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)


def test_link_paths_are_redacted() -> None:
    assert redact_path("/v/abcDEF123_-xyzabcDEF123_-xyz12345") == "/v/<token>"
    assert redact_path("/v/abc/withdraw") == "/v/<token>/withdraw"
    assert redact_path("/ws/v/abc") == "/ws/v/<token>"
    assert redact_path("/termine/neu") == "/termine/neu"


async def test_no_token_name_or_address_reaches_a_log_line(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    advisor: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api_token = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="t", token_hash=hash_token(api_token), created_at=NOW))
    quiet_libraries()
    caplog.set_level(logging.INFO)

    created = await client.post(
        "/api/v1/appointments",
        headers={"Authorization": f"Bearer {api_token}"},
        json={
            "start": "2026-12-03T11:00:00+01:00",
            "advisor": "berater",
            "participants": [
                {
                    "name": "Zacharias Privatmann",
                    "email": "zacharias@privat.example",
                    "customer_number": "987X654321",
                }
            ],
        },
    )
    assert created.status_code == 201
    link = created.json()["participants"][0]["link"]
    token = link.rsplit("/", 1)[1]
    await client.get(f"/v/{token}")
    await client.get(f"/v/{token}?lang=en")
    await client.get("/v/" + "A" * 32)

    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(r.getMessage() for r in server_side)
    assert "path=/v/<token>" in text, "the access log did record the requests"
    for secret in [token, api_token, "Zacharias", "zacharias@privat.example", "987X654321"]:
        assert secret not in text


async def test_a_citizen_socket_leaves_neither_token_nor_address_in_the_logs(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    advisor: Any,
    live_server: LiveServer,
    uvicorn_log: pytest.LogCaptureFixture,
) -> None:
    token = await booked_link(client, db)
    quiet_libraries()
    caplog = uvicorn_log
    caplog.set_level(logging.INFO)

    url = live_server.url.replace("http://", "ws://") + f"/ws/v/{token}"
    async with connect(url, origin=live_server.url, proxy=None, open_timeout=10) as ws:  # type: ignore[arg-type]
        client_port = ws.local_address[1]
        with pytest.raises(ConnectionClosed):  # outside the join window: refused after accept
            await asyncio.wait_for(ws.recv(), 10)

    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "connection open" in text, "uvicorn's own lines were captured"
    assert token not in text
    assert f"127.0.0.1:{client_port}" not in text
    assert "/ws/v/" not in text


def test_the_handshake_filter_keeps_uvicorns_other_lines() -> None:
    logger = logging.getLogger("uvicorn.error")
    quiet_libraries()
    filters = list(logger.filters)
    quiet_libraries()  # idempotent: one filter, however often logging is set up
    assert logger.filters == filters
    handshake = logger.makeRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("10.0.0.7:5555", "/ws/v/secret"),
        None,
    )
    startup = logger.makeRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "Application startup complete.", (), None
    )
    assert not logger.filter(handshake)
    assert logger.filter(startup)
