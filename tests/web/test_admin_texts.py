"""Consent texts and the privacy notice written in the administration, over real HTTP:
a new version is drafted with a preview, activated, and then what new citizens see and
agree to — while those who agreed before keep their version, as the support desk says;
the privacy notice shows the admin's text and the retention period; markup in a text
stays text; only admins change texts, each change audited once."""

from __future__ import annotations

import httpx
from admin_helpers import admin_browser
from journey_helpers import consent_records, decide
from page_helpers import book, login, post_form
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import LiveServer, add_staff
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import AuditEntry, Participant, StaffUser

NEW_TEXT = (
    "# Neue Fassung 2027\n\nWir speichern Ihre Daten {retention_days} Tage.\n\n"
    "<script>alert(1)</script>\n"
)

__all__ = ["admin_browser"]


async def actions(db: async_sessionmaker[AsyncSession], prefix: str) -> list[tuple[str, str]]:
    async with db() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.id)
        )
        return [(e.action, e.detail) for e in rows]


async def test_a_new_version_reaches_new_citizens_and_earlier_agreements_keep_theirs(
    admin_browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    browser = admin_browser
    earlier = await book(db, settings, clock)
    await decide(client, earlier.tokens[0], "agree")

    form = {"version": "2027-01-01", "language": "de", "markdown": NEW_TEXT}
    preview = await post_form(
        browser, "/admin/einwilligung", "/admin/einwilligung", {**form, "action": "preview"}
    )
    assert preview.status_code == 200
    assert "<h3>Neue Fassung 2027</h3>" in preview.text and "14 Tage" in preview.text
    assert "<script>alert(1)</script>" not in preview.text and "&lt;script&gt;" in preview.text
    saved = await post_form(
        browser, "/admin/einwilligung", "/admin/einwilligung", {**form, "action": "save"}
    )
    assert saved.status_code == 303
    later = await book(db, settings, clock)
    before_activation = await client.get(f"/v/{later.tokens[0]}")
    assert "Neue Fassung 2027" not in before_activation.text, "a draft is not shown"

    activated = await post_form(
        browser, "/admin/einwilligung", "/admin/einwilligung/2027-01-01/aktivieren", {}
    )
    assert activated.status_code == 303
    overview = await browser.get("/admin/einwilligung")
    assert "<strong>aktuell</strong>" in overview.text
    page = await client.get(f"/v/{later.tokens[0]}")
    assert "<h3>Neue Fassung 2027</h3>" in page.text and "14 Tage" in page.text
    assert (await decide(client, later.tokens[0], "agree")).status_code == 303
    kept = await client.get(f"/v/{earlier.tokens[0]}")
    assert "Neue Fassung 2027" not in kept.text

    [old] = await consent_records(db, earlier.participant_ids[0])
    [new] = await consent_records(db, later.participant_ids[0])
    assert (old.version, new.version) == ("2026-12-01", "2027-01-01")
    assert await actions(db, "consent_") == [
        ("consent_text_added", "2027-01-01/de"),
        ("consent_text_activated", "2027-01-01"),
    ]

    await add_staff(db, "support-sven", role="support")
    async with httpx.AsyncClient(base_url=browser.base_url) as desk:
        await login(desk, "support-sven")
        for booking, version in ((earlier, "2026-12-01"), (later, "2027-01-01")):
            async with db() as session:
                code = (await session.get_one(Participant, booking.participant_ids[0])).support_code
            found = await post_form(desk, "/support", "/support", {"code": str(code)})
            shown = await desk.get(found.headers["location"])
            assert f"Fassung {version}" in shown.text


async def test_published_versions_stay_as_they_are(
    admin_browser: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]
) -> None:
    browser = admin_browser
    english_only = {
        "version": "2027-02-01",
        "language": "en",
        "markdown": "# New",
        "action": "save",
    }
    assert (
        await post_form(browser, "/admin/einwilligung", "/admin/einwilligung", english_only)
    ).status_code == 303
    no_german = await post_form(
        browser, "/admin/einwilligung", "/admin/einwilligung/2027-02-01/aktivieren", {}
    )
    assert no_german.status_code == 422 and "deutschen Text" in no_german.text
    shipped = {"version": "2026-12-01", "language": "de", "markdown": "# Anders", "action": "save"}
    refused = await post_form(browser, "/admin/einwilligung", "/admin/einwilligung", shipped)
    assert refused.status_code == 422 and "schon veröffentlicht" in refused.text
    for bad in (
        {"version": "../x"},
        {"version": "a b"},
        {"language": "fr"},
        {"markdown": ""},
        {"markdown": "x" * 50_001},
    ):
        answer = await post_form(
            browser,
            "/admin/einwilligung",
            "/admin/einwilligung",
            {
                "version": "2027-03-01",
                "language": "de",
                "markdown": "# Text",
                "action": "save",
                **bad,
            },
        )
        assert answer.status_code == 422, bad
    assert [a for a, _ in await actions(db, "consent_")] == ["consent_text_added"]


async def test_the_privacy_notice_shows_the_admins_text_and_the_retention_period(
    admin_browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
) -> None:
    shipped = await client.get("/datenschutz")
    assert shipped.status_code == 200 and "<h1>Datenschutz</h1>" in shipped.text
    assert "14 Tage nach Ihrem Termin" in shipped.text
    english = await client.get("/datenschutz", params={"lang": "en"})
    assert "<h1>Privacy</h1>" in english.text and "14 days after your appointment" in english.text
    booking = await book(db, settings, clock)
    assert '<a href="/datenschutz">' in (await client.get(f"/v/{booking.tokens[0]}")).text

    browser = admin_browser
    text = {
        "language": "de",
        "markdown": "# Unsere Hinweise\n\nFrist: {retention_days} Tage. <b>fett</b>",
    }
    saved = await post_form(
        browser, "/admin/datenschutz", "/admin/datenschutz", {**text, "action": "save"}
    )
    assert saved.status_code == 303
    client.cookies.clear()
    page = await client.get("/datenschutz")
    assert "<h2>Unsere Hinweise</h2>" in page.text and "Frist: 14 Tage." in page.text
    assert "<b>fett</b>" not in page.text
    assert (await client.get("/datenschutz", params={"lang": "en"})).text.count(
        "Unsere Hinweise"
    ) == 0
    empty = await post_form(
        browser,
        "/admin/datenschutz",
        "/admin/datenschutz",
        {"language": "de", "markdown": " ", "action": "save"},
    )
    assert empty.status_code == 422
    assert await actions(db, "privacy_") == [("privacy_text_changed", "de")]


async def test_only_admins_change_texts(
    live_server: LiveServer, db: async_sessionmaker[AsyncSession], advisor: StaffUser
) -> None:
    await add_staff(db, "admin-anna", role="admin")
    await add_staff(db, "support-sven", role="support")
    gets = ["/admin/einwilligung", "/admin/datenschutz"]
    posts = [
        "/admin/einwilligung",
        "/admin/einwilligung/2026-12-01/aktivieren",
        "/admin/datenschutz",
    ]
    data = {"version": "2027-01-01", "language": "de", "markdown": "# X", "action": "save"}
    async with httpx.AsyncClient(base_url=live_server.url) as anonymous:
        for path in gets:
            assert (await anonymous.get(path)).headers["location"].startswith("/login"), path
        for path in posts:
            assert "/login" in (await anonymous.post(path, data=data)).headers["location"], path
    for name in ("berater", "support-sven"):
        async with httpx.AsyncClient(base_url=live_server.url) as browser:
            await login(browser, name)
            for path in gets:
                assert (await browser.get(path)).status_code == 403, (name, path)
            for path in posts:
                assert (await browser.post(path, data=data)).status_code == 403, (name, path)
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        await login(browser, "admin-anna")
        for path in posts:
            assert (await browser.post(path, data=data)).status_code == 403, path
    assert await actions(db, "consent_") == [] and await actions(db, "privacy_") == []
