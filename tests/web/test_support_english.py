"""The support desk in English: a supporter who chose English (``?lang=``, remembered in
the ``vt_lang`` cookie) looks a participant up and sees the page in English, and the
live view over ``/ws/support`` renders its updates in English too — the device check's
steps, verdict and findings included, whatever language the citizen speaks."""

from __future__ import annotations

import httpx
from device_check_helpers import GOOD, agree, page_headers
from page_helpers import book, login
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support_helpers import SUPPORT, code_of, look_up, support_socket, supporter
from waiting_helpers import greet, receive_until, session_cookie

from conftest import LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

__all__ = ["supporter"]


async def test_a_supporter_who_chose_english_sees_the_desk_and_its_live_view_in_english(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    supporter: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    participant_id, token = booking.participant_ids[0], booking.tokens[0]
    await agree(db, settings, participant_id)
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, SUPPORT)
        search = await browser.get("/support?lang=en")
        assert search.status_code == 200
        assert "Look up a support code" in search.text
        assert "Support-Code nachschlagen" not in search.text

        refused = await look_up(browser, "AAA-AAA")  # the choice is remembered
        assert refused.status_code == 422
        assert "The code was not found" in refused.text

        found = await look_up(browser, await code_of(db, participant_id))
        assert found.status_code == 303
        page = await browser.get(found.headers["location"])
        assert page.status_code == 200
        text = page.text
        assert "<h1>Support view</h1>" in text
        assert "Where is the person right now?" in text
        assert "Has not opened the link yet, as far as we know." in text
        assert "Thursday, 3 December 2026" in text
        assert "No device check completed yet." in text
        assert 'data-text-reconnecting="Connection lost, reconnecting' in text
        for german in ("Support-Ansicht", "Wo ist die Person", "Noch kein Gerätetest"):
            assert german not in text

        async with support_socket(live_server, session_cookie(browser), "en") as ws:
            await greet(ws, role="support", participant=participant_id)
            first = await receive_until(ws, {"type": "support"})
            assert "Where is the person right now?" in first["html"]
            assert "Wo ist die Person" not in first["html"]

            headers = await page_headers(client, f"/v/{token}/geraete")
            opened = await receive_until(ws, {"type": "support"}, timeout=1)
            assert "Device check: opened" in opened["html"]

            posted = await client.post(
                f"/v/{token}/geraete/stand", json={"step": "blocked"}, headers=headers
            )
            assert posted.status_code == 204
            blocked = await receive_until(ws, {"type": "support", "problem": True}, timeout=1)
            assert (
                "Device check: camera and microphone are blocked in the browser"
                in (blocked["html"])
            )

            result = await client.post(
                f"/v/{token}/geraete/ergebnis", json={**GOOD, "camera": "black"}, headers=headers
            )
            assert result.status_code == 200 and result.json()["verdict"] == "yellow"
            graded = await receive_until(ws, {"type": "support", "problem": False}, timeout=1)
    html = graded["html"]
    assert "yellow – with limitations" in html
    assert "Camera: limited." in html and "The camera picture stays black." in html
    assert "Send: 20000 kbit/s" in html
    assert "Device check: completed" in html
    assert "Gerätetest" not in html and "Kamerabild" not in html
