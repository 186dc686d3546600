"""``POST /v/<token>/geraete/ergebnis``: the check's figures are validated strictly,
graded, stored with the device parameters and the client's address, and the device
is marked with the ``vt_device`` cookie. Bad input or a refused link stores nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from device_check_helpers import CHROME_WINDOWS, GOOD, agree, device_checks, page_headers
from page_helpers import book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.bus.events import appointment_channel
from videotermin.domain.clock import FakeClock
from videotermin.domain.tokens import hash_token
from videotermin.settings import Settings
from videotermin.store.models import StaffUser


@pytest.fixture
async def agreed(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock, advisor: StaffUser
) -> tuple[str, str, str]:
    """(token, participant id, appointment id) of a participant who has given consent."""
    booking = await book(db, settings, clock)
    await agree(db, settings, booking.participant_ids[0])
    return booking.tokens[0], booking.participant_ids[0], booking.appointment_id


async def post_result(
    client: httpx.AsyncClient, token: str, body: Any, **extra: str
) -> httpx.Response:
    headers = await page_headers(client, f"/v/{token}/geraete")
    content = body if isinstance(body, str) else json.dumps(body)
    return await client.post(
        f"/v/{token}/geraete/ergebnis", content=content, headers={**headers, **extra}
    )


async def test_a_result_is_graded_and_stored_with_device_and_address(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    agreed: tuple[str, str, str],
    live_server: LiveServer,
) -> None:
    token, participant_id, appointment_id = agreed
    ctx = live_server.server.config.app.state.ctx  # type: ignore[attr-defined]
    async with ctx.bus.subscribe(appointment_channel(appointment_id)) as events:
        response = await post_result(
            client, token, {**GOOD, "jitter_ms": 45}, **{"User-Agent": CHROME_WINDOWS}
        )
        event = await anext(events)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["verdict"] == "yellow"
    jitter = next(f for f in answer["findings"] if f["item"] == "jitter")
    assert jitter == {"item": "jitter", "grade": "yellow", "value": 45.0, "advice": "jitter/yellow"}
    assert response.headers["cache-control"] == "no-store"
    assert event["participant_id"] == participant_id

    [check] = await device_checks(db)
    assert check.participant_id == participant_id
    assert check.verdict == "yellow"
    assert (check.os_family, check.os_version, check.device_type) == ("Windows", "10", "desktop")
    assert (check.browser_family, check.browser_version) == ("Chrome", "131.0")
    assert check.ip_address == "127.0.0.1"
    assert (check.round_trip_ms, check.jitter_ms, check.bitrate_kbps) == (42.5, 45, 900)
    assert (check.upload_kbps, check.download_kbps, check.packet_loss_pct) == (20_000, 50_000, 0)
    assert json.loads(check.findings or "") == answer["findings"]

    cookie = next(c for c in client.cookies.jar if c.name == "vt_device")
    assert cookie.path == "/v/"
    assert check.device_key_hash == hash_token(cookie.value or "")
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie


async def test_a_second_check_on_the_same_device_keeps_its_key(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], agreed: tuple[str, str, str]
) -> None:
    token = agreed[0]
    assert (await post_result(client, token, GOOD)).status_code == 200
    assert (await post_result(client, token, {**GOOD, "speaker": "not_heard"})).status_code == 200

    first, second = await device_checks(db)
    assert (first.verdict, second.verdict) == ("green", "yellow")
    assert first.device_key_hash == second.device_key_hash


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ("{not json", {"body"}),
        ([GOOD], {"body"}),
        ({**GOOD, "round_trip_ms": "42"}, {"round_trip_ms"}),
        ({**GOOD, "connected": 1}, {"connected"}),
        ({**GOOD, "bitrate_kbps": True}, {"bitrate_kbps"}),
        ({**GOOD, "camera": "great"}, {"camera"}),
        ({**GOOD, "packet_loss_pct": 101, "jitter_ms": -1}, {"packet_loss_pct", "jitter_ms"}),
        ({**GOOD, "upload_kbps": 1e12}, {"upload_kbps"}),
        ({**GOOD, "browser": "Chrome"}, {"browser"}),
        ({k: v for k, v in GOOD.items() if k != "microphone"}, {"microphone"}),
    ],
    ids=[
        "bad json",
        "not an object",
        "string for number",
        "number for boolean",
        "boolean for number",
        "unknown state",
        "out of range",
        "absurdly large",
        "unknown field",
        "missing field",
    ],
)
async def test_bad_input_is_refused_with_field_names_and_nothing_stored(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    agreed: tuple[str, str, str],
    body: Any,
    fields: set[str],
) -> None:
    response = await post_result(client, agreed[0], body)

    assert response.status_code == 422, response.text
    assert {error["field"] for error in response.json()["errors"]} == fields
    assert await device_checks(db) == []
    assert "vt_device" not in response.headers.get("set-cookie", "")


async def test_an_oversized_body_is_refused(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], agreed: tuple[str, str, str]
) -> None:
    response = await post_result(client, agreed[0], {**GOOD, "padding": "x" * 10_000})

    assert response.status_code == 413
    assert await device_checks(db) == []


@pytest.mark.parametrize(
    "forged",
    [{"X-Check-Token": "a" * 32}, {"Sec-Fetch-Site": "cross-site"}],
    ids=["wrong token", "cross-site"],
)
async def test_a_post_not_from_the_page_is_refused(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    agreed: tuple[str, str, str],
    forged: dict[str, str],
) -> None:
    response = await post_result(client, agreed[0], GOOD, **forged)

    assert response.status_code == 403
    assert response.json() == {"error": "csrf"}
    assert await device_checks(db) == []


async def test_refused_before_consent_after_the_end_and_for_unknown_links(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]
    headers = await page_headers(client, "/check")  # the same token cookie serves every page
    body = json.dumps(GOOD)
    url = f"/v/{token}/geraete/ergebnis"

    before_consent = await client.post(url, content=body, headers=headers)
    await agree(db, settings, booking.participant_ids[0])
    clock.advance(timedelta(days=2))
    after_end = await client.post(url, content=body, headers=headers)
    unknown = await client.post(
        "/v/" + "A" * 32 + "/geraete/ergebnis", content=body, headers=headers
    )

    assert (before_consent.status_code, before_consent.json()["state"]) == (403, "consent_needed")
    assert (after_end.status_code, after_end.json()["state"]) == (403, "ended")
    assert unknown.status_code == 404
    assert await device_checks(db) == []
