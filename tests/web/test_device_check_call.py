"""``POST …/anruf``: a browser's offer gets the echo peer's answer (with candidates, no
trickle); a full echo answers 503 with Retry-After; bad offers and refused links
get nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from device_check_helpers import agree, page_headers
from page_helpers import book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"testcall_max_concurrent": 1})


@pytest.fixture
async def token(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock, advisor: StaffUser
) -> str:
    booking = await book(db, settings, clock)
    await agree(db, settings, booking.participant_ids[0])
    return booking.tokens[0]


@pytest.fixture
async def caller() -> AsyncIterator[RTCPeerConnection]:
    pc = RTCPeerConnection()
    pc.addTrack(AudioStreamTrack())
    pc.addTrack(VideoStreamTrack())
    try:
        yield pc
    finally:
        await pc.close()


async def offer_of(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def test_an_offer_gets_the_echos_answer_and_the_call_connects(
    client: httpx.AsyncClient, token: str, caller: RTCPeerConnection
) -> None:
    headers = await page_headers(client, f"/v/{token}/geraete")
    offer = await offer_of(caller)

    response = await client.post(
        f"/v/{token}/geraete/anruf", json={"type": "offer", "sdp": offer}, headers=headers
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["type"] == "answer"
    assert "a=candidate:" in answer["sdp"], "non-trickle: the answer holds the candidates"
    await caller.setRemoteDescription(RTCSessionDescription(**answer))
    assert caller.getTransceivers()[1].currentDirection == "sendrecv"
    metrics = (await client.get("/metrics")).text
    assert "videotermin_test_calls_total 1.0" in metrics.splitlines()


async def test_a_full_echo_answers_503_with_retry_after(
    client: httpx.AsyncClient, token: str, caller: RTCPeerConnection
) -> None:
    headers = await page_headers(client, f"/v/{token}/geraete")
    offer = {"type": "offer", "sdp": await offer_of(caller)}
    url = f"/v/{token}/geraete/anruf"

    first = await client.post(url, json=offer, headers=headers)
    second = await client.post(url, json=offer, headers=headers)

    assert first.status_code == 200
    assert second.status_code == 503
    assert second.json() == {"error": "busy"}
    assert int(second.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "answer", "sdp": "v=0"}, "type"),
        ({"type": "offer", "sdp": 5}, "sdp"),
        ({"type": "offer", "sdp": "v=0\r\nthis is no offer"}, "sdp"),
        ({"type": "offer", "sdp": "v" * 40_000}, "sdp"),
    ],
    ids=["not an offer", "not text", "malformed", "too long"],
)
async def test_a_bad_offer_is_refused(
    client: httpx.AsyncClient, token: str, body: dict[str, object], field: str
) -> None:
    headers = await page_headers(client, f"/v/{token}/geraete")

    response = await client.post(
        f"/v/{token}/geraete/anruf", content=json.dumps(body), headers=headers
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_a_link_without_consent_gets_no_call(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
    caller: RTCPeerConnection,
) -> None:
    booking = await book(db, settings, clock)
    headers = await page_headers(client, "/check")

    response = await client.post(
        f"/v/{booking.tokens[0]}/geraete/anruf",
        json={"type": "offer", "sdp": await offer_of(caller)},
        headers=headers,
    )

    assert response.status_code == 403


async def test_the_public_call_is_limited_per_client(client: httpx.AsyncClient) -> None:
    headers = await page_headers(client, "/check")
    bad = json.dumps({"type": "offer", "sdp": "v=0"})

    statuses = [
        (await client.post("/check/anruf", content=bad, headers=headers)).status_code
        for _ in range(7)
    ]

    assert statuses == [422] * 6 + [429]
