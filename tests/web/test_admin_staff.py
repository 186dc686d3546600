"""Staff accounts in the administration, over real HTTP and WebSocket: an admin creates
an account, the person sets their own password through the one-time link and logs in;
role changes, resets and deactivation take effect at once; every action is audited
once; an admin cannot lock themselves out; bad input changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from page_helpers import login, post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from waiting_helpers import closed, greet, session_cookie, staff

from conftest import PASSWORD, LiveServer, add_staff
from videotermin.domain.clock import FakeClock
from videotermin.store.models import AuditEntry, StaffPasswordLink, StaffSession, StaffUser

NEW_PASSWORD = "ein langer neuer Satz 7"
LINK = re.compile(r'value="(https?://[^"]+/passwort/([A-Za-z0-9_-]+))"')


@pytest.fixture
async def admin(db: async_sessionmaker[AsyncSession], advisor: StaffUser) -> StaffUser:
    return await add_staff(db, "admin-anna", role="admin", display_name="Anna Admin")


@asynccontextmanager
async def as_admin(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url) as browser:
        assert (await login(browser, "admin-anna")).status_code == 303
        yield browser


async def audit(db: async_sessionmaker[AsyncSession], *actions: str) -> list[AuditEntry]:
    async with db() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if actions:
            query = query.where(AuditEntry.action.in_(actions))
        return list(await session.scalars(query))


async def user(db: async_sessionmaker[AsyncSession], username: str) -> StaffUser:
    async with db() as session:
        found = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    assert found is not None
    return found


def link_in(html: str) -> tuple[str, str]:
    match = LINK.search(html)
    assert match, "the page shows the one-time link"
    return match.group(1), match.group(2)


NEW_ADVISOR = {
    "username": "neu.berater",
    "display_name": "Nina Neu",
    "email": "nina@agentur.example",
    "phone": "",
    "role": "advisor",
}


async def create(browser: httpx.AsyncClient, unit: int, **fields: str) -> httpx.Response:
    data = {**NEW_ADVISOR, "unit_id": str(unit), **fields}
    return await post_form(browser, "/admin/personal/neu", "/admin/personal/neu", data)


async def test_a_new_person_sets_their_own_password_and_logs_in(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], admin: StaffUser
) -> None:
    async with as_admin(live_server) as browser:
        created = await create(browser, admin.unit_id)
        assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
        assert "Nina Neu" in created.text
        url, token = link_in(created.text)
        listing = await browser.get("/admin/personal")
        assert "Passwort noch nicht gesetzt" in listing.text
    nina = await user(db, "neu.berater")
    assert (nina.role, nina.email, nina.unit_id) == (
        "advisor",
        "nina@agentur.example",
        admin.unit_id,
    )

    async with httpx.AsyncClient(base_url=live_server.url) as person:
        assert (await login(person, "neu.berater", "")).status_code == 422
        assert "Benutzername oder Passwort" in (await login(person, "neu.berater", token)).text
        form = await person.get(url.replace(live_server.url, ""))
        assert form.status_code == 200 and "Willkommen, Nina Neu" in form.text
        path = f"/passwort/{token}"
        short = await post_form(
            person, path, path, {"password": "kurz", "password_repeated": "kurz"}
        )
        assert short.status_code == 422 and "mindestens 10" in short.text
        typo = await post_form(
            person, path, path, {"password": NEW_PASSWORD, "password_repeated": NEW_PASSWORD + "x"}
        )
        assert typo.status_code == 422 and "stimmen nicht überein" in typo.text
        done = await post_form(
            person, path, path, {"password": NEW_PASSWORD, "password_repeated": NEW_PASSWORD}
        )
        assert done.status_code == 303 and done.headers["location"] == "/login"
        assert "Ihr Passwort ist gesetzt" in (await person.get("/login")).text
        again = await person.get(path)
        assert again.status_code == 404 and "gilt nicht" in again.text
        logged_in = await login(person, "neu.berater", NEW_PASSWORD)
        assert logged_in.headers["location"] == "/termine"

    entries = await audit(db, "staff_created", "staff_password_set")
    assert [(e.action, e.actor_id, e.subject_staff_id) for e in entries] == [
        ("staff_created", admin.id, nina.id),
        ("staff_password_set", nina.id, nina.id),
    ]
    assert all(NEW_PASSWORD not in e.detail and token not in e.detail for e in await audit(db))


async def test_a_link_expires_and_a_newer_one_replaces_it(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    admin: StaffUser,
    clock: FakeClock,
) -> None:
    async with as_admin(live_server) as browser:
        _url, first = link_in((await create(browser, admin.unit_id)).text)
        nina = await user(db, "neu.berater")
        page = f"/admin/personal/{nina.id}"
        reset = await post_form(browser, page, f"{page}/passwort", {})
        assert reset.status_code == 200
        _url, second = link_in(reset.text)
    async with httpx.AsyncClient(base_url=live_server.url) as person:
        assert (await person.get(f"/passwort/{first}")).status_code == 404
        assert (await person.get(f"/passwort/{second}")).status_code == 200
        clock.advance(timedelta(hours=72))
        assert (await person.get(f"/passwort/{second}")).status_code == 404
        assert (await person.get("/passwort/not-a-token")).status_code == 404
    async with db() as session:
        assert len(list(await session.scalars(select(StaffPasswordLink)))) == 1


async def test_a_role_change_reaches_open_sockets_and_a_reset_ends_sessions(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], admin: StaffUser
) -> None:
    advisor = await user(db, "berater")
    async with httpx.AsyncClient(base_url=live_server.url) as bea:
        await login(bea)
        async with staff(live_server, session_cookie(bea)) as ws:
            await greet(ws)
            async with as_admin(live_server) as browser:
                page = f"/admin/personal/{advisor.id}"
                saved = await post_form(
                    browser,
                    page,
                    page,
                    {
                        "display_name": "Bea Berater",
                        "email": advisor.email,
                        "phone": advisor.phone,
                        "role": "support",
                        "unit_id": str(advisor.unit_id),
                    },
                )
                assert saved.status_code == 303
                assert (await closed(ws, timeout=1))[0] == 4403
                assert (await bea.get("/termine")).status_code == 403

                reset = await post_form(browser, page, f"{page}/passwort", {})
                assert reset.status_code == 200
        assert (await bea.get("/support")).headers["location"].startswith("/login")
        assert "Benutzername oder Passwort" in (await login(bea)).text
    [change] = await audit(db, "staff_changed")
    assert change.detail == "role: advisor → support"
    assert len(await audit(db, "staff_password_reset")) == 1


async def test_deactivation_ends_everything_and_admins_cannot_lock_themselves_out(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], admin: StaffUser
) -> None:
    advisor = await user(db, "berater")
    async with httpx.AsyncClient(base_url=live_server.url) as bea:
        await login(bea)
        async with as_admin(live_server) as browser:
            own = f"/admin/personal/{admin.id}"
            refused = await post_form(browser, own, f"{own}/deaktivieren", {})
            assert refused.status_code == 422 and "eigenes Konto" in refused.text
            demoted = await post_form(
                browser,
                own,
                own,
                {"display_name": "Anna", "role": "advisor", "unit_id": str(admin.unit_id)},
            )
            assert demoted.status_code == 422 and "nicht selbst nehmen" in demoted.text
            page = f"/admin/personal/{advisor.id}"
            gone = await post_form(browser, page, f"{page}/deaktivieren", {})
            assert gone.status_code == 303
            listing = await browser.get("/admin/personal")
            assert "deaktiviert" in listing.text
            again = await post_form(browser, f"/admin/personal/{admin.id}", f"{page}/passwort", {})
            assert again.status_code == 303
        assert (await bea.get("/termine")).headers["location"].startswith("/login")
        assert "Benutzername oder Passwort" in (await login(bea)).text
    async with db() as session:
        assert (
            await session.scalar(select(StaffSession).where(StaffSession.user_id == advisor.id))
            is None
        )
        assert (await session.get_one(StaffUser, admin.id)).role == "admin"
    assert [e.action for e in await audit(db, "staff_deactivated", "staff_changed")] == [
        "staff_deactivated"
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "Bea Berater", "Kleinbuchstaben"),
        ("username", "berater", "gibt es schon"),
        ("username", "x\x00y" * 30, "Kleinbuchstaben"),
        ("display_name", "", "Bitte geben Sie den Namen an"),
        ("display_name", "Nina\u202eNeu", "Steuerzeichen"),
        ("display_name", "N" * 5000, "höchstens 200"),
        ("email", "nina@", "gültige E-Mail"),
        ("role", "superuser", "Rolle aus der Liste"),
        ("unit_id", "9" * 30, "Dienststelle"),
        ("unit_id", "-1", "Dienststelle"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    admin: StaffUser,
    field: str,
    value: str,
    message: str,
) -> None:
    async with as_admin(live_server) as browser:
        refused = await create(browser, admin.unit_id, **{field: value})
    assert refused.status_code == 422
    assert message in refused.text
    async with db() as session:
        assert len(list(await session.scalars(select(StaffUser)))) == 2
    assert await audit(db, "staff_created") == []


async def test_only_admins_reach_the_accounts_and_forms_need_their_token(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], admin: StaffUser
) -> None:
    await add_staff(db, "support-sven", role="support")
    advisor = await user(db, "berater")
    gets = ["/admin/personal", "/admin/personal/neu", f"/admin/personal/{advisor.id}"]
    posts = [
        "/admin/personal/neu",
        f"/admin/personal/{advisor.id}",
        f"/admin/personal/{advisor.id}/passwort",
        f"/admin/personal/{advisor.id}/deaktivieren",
    ]
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        for path in gets:
            assert (await anonymous.get(path)).headers["location"].startswith("/login"), path
        for path in posts:
            answer = await anonymous.post(path, data={})
            assert answer.status_code == 303 and "/login" in answer.headers["location"], path
    for name in ("berater", "support-sven"):
        async with httpx.AsyncClient(base_url=live_server.url) as browser:
            await login(browser, name, PASSWORD)
            for path in gets:
                assert (await browser.get(path)).status_code == 403, (name, path)
            for path in posts:
                assert (await browser.post(path, data={**NEW_ADVISOR})).status_code == 403
    async with as_admin(live_server) as browser:
        for path in gets:
            assert (await browser.get(path)).status_code == 200, path
        for path in posts:
            forged = await browser.post(path, data={**NEW_ADVISOR, "unit_id": "1"})
            assert forged.status_code == 403 and "nicht angenommen" in forged.text, path
    async with db() as session:
        assert (await session.get_one(StaffUser, advisor.id)).active
        assert len(list(await session.scalars(select(StaffUser)))) == 3
    assert await audit(db, "staff_created", "staff_changed", "staff_deactivated") == []
