"""Logs hold no personal data and no link tokens — checked on real requests."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.domain.tokens import hash_token, new_token
from videotermin.logs import quiet_libraries
from videotermin.store.models import ApiToken
from videotermin.web.middleware import redact_path


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
