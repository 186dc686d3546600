"""App-wide answers: unknown paths, wrong methods, security headers, static files."""

from __future__ import annotations

import httpx


async def test_unknown_path_gets_a_german_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Diese Seite gibt es nicht" in response.text


async def test_wrong_method_gets_a_page(client: httpx.AsyncClient) -> None:
    response = await client.delete("/login")
    assert response.status_code == 405
    assert "Das hat nicht geklappt" in response.text


async def test_api_errors_stay_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_every_page_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ["/login", "/static/app.css", "/gibt-es-nicht", "/api/v1/openapi.json"]:
        headers = (await client.get(path)).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
