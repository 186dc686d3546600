"""Through nginx, as deployed: the shipped site file (``deploy/nginx/videotermin.conf``)
in front of two ``videotermin serve`` processes on PostgreSQL and Redis
(``tests/app_processes.py``), over HTTPS with a self-signed certificate.

- The journey in Debian's Chromium: the citizen opens her personal link, agrees,
  checks her devices, enters the waiting room; the advisor logs in and admits her; both
  see and hear each other — every page and socket through nginx, over HTTP/2.
- With plain clients: HTTP/2 negotiated, text compressed, versioned files cached for
  good, the security headers once each, HTTP redirected to HTTPS, the WebSocket
  upgrade, a request failing over when an instance is gone, and no personal link's
  token in nginx's logs.
- An instance lost mid-call: the citizen's instance is killed (SIGKILL); her page
  reconnects through nginx to the other instance and is back in the same call, and
  stays there after the dead instance's presence has expired everywhere.

The processes run on the real clock (not the tests' FakeClock), so the appointments
start two minutes from the real now: the join window is open.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from call_pages import sees_video_and_hears, tile
from chromium import ARGS, FAKE_MEDIA, launch_chromium
from deployment_pages import advisor_admits, book_now, open_page
from journey_pages import Clicks, agree, check_devices, in_the_waiting_room
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect

from app_processes import Deployment, deployment, insecure_tls
from videotermin.realtime.timing import DEFAULT as TIMING
from videotermin.store.models import StaffUser
from videotermin.web.static_files import static_version

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True),
]

SECURITY_HEADERS = {
    "strict-transport-security": "max-age=63072000",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
IN_CALL = "Sie sind im Gespräch."


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium([*ARGS, *FAKE_MEDIA]) as browser:
        yield browser


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("VIDEOTERMIN_SCREENSHOTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("nginx-journey")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the journey through nginx: {folder}")
    return folder


@pytest.fixture
def site(db_url: str, advisor: StaffUser, tmp_path: Path) -> Iterator[Deployment]:
    """Two instances behind nginx; the advisor "berater" exists."""
    with deployment(db_url, tmp_path) as site:
        yield site


@pytest.fixture
def pinned_site(db_url: str, advisor: StaffUser, tmp_path: Path) -> Iterator[Deployment]:
    """Two instances behind nginx with two pinned entrances: one reaches instance 0
    first (the public address, the advisor's), the other instance 1 first."""
    with deployment(db_url, tmp_path, pinned=2) as site:
        yield site


async def protocol_of(page: Page) -> str:
    return str(
        await page.evaluate("() => performance.getEntriesByType('navigation')[0].nextHopProtocol")
    )


def assert_no_token(site: Deployment, token: str) -> None:
    logs = site.nginx.logs_text()
    assert token not in logs, "a personal link's token reached nginx's logs"


async def test_the_journey_through_nginx(
    browser: Browser,
    site: Deployment,
    db: async_sessionmaker[AsyncSession],
    db_url: str,
    screenshots: Path,
) -> None:
    url = site.nginx.url
    appointment_id, token = await book_now(db, url, db_url, agreed=False)

    room, room_errors = await open_page(browser, 360, 740)
    clicks = Clicks()
    await room.goto(f"{url}/v/{token}")
    await room.screenshot(path=screenshots / "1-consent-360.png", full_page=True)
    await agree(room, clicks)
    await check_devices(room, clicks)
    await clicks.click(
        room.get_by_role("link", name="Beratungsraum betreten"), "Beratungsraum betreten"
    )
    await in_the_waiting_room(room)
    await room.screenshot(path=screenshots / "2-waiting-room-360.png", full_page=True)

    desk, desk_errors = await advisor_admits(browser, url, appointment_id)
    await expect(room.get_by_role("heading", level=1)).to_have_text("Videogespräch")
    await sees_video_and_hears(room, "Bea Berater")
    await sees_video_and_hears(desk, "Clara Kundin")
    await expect(desk.locator("#waiting-summary")).to_have_text("Niemand wartet gerade.")
    await room.screenshot(path=screenshots / "3-call-citizen-360.png")
    await desk.screenshot(path=screenshots / "4-call-advisor-1280.png")
    await room.set_viewport_size({"width": 1280, "height": 800})
    await sees_video_and_hears(room, "Bea Berater")
    await room.screenshot(path=screenshots / "5-call-citizen-1280.png")

    assert await protocol_of(room) == "h2" and await protocol_of(desk) == "h2"
    assert clicks.made == ["Ich stimme zu", "Ich höre den Ton", "Beratungsraum betreten"]
    assert room_errors == [] and desk_errors == [], "no script errors, no CSP refusals"
    await room.context.close()  # the sockets close, and nginx logs them
    await desk.context.close()
    await asyncio.sleep(0.5)
    logged = site.nginx.access_log.read_text()
    assert '"GET /v/<token> HTTP/2.0" 200' in logged
    assert '"GET /ws/v/<token> HTTP/1.1" 101' in logged
    assert_no_token(site, token)


def negotiated_protocol(host: str, port: int) -> str | None:
    context = insecure_tls()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.selected_alpn_protocol()


async def test_what_nginx_adds_and_keeps(
    site: Deployment, db: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    url = site.nginx.url
    _appointment_id, token = await book_now(db, url, db_url, agreed=True)
    assert negotiated_protocol("127.0.0.1", site.nginx.ports.https) == "h2"

    async with httpx.AsyncClient(verify=insecure_tls(), timeout=20) as http:
        page = await http.get(f"{url}/v/{token}/warteraum", headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200 and "<h1>Warteraum</h1>" in page.text
        assert page.headers["content-encoding"] == "gzip"
        assert page.headers["cache-control"] == "no-store", "the app's own, kept"
        assert len(page.headers.get_list("content-security-policy")) == 1
        assert "script-src 'self'" in page.headers["content-security-policy"], "the app's CSP"
        for name, value in SECURITY_HEADERS.items():
            assert page.headers.get_list(name) == [value], name

        linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
        assert {u.rsplit(".", 1)[1] for u in linked} >= {"css", "js", "svg"}
        for asset in linked:
            assert asset.startswith(f"/static/{static_version()}/")
            answer = await http.get(f"{url}{asset}", headers={"Accept-Encoding": "gzip"})
            assert answer.status_code == 200, asset
            assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert answer.headers["content-encoding"] == "gzip", asset
            assert "default-src 'none'" in answer.headers["content-security-policy"]
            for name, value in SECURITY_HEADERS.items():
                assert answer.headers.get_list(name) == [value], (asset, name)
        plain = await http.get(f"{url}/static/app.css")
        assert plain.headers["cache-control"] == "no-cache", "unversioned: revalidated"
        other = await http.get(f"{url}/static/{'0' * 12}/app.css")
        assert other.status_code == 404 or static_version() == "0" * 12

        assert (await http.get(f"{url}/metrics")).status_code == 404, "per instance only"
        assert (await http.get(f"{site.apps[0].url}/metrics")).status_code == 200

        moved = await http.get(f"{site.nginx.http_url}/v/{token}?a=1")
        assert moved.status_code == 301
        assert moved.headers["location"] == f"https://127.0.0.1/v/{token}?a=1"

    wss = url.replace("https://", "wss://") + f"/ws/v/{token}"
    async with connect(wss, ssl=insecure_tls(), origin=url, proxy=None) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "hello", "version": 1}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "welcome"

    # One instance stopped (as systemd stops it): every request still answered.
    site.apps.stop(0)
    async with httpx.AsyncClient(verify=insecure_tls(), timeout=20) as http:
        for _ in range(6):
            assert (await http.get(f"{url}/login")).status_code == 200

    site.nginx.stop()
    logged = site.nginx.access_log.read_text()
    assert "/v/<token>/warteraum" in logged and "/ws/v/<token>" in logged
    assert "?a=1" not in logged, "no query strings"
    assert_no_token(site, token)


async def seats(app_url: str) -> float:
    """Connections the instance holds in a call (its /metrics)."""
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(f"{app_url}/metrics")).text
    found = re.search(r"^videotermin_call_seats (\S+)$", text, re.M)
    assert found, "videotermin_call_seats"
    return float(found.group(1))


@pytest.mark.parametrize("loss", ["kill", "stop"])
async def test_the_call_survives_the_loss_of_the_citizens_instance(
    loss: str,
    browser: Browser,
    pinned_site: Deployment,
    db: async_sessionmaker[AsyncSession],
    db_url: str,
) -> None:
    site = pinned_site
    advisor_port, citizen_port = site.nginx.ports.pinned
    a, b = site.apps[0], site.apps[1]
    appointment_id, token = await book_now(
        db, site.nginx.pinned_url(advisor_port), db_url, agreed=True
    )
    room, room_errors = await open_page(browser, 1024)
    await room.goto(f"{site.nginx.pinned_url(citizen_port)}/v/{token}/warteraum")
    await expect(room.locator("#connection-state")).to_have_text(
        "Verbunden. Sie sind im Warteraum."
    )
    desk, desk_errors = await advisor_admits(
        browser, site.nginx.pinned_url(advisor_port), appointment_id
    )
    await sees_video_and_hears(room, "Bea Berater")
    await sees_video_and_hears(desk, "Clara Kundin")
    assert (await seats(a.url), await seats(b.url)) == (1, 1), "advisor on A, citizen on B"

    status = room.locator("#call .call-status")
    if loss == "kill":  # the instance dies (SIGKILL): her page finds out by itself
        site.apps.kill(1)
        killed = time.monotonic()
        await expect(status).to_have_text(
            "Die Verbindung ist unterbrochen. Wir verbinden Sie wieder …"
        )
    else:  # a deploy stops it (SIGTERM): her socket is closed with 1012 and told so
        killed = time.monotonic()
        await asyncio.to_thread(site.apps.stop, 1)
        log = site.apps[1].log.read_text()
        assert "Application shutdown complete" in log, "it ended by itself, gracefully"

    # Her page reconnects through nginx (now to A) and is in the same call again:
    # nobody admitted her anew.
    await expect(status).to_have_text(IN_CALL, timeout=30_000)
    clara = tile(desk, "Clara Kundin")
    await expect(clara).to_have_attribute("data-reconnecting", "false", timeout=30_000)
    await expect(tile(desk, "Clara Kundin")).to_have_count(1)
    assert await seats(a.url) == 2, "both now on A"
    await sees_video_and_hears(desk, "Clara Kundin")
    await sees_video_and_hears(room, "Bea Berater")

    # B's presence expires on A (nobody hears B any more): Clara is not taken for gone.
    expired = killed + TIMING.instance_ttl_seconds + 2 * TIMING.sweep_seconds + 2
    await asyncio.sleep(max(0.0, expired - time.monotonic()))
    await expect(status).to_have_text(IN_CALL)
    await expect(clara).to_have_attribute("data-reconnecting", "false")
    await expect(tile(desk, "Clara Kundin")).to_have_count(1)
    await expect(tile(room, "Bea Berater")).to_have_count(1)
    await expect(desk.locator("#waiting-summary")).to_have_text("Niemand wartet gerade.")
    await sees_video_and_hears(desk, "Clara Kundin")
    await sees_video_and_hears(room, "Bea Berater")
    assert room_errors == [] and desk_errors == []
    await room.context.close()
    await desk.context.close()
    site.nginx.stop()
    assert "/ws/v/<token>" in site.nginx.access_log.read_text()
    assert_no_token(site, token)
