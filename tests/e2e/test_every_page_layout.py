"""Failure class "a page nobody looked at": every page — the citizen's in each state of a
link, the public check, the staff's, the support desk's, the administration's, and the
error and refusal pages — at 360 px and 1280 px in Chromium, German and English, checked
for what a person notices: a page wider than its window, a word broken across lines
("J/a", "N/ei/n"), controls or headings drawn over each other, radio buttons or
checkboxes of different sizes, and a rating scale wrapped into two rows. A screenshot of
each is kept in ``LAYOUT_SHOTS`` (default: a temporary folder) to look at. The audit and
the pages are page_audit.py's; the same pages go through the same audit in Firefox
(test_every_page_layout_firefox.py)."""

from __future__ import annotations

from typing import Any

import pytest
from chromium import ARGS, launch_chromium
from page_audit import AUDIT, SHOTS, WIDTHS, every_page, report
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import PASSWORD, LiveServer
from videotermin.domain.clock import FakeClock
from videotermin.settings import Settings
from videotermin.store.models import StaffUser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True),
]


async def look(browser: Browser, server: LiveServer, paths: list[str], who: str) -> dict[str, Any]:
    """Every path at each width (logged in as ``who`` when given); what is wrong, by page."""
    found: dict[str, Any] = {}
    for width in WIDTHS:
        context = await browser.new_context(viewport={"width": width, "height": 900})
        page = await context.new_page()
        if who:
            await log_in(page, server, who)
        for path in paths:
            answer = await page.goto(server.url + path)
            assert answer is not None, path
            await page.wait_for_load_state("load")
            name = f"{who or 'anonymous'}{path}".replace("/", "_").replace("?", "_")[:120]
            await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            problems = await page.evaluate(AUDIT)
            if problems:
                found[f"{path} at {width} px"] = problems
        await context.close()
    return found


async def log_in(page: Page, server: LiveServer, name: str) -> None:
    await page.goto(f"{server.url}/login")
    await page.get_by_label("Benutzername").fill(name)
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(lambda url: "/login" not in url)


async def test_every_page_reads_well_at_360_and_1280_px(
    live_server: LiveServer,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: FakeClock,
    advisor: StaffUser,
) -> None:
    pages = await every_page(db, settings, clock)
    found: dict[str, Any] = {}
    async with launch_chromium(ARGS) as browser:
        for who, paths in pages.by_login.items():
            found |= await look(browser, live_server, paths, who)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await log_in(page, live_server, "support-sven")
        await page.get_by_label("Support-Code").fill(pages.support_code)
        await page.keyboard.press("Enter")
        await page.wait_for_url(lambda url: "/teilnehmende/" in url)
        looked_up = page.url.removeprefix(live_server.url)
        await context.close()
        found |= await look(browser, live_server, ["/support", looked_up], "support-sven")
    assert not found, report(found)
