"""The support desk over real HTTP and WebSocket: a supporter types the code a caller
reads aloud, sees that participant (never the link), watches them live, may resend the
invitation and nothing else; every look-up is audited and limited per supporter."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from device_check_helpers import GOOD, agree, page_headers
from journey_helpers import withdraw
from page_helpers import book, csrf_token, login, post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support_helpers import SUPPORT, code_of, look_up, support_socket, supporter
from waiting_helpers import closed, greet, receive_until, session_cookie

from conftest import LiveServer, add_staff
from videotermin.domain.clock import FakeClock
from videotermin.domain.support_code import format_support_code
from videotermin.settings import Settings
from videotermin.store.models import AuditEntry, OutboxMail, StaffUser, Unit

__all__ = ["supporter"]

FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"support_lookups_per_minute": 5})


async def lookups(db: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with db() as session:
        return list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "support_lookup")
                .order_by(AuditEntry.id)
            )
        )


async def test_a_code_read_aloud_finds_the_participant_without_their_link(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    supporter: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    code = await code_of(db, booking.participant_ids[0])
    spoken = " ".join(format_support_code(code) or "").lower()  # "k 7 p - 3 x m"
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        landed = await login(browser, SUPPORT)
        assert landed.headers["location"] == "/support"
        found = await look_up(browser, spoken)
        assert found.status_code == 303
        page = await browser.get(found.headers["location"])

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert format_support_code(code) in text
    assert "Clara Kundin" in text and "Bea Berater" in text
    assert "Donnerstag, 3. Dezember 2026" in text
    assert "Einladung wird versendet" in text
    assert "Einwilligung: keine Antwort" in text
    assert "Noch kein Gerätetest" in text
    assert booking.tokens[0] not in text and "/v/" not in text
    assert "clara@example.org" not in text and "123D456" not in text
    [entry] = await lookups(db)
    assert (entry.actor_id, entry.appointment_id, entry.detail) == (
        supporter.id,
        booking.appointment_id,
        "found",
    )


async def test_unknown_malformed_and_other_units_codes_are_refused_and_audited(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    supporter: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    code = await code_of(db, booking.participant_ids[0])
    async with db() as session, session.begin():
        other = Unit(slug="nord", name="Dienststelle Nord", timezone="Europe/Berlin")
        session.add(other)
        await session.flush()
        (await session.get_one(StaffUser, supporter.id)).unit_id = other.id
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, SUPPORT)
        other_unit = await look_up(browser, code)
        unknown = await look_up(browser, "AAA-AAA")
        malformed = await look_up(browser, "<script>\x00" + "Z" * 5000)

    assert other_unit.status_code == 422 and "anderen Dienststelle" in other_unit.text
    assert "Clara Kundin" not in other_unit.text
    assert unknown.status_code == 422 and "keinen aktuellen Termin" in unknown.text
    assert malformed.status_code == 422 and "kein Support-Code" in malformed.text
    assert "<script>" not in malformed.text
    assert [(e.detail, e.appointment_id) for e in await lookups(db)] == [
        ("other_unit", None),
        ("unknown", None),
        ("malformed", None),
    ]


async def test_an_admin_of_another_unit_may_look_up(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    await add_staff(db, "admin-anna", role="admin")
    async with db() as session, session.begin():
        other = Unit(slug="sued", name="Dienststelle Süd", timezone="Europe/Berlin")
        session.add(other)
        await session.flush()
        admin = await session.scalar(select(StaffUser).where(StaffUser.username == "admin-anna"))
        assert admin is not None
        admin.unit_id = other.id
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, "admin-anna")
        found = await look_up(browser, await code_of(db, booking.participant_ids[0]))
    assert found.status_code == 303


async def test_advisors_and_strangers_cannot_use_the_desk(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    supporter: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    participant = f"/support/teilnehmende/{booking.participant_ids[0]}"
    async with httpx.AsyncClient(base_url=live_server.url) as stranger:
        assert (await stranger.get("/support")).headers["location"].startswith("/login")
        assert (await stranger.get(participant)).headers["location"].startswith("/login")
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser)
        refused = await browser.get("/support")
        assert refused.status_code == 403 and "für den Support" in refused.text
        assert (await browser.get(participant)).status_code == 403
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, SUPPORT)
        # a participant id is not a look-up: without one, nothing is shown
        unseen = await browser.get(participant)
        assert unseen.status_code == 404 and "Clara" not in unseen.text
        forged = await browser.post("/support", data={"code": "AAA-AAA"})
        assert forged.status_code == 403
    assert await lookups(db) == []


async def test_look_ups_are_limited_per_supporter_even_in_parallel(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    supporter: StaffUser,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as browser:
        await login(browser, SUPPORT)
        token = csrf_token((await browser.get("/support")).text)
        answers = await asyncio.gather(
            *(
                browser.post("/support", data={"csrf_token": token, "code": "AAA-AAA"})
                for _ in range(20)
            )
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [422] * 5 + [429] * 15
        limited = next(a for a in answers if a.status_code == 429)
        assert int(limited.headers["retry-after"]) >= 1
        assert "Sekunden" in limited.text
        assert len(await lookups(db)) == 5

        clock.advance(timedelta(seconds=61))
        assert (await look_up(browser, "AAA-AAA")).status_code == 422
    assert len(await lookups(db)) == 6


async def test_support_may_resend_the_invitation_and_it_is_audited(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    supporter: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    participant_id = booking.participant_ids[0]
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, SUPPORT)
        page = (await look_up(browser, await code_of(db, participant_id))).headers["location"]
        action = f"{page}/einladung"
        forged = await browser.post(action, data={})
        assert forged.status_code == 403
        resent = await post_form(browser, page, action, {})
        assert resent.status_code == 303 and resent.headers["location"] == page
        shown = await browser.get(page)
    assert "erneut versendet" in shown.text
    async with db() as session:
        mails = list(
            await session.scalars(
                select(OutboxMail.kind).where(OutboxMail.participant_id == participant_id)
            )
        )
        resends = list(
            await session.scalars(
                select(AuditEntry.actor_id).where(AuditEntry.action == "invitation_resent")
            )
        )
    assert mails == ["invitation", "invitation"]
    assert resends == [supporter.id]


async def test_a_code_stops_working_when_the_data_is_erased(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    supporter: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    participant_id = booking.participant_ids[0]
    code = await code_of(db, participant_id)
    await agree(db, settings, participant_id)
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, SUPPORT)
        page = (await look_up(browser, code)).headers["location"]
        withdrawn = await withdraw(client, booking.tokens[0])
        assert withdrawn.status_code in (200, 303)
        gone = await browser.get(page)
        again = await look_up(browser, code)
    assert gone.status_code == 404
    assert again.status_code == 422 and "keinen aktuellen Termin" in again.text


async def test_the_supporter_sees_the_check_turn_to_a_blocked_camera_live(
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
        await look_up(browser, await code_of(db, participant_id))
        async with support_socket(live_server, session_cookie(browser)) as ws:
            assert (await greet(ws, role="support", participant=participant_id))["role"] == (
                "support"
            )
            first = await receive_until(ws, {"type": "support"})
            assert 'data-place="unseen"' in first["html"] and first["problem"] is False

            headers = await page_headers(client, f"/v/{token}/geraete")
            opened = await receive_until(ws, {"type": "support"}, timeout=1)
            assert "Gerätetest: geöffnet" in opened["html"]

            running = await client.post(
                f"/v/{token}/geraete/stand", json={"step": "running"}, headers=headers
            )
            assert running.status_code == 204
            shown = await receive_until(ws, {"type": "support"}, timeout=1)
            assert "Gerätetest: läuft" in shown["html"]
            blocking = await client.post(
                f"/v/{token}/geraete/stand", json={"step": "blocked"}, headers=headers
            )
            assert blocking.status_code == 204
            blocked = await receive_until(ws, {"type": "support", "problem": True}, timeout=1)
            assert "Kamera und Mikrofon sind im Browser blockiert" in blocked["html"]
            assert 'role="alert"' in blocked["html"]

            bad = await client.post(
                f"/v/{token}/geraete/stand", json={"step": "hacked"}, headers=headers
            )
            assert bad.status_code == 422
            repeated = await client.post(
                f"/v/{token}/geraete/stand", json={"step": "blocked"}, headers=headers
            )
            assert repeated.status_code == 204
            with pytest.raises(TimeoutError):  # nothing new, so nothing is sent
                await receive_until(ws, {"type": "support"}, timeout=0.5)

            result = await client.post(
                f"/v/{token}/geraete/ergebnis",
                json={**GOOD, "camera": "black"},
                headers={**headers, "User-Agent": FIREFOX_ON_LINUX},
            )
            assert result.status_code == 200 and result.json()["verdict"] == "yellow"
            graded = await receive_until(ws, {"type": "support", "problem": False}, timeout=1)
    html = graded["html"]
    assert 'data-verdict="yellow"' in html and "gelb – mit Einschränkungen" in html
    assert "Firefox" in html and "Linux" in html
    assert "Kamera: eingeschränkt." in html and "Das Kamerabild bleibt schwarz" in html
    assert "Senden: 20000 kbit/s" in html
    assert "Gerätetest: abgeschlossen" in html


async def test_the_live_view_refuses_without_a_look_up_and_ends_with_the_login(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    supporter: StaffUser,
) -> None:
    booking = await book(db, settings, clock)
    participant_id = booking.participant_ids[0]
    async with httpx.AsyncClient(base_url=live_server.url) as advisor_browser:
        await login(advisor_browser)
        async with support_socket(live_server, session_cookie(advisor_browser)) as ws:
            assert (await closed(ws))[0] == 4403
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, SUPPORT)
        cookie = session_cookie(browser)
        async with support_socket(live_server, cookie) as ws:
            await ws.send('{"type":"hello","version":1,"participant":"' + participant_id + '"}')
            assert (await closed(ws))[0] == 4403  # not looked up yet
        await look_up(browser, await code_of(db, participant_id))
        async with support_socket(live_server, cookie) as ws:
            await greet(ws, participant=participant_id)
            await receive_until(ws, {"type": "support"})
            await post_form(browser, "/support", "/logout", {})
            assert (await closed(ws, timeout=1))[0] == 4401
