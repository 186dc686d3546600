"""Units and API tokens in the administration, over real HTTP: a changed hotline is on
the citizen's page at once, a revoked token is refused from the next request on, every
change is one audit entry, and bad input or a forged form changes nothing."""

from __future__ import annotations

import re

import httpx
from admin_helpers import admin_browser
from page_helpers import book, login, post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer, add_staff
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import ApiToken, AuditEntry, StaffUser, Unit

TOKEN = re.compile(r'id="new-token" type="text" readonly value="([A-Za-z0-9_-]+)"')

__all__ = ["admin_browser"]


async def audit(db: async_sessionmaker[AsyncSession], prefix: str) -> list[AuditEntry]:
    async with db() as session:
        return list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.startswith(prefix))
                .order_by(AuditEntry.id)
            )
        )


UNIT = {
    "slug": "nord",
    "name": "Dienststelle Nord",
    "address": "Nordstraße 1, 12345 Musterstadt",
    "phone": "+49 30 111",
    "email": "nord@agentur.example",
    "hotline": "0800 222",
    "hotline_hours": "Mo–Fr 8–16 Uhr",
    "hotline_hours_en": "Mon–Fri 8 am–4 pm",
    "timezone": "Europe/Berlin",
}


async def test_units_are_created_and_changed_and_citizens_see_the_change(
    admin_browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    browser = admin_browser
    created = await post_form(browser, "/admin/dienststellen/neu", "/admin/dienststellen/neu", UNIT)
    assert created.status_code == 303
    listing = await browser.get("/admin/dienststellen")
    assert "Dienststelle Nord" in listing.text and "nord" in listing.text
    again = await post_form(browser, "/admin/dienststellen/neu", "/admin/dienststellen/neu", UNIT)
    assert again.status_code == 422 and "gibt es schon" in again.text

    booking = await book(db, settings, clock)
    async with db() as session:
        default = await session.scalar(select(Unit).where(Unit.is_default.is_(True)))
    assert default is not None
    page = f"/admin/dienststellen/{default.id}"
    values = {f: getattr(default, f) for f in UNIT if f != "slug"}
    saved = await post_form(browser, page, page, {**values, "hotline": "0800 999 000"})
    assert saved.status_code == 303
    unchanged = await post_form(browser, page, page, {**values, "hotline": "0800 999 000"})
    assert unchanged.status_code == 303
    zone = await post_form(browser, page, page, {**values, "timezone": "../../etc/passwd"})
    assert zone.status_code == 422 and "Europe/Berlin" in zone.text
    multiline = await post_form(browser, page, page, {**values, "address": "a\r\nb"})
    assert multiline.status_code == 422 and "Zeilenumbrüche" in multiline.text
    citizen_page = await client.get(f"/v/{booking.tokens[0]}")
    assert "0800 999 000" in citizen_page.text
    assert [(e.action, e.detail) for e in await audit(db, "unit_")] == [
        ("unit_created", "nord"),
        ("unit_changed", "default: hotline"),
    ]


async def test_a_revoked_token_is_refused_at_once(
    admin_browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
) -> None:
    browser = admin_browser
    made = await post_form(
        browser, "/admin/api-tokens", "/admin/api-tokens", {"name": "Fachverfahren A"}
    )
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    match = TOKEN.search(made.text)
    assert match
    token = match.group(1)
    assert token not in (await browser.get("/admin/api-tokens")).text
    twice = await post_form(
        browser, "/admin/api-tokens", "/admin/api-tokens", {"name": "Fachverfahren A"}
    )
    assert twice.status_code == 422 and "gibt es schon" in twice.text
    empty = await post_form(browser, "/admin/api-tokens", "/admin/api-tokens", {"name": ""})
    assert empty.status_code == 422
    control = await post_form(browser, "/admin/api-tokens", "/admin/api-tokens", {"name": "a\x00b"})
    assert control.status_code == 422

    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/appointments/none", headers=bearer)).status_code == 404
    async with db() as session:
        token_id = await session.scalar(
            select(ApiToken.id).where(ApiToken.name == "Fachverfahren A")
        )
    revoke = f"/admin/api-tokens/{token_id}/widerrufen"
    revoked = await post_form(browser, "/admin/api-tokens", revoke, {})
    assert revoked.status_code == 303
    assert "widerrufen am" in (await browser.get("/admin/api-tokens")).text
    assert (await client.get("/api/v1/appointments/none", headers=bearer)).status_code == 401
    twice_revoked = await post_form(browser, "/admin/api-tokens", revoke, {})
    assert "schon widerrufen" in (await browser.get(twice_revoked.headers["location"])).text
    entries = await audit(db, "token_")
    assert [(e.action, e.detail) for e in entries] == [
        ("token_created", f"API-Token {token_id}: Fachverfahren A"),
        ("token_revoked", f"API-Token {token_id}: Fachverfahren A"),
    ]


async def test_only_admins_manage_units_and_tokens(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> None:
    await add_staff(db, "admin-anna", role="admin")
    await add_staff(db, "support-sven", role="support")
    gets = [
        "/admin/dienststellen",
        "/admin/dienststellen/neu",
        "/admin/dienststellen/1",
        "/admin/api-tokens",
    ]
    posts = [
        "/admin/dienststellen/neu",
        "/admin/dienststellen/1",
        "/admin/api-tokens",
        "/admin/api-tokens/1/widerrufen",
    ]
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        for path in gets:
            assert (await anonymous.get(path)).headers["location"].startswith("/login"), path
        for path in posts:
            assert "/login" in (await anonymous.post(path, data=UNIT)).headers["location"], path
    for name in ("berater", "support-sven"):
        async with httpx.AsyncClient(base_url=live_server.url) as browser:
            await login(browser, name)
            for path in gets:
                assert (await browser.get(path)).status_code == 403, (name, path)
            for path in posts:
                assert (await browser.post(path, data=UNIT)).status_code == 403, (name, path)
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, "admin-anna")
        for path in gets:
            assert (await browser.get(path)).status_code == 200, path
        for path in posts:
            forged = await browser.post(path, data={**UNIT, "name": "Gefälscht"})
            assert forged.status_code == 403, path
    async with db() as session:
        assert len(list(await session.scalars(select(Unit)))) == 1
        assert await session.scalar(select(ApiToken)) is None
    assert await audit(db, "unit_") == [] and await audit(db, "token_") == []
