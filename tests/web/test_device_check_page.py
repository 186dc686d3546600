"""``GET /v/<token>/geraete``: the check page opens only when the journey allows it,
carries what its script needs (endpoints, page token, ICE servers with TURN
credentials) without inline script or style, and shows when the room opens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from device_check_helpers import agree, page_config
from page_helpers import book
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import NOW
from videotermin.domain.appointments import ParticipantDraft
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

TURN_SECRET = "geheimnis-fuer-coturn"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "stun_urls": ["stun:stun.example.org:3478"],
            "turn_urls": ["turn:turn.example.org:3478?transport=udp"],
            "turn_secret": TURN_SECRET,
        }
    )


AgreedToken = Callable[..., Awaitable[str]]


@pytest.fixture
def agreed_token(
    db: async_sessionmaker[AsyncSession], settings: Settings, clock: FakeClock, advisor: StaffUser
) -> AgreedToken:
    """Books an appointment of Berater's (``book``'s keywords) whose citizen agreed: her token."""

    async def agreed(**booking: object) -> str:
        made = await book(db, settings, clock, **booking)  # type: ignore[arg-type]
        await agree(db, settings, made.participant_ids[0])
        return made.tokens[0]

    return agreed


async def test_the_page_carries_endpoints_token_and_ice_servers(
    client: httpx.AsyncClient, agreed_token: AgreedToken
) -> None:
    token = await agreed_token()

    page = await client.get(f"/v/{token}/geraete")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    config = page_config(page.text)
    base = f"/v/{token}/geraete"
    assert (config["callUrl"], config["resultUrl"]) == (base + "/anruf", base + "/ergebnis")
    assert config["csrfToken"] == client.cookies["vt_check_csrf"]
    stun, turn = config["iceServers"]
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    expiry, _, random_id = turn["username"].partition(":")
    assert int(expiry) == int((NOW + timedelta(hours=6)).timestamp())
    assert token not in random_id and len(random_id) == 16
    digest = hmac.new(TURN_SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(digest).decode()
    assert "Klicken Sie im Fenster Ihres Browsers auf „Zulassen“." in page.text


async def test_the_page_has_no_inline_script_or_style(
    client: httpx.AsyncClient, agreed_token: AgreedToken
) -> None:
    token = await agreed_token()

    for url in (f"/v/{token}/geraete", "/check"):
        html = (await client.get(url)).text
        for tag in re.findall(r"<script[^>]*>", html):
            assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
        assert not re.search(r"\sstyle=|\son[a-z]+=|<style", html)


async def test_before_the_window_the_room_button_says_from_when(
    client: httpx.AsyncClient, agreed_token: AgreedToken
) -> None:
    tomorrow = await agreed_token()
    today = await agreed_token(start=NOW + timedelta(hours=2))

    later = (await client.get(f"/v/{tomorrow}/geraete")).text
    soon = (await client.get(f"/v/{today}/geraete")).text

    assert "ab Donnerstag, 3. Dezember 2026, 09:55 Uhr" in later
    assert "ab 11:55 Uhr" in soon
    assert page_config(soon)["opensInSeconds"] == 115 * 60
    assert re.search(r'<a id="check-enter" class="button" href="/v/[^"]+/warteraum" hidden>', soon)


async def test_in_the_window_the_room_can_be_entered(
    client: httpx.AsyncClient, agreed_token: AgreedToken
) -> None:
    token = await agreed_token(start=NOW + timedelta(minutes=3))

    html = (await client.get(f"/v/{token}/geraete")).text

    assert f'<a id="check-enter" class="button" href="/v/{token}/warteraum">' in html
    assert "check-enter-later" not in html


async def test_the_page_speaks_the_participants_language(
    client: httpx.AsyncClient, agreed_token: AgreedToken
) -> None:
    draft = ParticipantDraft(name="Ivan", email="ivan@example.org", language="en")
    token = await agreed_token(participants=[draft])

    english = (await client.get(f"/v/{token}/geraete")).text
    german = (await client.get(f"/v/{token}/geraete?lang=de")).text

    assert '<html lang="en">' in english and "Enter the consultation room" in english
    assert '<html lang="de">' in german and "Beratungsraum betreten" in german


async def test_the_help_for_this_browser_comes_first(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
    )
    html = (await client.get("/check", headers={"User-Agent": iphone})).text
    blocked = html[html.index('id="check-failure-blocked"') :]

    assert blocked.index("<h3>iPhone und iPad</h3>") < blocked.index("<details")
    assert "<summary>Chrome und Edge am Computer</summary>" in blocked
    assert "0800 123 4567" in blocked, "the unit's hotline"


async def test_the_page_is_refused_before_consent_and_for_unknown_links(
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    token = booking.tokens[0]

    before_consent = await client.get(f"/v/{token}/geraete")
    unknown = await client.get("/v/" + "B" * 32 + "/geraete")
    await agree(db, settings, booking.participant_ids[0])
    clock.advance(timedelta(days=2))
    after_end = await client.get(f"/v/{token}/geraete")

    assert before_consent.status_code == 303
    assert before_consent.headers["location"] == f"/v/{token}"
    assert after_end.status_code == 303
    assert unknown.status_code == 404
