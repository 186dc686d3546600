"""The public check (``/check``) for a QR-code poster: the same page without an
appointment. It grades but stores nothing, limits each client, and the poster's
QR code encodes the page's address. The speed-test endpoints limit their sizes."""

from __future__ import annotations

import asyncio
import io
import json
import xml.etree.ElementTree as ET

import httpx
import pytest
import segno
from device_check_helpers import GOOD, device_checks, page_config, page_headers
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer
from videotermin.web.citizen.check_requests import SPEED_BUDGET_BYTES
from videotermin.web.citizen.speed_test import MAX_SPEED_BYTES


async def test_the_public_page_speaks_the_browsers_language(client: httpx.AsyncClient) -> None:
    german = await client.get("/check")
    english = await client.get("/check", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"})
    chosen = await client.get("/check?lang=en", headers={"Accept-Language": "de"})

    assert german.status_code == 200
    assert '<html lang="de">' in german.text and "Gerätetest" in german.text
    assert '<html lang="en">' in english.text and "Device check" in english.text
    assert '<html lang="en">' in chosen.text
    config = page_config(german.text)
    assert (config["callUrl"], config["resultUrl"]) == ("/check/anruf", "/check/ergebnis")
    assert "roomUrl" not in config and "Beratungsraum" not in german.text


async def test_the_public_result_is_graded_but_nothing_is_stored(
    client: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    headers = await page_headers(client, "/check")

    response = await client.post(
        "/check/ergebnis", content=json.dumps({**GOOD, "camera": "missing"}), headers=headers
    )

    assert response.status_code == 200
    assert response.json()["verdict"] == "yellow"
    assert await device_checks(db) == []
    assert "vt_device" not in response.headers.get("set-cookie", "")


async def test_the_public_result_validates_like_the_personal_one(
    client: httpx.AsyncClient,
) -> None:
    headers = await page_headers(client, "/check")

    response = await client.post(
        "/check/ergebnis", content=json.dumps({**GOOD, "jitter_ms": "fast"}), headers=headers
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["jitter_ms"]


async def test_the_public_result_is_limited_per_client(client: httpx.AsyncClient) -> None:
    headers = await page_headers(client, "/check")
    statuses = [
        (await client.post("/check/ergebnis", content=json.dumps(GOOD), headers=headers))
        for _ in range(13)
    ]

    assert [r.status_code for r in statuses[:12]] == [200] * 12
    assert statuses[12].status_code == 429
    assert int(statuses[12].headers["retry-after"]) >= 1


async def test_the_qr_code_is_an_svg_of_the_public_check_address(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    response = await client.get("/check/qr.svg")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert ET.fromstring(response.content).tag == "{http://www.w3.org/2000/svg}svg"
    expected = io.BytesIO()
    segno.make(live_server.url + "/check", error="m", micro=False).save(
        expected, kind="svg", scale=8, border=4, title="Videotermin"
    )
    assert response.content == expected.getvalue(), "encodes PUBLIC_URL + /check"


async def test_the_download_streams_random_bytes_of_the_asked_size(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get("/check/speed/down?bytes=200000")
    second = await client.get("/check/speed/down?bytes=200000")

    assert first.status_code == 200
    assert len(first.content) == 200_000
    assert first.headers["cache-control"] == "no-store"
    assert first.content != second.content, "random, so no cache or compression helps"


@pytest.mark.parametrize(
    "query",
    [
        "bytes=0",
        "bytes=-5",
        f"bytes={MAX_SPEED_BYTES + 1}",
        f"bytes={10**30}",
        "bytes=many",
        "bytes=1e6",
        "bytes=",
        "",
        "size=1000",
    ],
)
async def test_the_download_refuses_sizes_outside_the_limit(
    client: httpx.AsyncClient, query: str
) -> None:
    response = await client.get(f"/check/speed/down?{query}")

    assert response.status_code == 422
    assert len(response.content) < 1000, "a refusal, not a download"


async def test_the_limit_is_one_checks_budget_for_a_direction(client: httpx.AsyncClient) -> None:
    config = page_config((await client.get("/check")).text)
    largest = await client.get(f"/check/speed/down?bytes={MAX_SPEED_BYTES}")

    assert config["maxSpeedBytes"] == MAX_SPEED_BYTES == SPEED_BUDGET_BYTES
    assert MAX_SPEED_BYTES <= 1024 * 1024, "a device check stays under 3 MB in all"
    assert len(largest.content) == MAX_SPEED_BYTES


async def test_the_upload_consumes_the_body_up_to_the_limit(client: httpx.AsyncClient) -> None:
    headers = await page_headers(client, "/check")
    headers["Content-Type"] = "application/octet-stream"

    accepted = await client.post("/check/speed/up", content=b"x" * 300_000, headers=headers)
    too_large = await client.post(
        "/check/speed/up", content=b"x" * (MAX_SPEED_BYTES + 1), headers=headers
    )
    forged = await client.post("/check/speed/up", content=b"x" * 10)

    assert (accepted.status_code, accepted.json()) == (200, {"bytes": 300_000})
    assert too_large.status_code == 413
    assert forged.status_code == 403


async def raw_upload(url: str, head: str, body: bytes) -> bytes:
    """Send a request's head and the start of its body; whatever the server answers."""
    parts = httpx.URL(url)
    reader, writer = await asyncio.open_connection(parts.host, parts.port)
    try:
        writer.write(head.encode() + body)
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), timeout=5)
    finally:
        writer.close()


async def upload_head(client: httpx.AsyncClient, length: str | None) -> str:
    headers = await page_headers(client, "/check")
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    lines = [
        "POST /check/speed/up HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/octet-stream",
        f"X-Check-Token: {headers['X-Check-Token']}",
        f"Cookie: {cookie}",
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked",
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


async def test_a_declared_upload_over_the_limit_is_refused_before_its_body(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    head = await upload_head(client, str(100 * MAX_SPEED_BYTES))

    answer = await raw_upload(live_server.url, head, b"x" * 1000)

    assert answer.startswith(b"HTTP/1.1 413"), "answered with 1 KB of 64 MB sent"
    assert b'"too_large"' in answer


async def test_an_undeclared_upload_is_refused_once_it_passes_the_limit(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    head = await upload_head(client, None)
    chunk = b"x" * 65536
    body = b"".join(
        b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_SPEED_BYTES // 65536 + 2)
    )

    answer = await raw_upload(live_server.url, head, body)

    assert answer.startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize("length", ["-5", "many", "1e6", ""])
async def test_an_unreadable_upload_length_gets_a_clean_refusal(
    client: httpx.AsyncClient, live_server: LiveServer, length: str
) -> None:
    head = await upload_head(client, length)

    answer = await raw_upload(live_server.url, head, b"x" * 100)

    assert answer.startswith(b"HTTP/1.1 400")


async def test_the_speed_test_is_limited_per_client(client: httpx.AsyncClient) -> None:
    statuses = [
        (await client.get(f"/check/speed/down?bytes={MAX_SPEED_BYTES}")).status_code
        for _ in range(10)
    ]

    assert statuses[:8] == [200] * 8
    assert 429 in statuses[8:]
