"""The browser's files under a versioned address: cached for a year and never changed
under it; the unversioned address revalidated; the pages link the versioned one."""

from __future__ import annotations

import re

import httpx
import pytest

from videotermin.web.static_files import IMMUTABLE, static_url, static_version

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)


async def test_a_versioned_file_is_cached_for_good(client: httpx.AsyncClient) -> None:
    response = await client.get(static_url("js/protocol.js"))

    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.text == (await client.get("/static/js/protocol.js")).text


async def test_another_release_s_version_is_not_found(client: httpx.AsyncClient) -> None:
    other = "0" * 12 if static_version() != "0" * 12 else "1" * 12

    response = await client.get(f"/static/{other}/js/protocol.js")

    assert response.status_code == 404
    assert "immutable" not in response.headers.get("cache-control", "")


async def test_the_unversioned_address_is_revalidated(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/app.css")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


async def test_pages_link_versioned_files_and_modules_import_relatively(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/login")).text
    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)

    assert linked and all(url.startswith(f"/static/{static_version()}/") for url in linked)
    # A module's relative imports resolve beside it, so they carry the version too.
    page = (await client.get(static_url("js/call_page.js"))).text
    assert re.search(r"from '\./protocol\.js'", page)
