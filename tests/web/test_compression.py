"""Text responses go gzip-compressed to a browser that accepts it, byte for byte the same
content once unpacked; everything else, and every browser that does not accept gzip,
gets the bytes as they are. Through HTTP against the real app (uvicorn)."""

from __future__ import annotations

import gzip

import httpx
import pytest

from videotermin.web.compression import accepts_gzip

# The app over HTTP: one database is enough, compression knows none.
over_http = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)

# Pages and files of the citizen's journey, each well over the minimum size.
TEXTS = ["/check", "/static/call.css", "/static/js/devicecheck.js", "/check/qr.svg"]


async def raw(
    client: httpx.AsyncClient, path: str, encoding: str | None, method: str = "GET"
) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as it came over the wire (not unpacked)."""
    headers = {"Accept-Encoding": encoding} if encoding is not None else {}
    request = client.build_request(method, path, headers=headers)
    if encoding is None:
        del request.headers["Accept-Encoding"]
    response = await client.send(request, stream=True)
    body = b"".join([part async for part in response.aiter_raw()])
    await response.aclose()
    return response, body


@over_http
@pytest.mark.parametrize("path", TEXTS)
async def test_text_is_compressed_when_asked_and_unpacks_to_the_same_bytes(
    client: httpx.AsyncClient, path: str
) -> None:
    packed, wire = await raw(client, path, "gzip, deflate, br, zstd")
    plain, identity = await raw(client, path, None)

    assert packed.status_code == plain.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) == len(wire)
    assert len(wire) < len(identity) * 0.6
    if path == "/check":  # the page carries a fresh token each time
        assert gzip.decompress(wire).startswith(b"<!doctype html>")
    else:
        assert gzip.decompress(wire) == identity
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(identity)
    for response in (packed, plain):
        assert "accept-encoding" in response.headers["vary"].lower()


@over_http
@pytest.mark.parametrize(
    "header",
    [
        "identity",
        "gzip;q=0",
        "GZIP; q=0, *;q=1",
        "br, zstd",
        "gzip;q=abc",
        "gzip;q=-1",
        "gzip;q=2",
        ";;;,,,===",
        "x" * 10_000,
        ("deflate, " * 1200) + "gzip",
    ],
    ids=[
        "identity",
        "q0",
        "q0-star",
        "others",
        "bad-q",
        "negative-q",
        "q-above-1",
        "garbage",
        "10KB",
        "gzip-after-1200",
    ],
)
async def test_a_browser_that_does_not_accept_gzip_gets_the_plain_bytes(
    client: httpx.AsyncClient, header: str
) -> None:
    response, body = await raw(client, "/static/call.css", header)
    _, identity = await raw(client, "/static/call.css", None)

    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert body == identity
    assert "accept-encoding" in response.headers["vary"].lower()


@over_http
@pytest.mark.parametrize("header", ["gzip", "GZip;q=0.5", "*", "br;q=1, gzip;q=0.1", "x-gzip"])
async def test_gzip_is_accepted_however_it_is_written(
    client: httpx.AsyncClient, header: str
) -> None:
    response, body = await raw(client, "/static/call.css", header)

    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"/*")


@over_http
async def test_the_speed_test_bytes_are_never_compressed(client: httpx.AsyncClient) -> None:
    response, body = await raw(client, "/check/speed/down?bytes=200000", "gzip")

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "identity"
    assert int(response.headers["content-length"]) == len(body) == 200_000
    assert len(gzip.compress(body)) > len(body), "random: nothing to gain"


@over_http
async def test_small_answers_and_json_refusals_stay_plain(client: httpx.AsyncClient) -> None:
    icon, icon_body = await raw(client, "/static/favicon.svg", "gzip")
    refusal, _ = await raw(client, "/check/speed/down?bytes=-1", "gzip")

    assert icon.status_code == 200 and "content-encoding" not in icon.headers
    assert icon_body.startswith(b"<svg")
    assert refusal.status_code == 422 and "content-encoding" not in refusal.headers


@over_http
async def test_head_and_not_modified_are_sane(client: httpx.AsyncClient) -> None:
    head, head_body = await raw(client, "/static/call.css", "gzip", method="HEAD")
    full, identity = await raw(client, "/static/call.css", None)
    packed, _ = await raw(client, "/static/call.css", "gzip")
    again = await client.get(
        "/static/call.css",
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["etag"]},
    )

    assert head.status_code == 200 and head_body == b""
    # HEAD: GET's very headers (RFC 9110, 9.3.2), here those of the gzip answer.
    assert head.headers["content-encoding"] == packed.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == packed.headers["content-length"]
    assert head.headers["etag"] == packed.headers["etag"]
    assert len(identity) > int(packed.headers["content-length"])
    assert "accept-encoding" in head.headers["vary"].lower()
    assert packed.headers["etag"] == "W/" + full.headers["etag"], "gzip bytes: a weak tag"
    assert again.status_code == 304 and again.content == b""
    assert "content-encoding" not in again.headers
    assert "accept-encoding" in again.headers["vary"].lower()


def test_accept_encoding_is_read_as_the_rfc_says() -> None:
    assert accepts_gzip("gzip")
    assert accepts_gzip("deflate, gzip;q=1.0, *;q=0.5")
    assert accepts_gzip("*")
    assert not accepts_gzip("")
    assert not accepts_gzip("*;q=0")
    assert not accepts_gzip("gzip;q=0.000")
    assert not accepts_gzip("gzip;q=0, *")
    assert not accepts_gzip("gzip;q=")
