"""The browser's files under a versioned address: cached for a year and never changed
under it; the unversioned address revalidated; the pages link the versioned one."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx
import pytest

from videotermin.web.static_files import (
    IMMUTABLE,
    STATIC,
    publish,
    static_url,
    static_version,
)

SQLITE = pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)


@SQLITE
async def test_a_versioned_file_is_cached_for_good(client: httpx.AsyncClient) -> None:
    response = await client.get(static_url("js/protocol.js"))

    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.text == (await client.get("/static/js/protocol.js")).text


@SQLITE
async def test_another_release_s_version_is_not_found(client: httpx.AsyncClient) -> None:
    other = "0" * 12 if static_version() != "0" * 12 else "1" * 12

    response = await client.get(f"/static/{other}/js/protocol.js")

    assert response.status_code == 404
    assert "immutable" not in response.headers.get("cache-control", "")


@SQLITE
async def test_the_unversioned_address_is_revalidated(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/app.css")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


@SQLITE
async def test_pages_link_versioned_files_and_modules_import_relatively(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/login")).text
    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)

    assert linked and all(url.startswith(f"/static/{static_version()}/") for url in linked)
    # A module's relative imports resolve beside it, so they carry the version too.
    page = (await client.get(static_url("js/call_page.js"))).text
    assert re.search(r"from '\./protocol\.js'", page)


def test_publish_writes_this_version_with_compressed_copies(tmp_path: Path) -> None:
    older = tmp_path / ("f" * 12)
    older.mkdir()  # an earlier release's files stay for pages still open

    folder = publish(tmp_path)
    publish(tmp_path)  # again: the same result

    assert folder == tmp_path / static_version()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([older.name, folder.name])
    script = folder / "js" / "protocol.js"
    assert script.read_bytes() == (STATIC / "js" / "protocol.js").read_bytes()
    assert gzip.decompress((folder / "js" / "protocol.js.gz").read_bytes()) == script.read_bytes()
    assert (folder / "app.css.gz").exists() and (folder / "favicon.svg.gz").exists()
    assert not list(folder.rglob(".*")), "no hidden files"
